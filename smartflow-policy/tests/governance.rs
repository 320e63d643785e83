//! Limits and budgets through the real pipeline (`Gateway` + `Governor` + the mock provider):
//! concurrent requests released together by a barrier never pass a limit, rejected requests
//! give back what they reserved, and an abandoned stream settles exactly once.

#![expect(clippy::unwrap_used, reason = "test code")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use smartflow_core::policy::Action;
use smartflow_core::providers::{MockBehavior, MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::{
    Audit, AuditRecord, ChatRequest, Decision, Denial, Endpoint, Enforcement, ErrorKind, Gateway, ModelKind, Policy,
    Principal, RequestContext, Target,
};
use smartflow_policy::governance::ledger::Ledger;
use smartflow_policy::governance::prices::{Price, PriceTable};
use smartflow_policy::governance::rules::{LimitRule, ScopeAttr, Subjects};
use smartflow_policy::governance::spec::{Limit, Metric, NanoUsd, Period};
use smartflow_policy::governance::usage::UsageBook;
use smartflow_policy::governance::{Governor, GovernorConfig};
use tokio::sync::Barrier;

const NOW: u64 = 1_795_301_100;

fn rule(id: &str, limits: Vec<Limit>, enforcement: Enforcement) -> LimitRule {
    LimitRule { id: id.into(), scope: vec![ScopeAttr::Key], subjects: Subjects::default(), limits, enforcement }
}

struct Setup {
    gateway: Gateway,
    ledger: Arc<Ledger>,
    usage: Arc<UsageBook>,
    audit: Arc<Records>,
}

#[derive(Default)]
struct Records(std::sync::Mutex<Vec<AuditRecord>>);

#[async_trait]
impl Audit for Records {
    fn name(&self) -> &str {
        "records"
    }
    async fn record(&self, record: &AuditRecord) -> Result<(), smartflow_core::Error> {
        self.0.lock().unwrap().push(record.clone());
        Ok(())
    }
}

fn setup(rules: Vec<LimitRule>, prices: PriceTable, latency: Duration, after: Option<Arc<dyn Policy>>) -> Setup {
    let ledger = Arc::new(Ledger::in_memory());
    let usage = Arc::new(UsageBook::in_memory());
    let config = GovernorConfig { rules, prices, default_max_output: 100, ..GovernorConfig::default() };
    let governor = Governor::new(config, ledger.clone(), usage.clone()).with_clock(Arc::new(|| NOW));
    let mock = MockProvider::new(
        "mock",
        MockConfig { behavior: MockBehavior::Echo, latency, chunk_delay: latency, ..MockConfig::default() },
    );
    let mut table = ModelTable::new("test");
    table.insert(VirtualModel::new("m", ModelKind::Chat, vec![Arc::new(Target::new(Arc::new(mock), "up"))])).unwrap();
    let audit = Arc::new(Records::default());
    let mut b = Gateway::builder().router(table).policy(governor).shared_audit(audit.clone());
    if let Some(p) = after {
        b = b.shared_policy(p);
    }
    Setup { gateway: b.build().unwrap(), ledger, usage, audit }
}

fn ctx() -> RequestContext {
    RequestContext::new("r", Arc::new(Principal::new("k1")), Endpoint::ChatCompletions)
}

fn req(max_tokens: u64, stream: bool) -> ChatRequest {
    let body = format!(
        r#"{{"model":"m","max_tokens":{max_tokens},"stream":{stream},"messages":[{{"role":"user","content":"hello there"}}]}}"#
    );
    ChatRequest::from_slice(body.as_bytes()).unwrap()
}

fn counter(s: &Setup, rule: &str, metric: &str, period: Period) -> smartflow_policy::governance::ledger::Counter {
    s.ledger.get(NOW, &format!("{rule}|{metric}|{}|key=k1", period.label()), period)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rpm_10_with_200_simultaneous_requests_admits_exactly_10() {
    let rules = vec![rule("rpm", vec![Limit::rate(Metric::Requests, Period::Minute, 10)], Enforcement::Enforce)];
    let s = Arc::new(setup(rules, PriceTable::new(), Duration::from_millis(20), None));
    let barrier = Arc::new(Barrier::new(200));
    let tasks: Vec<_> = (0..200)
        .map(|_| {
            let (s, barrier) = (s.clone(), barrier.clone());
            tokio::spawn(async move {
                barrier.wait().await;
                s.gateway.chat(ctx(), req(5, false)).await.map(|_| ()).map_err(|e| e.kind())
            })
        })
        .collect();
    let mut admitted = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => admitted += 1,
            Err(kind) => assert_eq!(kind, ErrorKind::RateLimited),
        }
    }
    assert_eq!(admitted, 10);
    let c = counter(&s, "rpm", "requests", Period::Minute);
    assert_eq!((c.used, c.reserved), (10, 0), "ten settled, nothing left reserved");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tpm_1000_with_concurrent_800_token_requests_never_goes_over() {
    let rules = vec![rule("tpm", vec![Limit::rate(Metric::Tokens, Period::Minute, 1_000)], Enforcement::Enforce)];
    let s = Arc::new(setup(rules, PriceTable::new(), Duration::from_millis(10), None));
    let peak = Arc::new(AtomicU64::new(0));
    for _round in 0..5 {
        let barrier = Arc::new(Barrier::new(20));
        let tasks: Vec<_> = (0..20)
            .map(|_| {
                let (s, barrier, peak) = (s.clone(), barrier.clone(), peak.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    let r = s.gateway.chat(ctx(), req(800, false)).await;
                    let c = counter(&s, "tpm", "tokens", Period::Minute);
                    peak.fetch_max(c.used + c.reserved, Ordering::SeqCst);
                    r.map(|served| served.value.usage.map_or(0, |u| u.total_tokens)).map_err(|e| e.kind())
                })
            })
            .collect();
        for t in tasks {
            if let Err(kind) = t.await.unwrap() {
                assert_eq!(kind, ErrorKind::RateLimited);
            }
        }
    }
    let c = counter(&s, "tpm", "tokens", Period::Minute);
    assert!(c.used <= 1_000, "settled tokens {} over the limit", c.used);
    assert!(peak.load(Ordering::SeqCst) <= 1_000, "used + reserved peaked at {}", peak.load(Ordering::SeqCst));
    assert_eq!(c.reserved, 0);
    assert!(c.used > 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn budget_of_one_cent_with_50_concurrent_requests_is_never_overspent() {
    let mut prices = PriceTable::new();
    prices.insert("m", Price::per_million(100.0, 300.0, None).unwrap());
    let budget = NanoUsd::from_usd(0.01).unwrap();
    let rules = vec![rule("budget", vec![Limit::budget(budget, Period::Month)], Enforcement::Enforce)];
    let s = Arc::new(setup(rules, prices, Duration::from_millis(10), None));
    let mut denied = 0;
    for _round in 0..20 {
        let barrier = Arc::new(Barrier::new(50));
        let tasks: Vec<_> = (0..50)
            .map(|_| {
                let (s, barrier) = (s.clone(), barrier.clone());
                tokio::spawn(async move {
                    barrier.wait().await;
                    s.gateway.chat(ctx(), req(20, false)).await.map(|_| ()).map_err(|e| e.kind())
                })
            })
            .collect();
        for t in tasks {
            if let Err(kind) = t.await.unwrap() {
                assert_eq!(kind, ErrorKind::QuotaExceeded, "an exhausted budget is a 403");
                denied += 1;
            }
        }
    }
    let c = counter(&s, "budget", "spend", Period::Month);
    assert!(c.used <= budget.0, "spent {} of a {} budget", NanoUsd(c.used), budget);
    assert!(denied > 0, "the budget ran out (spent {})", NanoUsd(c.used));
    let spent = s.usage.totals(NOW, ScopeAttr::Key, "k1", 1).spend_nano_usd;
    assert_eq!(spent, c.used, "the usage book and the budget agree");
}

struct DenyAll;

#[async_trait]
impl Policy for DenyAll {
    fn name(&self) -> &str {
        "deny-all"
    }
    async fn on_request(&self, _ctx: &mut RequestContext, _req: &mut ChatRequest) -> Decision {
        Decision::Deny(Denial::new("deny-all", "no"))
    }
}

#[tokio::test]
async fn a_request_rejected_after_admission_releases_its_reservation() {
    let limits =
        vec![Limit::rate(Metric::Requests, Period::Minute, 1), Limit::rate(Metric::Tokens, Period::Minute, 500)];
    let rules = vec![rule("r", limits, Enforcement::Enforce)];
    let s = setup(rules, PriceTable::new(), Duration::ZERO, Some(Arc::new(DenyAll)));
    for _ in 0..3 {
        let e = s.gateway.chat(ctx(), req(100, false)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PolicyDenied, "the later policy denies, never the limit");
    }
    for metric in ["requests", "tokens"] {
        let c = counter(&s, "r", metric, Period::Minute);
        assert_eq!((c.used, c.reserved), (0, 0), "{metric}");
    }
}

#[tokio::test]
async fn a_stream_abandoned_mid_way_settles_once_and_never_as_zero() {
    let rules = vec![rule("tpm", vec![Limit::rate(Metric::Tokens, Period::Minute, 10_000)], Enforcement::Enforce)];
    let s = setup(rules, PriceTable::new(), Duration::from_millis(30), None);
    let served = s.gateway.chat_stream(ctx(), req(200, true)).await.unwrap();
    let mut stream = served.value;
    let first = stream.next().await;
    assert!(first.is_some());
    assert!(counter(&s, "tpm", "tokens", Period::Minute).reserved > 0);
    drop(stream);
    tokio::time::sleep(Duration::from_millis(50)).await;
    let c = counter(&s, "tpm", "tokens", Period::Minute);
    assert_eq!(c.reserved, 0, "the reservation is given back");
    assert!(c.used > 0, "an interrupted stream is billed an estimate, never zero");
    let totals = s.usage.totals(NOW, ScopeAttr::Key, "k1", 1);
    assert_eq!(totals.requests, 1, "settled exactly once");
}

#[tokio::test]
async fn audit_rules_let_requests_through_and_record_would_deny() {
    let rules = vec![rule("audit-rpm", vec![Limit::rate(Metric::Requests, Period::Minute, 1)], Enforcement::Audit)];
    let s = setup(rules, PriceTable::new(), Duration::ZERO, None);
    s.gateway.chat(ctx(), req(5, false)).await.unwrap();
    let mut c = ctx();
    c.request_id = "second".into();
    let served = s.gateway.chat(c, req(5, false)).await.unwrap();
    assert_eq!(counter(&s, "audit-rpm", "requests", Period::Minute).used, 2);
    assert!(served.meta.headers.get("x-ratelimit-remaining-requests").is_none(), "audit rules set no headers");
    let records = s.audit.0.lock().unwrap();
    let second = records.iter().find(|r| r.request_id == "second").unwrap();
    let d = &second.decisions[0];
    assert_eq!((d.policy.as_str(), d.rule.as_str(), &d.action), ("limits", "audit-rpm", &Action::WouldDeny));
    assert!(records.iter().find(|r| r.request_id == "r").unwrap().decisions.is_empty());
}

#[tokio::test]
async fn admitted_requests_carry_rate_limit_headers() {
    let limits =
        vec![Limit::rate(Metric::Requests, Period::Minute, 5), Limit::rate(Metric::Tokens, Period::Minute, 5_000)];
    let s = setup(vec![rule("r", limits, Enforcement::Enforce)], PriceTable::new(), Duration::ZERO, None);
    let served = s.gateway.chat(ctx(), req(100, false)).await.unwrap();
    let h = &served.meta.headers;
    assert_eq!(h.get("x-ratelimit-limit-requests").unwrap(), "5");
    assert_eq!(h.get("x-ratelimit-remaining-requests").unwrap(), "4");
    assert_eq!(h.get("x-ratelimit-limit-tokens").unwrap(), "5000");
    let remaining: u64 = h.get("x-ratelimit-remaining-tokens").unwrap().to_str().unwrap().parse().unwrap();
    assert!(remaining < 4_900, "prompt + max_tokens reserved: {remaining}");
    assert_eq!(h.get("x-ratelimit-reset-requests").unwrap(), "60s");
}

#[tokio::test]
async fn a_model_the_key_may_not_use_is_403_before_any_limit_is_charged() {
    let rules = vec![rule("rpm", vec![Limit::rate(Metric::Requests, Period::Minute, 1)], Enforcement::Enforce)];
    let s = setup(rules, PriceTable::new(), Duration::ZERO, None);
    let mut p = Principal::new("k1");
    p.models = Some(["other".to_owned()].into());
    let p = Arc::new(p);
    for _ in 0..3 {
        let ctx = RequestContext::new("r", p.clone(), Endpoint::ChatCompletions);
        let e = s.gateway.chat(ctx, req(5, false)).await.unwrap_err();
        assert_eq!(e.kind(), ErrorKind::PermissionDenied, "403 model_not_allowed, never 429");
    }
    let c = counter(&s, "rpm", "requests", Period::Minute);
    assert_eq!((c.used, c.reserved), (0, 0));
}
