//! The labelled paraphrase set (tests/data/paraphrases.jsonl) through the whole layered cache,
//! once per embedder: each pair gets its own key (so its own partition); `a` (with its history)
//! is stored, `b` (with its history) is looked up, and the layer that answered is counted.
//! Reports per-layer hit rates on true paraphrases and false hits on negatives, and the
//! similarity curve of the semantic layer (hits that passed the guard and context checks, before
//! the threshold), so thresholds can be chosen and re-checked.
//!
//! The built-in embedder always runs; the static and MiniLM ones when their directories exist
//! (`SMARTFLOW_STATIC_DIR`, `SMARTFLOW_MINILM_DIR`, or `models/...` in the repository) and, for
//! MiniLM, the `minilm` feature is compiled in.

#![expect(clippy::unwrap_used, reason = "test helpers: a failed set-up step is a failed test")]

use std::path::PathBuf;
use std::sync::Arc;

mod common;

use common::{Pair, Turn, load};
use smartflow_cache::embed::BuiltinEmbedder;
use smartflow_cache::{CacheConfig, LayerMode, LayeredCache, SemanticConfig, thresholds};
use smartflow_core::{Cache, CacheLayer, ChatRequest, ChatResponse, Embedder, Endpoint, Principal, RequestContext};

fn pairs() -> Vec<Pair> {
    load().unwrap()
}

fn request(history: &[Turn], prompt: &str) -> ChatRequest {
    let mut messages: Vec<serde_json::Value> =
        history.iter().map(|t| serde_json::json!({"role": t.role, "content": t.content})).collect();
    messages.push(serde_json::json!({"role": "user", "content": prompt}));
    serde_json::from_value(serde_json::json!({"model": "gpt", "messages": messages})).unwrap()
}

fn answer() -> ChatResponse {
    serde_json::from_value(serde_json::json!({"id": "c", "object": "chat.completion", "created": 1, "model": "gpt",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "answer"}, "finish_reason": "stop"}]}))
    .unwrap()
}

/// What one pair got: the layer that answered and the semantic similarity.
struct Outcome {
    same: bool,
    kind: String,
    layer: Option<CacheLayer>,
    similarity: Option<f32>,
}

async fn run(name: &str, screen: Arc<dyn Embedder>, verify: Option<Arc<dyn Embedder>>, pairs: &[Pair]) -> Vec<Outcome> {
    let dir = tempfile::tempdir().unwrap();
    let mut sc = SemanticConfig::new(screen, 0.0001);
    sc.screen_threshold = 0.0001;
    sc.verify = verify;
    sc.budget = std::time::Duration::from_secs(30);
    let config = CacheConfig { semantic: Some((LayerMode::Enforce, sc)), ..CacheConfig::default() };
    let cache = LayeredCache::open(config, Some(&dir.path().join("c"))).unwrap();
    let mut out = Vec::new();
    for p in pairs {
        let ctx =
            RequestContext::new("r", Arc::new(Principal::new(format!("pair-{}", p.id))), Endpoint::ChatCompletions);
        cache.put(&ctx, &request(&p.history_a, &p.a), &answer()).await.unwrap();
        cache.settle().await;
        let hit = cache.get(&ctx, &request(&p.history_b, &p.b)).await.unwrap().hit;
        out.push(Outcome {
            same: p.same,
            kind: p.kind.clone(),
            layer: hit.as_ref().map(|h| h.layer),
            similarity: hit.and_then(|h| h.similarity),
        });
    }
    eprintln!("\n== {name}: {} pairs", out.len());
    out
}

/// Hits per layer at threshold `t` (an L2 hit counts only when its similarity reaches `t`).
fn report(name: &str, out: &[Outcome], t: f32) -> (f64, f64) {
    let counted = |o: &Outcome| match o.layer {
        Some(CacheLayer::L2) => o.similarity.is_some_and(|s| s >= t),
        Some(_) => true,
        None => false,
    };
    let positives: Vec<&Outcome> = out.iter().filter(|o| o.same).collect();
    let negatives: Vec<&Outcome> = out.iter().filter(|o| !o.same).collect();
    let per_layer = |layer: CacheLayer| positives.iter().filter(|o| o.layer == Some(layer) && counted(o)).count();
    let hits = positives.iter().filter(|o| counted(o)).count();
    let false_hits: Vec<&&Outcome> = negatives.iter().filter(|o| counted(o)).collect();
    let hit_rate = hits as f64 / positives.len().max(1) as f64;
    let fp_rate = false_hits.len() as f64 / negatives.len().max(1) as f64;
    eprintln!(
        "{name} @ {t:.3}: paraphrases {}/{} hit ({:.1} %: L1 {}, L3 {}, L2 {}); negatives {}/{} false hits ({:.2} %) {:?}",
        hits,
        positives.len(),
        100.0 * hit_rate,
        per_layer(CacheLayer::L1),
        per_layer(CacheLayer::L3),
        per_layer(CacheLayer::L2),
        false_hits.len(),
        negatives.len(),
        100.0 * fp_rate,
        false_hits.iter().map(|o| o.kind.as_str()).collect::<Vec<_>>(),
    );
    (hit_rate, fp_rate)
}

const GRID: [f32; 11] = [0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.88, 0.9, 0.92, 0.94, 0.96];

/// The curve over the grid, the highest-scoring negative that reached the threshold check, and
/// a held-out check: the lowest grid threshold with no false hit on even ids, measured on odd ids.
fn curve(name: &str, out: &[Outcome], ids: &[u64]) {
    for t in GRID {
        report(name, out, t);
    }
    let top = out.iter().filter(|o| !o.same).filter_map(|o| o.similarity).fold(f32::NAN, f32::max);
    eprintln!("{name}: highest negative similarity past the guard: {top:.3}");
    let (even, odd): (Vec<_>, Vec<_>) = out.iter().zip(ids).partition(|(_, id)| *id % 2 == 0);
    let even: Vec<&Outcome> = even.into_iter().map(|(o, _)| o).collect();
    let odd: Vec<Outcome> = odd
        .into_iter()
        .map(|(o, _)| Outcome { same: o.same, kind: o.kind.clone(), layer: o.layer, similarity: o.similarity })
        .collect();
    let clean = |t: f32| {
        !even.iter().any(|o| !o.same && o.layer == Some(CacheLayer::L2) && o.similarity.is_some_and(|s| s >= t))
    };
    if let Some(t) = GRID.into_iter().find(|t| clean(*t)) {
        report(&format!("{name} held out (tuned on even ids, measured on odd)"), &odd, t);
    }
}

fn ids(pairs: &[Pair]) -> Vec<u64> {
    pairs.iter().map(|p| p.id).collect()
}

fn model_dir(var: &str, default: &str) -> Option<PathBuf> {
    let dir = std::env::var_os(var)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/..")).join(default));
    dir.join("tokenizer.json").exists().then_some(dir)
}

#[tokio::test]
async fn builtin_embedder_false_hits_stay_under_one_percent() {
    let pairs = pairs();
    let out = run("builtin", Arc::new(BuiltinEmbedder::new()), None, &pairs).await;
    curve("builtin", &out, &ids(&pairs));
    let (_, fp) = report("builtin (shipped threshold)", &out, thresholds::BUILTIN);
    assert!(fp <= 0.01, "false hits {:.2} % > 1 %", 100.0 * fp);
    // L1/L3 alone never produce a false hit.
    assert!(out.iter().filter(|o| !o.same).all(|o| !matches!(o.layer, Some(CacheLayer::L1 | CacheLayer::L3))));
}

#[tokio::test]
async fn static_embedder_when_present() {
    let Some(dir) = model_dir("SMARTFLOW_STATIC_DIR", "models/static-minilm-256") else {
        eprintln!("skipped: no static model directory (see docs/cache.md to distil one)");
        return;
    };
    let e = smartflow_cache::embed::StaticEmbedder::open(&dir).unwrap();
    let pairs = pairs();
    let out = run("static", Arc::new(e), None, &pairs).await;
    curve("static", &out, &ids(&pairs));
    let (_, fp) = report("static (shipped threshold)", &out, thresholds::STATIC);
    assert!(fp <= 0.01, "false hits {:.2} % > 1 %", 100.0 * fp);
}

#[cfg(feature = "minilm")]
#[tokio::test]
#[cfg_attr(debug_assertions, ignore = "MiniLM takes minutes unoptimised: run with --release")]
async fn minilm_verification_when_present() {
    let Some(dir) = model_dir("SMARTFLOW_MINILM_DIR", "models/all-MiniLM-L6-v2") else {
        eprintln!("skipped: no MiniLM directory (scripts/fetch-minilm.sh)");
        return;
    };
    let minilm: Arc<dyn Embedder> = Arc::new(smartflow_cache::embed::MiniLmEmbedder::open(&dir).unwrap());
    let pairs = pairs();
    let out = run("minilm", minilm.clone(), None, &pairs).await;
    curve("minilm", &out, &ids(&pairs));
    let (hits, fp) = report("minilm (shipped threshold)", &out, thresholds::MINILM);
    assert!(fp <= 0.01, "false hits {:.2} % > 1 %", 100.0 * fp);
    assert!(hits >= 0.60, "paraphrase hits {:.1} % < 60 %", 100.0 * hits);
    if let Some(sdir) = model_dir("SMARTFLOW_STATIC_DIR", "models/static-minilm-256") {
        let screen = Arc::new(smartflow_cache::embed::StaticEmbedder::open(&sdir).unwrap());
        let out = run("static screen + minilm verify", screen, Some(minilm), &pairs).await;
        curve("static+minilm", &out, &ids(&pairs));
        report("static+minilm (shipped threshold)", &out, thresholds::MINILM);
    }
}
