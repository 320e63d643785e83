//! The embedders through the public API: every vector is unit length, model ids and dimensions
//! are what the cache keys on, and the MiniLM path works end to end on a tiny random BERT (CI)
//! and, when `SMARTFLOW_MINILM_DIR` points at the real files (`scripts/fetch-minilm.sh`), on
//! all-MiniLM-L6-v2 itself.
//!
//! Latency (release, ignored by default):
//! `SMARTFLOW_MINILM_DIR=models/all-MiniLM-L6-v2 SMARTFLOW_STATIC_DIR=models/static-minilm-256
//!  cargo test --release -p smartflow-cache --features minilm --test embedders -- --ignored --nocapture latency`

use std::path::{Path, PathBuf};
use std::sync::Arc;

use smartflow_cache::embed::{
    BUILTIN_DIMENSION, BUILTIN_MODEL_ID, BuiltinEmbedder, EmbedPool, EmbedderSpec, StaticEmbedder, open_embedder,
};
use smartflow_core::providers::{MockConfig, MockProvider};

fn cos(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

fn assert_unit(vectors: &[Vec<f32>], dim: usize) {
    for v in vectors {
        assert_eq!(v.len(), dim);
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-4, "norm {norm}");
    }
}

fn strings(texts: &[&str]) -> Vec<String> {
    texts.iter().map(|s| (*s).to_owned()).collect()
}

/// A WordPiece `tokenizer.json` over `words` (ids 0..5: [PAD] [UNK] [CLS] [SEP] [MASK]) with
/// MiniLM's trap baked in: truncation (at 4 here) and fixed padding (to 8).
fn wordpiece_json(words: &[&str]) -> String {
    let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
    let vocab: serde_json::Map<String, serde_json::Value> =
        specials.iter().chain(words).enumerate().map(|(i, w)| ((*w).to_owned(), i.into())).collect();
    let added: Vec<_> = specials
        .iter()
        .enumerate()
        .map(|(i, t)| {
            serde_json::json!({"id": i, "content": t, "single_word": false, "lstrip": false, "rstrip": false,
                "normalized": false, "special": true})
        })
        .collect();
    let special = |t: &str| serde_json::json!({"SpecialToken": {"id": t, "type_id": 0}});
    serde_json::json!({
        "version": "1.0",
        "truncation": {"max_length": 4, "strategy": "LongestFirst", "stride": 0},
        "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null, "pad_id": 0,
            "pad_type_id": 0, "pad_token": "[PAD]"},
        "added_tokens": added,
        "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
            "strip_accents": null, "lowercase": true},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {"type": "TemplateProcessing",
            "single": [special("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, special("[SEP]")],
            "pair": [special("[CLS]"), {"Sequence": {"id": "A", "type_id": 0}}, special("[SEP]"),
                {"Sequence": {"id": "B", "type_id": 1}}, {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
            "max_input_chars_per_word": 100, "vocab": vocab}
    })
    .to_string()
}

const WORDS: &[&str] = &[
    "convert", "5", "km", "to", "miles", "how", "many", "is", "?", "the", "cat", "sat", "on", "mat", "a", "dog",
    "runs", "fast", "hello", "world", "##s", "##ing",
];

#[tokio::test]
async fn builtin_is_ready_without_files() {
    let e = open_embedder(&EmbedderSpec::Builtin, &EmbedPool::default()).unwrap();
    assert_eq!((e.model_id(), e.dimension()), (BUILTIN_MODEL_ID, BUILTIN_DIMENSION));
    let texts = strings(&["Convert 5 km to miles", "How many miles is 5 km?", "Write a haiku about autumn", ""]);
    let v = e.embed(&texts).await.unwrap();
    assert_unit(&v, BUILTIN_DIMENSION);
    assert!(cos(&v[0], &v[1]) > cos(&v[0], &v[2]));
    assert_eq!(v[0], BuiltinEmbedder::new().embed_one("Convert 5 km to miles"));
}

#[tokio::test]
async fn static_model_from_a_directory() {
    let dir = tempfile::tempdir().unwrap();
    let rows = 5 + WORDS.len();
    let dims = 6;
    let values: Vec<f32> = (0..rows * dims).map(|i| ((i * 7919) % 13) as f32 - 6.0).collect();
    let bytes: Vec<u8> = values.iter().flat_map(|x| x.to_le_bytes()).collect();
    let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, dims], &bytes).unwrap();
    safetensors::tensor::serialize_to_file([("embeddings", view)], None, &dir.path().join("model.safetensors"))
        .unwrap();
    std::fs::write(dir.path().join("tokenizer.json"), wordpiece_json(WORDS)).unwrap();
    std::fs::write(dir.path().join("config.json"), r#"{"normalize": true, "model_id": "test-static"}"#).unwrap();

    let spec = EmbedderSpec::Static { dir: dir.path().to_path_buf() };
    let e = open_embedder(&spec, &EmbedPool::default()).unwrap();
    assert_eq!((e.model_id(), e.dimension()), ("test-static", dims));
    let v = e.embed(&strings(&["convert 5 km to miles", "convert 5 miles to km", "hello world", ""])).await.unwrap();
    assert_unit(&v, dims);
    // A bag of words: the order of the words is invisible.
    assert!((cos(&v[0], &v[1]) - 1.0).abs() < 1e-5);
    assert!(cos(&v[0], &v[2]) < 0.999);
}

#[tokio::test]
async fn provider_embeddings_through_the_mock_provider() {
    let provider = Arc::new(MockProvider::new("mock", MockConfig { embedding_dimension: 24, ..MockConfig::default() }));
    let spec = EmbedderSpec::Provider { provider, model: "embed-1".into(), dimension: None };
    let e = open_embedder(&spec, &EmbedPool::default()).unwrap();
    assert_eq!(e.model_id(), "provider:mock/embed-1");
    let v = e.embed(&strings(&["a", "b"])).await.unwrap();
    assert_unit(&v, 24);
    assert_eq!(e.dimension(), 24);
}

#[test]
fn missing_static_directory_is_an_error() {
    let err = StaticEmbedder::open(Path::new("/nonexistent/static-model")).unwrap_err();
    assert!(err.message().contains("model.safetensors"), "{}", err.message());
}

#[cfg(not(feature = "minilm"))]
#[test]
fn minilm_needs_the_feature() {
    let spec = EmbedderSpec::MiniLm { dir: PathBuf::from("models/all-MiniLM-L6-v2") };
    let Err(err) = open_embedder(&spec, &EmbedPool::default()) else { unreachable!("opened without the feature") };
    assert!(err.message().contains("rebuild with --features minilm"), "{}", err.message());
}

#[cfg(feature = "minilm")]
#[expect(clippy::unwrap_used, reason = "test support code: a failed set-up step is a failed test")]
mod minilm {
    use std::time::Duration;

    use candle_core::{DType, Device};
    use candle_nn::{VarBuilder, VarMap};
    use candle_transformers::models::bert::{BertModel, Config};
    use smartflow_cache::embed::{MINILM_MODEL_ID, MiniLmEmbedder, SKIP_SEMANTIC};
    use smartflow_core::Embedder as _;

    use super::*;

    /// An environment variable naming an existing directory, or a skip message.
    fn model_dir(var: &str) -> Option<PathBuf> {
        match std::env::var_os(var).map(PathBuf::from) {
            Some(dir) if dir.is_dir() => Some(dir),
            Some(dir) => {
                eprintln!("skipped: {var}={} is not a directory", dir.display());
                None
            }
            None => {
                eprintln!("skipped: set {var} (scripts/fetch-minilm.sh, smartflowd cache distill) to run this test");
                None
            }
        }
    }

    /// A random BERT (hidden 32, 2 layers, 2 heads, 64 positions) with the tiny WordPiece.
    fn tiny_bert(dir: &Path) {
        let config = serde_json::json!({
            "vocab_size": 5 + WORDS.len(), "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null, "model_type": "bert"
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let config: Config = serde_json::from_value(config).unwrap();
        let varmap = VarMap::new();
        BertModel::load(VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu), &config).unwrap();
        varmap.save(dir.join("model.safetensors")).unwrap();
        std::fs::write(dir.join("tokenizer.json"), wordpiece_json(WORDS)).unwrap();
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tiny_random_bert_end_to_end() {
        let dir = tempfile::tempdir().unwrap();
        tiny_bert(dir.path());
        let pool = EmbedPool::new(2, Duration::from_secs(30));
        let e = open_embedder(&EmbedderSpec::MiniLm { dir: dir.path().to_path_buf() }, &pool).unwrap();
        // Not the known weights: accepted under an id derived from their hash.
        assert!(e.model_id().starts_with("bert:"), "{}", e.model_id());
        assert_eq!(e.dimension(), 32);

        let texts = strings(&["convert 5 km to miles", "how many miles is 5 km ?", "hello", "the cat sat on the mat"]);
        let batch = e.embed(&texts).await.unwrap();
        assert_unit(&batch, 32);
        assert_eq!(e.embed(&texts).await.unwrap(), batch, "deterministic");
        // Padding to the batch's longest text does not change a text's vector.
        for (i, t) in texts.iter().enumerate() {
            let alone = e.embed(std::slice::from_ref(t)).await.unwrap();
            assert!(cos(&alone[0], &batch[i]) > 0.99999, "{t}: {}", cos(&alone[0], &batch[i]));
        }
        // The file's truncation at 4 tokens is overridden: the sixth word counts.
        let a = e.embed(&strings(&["the cat sat on the mat"])).await.unwrap();
        let b = e.embed(&strings(&["the cat sat on the dog"])).await.unwrap();
        assert!(cos(&a[0], &b[0]) < 0.99999);
    }

    #[tokio::test]
    async fn deadline_miss_is_skip_semantic() {
        let dir = tempfile::tempdir().unwrap();
        tiny_bert(dir.path());
        let e = MiniLmEmbedder::open(dir.path()).unwrap().with_pool(EmbedPool::new(1, Duration::ZERO));
        let err = e.embed(&strings(&["hello"])).await.unwrap_err();
        assert_eq!(err.kind(), SKIP_SEMANTIC);
    }

    /// The real model: paraphrases close, unrelated prompts far (the study's numbers: 0.639 is
    /// the lowest paraphrase, 0.345 the highest unrelated pair).
    #[tokio::test]
    async fn real_minilm_when_present() {
        let Some(dir) = model_dir("SMARTFLOW_MINILM_DIR") else { return };
        let e = MiniLmEmbedder::open(&dir).unwrap().with_pool(EmbedPool::new(2, Duration::from_secs(120)));
        assert_eq!(e.model_id(), MINILM_MODEL_ID);
        assert_eq!(e.dimension(), 384);
        let v = e
            .embed(&strings(&[
                "Convert 5 km to miles",
                "How many miles is 5 km?",
                "Write a short poem about the ocean at night",
            ]))
            .await
            .unwrap();
        assert_unit(&v, 384);
        let (para, unrelated) = (cos(&v[0], &v[1]), cos(&v[0], &v[2]));
        eprintln!("MiniLM: paraphrase {para:.3}, unrelated {unrelated:.3}");
        assert!(para > 0.6, "paraphrase {para}");
        assert!(unrelated < 0.4, "unrelated {unrelated}");
        // Long prompts are cut at 256 tokens, not at the file's 128.
        let long = "word ".repeat(400);
        assert_eq!(e.token_ids(&long).unwrap().len(), 256);
    }

    /// The distilled static model, when present: loads, 256 dimensions, a bag of words.
    #[tokio::test]
    async fn real_static_when_present() {
        let Some(dir) = model_dir("SMARTFLOW_STATIC_DIR") else { return };
        let e = StaticEmbedder::open(&dir).unwrap();
        assert_eq!(e.model_id(), "static-minilm-distilled-256");
        assert_eq!((e.dimension(), e.vocab_size()), (256, 30522));
        let v = e
            .embed(&strings(&["Convert 5 km to miles", "Convert 5 miles to km", "How many miles is 5 km?"]))
            .await
            .unwrap();
        assert_unit(&v, 256);
        assert!(cos(&v[0], &v[1]) > 0.999, "word order is invisible to a static model");
        assert!(cos(&v[0], &v[2]) > 0.5);
    }

    /// Per-embedder latency on a ~27-token and a ~300-token prompt (p50/p90 over repeated
    /// single-prompt calls, inline, no pool). Run in release; see the file's doc.
    #[test]
    #[ignore = "a measurement, not a test: run in release with --ignored --nocapture"]
    fn latency() {
        let short = "Can you explain, in simple terms, how a hash map handles collisions and why its lookups are usually constant time?";
        let long = "Please review the following design, list its risks, and estimate the latency and the cost of \
                    each step; say which parts could fail under load and how to test them. "
            .to_owned()
            + &"The gateway receives a request, authenticates the caller with a virtual key, applies the \
                 policies of the tenant, looks the prompt up in the cache, and forwards it to the cheapest \
                 healthy upstream that serves the model; the answer is audited and returned. "
                .repeat(5);
        let builtin = BuiltinEmbedder::new();
        report("builtin", 2000, short, &long, |t| {
            std::hint::black_box(builtin.embed_one(t));
        });
        if let Some(dir) = model_dir("SMARTFLOW_STATIC_DIR") {
            let e = StaticEmbedder::open(&dir).unwrap();
            report("static", 2000, short, &long, |t| {
                std::hint::black_box(e.embed_one(t).unwrap());
            });
        }
        if let Some(dir) = model_dir("SMARTFLOW_MINILM_DIR") {
            let e = MiniLmEmbedder::open(&dir).unwrap();
            eprintln!(
                "minilm tokens embedded (with [CLS] and [SEP], cut at 256): short {}, long {}",
                e.token_ids(short).unwrap().len(),
                e.token_ids(&long).unwrap().len()
            );
            report("minilm", 40, short, &long, |t| {
                std::hint::black_box(e.embed_blocking(&[t.to_owned()]).unwrap());
            });
        }
    }

    fn report(name: &str, n: usize, short: &str, long: &str, f: impl Fn(&str)) {
        for (label, text) in [("short", short), ("long", long)] {
            for _ in 0..n.min(5) {
                f(text);
            }
            let mut times: Vec<Duration> = (0..n)
                .map(|_| {
                    let start = tokio::time::Instant::now();
                    f(text);
                    start.elapsed()
                })
                .collect();
            times.sort();
            eprintln!(
                "{name:8} {label:5} ({} chars): p50 {:?}  p90 {:?}  (n={n})",
                text.len(),
                times[n / 2],
                times[n * 9 / 10]
            );
        }
    }
}
