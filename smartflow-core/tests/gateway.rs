//! The library pipeline without the daemon: policies, failover, streams, cancellation and audit,
//! driven through `Gateway` with scripted providers and an in-memory audit sink.

#![expect(clippy::unwrap_used, reason = "test support code: a failed set-up step is a failed test")]

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use futures_util::StreamExt;
use smartflow_core::providers::{MockBehavior, MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::{
    Audit, AuditRecord, ChatChunk, ChatRequest, ChatResponse, ChunkStream, Completion, Decision, Denial, Endpoint,
    Enforcement, Error, ErrorKind, Gateway, GatewayOptions, ModelKind, Outcome, Policy, Principal, Provider,
    ProviderCall, RequestContext, Target,
};
use tokio::sync::Mutex;

#[derive(Default)]
struct Memory(Mutex<Vec<AuditRecord>>);

#[async_trait]
impl Audit for Memory {
    fn name(&self) -> &str {
        "memory"
    }
    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        self.0.lock().await.push(record.clone());
        Ok(())
    }
}

impl Memory {
    async fn wait(&self, n: usize) -> Vec<AuditRecord> {
        for _ in 0..200 {
            let v = self.0.lock().await.clone();
            if v.len() >= n {
                return v;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        self.0.lock().await.clone()
    }
}

/// Fails every call with `kind`, counting calls.
struct Failing(ErrorKind, AtomicUsize);

#[async_trait]
impl Provider for Failing {
    fn name(&self) -> &str {
        "failing"
    }
    async fn chat(&self, _call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Err(Error::new(self.0, "scripted failure"))
    }
    async fn chat_stream(&self, _call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        self.1.fetch_add(1, Ordering::SeqCst);
        Err(Error::new(self.0, "scripted failure"))
    }
}

/// Counts `on_complete` calls and applies an optional decision on request.
struct Probe {
    decision: Option<Decision>,
    enforcement: Enforcement,
    completions: AtomicUsize,
    outcomes: std::sync::Arc<Mutex<Vec<Outcome>>>,
}

impl Probe {
    fn new(decision: Option<Decision>, enforcement: Enforcement) -> Arc<Self> {
        Arc::new(Self { decision, enforcement, completions: AtomicUsize::new(0), outcomes: Arc::default() })
    }
}

#[async_trait]
impl Policy for Probe {
    fn name(&self) -> &str {
        "probe"
    }
    fn enforcement(&self) -> Enforcement {
        self.enforcement
    }
    async fn on_request(&self, _ctx: &mut RequestContext, _req: &mut ChatRequest) -> Decision {
        self.decision.clone().unwrap_or(Decision::Continue)
    }
    fn on_complete(&self, _ctx: &RequestContext, completion: &Completion<'_>) {
        self.completions.fetch_add(1, Ordering::SeqCst);
        if let Ok(mut v) = self.outcomes.try_lock() {
            v.push(completion.outcome);
        }
    }
}

fn echo(latency: Duration) -> Arc<dyn Provider> {
    Arc::new(MockProvider::new(
        "mock",
        MockConfig { behavior: MockBehavior::Echo, latency, chunk_delay: latency, ..MockConfig::default() },
    ))
}

fn gateway(
    targets: Vec<Arc<dyn Provider>>,
    policy: Option<Arc<dyn Policy>>,
    audit: Arc<Memory>,
    record_prompts: bool,
) -> Gateway {
    let mut table = ModelTable::new("test");
    table
        .insert(VirtualModel::new(
            "m",
            ModelKind::Chat,
            targets.into_iter().map(|p| Arc::new(Target::new(p, "up"))).collect(),
        ))
        .unwrap();
    let mut b = Gateway::builder().router(table).shared_audit(audit).options(GatewayOptions { record_prompts });
    if let Some(p) = policy {
        b = b.shared_policy(p);
    }
    b.build().unwrap()
}

fn ctx() -> RequestContext {
    RequestContext::new("r1", Arc::new(Principal::new("k1")), Endpoint::ChatCompletions)
}

fn req(stream: bool) -> ChatRequest {
    let body = format!(r#"{{"model":"m","stream":{stream},"messages":[{{"role":"user","content":"hello there"}}]}}"#);
    ChatRequest::from_slice(body.as_bytes()).unwrap()
}

#[tokio::test]
async fn enforced_denial_stops_before_the_provider_and_is_audited() {
    let audit = Arc::new(Memory::default());
    let failing = Arc::new(Failing(ErrorKind::UpstreamServerError, AtomicUsize::new(0)));
    let probe = Probe::new(Some(Decision::Deny(Denial::new("probe.rule", "nope"))), Enforcement::Enforce);
    let gw = gateway(vec![failing.clone()], Some(probe.clone()), audit.clone(), false);
    let e = gw.chat(ctx(), req(false)).await.unwrap_err();
    assert_eq!(e.status_code(), 403);
    assert_eq!(failing.1.load(Ordering::SeqCst), 0, "the provider was called");
    let records = audit.wait(1).await;
    assert_eq!(records[0].outcome, Outcome::Denied);
    assert_eq!(records[0].decisions[0].rule, "probe.rule");
    assert_eq!(probe.completions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn audit_enforcement_records_and_lets_the_request_through() {
    let audit = Arc::new(Memory::default());
    let probe = Probe::new(Some(Decision::Deny(Denial::new("probe.rule", "nope"))), Enforcement::Audit);
    let gw = gateway(vec![echo(Duration::ZERO)], Some(probe), audit.clone(), false);
    let served = gw.chat(ctx(), req(false)).await.unwrap();
    assert_eq!(served.value.choices[0].message.text().as_deref(), Some("hello there"));
    let records = audit.wait(1).await;
    assert_eq!(records[0].outcome, Outcome::Allowed);
    assert_eq!(serde_json::to_value(&records[0].decisions[0].action).unwrap(), "would_deny");
}

#[tokio::test]
async fn a_policy_can_answer_a_streaming_request_itself() {
    let audit = Arc::new(Memory::default());
    let failing = Arc::new(Failing(ErrorKind::UpstreamServerError, AtomicUsize::new(0)));
    let canned: ChatResponse = serde_json::from_str(
        r#"{"id":"c","object":"chat.completion","created":1,"model":"x","choices":[{"index":0,"message":{"role":"assistant","content":"canned"},"finish_reason":"stop"}]}"#,
    )
    .unwrap();
    let probe = Probe::new(Some(Decision::Respond(Box::new(canned))), Enforcement::Enforce);
    let gw = gateway(vec![failing.clone()], Some(probe), audit, false);
    let stream = gw.chat_stream(ctx(), req(true)).await.unwrap().value;
    let chunks: Vec<ChatChunk> = stream.map(|c| c.unwrap()).collect().await;
    let text: String = chunks.iter().filter_map(|c| c.choices.first()?.delta.content.clone()).collect();
    assert_eq!(text, "canned");
    assert!(chunks.iter().all(|c| c.model == "m"));
    assert_eq!(failing.1.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn failover_only_on_retryable_errors() {
    let audit = Arc::new(Memory::default());
    let flaky = Arc::new(Failing(ErrorKind::UpstreamTimeout, AtomicUsize::new(0)));
    let gw = gateway(vec![flaky.clone(), echo(Duration::ZERO)], None, audit.clone(), false);
    let served = gw.chat(ctx(), req(false)).await.unwrap();
    assert_eq!(served.meta.target.as_deref(), Some("mock/up"));
    assert_eq!(flaky.1.load(Ordering::SeqCst), 1);

    let bad = Arc::new(Failing(ErrorKind::UpstreamClientError, AtomicUsize::new(0)));
    let gw = gateway(vec![bad.clone(), echo(Duration::ZERO)], None, audit, false);
    let e = gw.chat_stream(ctx(), req(true)).await.unwrap_err();
    assert_eq!(e.kind(), ErrorKind::UpstreamClientError, "a client error is never retried elsewhere");
}

#[tokio::test]
async fn dropping_a_request_completes_it_as_cancelled_exactly_once() {
    let audit = Arc::new(Memory::default());
    let probe = Probe::new(None, Enforcement::Enforce);
    let gw = gateway(vec![echo(Duration::from_secs(30))], Some(probe.clone()), audit.clone(), false);
    let call = tokio::spawn({
        let gw = gw.clone();
        async move { gw.chat(ctx(), req(false)).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    call.abort();
    let records = audit.wait(1).await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].outcome, Outcome::Cancelled);
    assert_eq!(probe.completions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn a_stream_dropped_midway_bills_what_was_sent() {
    let audit = Arc::new(Memory::default());
    let probe = Probe::new(None, Enforcement::Enforce);
    let gw = gateway(vec![echo(Duration::from_millis(20))], Some(probe.clone()), audit.clone(), false);
    let mut stream = gw.chat_stream(ctx(), req(true)).await.unwrap().value;
    let _role = stream.next().await.unwrap().unwrap();
    let _first = stream.next().await.unwrap().unwrap();
    drop(stream);
    let records = audit.wait(1).await;
    assert_eq!(records[0].outcome, Outcome::Cancelled);
    assert!(records[0].usage.is_some_and(|u| u.output > 0 && u.input > 0), "{:?}", records[0].usage);
    assert_eq!(probe.completions.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn prompts_are_recorded_only_when_configured() {
    for record in [false, true] {
        let audit = Arc::new(Memory::default());
        let gw = gateway(vec![echo(Duration::ZERO)], None, audit.clone(), record);
        gw.chat(ctx(), req(false)).await.unwrap();
        let mut s = gw.chat_stream(ctx(), req(true)).await.unwrap().value;
        while s.next().await.is_some() {}
        let records = audit.wait(2).await;
        for r in &records {
            assert_eq!(r.prompt.is_some(), record);
            assert_eq!(r.completion.as_deref(), record.then_some("hello there"));
        }
    }
}

#[tokio::test]
async fn unknown_models_are_404_and_no_authenticator_means_401() {
    let audit = Arc::new(Memory::default());
    let gw = gateway(vec![echo(Duration::ZERO)], None, audit, false);
    let mut r = req(false);
    r.model = "other".into();
    let e = gw.chat(ctx(), r).await.unwrap_err();
    assert_eq!((e.status_code(), e.code()), (404, Some("model_not_found")));
    let e = gw.authenticate(&smartflow_core::Credentials::bearer("anything")).await;
    assert_eq!(e.unwrap_err().status_code(), 401, "a gateway without an authenticator is closed");
}
