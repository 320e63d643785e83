//! Criterion benchmark of the in-process pipeline overhead: parse → empty policy stack → mock
//! provider → serialise, against a baseline that only parses and serialises.
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench pipeline
//! ```
//!
//! Read the result as the ratio `pipeline / baseline` from one run: absolute times on a shared
//! machine are noise.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::sync::Arc;

use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;
use smartflow_benches::chat_body;
use smartflow_core::providers::{MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::sse::encode_data;
use smartflow_core::{ChatRequest, ChatResponse, Endpoint, Gateway, ModelKind, Principal, RequestContext, Target};

fn gateway() -> Gateway {
    let provider = Arc::new(MockProvider::new("mock", MockConfig::default()));
    let mut table = ModelTable::new("bench");
    let vm = VirtualModel::new("m", ModelKind::Chat, vec![Arc::new(Target::new(provider, "mock-1"))]);
    if table.insert(vm).is_err() {
        unreachable!("one model cannot collide");
    }
    match Gateway::builder().router(table).build() {
        Ok(g) => g,
        Err(e) => unreachable!("{e}"),
    }
}

fn bench(c: &mut Criterion) {
    let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => unreachable!("{e}"),
    };
    let gw = gateway();
    let principal = Arc::new(Principal::new("bench"));
    let body = chat_body("m", false);
    let stream_body = chat_body("m", true);
    let canned: ChatResponse = match rt.block_on(gw.chat(
        RequestContext::new("warm", principal.clone(), Endpoint::ChatCompletions),
        ChatRequest::from_slice(&body).unwrap_or_else(|e| unreachable!("{e}")),
    )) {
        Ok(s) => s.value,
        Err(e) => unreachable!("{e}"),
    };

    let mut g = c.benchmark_group("chat");
    g.bench_function("baseline_parse_serialise", |b| {
        b.iter(|| {
            let req = ChatRequest::from_slice(std::hint::black_box(&body));
            let out = serde_json::to_vec(&canned);
            (req.is_ok(), out.map(|v| v.len()))
        })
    });
    g.bench_function("pipeline_mock", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req = ChatRequest::from_slice(std::hint::black_box(&body)).unwrap_or_else(|e| unreachable!("{e}"));
                let ctx = RequestContext::new("r", principal.clone(), Endpoint::ChatCompletions);
                let served = gw.chat(ctx, req).await.unwrap_or_else(|e| unreachable!("{e}"));
                serde_json::to_vec(&served.value).map(|v| v.len())
            })
        })
    });
    g.bench_function("pipeline_mock_stream", |b| {
        b.iter(|| {
            rt.block_on(async {
                let req =
                    ChatRequest::from_slice(std::hint::black_box(&stream_body)).unwrap_or_else(|e| unreachable!("{e}"));
                let ctx = RequestContext::new("r", principal.clone(), Endpoint::ChatCompletions);
                let mut stream = gw.chat_stream(ctx, req).await.unwrap_or_else(|e| unreachable!("{e}")).value;
                let mut bytes = 0;
                while let Some(Ok(chunk)) = stream.next().await {
                    bytes += serde_json::to_vec(&chunk).map(|d| encode_data(&d).len()).unwrap_or(0);
                }
                bytes
            })
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
