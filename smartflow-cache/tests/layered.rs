//! The layered cache through its `Cache` trait, on real sled directories: layers, scopes and
//! sharing, directives, shadow mode, flushes, persistence, quarantine, expiry and the bound.

#![expect(clippy::unwrap_used, reason = "test helpers: a failed set-up step is a failed test")]

use std::sync::Arc;
use std::time::Duration;

use smartflow_cache::embed::BuiltinEmbedder;
use smartflow_cache::{CacheConfig, LayerMode, LayeredCache, SemanticConfig, SharingPolicy};
use smartflow_core::policy::Action;
use smartflow_core::{
    Cache, CacheDirectives, CacheLayer, CacheScope, ChatRequest, ChatResponse, DataLabels, Endpoint, Principal,
    RequestContext,
};

fn req(prompt: &str) -> ChatRequest {
    serde_json::from_value(serde_json::json!({"model": "gpt", "messages": [
        {"role": "system", "content": "You are helpful."},
        {"role": "user", "content": prompt}
    ]}))
    .unwrap()
}

fn resp(text: &str) -> ChatResponse {
    serde_json::from_value(serde_json::json!({"id": "c1", "object": "chat.completion", "created": 1, "model": "gpt",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}))
    .unwrap()
}

fn ctx(key: &str, team: &str, segments: &[&str]) -> RequestContext {
    let mut p = Principal::new(key);
    p.team = Some(team.to_owned());
    let mut c = RequestContext::new("r", Arc::new(p), Endpoint::ChatCompletions);
    if !segments.is_empty() {
        DataLabels::of(&mut c.extensions).segments = segments.iter().map(|s| (*s).to_owned()).collect();
    }
    c
}

fn semantic(threshold: f32) -> Option<(LayerMode, SemanticConfig)> {
    Some((LayerMode::Enforce, SemanticConfig::new(Arc::new(BuiltinEmbedder::new()), threshold)))
}

fn open(config: CacheConfig, dir: &std::path::Path) -> LayeredCache {
    LayeredCache::open(config, Some(dir)).unwrap()
}

async fn layer(cache: &LayeredCache, c: &RequestContext, prompt: &str) -> Option<CacheLayer> {
    cache.get(c, &req(prompt)).await.unwrap().hit.map(|h| h.layer)
}

#[tokio::test]
async fn exact_then_canonical_then_miss() {
    let dir = tempfile::tempdir().unwrap();
    let cache = open(CacheConfig::default(), &dir.path().join("c"));
    let c = ctx("k1", "t", &[]);
    assert_eq!(layer(&cache, &c, "What is the capital of France?").await, None);
    cache.put(&c, &req("What is the capital of France?"), &resp("Paris")).await.unwrap();
    let hit = cache.get(&c, &req("What is the capital of France?")).await.unwrap().hit.unwrap();
    assert_eq!((hit.layer, hit.response.choices[0].message.text().as_deref()), (CacheLayer::L1, Some("Paris")));
    assert_eq!(layer(&cache, &c, "  what is the capital of france ").await, Some(CacheLayer::L3));
    assert_eq!(layer(&cache, &c, "Please, what is the capital of France?").await, Some(CacheLayer::L3));
    assert_eq!(layer(&cache, &c, "What is the capital of Germany?").await, None);
    assert_eq!(layer(&cache, &c, "What is not the capital of France?").await, None);
    let s = cache.stats();
    assert_eq!(s.total.hits[CacheLayer::L1.index()], 1);
    assert_eq!(s.total.hits[CacheLayer::L3.index()], 2);
    assert_eq!(s.total.tokens_saved, 45);
    assert_eq!(s.entries, 1);
    assert!(s.by_scope.contains_key("key:k1"));
}

#[tokio::test]
async fn the_conversation_around_the_last_turn_must_match() {
    let dir = tempfile::tempdir().unwrap();
    let cache = open(CacheConfig { semantic: semantic(0.5), ..CacheConfig::default() }, &dir.path().join("c"));
    let c = ctx("k1", "t", &[]);
    cache.put(&c, &req("How do I sort a list?"), &resp("sorted()")).await.unwrap();
    cache.settle().await;
    let mut other: ChatRequest = req("How do I sort a list?");
    other.messages[0] = smartflow_core::Message::text_message(smartflow_core::Role::System, "You write Rust.");
    assert!(cache.get(&c, &other).await.unwrap().hit.is_none());
}

#[tokio::test]
async fn tenants_never_see_each_others_entries() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { semantic: semantic(0.6), ..CacheConfig::default() };
    let cache = open(config, &dir.path().join("c"));
    let a = ctx("key-a", "payments", &[]);
    let b = ctx("key-b", "research", &[]);
    cache.put(&a, &req("Summarise our Q3 revenue figures"), &resp("A's secret numbers")).await.unwrap();
    cache.settle().await;
    for prompt in
        ["Summarise our Q3 revenue figures", "summarise our q3 revenue figures", "Summarize our Q3 revenue figures"]
    {
        assert_eq!(layer(&cache, &b, prompt).await, None, "{prompt}");
    }
    // The same team with another key is another scope too, by default (key scope).
    assert_eq!(layer(&cache, &ctx("key-c", "payments", &[]), "Summarise our Q3 revenue figures").await, None);
    assert_eq!(layer(&cache, &a, "Summarise our Q3 revenue figures").await, Some(CacheLayer::L1));
}

#[tokio::test]
async fn team_scope_shares_within_the_team_only() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { scope: smartflow_cache::ScopeBy::Team, ..CacheConfig::default() };
    let cache = open(config, &dir.path().join("c"));
    cache.put(&ctx("k1", "payments", &[]), &req("Explain IBAN checks"), &resp("mod 97")).await.unwrap();
    assert_eq!(layer(&cache, &ctx("k2", "payments", &[]), "Explain IBAN checks").await, Some(CacheLayer::L1));
    assert_eq!(layer(&cache, &ctx("k3", "research", &[]), "Explain IBAN checks").await, None);
}

#[tokio::test]
async fn sharing_within_a_segment_is_l4_clean_prompts_only_and_recorded() {
    let dir = tempfile::tempdir().unwrap();
    let sharing = SharingPolicy { enabled: true, ..SharingPolicy::default() };
    let cache = open(CacheConfig { sharing, semantic: semantic(0.6), ..CacheConfig::default() }, &dir.path().join("c"));
    let writer = ctx("k1", "t1", &["legal"]);
    cache.put(&writer, &req("What is a force majeure clause?"), &resp("An excuse")).await.unwrap();
    cache.settle().await;
    // Another user of the same segment: an L4 hit, recorded with its provenance.
    let reader = ctx("k2", "t2", &["legal"]);
    let found = cache.get(&reader, &req("What is a force majeure clause?")).await.unwrap();
    assert_eq!(found.hit.map(|h| h.layer), Some(CacheLayer::L4));
    assert!(found.decisions.iter().any(|d| d.action == Action::Share && d.rule.contains("shared_from=key:k1")));
    // Canonical form too, but never a semantic match across users (not opted in).
    assert_eq!(layer(&cache, &reader, "what is a force majeure clause").await, Some(CacheLayer::L4));
    assert_eq!(layer(&cache, &reader, "What's a force majeure clause in a contract?").await, None);
    // Another segment: nothing.
    assert_eq!(layer(&cache, &ctx("k3", "t3", &["trading"]), "What is a force majeure clause?").await, None);
    // A prompt with sensitive data is never shared.
    let mut sensitive = ctx("k1", "t1", &["legal"]);
    DataLabels::of(&mut sensitive.extensions).sensitive = true;
    cache.put(&sensitive, &req("Draft a letter to [EMAIL_1]"), &resp("Dear")).await.unwrap();
    assert_eq!(layer(&cache, &reader, "Draft a letter to [EMAIL_1]").await, None);
    assert_eq!(layer(&cache, &sensitive, "Draft a letter to [EMAIL_1]").await, Some(CacheLayer::L1));
}

#[tokio::test]
async fn directives_are_honoured_and_only_ever_stricter() {
    let dir = tempfile::tempdir().unwrap();
    let cache = open(CacheConfig::default(), &dir.path().join("c"));
    let mut no_store = ctx("k", "t", &[]);
    no_store.extensions.insert(CacheDirectives { no_store: true, ..CacheDirectives::default() });
    cache.put(&no_store, &req("a"), &resp("x")).await.unwrap();
    let c = ctx("k", "t", &[]);
    assert_eq!(layer(&cache, &c, "a").await, None);
    cache.put(&c, &req("b"), &resp("y")).await.unwrap();
    let mut no_cache = ctx("k", "t", &[]);
    no_cache.extensions.insert(CacheDirectives { no_cache: true, ..CacheDirectives::default() });
    assert_eq!(layer(&cache, &no_cache, "b").await, None);
    assert_eq!(cache.stats().bypassed, 1);
    let mut labelled = ctx("k", "t", &[]);
    DataLabels::of(&mut labelled.extensions).no_store = true;
    cache.put(&labelled, &req("c"), &resp("z")).await.unwrap();
    assert_eq!(layer(&cache, &c, "c").await, None);
    // ttl=1 shortens; a longer client TTL than the operator's is clamped.
    let mut short = ctx("k", "t", &[]);
    short.extensions.insert(CacheDirectives { ttl: Some(Duration::from_secs(1)), ..CacheDirectives::default() });
    cache.put(&short, &req("d"), &resp("w")).await.unwrap();
    assert_eq!(layer(&cache, &c, "d").await, Some(CacheLayer::L1));
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(layer(&cache, &c, "d").await, None, "expired");
}

#[tokio::test]
async fn shadow_mode_records_and_serves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { exact: LayerMode::Audit, canonical: LayerMode::Audit, ..CacheConfig::default() };
    let cache = open(config, &dir.path().join("c"));
    let c = ctx("k", "t", &[]);
    cache.put(&c, &req("Define entropy"), &resp("disorder")).await.unwrap();
    let found = cache.get(&c, &req("Define entropy")).await.unwrap();
    assert!(found.hit.is_none());
    let rules: Vec<_> = found.decisions.iter().map(|d| (d.action.clone(), d.rule.clone())).collect();
    assert!(rules.iter().any(|(a, r)| *a == Action::WouldHit && r.starts_with("l1 would_hit")), "{rules:?}");
    assert!(rules.iter().any(|(a, r)| *a == Action::WouldHit && r.starts_with("l3 would_hit")), "{rules:?}");
    let s = cache.stats();
    assert_eq!((s.total.shadow_hits[0], s.total.total_hits(), s.misses), (1, 0, 1));
}

#[tokio::test]
async fn flush_by_scope_model_and_all() {
    let dir = tempfile::tempdir().unwrap();
    let cache = open(CacheConfig::default(), &dir.path().join("c"));
    let (a, b) = (ctx("a", "t", &[]), ctx("b", "t", &[]));
    cache.put(&a, &req("one"), &resp("1")).await.unwrap();
    cache.put(&b, &req("two"), &resp("2")).await.unwrap();
    let mut other_model = req("three");
    other_model.model = "claude".into();
    cache.put(&b, &other_model, &resp("3")).await.unwrap();
    assert_eq!(cache.invalidate(&CacheScope::Scope("key:a".into())).await.unwrap(), 1);
    assert_eq!(layer(&cache, &a, "one").await, None);
    assert_eq!(layer(&cache, &b, "two").await, Some(CacheLayer::L1));
    assert_eq!(cache.invalidate(&CacheScope::Model("claude".into())).await.unwrap(), 1);
    assert!(cache.get(&b, &other_model).await.unwrap().hit.is_none());
    assert_eq!(cache.invalidate(&CacheScope::All).await.unwrap(), 1);
    assert_eq!(cache.stats().entries, 0);
}

#[tokio::test]
async fn entries_and_the_semantic_index_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c");
    let config = CacheConfig { semantic: semantic(0.6), ..CacheConfig::default() };
    let c = ctx("k", "t", &[]);
    {
        let cache = open(config.clone(), &path);
        cache.put(&c, &req("How do I reset my password on the portal?"), &resp("Click forgot")).await.unwrap();
        cache.settle().await;
        cache.flush().await;
    }
    let cache = open(config, &path);
    assert_eq!(cache.open_report().loaded, 1);
    assert_eq!(layer(&cache, &c, "How do I reset my password on the portal?").await, Some(CacheLayer::L1));
    assert_eq!(layer(&cache, &c, "how do i reset my password on the portal").await, Some(CacheLayer::L3));
}

#[tokio::test]
async fn a_damaged_store_is_moved_aside_and_the_cache_starts_empty() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("c");
    std::fs::create_dir_all(&path).unwrap();
    std::fs::write(path.join("conf"), b"\xff\xfe not a sled config").unwrap();
    std::fs::write(path.join("db"), vec![0xAB; 4096]).unwrap();
    let cache = open(CacheConfig::default(), &path);
    let report = cache.open_report();
    let aside = report.quarantined.clone().expect("moved aside");
    assert!(aside.exists() && aside.join("db").exists(), "kept for forensics");
    let c = ctx("k", "t", &[]);
    cache.put(&c, &req("q"), &resp("a")).await.unwrap();
    assert_eq!(layer(&cache, &c, "q").await, Some(CacheLayer::L1));
}

#[tokio::test]
async fn the_byte_bound_evicts_least_recently_used() {
    let dir = tempfile::tempdir().unwrap();
    let config = CacheConfig { max_bytes: 4096, ..CacheConfig::default() };
    let cache = open(config, &dir.path().join("c"));
    let c = ctx("k", "t", &[]);
    for i in 0..40 {
        cache.put(&c, &req(&format!("question {i}")), &resp(&"x".repeat(200))).await.unwrap();
    }
    let s = cache.stats();
    assert!(s.bytes <= 4096, "{} bytes", s.bytes);
    assert!(s.evictions > 0);
    assert_eq!(layer(&cache, &c, "question 39").await, Some(CacheLayer::L1));
    assert_eq!(layer(&cache, &c, "question 0").await, None);
}

#[tokio::test]
async fn semantic_hits_need_verification() {
    let dir = tempfile::tempdir().unwrap();
    let cache = open(CacheConfig { semantic: semantic(0.5), ..CacheConfig::default() }, &dir.path().join("c"));
    let c = ctx("k", "t", &[]);
    cache.put(&c, &req("Convert 5 km to miles"), &resp("3.1 miles")).await.unwrap();
    cache.settle().await;
    assert_eq!(layer(&cache, &c, "Convert 5 miles to km").await, None, "direction");
    assert_eq!(layer(&cache, &c, "Convert 6 km to miles").await, None, "number");
    let hit = cache.get(&c, &req("Convert 5 km into miles please")).await.unwrap().hit;
    if let Some(h) = hit {
        assert_eq!(h.layer, CacheLayer::L2);
        assert!(h.similarity.is_some_and(|s| s >= 0.5));
    }
}
