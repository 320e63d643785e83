//! Criterion benchmark of the layered response cache, in-process (no HTTP):
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench cache
//! SMARTFLOW_MINILM_DIR=models/all-MiniLM-L6-v2 SMARTFLOW_STATIC_DIR=models/static-minilm-256 \
//!   cargo bench -p smartflow-benches --bench cache --features minilm
//! ```
//!
//! - `cache/l1_hit`: a whole `Cache::get` answered by L1 (fingerprint, sled read, decode),
//!   against `baseline/fingerprint` (hashing the request alone) from the same run.
//! - `cache/l3_canonical`: the canonical form of a 200-byte prompt.
//! - `cache/l3_hit`: a whole lookup answered by L3.
//! - `cache/miss_l1_l3_l2`: a miss through all layers with the built-in embedder and 10k entries.
//! - `embed/*`: each embedder on a ~27-token prompt (MiniLM and static when their directories are
//!   given through the environment).
//! - `restart/100k`: printed, not sampled: reopening a cache of 100,000 entries (with semantic
//!   vectors) until the first lookup is answered, and until the HNSW index is built.
//!
//! L2 search at 10k and 100k entries, embedding excluded, is in `--bench cache_index`.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]
#![expect(clippy::disallowed_types, reason = "wall-clock timing of a start-up, outside the async runtime")]

use std::sync::Arc;
use std::time::Instant;

use criterion::{Criterion, criterion_group, criterion_main};
use smartflow_cache::embed::BuiltinEmbedder;
use smartflow_cache::fingerprint::Fingerprint;
use smartflow_cache::{CacheConfig, LayerMode, LayeredCache, SemanticConfig};
use smartflow_core::{Cache, ChatRequest, ChatResponse, Embedder, Endpoint, Principal, RequestContext};

fn req(prompt: &str) -> ChatRequest {
    serde_json::from_value(serde_json::json!({"model": "gpt", "temperature": 0.2, "messages": [
        {"role": "system", "content": "You are a concise assistant for a regulated enterprise."},
        {"role": "user", "content": prompt}
    ]}))
    .unwrap_or_else(|e| unreachable!("{e}"))
}

fn resp() -> ChatResponse {
    serde_json::from_value(serde_json::json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "An answer of a few sentences. ".repeat(8)}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 60, "completion_tokens": 50, "total_tokens": 110}}))
    .unwrap_or_else(|e| unreachable!("{e}"))
}

fn ctx() -> RequestContext {
    RequestContext::new("r", Arc::new(Principal::new("bench-key")), Endpoint::ChatCompletions)
}

fn semantic() -> Option<(LayerMode, SemanticConfig)> {
    Some((LayerMode::Enforce, SemanticConfig::new(Arc::new(BuiltinEmbedder::new()), 0.9)))
}

const PROMPT: &str = "Summarise the attached incident report for the board in three bullet points, \
                      highlighting customer impact, root cause and the remediation timeline.";

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap_or_else(|e| unreachable!("{e}"))
}

fn hits(c: &mut Criterion) {
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let config = CacheConfig { semantic: semantic(), ..CacheConfig::default() };
    let cache = LayeredCache::open(config, Some(&dir.path().join("c"))).unwrap_or_else(|e| unreachable!("{e}"));
    let ctx = ctx();
    rt.block_on(async {
        for i in 0..10_000 {
            let _ = cache.put(&ctx, &req(&format!("{PROMPT} (variant {i})")), &resp()).await;
        }
        let _ = cache.put(&ctx, &req(PROMPT), &resp()).await;
        cache.settle().await;
    });
    let exact = req(PROMPT);
    let canonical = req(&format!("  {}!!", PROMPT.to_lowercase()));
    let miss = req("Write a haiku about quarterly compliance training for new starters.");
    c.bench_function("baseline/fingerprint", |b| b.iter(|| Fingerprint::of(&exact)));
    c.bench_function("cache/l1_hit", |b| b.iter(|| rt.block_on(cache.get(&ctx, &exact))));
    c.bench_function("cache/l3_canonical", |b| b.iter(|| smartflow_cache::canonical::canonical_prompt(PROMPT)));
    c.bench_function("cache/l3_hit", |b| b.iter(|| rt.block_on(cache.get(&ctx, &canonical))));
    c.bench_function("cache/miss_l1_l3_l2", |b| b.iter(|| rt.block_on(cache.get(&ctx, &miss))));
}

fn embedders(c: &mut Criterion) {
    let rt = runtime();
    let text = vec!["How many miles is five kilometres, and how do I convert it myself?".to_owned()];
    let mut all: Vec<(&str, Arc<dyn Embedder>)> = vec![("builtin", Arc::new(BuiltinEmbedder::new()))];
    if let Ok(dir) = std::env::var("SMARTFLOW_STATIC_DIR")
        && let Ok(e) = smartflow_cache::embed::StaticEmbedder::open(&dir)
    {
        all.push(("static", Arc::new(e)));
    }
    #[cfg(feature = "minilm")]
    if let Ok(dir) = std::env::var("SMARTFLOW_MINILM_DIR")
        && let Ok(e) = smartflow_cache::embed::MiniLmEmbedder::open(&dir)
    {
        all.push(("minilm", Arc::new(e)));
    }
    for (name, e) in all {
        c.bench_function(&format!("embed/{name}"), |b| b.iter(|| rt.block_on(e.embed(&text))));
    }
}

/// Not a criterion sample: a one-off timing of a restart with 100k entries.
fn restart(_: &mut Criterion) {
    if std::env::var_os("SMARTFLOW_BENCH_SKIP_RESTART").is_some() {
        return;
    }
    let rt = runtime();
    let dir = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
    let path = dir.path().join("c");
    let config = CacheConfig { semantic: semantic(), max_bytes: 4 << 30, ..CacheConfig::default() };
    let ctx = ctx();
    let n = 100_000;
    let started = Instant::now();
    rt.block_on(async {
        let cache = LayeredCache::open(config.clone(), Some(&path)).unwrap_or_else(|e| unreachable!("{e}"));
        for i in 0..n {
            let _ = cache.put(&ctx, &req(&format!("Question number {i} about topic {}", i % 997)), &resp()).await;
            if i % 1000 == 999 {
                cache.settle().await;
            }
        }
        cache.settle().await;
        cache.flush().await;
    });
    eprintln!("restart/100k: filled in {:.1} s", started.elapsed().as_secs_f64());
    let started = Instant::now();
    let cache = LayeredCache::open(config, Some(&path)).unwrap_or_else(|e| unreachable!("{e}"));
    let opened = started.elapsed();
    let hit = rt.block_on(cache.get(&ctx, &req("Question number 42 about topic 42")));
    let serving = started.elapsed();
    eprintln!(
        "restart/100k: open {:.0} ms, first lookup answered ({}) after {:.0} ms, {} entries",
        opened.as_secs_f64() * 1e3,
        if hit.is_ok_and(|h| h.hit.is_some()) { "hit" } else { "miss" },
        serving.as_secs_f64() * 1e3,
        cache.open_report().loaded,
    );
}

criterion_group!(benches, hits, embedders, restart);
criterion_main!(benches);
