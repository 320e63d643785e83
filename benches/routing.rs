//! Criterion benchmark of routing decisions and dialect translation.
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench routing
//! ```
//!
//! `route/*`: one `ModelTable::plan` for a four-target model per strategy. `translate/*`: the
//! Anthropic request translation of a ~200-token chat request (both directions), and a 100-chunk
//! stream encoded as Anthropic events and decoded back. Compare each against `baseline/parse`
//! (parsing the same request) from the same run.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use smartflow_benches::chat_body;
use smartflow_core::providers::{MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, Strategy, VirtualModel};
use smartflow_core::sse::SseDecoder;
use smartflow_core::translate::anthropic::{
    AnthropicStreamDecoder, AnthropicStreamEncoder, from_anthropic_request, to_anthropic_request,
};
use smartflow_core::{ChatChunk, ChatRequest, Endpoint, ModelKind, Principal, RequestContext, Router, Target};

fn table(strategy: Strategy) -> ModelTable {
    let targets: Vec<Arc<Target>> = (0..4)
        .map(|i| Arc::new(Target::new(Arc::new(MockProvider::new(format!("p{i}"), MockConfig::default())), "m")))
        .collect();
    let mut t = ModelTable::new("bench");
    let vm = VirtualModel::new("v", ModelKind::Chat, targets).strategy(strategy).weights(vec![1, 2, 3, 4]);
    if t.insert(vm).is_err() {
        unreachable!("one model cannot collide");
    }
    t
}

fn chunks(n: usize) -> Vec<ChatChunk> {
    let mut out = Vec::with_capacity(n + 2);
    let mk = |delta: serde_json::Value, finish: Option<&str>| -> ChatChunk {
        serde_json::from_value(
            serde_json::json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}),
        )
        .unwrap_or_else(|e| unreachable!("{e}"))
    };
    out.push(mk(serde_json::json!({"role": "assistant", "content": ""}), None));
    for i in 0..n {
        out.push(mk(serde_json::json!({"content": format!("token{i} ")}), None));
    }
    out.push(mk(serde_json::json!({}), Some("stop")));
    out
}

fn bench(c: &mut Criterion) {
    let ctx = RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ChatCompletions);
    let mut g = c.benchmark_group("route");
    for (name, s) in [
        ("priority", Strategy::Priority),
        ("weighted", Strategy::Weighted),
        ("round_robin", Strategy::RoundRobin),
        ("least_latency", Strategy::LeastLatency),
    ] {
        let t = table(s);
        g.bench_function(name, |b| {
            b.iter(|| t.plan(&ctx, std::hint::black_box("v"), ModelKind::Chat).map(|p| p.targets.len()))
        });
    }
    g.finish();

    let body = chat_body("m", false);
    let req = ChatRequest::from_slice(&body).unwrap_or_else(|e| unreachable!("{e}"));
    let anthropic_body =
        to_anthropic_request(&req, "claude", false, 1024).unwrap_or_else(|e| unreachable!("{e}")).to_string();
    let mut g = c.benchmark_group("translate");
    g.bench_function("baseline/parse", |b| b.iter(|| ChatRequest::from_slice(std::hint::black_box(&body)).is_ok()));
    g.bench_function("anthropic/request_out", |b| {
        b.iter(|| to_anthropic_request(std::hint::black_box(&req), "claude", false, 1024).map(|v| v.is_object()))
    });
    g.bench_function("anthropic/request_in", |b| {
        b.iter(|| from_anthropic_request(std::hint::black_box(anthropic_body.as_bytes())).is_ok())
    });
    let stream = chunks(100);
    g.bench_function("anthropic/stream_100_chunks_encode_decode", |b| {
        b.iter(|| {
            let mut enc = AnthropicStreamEncoder::new("m");
            let mut bytes = Vec::new();
            for chunk in &stream {
                bytes.extend_from_slice(&enc.encode(chunk));
            }
            bytes.extend_from_slice(&enc.finish());
            let mut sse = SseDecoder::new(1 << 20);
            let mut events = Vec::new();
            let _ = sse.feed(&bytes, &mut events);
            let mut dec = AnthropicStreamDecoder::new("m");
            let mut out = Vec::new();
            for ev in &events {
                let _ = dec.decode_event(ev, &mut out);
            }
            out.len()
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
