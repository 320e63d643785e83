//! `Governor`: the limits-and-budgets [`Policy`]. At admission it reserves, in one atomic step,
//! the request count, the prompt tokens plus the most the answer may use, and the most the
//! request may cost, against every rule that applies; at the end (`on_complete`, which runs
//! exactly once for every outcome) it gives the reservation back and charges what was actually
//! used. Concurrent requests therefore never pass an enforced limit together: the worst case
//! is one request's actual-minus-reserved difference, when a provider reports more than the
//! request asked for.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use http::HeaderValue;
use smartflow_core::policy::Action;
use smartflow_core::types::TokenUsage;
use smartflow_core::{
    ChatRequest, Completion, Decision, Denial, EmbeddingRequest, Enforcement, ErrorKind, Outcome, Policy,
    PolicyDecision, Principal, RequestContext,
};

use super::ledger::{Charge, Held, Ledger, Level};
use super::prices::PriceTable;
use super::rules::LimitRule;
use super::spec::{Limit, LimitKind, Metric, NanoUsd};
use super::tokens::TokenCounter;
use super::usage::UsageBook;

/// Where per-key limits come from (the key store), looked up by key id on every request.
pub trait KeyLimits: Send + Sync + 'static {
    /// The limits carried by key `key_id`, if any.
    fn limits(&self, key_id: &str) -> Option<Arc<[Limit]>>;
}

/// What the governor needs besides its counters.
#[derive(Debug, Clone)]
pub struct GovernorConfig {
    /// Operator rules, in order.
    pub rules: Vec<LimitRule>,
    /// Prices by virtual model.
    pub prices: PriceTable,
    /// Output tokens reserved when a request sets no `max_tokens` / `max_completion_tokens`.
    pub default_max_output: u64,
    /// Token counters by virtual model; others use [`TokenCounter::for_model`] on the name.
    pub counters: HashMap<String, TokenCounter>,
}

impl Default for GovernorConfig {
    fn default() -> Self {
        Self { rules: Vec::new(), prices: PriceTable::new(), default_max_output: 1_024, counters: HashMap::new() }
    }
}

/// A clock returning Unix seconds (swappable in tests).
pub type Clock = Arc<dyn Fn() -> u64 + Send + Sync>;

/// The governance policy.
pub struct Governor {
    config: GovernorConfig,
    ledger: Arc<Ledger>,
    usage: Arc<UsageBook>,
    key_limits: Option<Arc<dyn KeyLimits>>,
    clock: Clock,
}

impl std::fmt::Debug for Governor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Governor").field("rules", &self.config.rules.len()).finish_non_exhaustive()
    }
}

/// One limit that applies to a request: its rule, its counter and whether it is enforced.
#[derive(Debug)]
struct Source {
    rule: String,
    key: Arc<str>,
    limit: Limit,
    enforce: bool,
}

impl Source {
    fn new(rule: &str, scope: &str, limit: Limit, enforce: bool) -> Self {
        let key = format!("{rule}|{}|{}|{scope}", limit.metric.label(), limit.period.label());
        Self { rule: rule.to_owned(), key: Arc::from(key), limit, enforce }
    }
}

/// The reservation a request holds between admission and settlement.
#[derive(Debug)]
struct Reservation {
    model: String,
    held: Vec<Held>,
    metrics: Vec<Metric>,
    settled: AtomicBool,
}

impl Governor {
    /// A governor over `ledger` and `usage` (shared across configuration reloads so counts
    /// survive them).
    pub fn new(config: GovernorConfig, ledger: Arc<Ledger>, usage: Arc<UsageBook>) -> Self {
        Self { config, ledger, usage, key_limits: None, clock: Arc::new(unix_now) }
    }

    /// Also applies the limits keys carry.
    pub fn with_key_limits(mut self, source: Arc<dyn KeyLimits>) -> Self {
        self.key_limits = Some(source);
        self
    }

    /// Replaces the clock (tests).
    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// The counters.
    pub fn ledger(&self) -> &Arc<Ledger> {
        &self.ledger
    }

    fn counter(&self, model: &str) -> TokenCounter {
        self.config.counters.get(model).cloned().unwrap_or_else(|| TokenCounter::for_model(model))
    }

    /// Every limit that applies to a request by `p` for `model`, with its counter scope.
    fn sources(&self, p: &Principal, model: &str) -> Vec<Source> {
        let mut sources = Vec::new();
        for rule in &self.config.rules {
            if let Some(scope) = rule.scope_of(p, model) {
                let enforce = rule.enforcement == Enforcement::Enforce;
                sources.extend(rule.limits.iter().map(|l| Source::new(&rule.id, &scope, *l, enforce)));
            }
        }
        if let Some(limits) = self.key_limits.as_ref().and_then(|s| s.limits(&p.key_id)) {
            let scope = format!("key={}", p.key_id);
            sources.extend(limits.iter().map(|l| Source::new("key", &scope, *l, true)));
        }
        sources
    }

    /// Admits a request whose prompt `prompt()` counts (only called when a token or spend limit
    /// applies: counting costs microseconds) and whose answer may take `output` tokens.
    fn admit(&self, ctx: &mut RequestContext, model: &str, prompt: impl FnOnce() -> u64, output: u64) -> Decision {
        let principal = ctx.principal.clone();
        let sources = self.sources(&principal, model);
        let (tokens, spend) = if sources.iter().any(|s| s.limit.metric != Metric::Requests) {
            let prompt = prompt();
            let spend = self.config.prices.get(model).map(|p| p.ceiling(prompt, output)).unwrap_or_default();
            (prompt.saturating_add(output), spend)
        } else {
            (0, NanoUsd::default())
        };
        let charges: Vec<Charge> = sources
            .iter()
            .map(|s| Charge {
                key: s.key.clone(),
                period: s.limit.period,
                limit: s.limit.amount,
                amount: match s.limit.metric {
                    Metric::Requests => 1,
                    Metric::Tokens => tokens,
                    Metric::Spend => spend.0,
                },
                enforce: s.enforce,
            })
            .collect();
        let now = (self.clock)();
        match self.ledger.reserve(now, &charges) {
            Err(refusal) => match sources.get(refusal.index).zip(charges.get(refusal.index)) {
                Some((source, charge)) => Decision::Deny(denial(source, &refusal.level, charge)),
                None => Decision::Deny(Denial::new("limits", "a usage limit was reached")),
            },
            Ok((held, levels)) => {
                for (source, level) in sources.iter().zip(&levels).filter(|(_, l)| l.over) {
                    ctx.decisions.push(PolicyDecision {
                        policy: self.name().to_owned(),
                        rule: source.rule.clone(),
                        action: Action::WouldDeny,
                        phase: "request",
                    });
                    tracing::info!(
                        request_id = %ctx.request_id, rule = %source.rule, in_use = level.in_use,
                        limit = level.limit, "limit would have blocked (audit enforcement)"
                    );
                }
                set_headers(ctx, &sources, &levels);
                let metrics = sources.iter().map(|s| s.limit.metric).collect();
                ctx.extensions.insert(Arc::new(Reservation {
                    model: model.to_owned(),
                    held,
                    metrics,
                    settled: AtomicBool::new(false),
                }));
                Decision::Continue
            }
        }
    }
}

#[async_trait]
impl Policy for Governor {
    fn name(&self) -> &str {
        "limits"
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        let output = req.output_limit().unwrap_or(self.config.default_max_output);
        let model = req.model.clone();
        self.admit(ctx, &model, || self.counter(&req.model).count_prompt(req), output)
    }

    async fn on_embedding_request(&self, ctx: &mut RequestContext, req: &mut EmbeddingRequest) -> Decision {
        let model = req.model.clone();
        self.admit(ctx, &model, || self.counter(&req.model).count_embedding_input(req), 0)
    }

    fn on_complete(&self, ctx: &RequestContext, completion: &Completion<'_>) {
        let Some(reservation) = ctx.extensions.get::<Arc<Reservation>>() else { return };
        if reservation.settled.swap(true, Ordering::AcqRel) {
            return;
        }
        // Only what reached a provider costs tokens: cache hits and policy answers are free, and
        // a request refused after admission (by a later policy) gives everything back.
        let upstream = completion.target.is_some();
        let usage = if upstream { completion.usage.unwrap_or_default() } else { TokenUsage::default() };
        let served = match completion.outcome {
            Outcome::Allowed => true,
            Outcome::Denied => false,
            Outcome::Failed | Outcome::Cancelled => upstream,
        };
        let spend = self.config.prices.get(&reservation.model).map(|p| p.cost(&usage)).unwrap_or_default();
        let actual: Vec<u64> = reservation
            .metrics
            .iter()
            .map(|m| match m {
                Metric::Requests => u64::from(served),
                Metric::Tokens => usage.total(),
                Metric::Spend => spend.0,
            })
            .collect();
        ctx.cost_nano_usd.store(spend.0, Ordering::Relaxed);
        let now = (self.clock)();
        self.ledger.settle(now, &reservation.held, &actual);
        self.usage.record(now, &ctx.principal, served, &usage, spend);
    }
}

/// The denial for a charge that did not fit.
fn denial(source: &Source, level: &Level, charge: &Charge) -> Denial {
    let Limit { metric, period, amount, kind } = source.limit;
    let what = match metric {
        Metric::Requests => "requests",
        Metric::Tokens => "tokens",
        Metric::Spend => "spend",
    };
    let show = |v: u64| match metric {
        Metric::Spend => NanoUsd(v).to_string(),
        _ => v.to_string(),
    };
    let mut d = Denial::new(source.rule.clone(), String::new());
    match kind {
        LimitKind::Rate if charge.amount > amount => {
            d.kind = ErrorKind::RateLimited;
            d.message = format!(
                "this request needs {} {what}, more than the limit of {} per {} allows; lower max_tokens or the prompt",
                show(charge.amount),
                show(amount),
                period.label()
            );
        }
        LimitKind::Rate => {
            d.kind = ErrorKind::RateLimited;
            d.retry_after = Some(Duration::from_secs(level.reset_after));
            d.message = format!(
                "rate limit reached: {what} per {} (limit {}, in use {}, this request needs {}); retry after {}s",
                period.label(),
                show(amount),
                show(level.in_use),
                show(charge.amount),
                level.reset_after
            );
        }
        LimitKind::Quota => {
            d.kind = ErrorKind::QuotaExceeded;
            let noun = if metric == Metric::Spend { "budget" } else { "quota" };
            d.message = format!(
                "{noun} exhausted: {what} for this {} (limit {}, in use {}, this request may need {})",
                period.label(),
                show(amount),
                show(level.in_use),
                show(charge.amount)
            );
        }
    }
    d
}

/// `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` from the tightest enforced rate limit
/// of each (audit-only rules never show: they do not limit anything).
fn set_headers(ctx: &mut RequestContext, sources: &[Source], levels: &[Level]) {
    for (metric, suffix) in [(Metric::Requests, "requests"), (Metric::Tokens, "tokens")] {
        let tightest = sources
            .iter()
            .zip(levels)
            .filter(|(s, _)| s.enforce && s.limit.metric == metric && s.limit.kind == LimitKind::Rate)
            .min_by_key(|(_, l)| l.remaining());
        if let Some((_, level)) = tightest {
            let headers = &mut ctx.response_headers;
            for (name, value) in [
                (format!("x-ratelimit-limit-{suffix}"), level.limit.to_string()),
                (format!("x-ratelimit-remaining-{suffix}"), level.remaining().to_string()),
                (format!("x-ratelimit-reset-{suffix}"), format!("{}s", level.reset_after)),
            ] {
                if let (Ok(n), Ok(v)) = (http::HeaderName::try_from(name), HeaderValue::try_from(value)) {
                    headers.insert(n, v);
                }
            }
        }
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
