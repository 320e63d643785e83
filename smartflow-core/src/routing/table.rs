//! `ModelTable`: virtual models → targets, ordered per request by the model's strategy, with a
//! circuit breaker and a latency average per target (shared by every model that uses it).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use tokio::time::Instant;

use super::breaker::{BreakerConfig, BreakerState, CircuitBreaker};
use super::retry::RetryPolicy;
use super::strategy::{Strategy, order};
use crate::error::{Error, ErrorKind};
use crate::router::{AttemptReport, RoutePlan, Router, Target, TargetStatus};
use crate::types::{ModelInfo, ModelKind, Principal, RequestContext};

/// One virtual model: the name clients use and the targets that serve it.
#[derive(Debug)]
pub struct VirtualModel {
    name: String,
    kind: ModelKind,
    targets: Vec<Arc<Target>>,
    weights: Vec<u32>,
    strategy: Strategy,
    retry: RetryPolicy,
}

impl VirtualModel {
    /// A model served by `targets`, tried in order (priority strategy, weight 1 each, default
    /// retry policy).
    pub fn new(name: impl Into<String>, kind: ModelKind, targets: Vec<Arc<Target>>) -> Self {
        let weights = vec![1; targets.len()];
        Self { name: name.into(), kind, targets, weights, strategy: Strategy::Priority, retry: RetryPolicy::default() }
    }

    /// How targets are ordered per request.
    pub fn strategy(mut self, strategy: Strategy) -> Self {
        self.strategy = strategy;
        self
    }

    /// Relative weights for [`Strategy::Weighted`], one per target (at least 1 each).
    pub fn weights(mut self, weights: Vec<u32>) -> Self {
        self.weights = weights;
        self
    }

    /// The per-request attempt budget and backoff.
    pub fn retry(mut self, retry: RetryPolicy) -> Self {
        self.retry = retry;
        self
    }

    /// The name clients send.
    pub fn name(&self) -> &str {
        &self.name
    }
}

/// Health of one target.
#[derive(Debug)]
struct TargetHealth {
    breaker: CircuitBreaker,
    /// Moving average of time to first byte, in microseconds (0 = never measured).
    latency_us: AtomicU64,
}

impl TargetHealth {
    fn observe_latency(&self, us: u64) {
        // EWMA with alpha = 1/5; a lost race between two updates only drops one sample.
        let old = self.latency_us.load(Ordering::Relaxed);
        let new = if old == 0 { us.max(1) } else { (old * 4 + us) / 5 };
        self.latency_us.store(new.max(1), Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct Entry {
    model: VirtualModel,
    health: Vec<Arc<TargetHealth>>,
    cursor: AtomicUsize,
}

/// A router over a fixed table of virtual models.
#[derive(Debug)]
pub struct ModelTable {
    models: HashMap<String, Entry>,
    order: Vec<String>,
    health: HashMap<Arc<str>, Arc<TargetHealth>>,
    breaker: BreakerConfig,
    owned_by: String,
    created: u64,
}

impl ModelTable {
    /// An empty table with default breaker settings; `owned_by` is shown in `/v1/models`.
    pub fn new(owned_by: impl Into<String>) -> Self {
        Self::with_breaker(owned_by, BreakerConfig::default())
    }

    /// An empty table whose targets use `breaker` settings.
    pub fn with_breaker(owned_by: impl Into<String>, breaker: BreakerConfig) -> Self {
        let created =
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
        Self {
            models: HashMap::new(),
            order: Vec::new(),
            health: HashMap::new(),
            breaker,
            owned_by: owned_by.into(),
            created,
        }
    }

    /// Adds a virtual model. Fails on a duplicate name, no targets, a target listed twice, or
    /// weights that do not match the targets.
    pub fn insert(&mut self, model: VirtualModel) -> Result<(), Error> {
        let fail = |m: String| Err(Error::internal(m));
        if model.targets.is_empty() {
            return fail(format!("model {} has no targets", model.name));
        }
        if self.models.contains_key(&model.name) {
            return fail(format!("model {} is defined twice", model.name));
        }
        if model.weights.len() != model.targets.len() || model.weights.contains(&0) {
            return fail(format!("model {} needs one weight of at least 1 per target", model.name));
        }
        let mut seen = std::collections::HashSet::new();
        if !model.targets.iter().all(|t| seen.insert(t.label.clone())) {
            return fail(format!("model {} lists a target twice", model.name));
        }
        if model.retry.max_attempts == 0 {
            return fail(format!("model {} needs at least one attempt", model.name));
        }
        let health = model
            .targets
            .iter()
            .map(|t| {
                self.health
                    .entry(t.label.clone())
                    .or_insert_with(|| {
                        Arc::new(TargetHealth {
                            breaker: CircuitBreaker::new(self.breaker.clone()),
                            latency_us: AtomicU64::new(0),
                        })
                    })
                    .clone()
            })
            .collect();
        self.order.push(model.name.clone());
        self.models.insert(model.name.clone(), Entry { model, health, cursor: AtomicUsize::new(0) });
        Ok(())
    }

    /// Number of virtual models.
    pub fn len(&self) -> usize {
        self.models.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

fn not_found(kind: ModelKind) -> Error {
    Error::new(
        ErrorKind::NotFound,
        match kind {
            ModelKind::Chat => "the model does not exist or you do not have access to it",
            ModelKind::Embedding => "the embedding model does not exist or you do not have access to it",
        },
    )
    .with_param("model")
    .with_code("model_not_found")
}

impl Router for ModelTable {
    fn plan(&self, _ctx: &RequestContext, model: &str, kind: ModelKind) -> Result<RoutePlan, Error> {
        let entry = match self.models.get(model) {
            Some(e) if e.model.kind == kind => e,
            _ => return Err(not_found(kind)),
        };

        let mut ready = Vec::with_capacity(entry.health.len());
        let mut probes = Vec::new();
        for (i, h) in entry.health.iter().enumerate() {
            match h.breaker.state() {
                BreakerState::Closed => ready.push(i),
                BreakerState::Open | BreakerState::HalfOpen => {
                    if h.breaker.try_acquire() {
                        probes.push(i);
                    }
                }
            }
        }
        if ready.is_empty() && probes.is_empty() {
            let now = Instant::now();
            let wait = entry
                .health
                .iter()
                .filter_map(|h| h.breaker.open_until())
                .map(|u| u.saturating_duration_since(now))
                .min();
            let mut e = Error::new(ErrorKind::Unavailable, "every target of this model is unavailable (circuit open)")
                .with_code("targets_unavailable");
            if let Some(wait) = wait {
                e = e.with_retry_after(wait.max(std::time::Duration::from_secs(1)));
            }
            return Err(e);
        }
        let m = &entry.model;
        order(
            m.strategy,
            &mut ready,
            &m.weights,
            |i| entry.health[i].latency_us.load(Ordering::Relaxed),
            &entry.cursor,
        );
        ready.extend(probes);
        Ok(RoutePlan { targets: ready.into_iter().map(|i| m.targets[i].clone()).collect(), retry: m.retry.clone() })
    }

    fn models(&self, _principal: &Principal) -> Vec<ModelInfo> {
        self.order
            .iter()
            .filter_map(|name| self.models.get(name))
            .map(|e| ModelInfo {
                id: e.model.name.clone(),
                object: "model",
                created: self.created,
                owned_by: self.owned_by.clone(),
                kind: e.model.kind,
            })
            .collect()
    }

    fn report(&self, target: &Target, report: &AttemptReport) {
        if let Some(h) = self.health.get(&target.label) {
            h.breaker.record(report.ok, report.retry_after);
            if report.ok {
                h.observe_latency(report.latency.as_micros().min(u128::from(u64::MAX)) as u64);
            }
        }
    }

    fn available(&self, target: &Target) -> bool {
        self.health
            .get(&target.label)
            .is_none_or(|h| h.breaker.state() == BreakerState::Closed || h.breaker.try_acquire())
    }

    fn health(&self) -> Vec<TargetStatus> {
        let mut out: Vec<TargetStatus> = self
            .health
            .iter()
            .map(|(label, h)| {
                let us = h.latency_us.load(Ordering::Relaxed);
                TargetStatus {
                    label: label.clone(),
                    state: h.breaker.state(),
                    first_byte_ewma: (us > 0).then(|| std::time::Duration::from_micros(us)),
                }
            })
            .collect();
        out.sort_by(|a, b| a.label.cmp(&b.label));
        out
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::providers::{MockConfig, MockProvider};
    use crate::types::{Endpoint, Principal};

    fn target(name: &str) -> Arc<Target> {
        Arc::new(Target::new(Arc::new(MockProvider::new(name, MockConfig::default())), "m"))
    }

    fn ctx() -> RequestContext {
        RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ChatCompletions)
    }

    fn table(strategy: Strategy, weights: Vec<u32>) -> (ModelTable, Vec<Arc<Target>>) {
        let targets: Vec<_> = (0..weights.len()).map(|i| target(&format!("p{i}"))).collect();
        let mut t = ModelTable::with_breaker(
            "o",
            BreakerConfig { consecutive_failures: 2, open_for: Duration::from_secs(5), ..BreakerConfig::default() },
        );
        t.insert(VirtualModel::new("v", ModelKind::Chat, targets.clone()).strategy(strategy).weights(weights)).unwrap();
        (t, targets)
    }

    fn labels(t: &ModelTable) -> Vec<String> {
        t.plan(&ctx(), "v", ModelKind::Chat).unwrap().targets.iter().map(|t| t.label.to_string()).collect()
    }

    #[test]
    fn weighted_split_is_within_five_percent_over_ten_thousand_requests() {
        fastrand::seed(7);
        let (t, _) = table(Strategy::Weighted, vec![1, 1, 2]);
        let mut first = HashMap::<String, u32>::new();
        for _ in 0..10_000 {
            *first.entry(labels(&t)[0].clone()).or_default() += 1;
        }
        for (label, expected) in [("p0/m", 2500.0), ("p1/m", 2500.0), ("p2/m", 5000.0)] {
            let got = f64::from(first[label]);
            assert!((got - expected).abs() <= expected * 0.05, "{label}: {got} vs {expected}");
        }
        assert!(labels(&t).len() == 3, "every target stays in the plan as a fallback");
    }

    #[test]
    fn priority_round_robin_and_least_latency() {
        let (t, _) = table(Strategy::Priority, vec![1, 1, 1]);
        assert_eq!(labels(&t), ["p0/m", "p1/m", "p2/m"]);
        let (t, _) = table(Strategy::RoundRobin, vec![1, 1, 1]);
        let firsts: Vec<String> = (0..4).map(|_| labels(&t)[0].clone()).collect();
        assert_eq!(firsts, ["p0/m", "p1/m", "p2/m", "p0/m"]);
        let (t, targets) = table(Strategy::LeastLatency, vec![1, 1, 1]);
        let report = |i: usize, ms: u64| {
            t.report(&targets[i], &AttemptReport { ok: true, latency: Duration::from_millis(ms), retry_after: None })
        };
        report(0, 50);
        report(1, 10);
        assert_eq!(labels(&t), ["p2/m", "p1/m", "p0/m"], "untried first, then fastest");
        report(2, 30);
        assert_eq!(labels(&t), ["p1/m", "p2/m", "p0/m"]);
    }

    #[tokio::test(start_paused = true)]
    async fn open_targets_leave_the_plan_and_all_open_is_503() {
        let (t, targets) = table(Strategy::Priority, vec![1, 1]);
        let fail =
            |i: usize| t.report(&targets[i], &AttemptReport { ok: false, latency: Duration::ZERO, retry_after: None });
        fail(0);
        fail(0);
        assert_eq!(labels(&t), ["p1/m"]);
        fail(1);
        fail(1);
        let e = t.plan(&ctx(), "v", ModelKind::Chat).unwrap_err();
        assert_eq!(e.status_code(), 503);
        assert!(e.retry_after().is_some());
        tokio::time::advance(Duration::from_secs(5)).await;
        assert_eq!(labels(&t).len(), 2, "both may be probed after the trip time");
        assert_eq!(
            t.plan(&ctx(), "v", ModelKind::Chat).map(|p| p.targets.len()).unwrap_or(0),
            0,
            "one probe per interval"
        );
    }
}
