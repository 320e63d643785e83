//! Criterion benchmark of governance: what the limits-and-budgets policy adds to a request —
//! admission (every applicable counter reserved atomically) plus settlement (reservations
//! swapped for actual usage, the usage book updated).
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench governance
//! ```
//!
//! `governance/requests_only/{1,10000}_keys`: a per-key requests-per-minute rule, over 1 and
//! 10,000 distinct keys (round-robin), counters in memory. `governance/tokens_and_budget/...`:
//! per-key requests and tokens per minute plus a per-team monthly budget — this includes
//! counting the prompt's tokens (o200k) for the reservation. `.../sled`: the same with counters
//! and usage persisted in a sled database in a temporary directory. Compare each against
//! `baseline/context` (building the request context alone) from the same run.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::FutureExt as _;
use smartflow_core::types::TokenUsage;
use smartflow_core::{ChatRequest, Completion, Endpoint, Enforcement, Outcome, Policy, Principal, RequestContext};
use smartflow_policy::governance::ledger::Ledger;
use smartflow_policy::governance::prices::{Price, PriceTable};
use smartflow_policy::governance::rules::{LimitRule, ScopeAttr, Subjects};
use smartflow_policy::governance::spec::{Limit, Metric, NanoUsd, Period};
use smartflow_policy::governance::usage::UsageBook;
use smartflow_policy::governance::{Governor, GovernorConfig};

fn request() -> ChatRequest {
    let body = br#"{"model":"m","max_tokens":256,"messages":[{"role":"system","content":"You are a concise assistant."},{"role":"user","content":"Summarise the quarterly risk report in three bullet points for the board."}]}"#;
    ChatRequest::from_slice(body).unwrap_or_else(|e| unreachable!("{e}"))
}

fn principals(n: usize) -> Vec<Arc<Principal>> {
    (0..n)
        .map(|i| {
            let mut p = Principal::new(format!("key-{i:05}"));
            p.user = Some(format!("user-{i:05}"));
            p.team = Some(format!("team-{}", i % 50));
            p.department = Some(format!("dept-{}", i % 5));
            Arc::new(p)
        })
        .collect()
}

fn governor(with_tokens: bool, store: Option<&sled::Db>) -> Governor {
    let mut rules = vec![LimitRule {
        id: "per-key".into(),
        scope: vec![ScopeAttr::Key],
        subjects: Subjects::default(),
        limits: vec![Limit::rate(Metric::Requests, Period::Minute, u64::MAX / 2)],
        enforcement: Enforcement::Enforce,
    }];
    let mut prices = PriceTable::new();
    if with_tokens {
        rules[0].limits.push(Limit::rate(Metric::Tokens, Period::Minute, u64::MAX / 2));
        rules.push(LimitRule {
            id: "team-budget".into(),
            scope: vec![ScopeAttr::Team],
            subjects: Subjects::default(),
            limits: vec![Limit::budget(NanoUsd(u64::MAX / 2), Period::Month)],
            enforcement: Enforcement::Enforce,
        });
        prices.insert("m", Price::per_million(2.5, 10.0, Some(1.25)).unwrap_or_else(|e| unreachable!("{e}")));
    }
    let (ledger, usage) = match store {
        Some(db) => (
            Ledger::persistent(db.open_tree("limits").unwrap_or_else(|e| unreachable!("{e}")))
                .unwrap_or_else(|e| unreachable!("{e}")),
            UsageBook::persistent(db.open_tree("usage").unwrap_or_else(|e| unreachable!("{e}")))
                .unwrap_or_else(|e| unreachable!("{e}")),
        ),
        None => (Arc::new(Ledger::in_memory()), Arc::new(UsageBook::in_memory())),
    };
    let config = GovernorConfig { rules, prices, ..GovernorConfig::default() };
    Governor::new(config, ledger, usage)
}

fn one(g: &Governor, principal: &Arc<Principal>, req: &mut ChatRequest) {
    let mut ctx = RequestContext::new("r", principal.clone(), Endpoint::ChatCompletions);
    let decision = g.on_request(&mut ctx, req).now_or_never();
    assert!(matches!(decision, Some(smartflow_core::Decision::Continue)));
    let usage = TokenUsage { input: 40, output: 120, ..TokenUsage::default() };
    let completion = Completion { outcome: Outcome::Allowed, error: None, usage: Some(usage), target: Some("p/m") };
    g.on_complete(&ctx, &completion);
}

fn bench(c: &mut Criterion) {
    let mut group = c.benchmark_group("governance");
    let mut req = request();
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let db = sled::open(dir.path()).unwrap_or_else(|e| unreachable!("{e}"));
    for (name, with_tokens, store) in
        [("requests_only", false, None), ("tokens_and_budget", true, None), ("tokens_and_budget_sled", true, Some(&db))]
    {
        for n in [1, 10_000] {
            let g = governor(with_tokens, store);
            let ps = principals(n);
            // Touch every key once so the measurement is the steady state, not first use.
            for p in &ps {
                one(&g, p, &mut req);
            }
            let mut i = 0;
            group.bench_function(format!("{name}/{n}_keys"), |b| {
                b.iter(|| {
                    i = (i + 1) % ps.len();
                    one(&g, &ps[i], &mut req);
                });
            });
        }
    }
    let p = principals(1).remove(0);
    group.bench_function("baseline/context", |b| {
        b.iter(|| RequestContext::new("r", p.clone(), Endpoint::ChatCompletions));
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
