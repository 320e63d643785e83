//! Criterion benchmark of the audit path: what recording one request's outcome costs on the
//! request path.
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench audit
//! ```
//!
//! `audit/verified_fsync_every_100`: the verified stream (JSON body, HMAC-SHA-256 chained to the
//! previous line, one `write` to the segment file; a background thread fsyncs every 100 lines
//! and a signed checkpoint every 1,000 records). `audit/verified_fsync_every_record`: the same,
//! waiting for the (group-committed) fsync. `audit/serialize_only`: the JSON encoding alone, the
//! floor any sink pays. `audit/remote_enqueue`: handing a record to a remote sink's queue
//! (Splunk, syslog, OTLP share it). `audit/baseline_block_on`: the harness's own cost of
//! entering the runtime, to subtract. Compare within one run.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use criterion::{Criterion, criterion_group, criterion_main};
use smartflow_core::policy::Outcome;
use smartflow_core::types::TokenUsage;
use smartflow_core::{Audit, AuditRecord, Principal};
use smartflow_policy::audit::delivery::{Delivery, DeliveryConfig, Transport, TransportError};
use smartflow_policy::audit::verified::{FsyncPolicy, VerifiedAudit, VerifiedConfig};

fn record() -> AuditRecord {
    let mut p = Principal::new("key_0123456789abcdef0123");
    p.user = Some("alice@example.org".into());
    p.team = Some("risk".into());
    p.department = Some("markets".into());
    AuditRecord {
        timestamp_ms: 1_795_301_100_000,
        request_id: "req_0a1b2c3d4e5f000000002a".into(),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        span_id: "b7ad6b7169203331".into(),
        parent_span_id: None,
        endpoint: "chat",
        principal: Arc::new(p),
        model: Some("gpt-4o".into()),
        target: Some("openai/gpt-4o-2024-08-06".into()),
        stream: false,
        outcome: Outcome::Allowed,
        status: 200,
        error: None,
        decisions: Vec::new(),
        cache: None,
        usage: Some(TokenUsage { input: 812, output: 164, ..TokenUsage::default() }),
        cost_nano_usd: Some(3_670_000),
        latency_ms: 812.4,
        ttfb_ms: None,
        prompt: None,
        completion: None,
        admin: None,
    }
}

/// A remote transport that accepts everything (measures the queue, not a network).
struct Sink;

#[async_trait]
impl Transport for Sink {
    fn name(&self) -> &str {
        "null"
    }
    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
        Ok(Bytes::from(vec![0u8; batch.len()]))
    }
    async fn send(&self, _payload: &Bytes) -> Result<(), TransportError> {
        Ok(())
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap_or_else(|e| unreachable!("{e}"));
    let r = record();
    let mut group = c.benchmark_group("audit");
    group.bench_function("baseline_block_on", |b| b.iter(|| rt.block_on(async { 1 })));
    group.bench_function("serialize_only", |b| b.iter(|| serde_json::to_vec(&r).map(|v| v.len()).unwrap_or(0)));
    for (name, fsync) in [
        ("verified_fsync_every_100", FsyncPolicy::EveryN(100)),
        ("verified_fsync_every_record", FsyncPolicy::EveryRecord),
    ] {
        let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let mut config = VerifiedConfig::new(dir.path(), vec![7u8; 32]);
        config.fsync = fsync;
        config.signing_seed = Some([9u8; 32]);
        let stream = VerifiedAudit::open(config).unwrap_or_else(|e| unreachable!("{e}"));
        group.bench_function(name, |b| b.iter(|| rt.block_on(stream.record(&r)).is_ok()));
    }
    let delivery = rt
        .block_on(async { Delivery::start(Arc::new(Sink), DeliveryConfig::default()) })
        .unwrap_or_else(|e| unreachable!("{e}"));
    group.bench_function("remote_enqueue", |b| b.iter(|| rt.block_on(delivery.record(&r)).is_ok()));
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
