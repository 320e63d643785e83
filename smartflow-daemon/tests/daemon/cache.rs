//! The response cache through the real daemon: `examples/configs/cache.toml` as shipped (over
//! HTTP, with its response headers), directives, streams, tenants, the admin routes and
//! `/metrics`, failures never stored (T14), and a damaged cache store (T55).

use serde_json::Value;

use crate::support::*;
use crate::upstream::Upstream;

const ADMIN: &str = "sf-admin-demo-0001";
const OTHER: &str = "sf-other-team-key";
const COLLEAGUE: &str = "sf-engineering-colleague";

/// The shipped example, on a cache directory of its own and with a key of another team.
fn example(dir: &std::path::Path) -> String {
    let text = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/configs/cache.toml")).unwrap();
    let cache_dir = dir.join("cache");
    let text =
        text.replace("path = \"../../target/smartflow-cache-example\"", &format!("path = \"{}\"", cache_dir.display()));
    assert!(text.contains(&cache_dir.display().to_string()), "the example's cache path moved");
    format!(
        "{text}\n[[keys]]\nid = \"other\"\nhash = \"{}\"\nteam = \"other-team\"\ndepartment = \"trading\"\n\n\
         [[keys]]\nid = \"colleague\"\nhash = \"{}\"\nteam = \"platform\"\ndepartment = \"engineering\"\n",
        key_hash(OTHER),
        key_hash(COLLEAGUE)
    )
}

fn ask(prompt: &str, stream: bool) -> String {
    serde_json::json!({"model": "smartflow-mock", "stream": stream, "messages": [{"role": "user", "content": prompt}]})
        .to_string()
}

async fn chat(d: &Daemon, key: &str, prompt: &str, headers: &[(&str, &str)]) -> Reply {
    let auth = format!("Bearer {key}");
    let mut all = vec![("authorization", auth.as_str()), ("content-type", "application/json")];
    all.extend_from_slice(headers);
    request_with("POST", &d.url("/v1/chat/completions"), &all, ask(prompt, false)).await
}

fn cache_header(r: &Reply) -> String {
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("x-smartflow-cache").unwrap_or("").to_owned()
}

#[tokio::test]
async fn the_example_config_serves_layered_hits_with_headers() {
    let dir = tempfile::tempdir().unwrap();
    let text = example(dir.path());
    let d = Daemon::start_with(dir, &text).await;
    let q = "What is the capital of France?";
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, q, &[]).await), "miss");
    let first = chat(&d, DEMO_KEY, q, &[]).await;
    assert_eq!(cache_header(&first), "hit; layer=l1");
    assert!(first.header("x-smartflow-target").is_none(), "a hit names no upstream target");
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, "  what is the capital of france ", &[]).await), "hit; layer=l3");
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, "What is the capital of Spain?", &[]).await), "miss");

    // Directives: no-cache skips the lookup; a malformed one is a 400 naming the header.
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, q, &[("x-smartflow-cache", "no-cache")]).await), "miss");
    let bad = chat(&d, DEMO_KEY, q, &[("x-smartflow-cache", "max-age=5")]).await;
    assert_eq!(bad.assert_error(400)["error"]["param"], "x-smartflow-cache");
    assert_eq!(
        cache_header(&chat(&d, DEMO_KEY, "Never keep this", &[("x-smartflow-cache", "no-store")]).await),
        "miss"
    );
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, "Never keep this", &[]).await), "miss");

    // Another team (and segment) never gets the entry, however it asks (no-store, so its own
    // answers do not answer its later probes).
    for prompt in [q, "what is the capital of france"] {
        let r = chat(&d, OTHER, prompt, &[("x-smartflow-cache", "no-store")]).await;
        assert_eq!(cache_header(&r), "miss", "{prompt}");
    }

    // A colleague in the same barrier segment (engineering) shares exact and canonical hits (L4);
    // the audit record says whose entry it was.
    assert_eq!(cache_header(&chat(&d, COLLEAGUE, q, &[]).await), "hit; layer=l4");
    assert_eq!(cache_header(&chat(&d, COLLEAGUE, "what is the capital of france", &[]).await), "hit; layer=l4");

    // A hit replays as a proper SSE stream ending in [DONE].
    let auth = format!("Bearer {DEMO_KEY}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    let streamed = request_with("POST", &d.url("/v1/chat/completions"), &headers, ask(q, true)).await;
    assert_eq!(streamed.status, 200);
    assert_eq!(streamed.header("x-smartflow-cache"), Some("hit; layer=l1"));
    assert_eq!(streamed.header("content-type"), Some("text/event-stream"));
    let events = streamed.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    assert!(events.iter().any(|e| e.contains("chat.completion.chunk")));

    // A streamed miss is stored once it completes.
    let s = "Name three prime numbers";
    let miss = request_with("POST", &d.url("/v1/chat/completions"), &headers, ask(s, true)).await;
    assert_eq!(miss.header("x-smartflow-cache"), Some("miss"));
    assert_eq!(miss.events().last().map(String::as_str), Some("[DONE]"));
    let mut stored = String::new();
    for _ in 0..50 {
        stored = cache_header(&chat(&d, DEMO_KEY, s, &[]).await);
        if stored != "miss" {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert_eq!(stored, "hit; layer=l1");

    // Analytics, metrics, then a flush by scope.
    let stats = request("GET", &d.admin_url("/api/cache/stats"), Some(ADMIN), "").await;
    assert_eq!(stats.status, 200, "{}", stats.text());
    let stats: Value = stats.json();
    assert!(stats["stats"]["hits"][0].as_u64().unwrap() >= 3, "{stats}");
    assert!(stats["stats"]["hits"][2].as_u64().unwrap() >= 1, "{stats}");
    assert!(stats["stats"]["by_scope"]["key:demo"]["lookups"].as_u64().unwrap() > 0, "{stats}");
    let metrics = request("GET", &d.url("/metrics"), None, "").await.text();
    assert!(metrics.contains("smartflow_cache_hits_total{model=\"smartflow-mock\",layer=\"l1\"}"), "{metrics}");
    let denied = request("GET", &d.admin_url("/api/cache/stats"), Some(DEMO_KEY), "").await;
    denied.assert_error(403);
    let flush = request("POST", &d.admin_url("/api/cache/flush"), Some(ADMIN), r#"{"scope":"key:demo"}"#).await;
    assert_eq!(flush.status, 200, "{}", flush.text());
    assert!(flush.json()["flushed"].as_u64().unwrap() >= 2);
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, q, &[]).await), "miss");
    let vague = request("POST", &d.admin_url("/api/cache/flush"), Some(ADMIN), "{}").await;
    vague.assert_error(400);

    // The same through the CLI (admin key from the environment, never argv).
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, q, &[]).await), "hit; layer=l1");
    let admin_url = format!("http://{}", d.admin);
    let cli = |args: &[&str]| {
        tokio::process::Command::new(env!("CARGO_BIN_EXE_smartflowd"))
            .args(["cache"])
            .args(args)
            .args(["--admin-url", &admin_url])
            .env("SMARTFLOW_ADMIN_KEY", ADMIN)
            .output()
    };
    let out = cli(&["stats"]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let printed: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(printed["stats"]["lookups"].as_u64().unwrap() > 0);
    let out = cli(&["flush", "--model", "smartflow-mock"]).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, q, &[]).await), "miss");
    let refused = cli(&["flush"]).await.unwrap();
    assert!(!refused.status.success(), "flush needs --all, --scope or --model");
}

#[tokio::test]
async fn failures_truncated_streams_and_bad_upstream_answers_are_never_stored() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!("{}\n[cache]\npath = \"{}\"\n", config(up.addr, dir.path()), dir.path().join("cache").display());
    let d = Daemon::start_with(dir, &text).await;
    let auth = format!("Bearer {DEMO_KEY}");
    let headers = [("authorization", auth.as_str()), ("content-type", "application/json")];
    for (model, stream) in [("err500", false), ("badjson", false), ("err429", false), ("nodone", true), ("reset", true)]
    {
        let body = chat_body(model, stream);
        for _ in 0..2 {
            let before = up.requests();
            let r = request_with("POST", &d.url("/v1/chat/completions"), &headers, body.clone()).await;
            assert_ne!(r.header("x-smartflow-cache").unwrap_or("miss").split(';').next(), Some("hit"), "{model}");
            assert!(up.requests() > before, "{model}: the second request must go upstream again");
        }
    }
    // A good answer is stored, proving the cache is on.
    let body = chat_body("ok", false);
    request_with("POST", &d.url("/v1/chat/completions"), &headers, body.clone()).await;
    let r = request_with("POST", &d.url("/v1/chat/completions"), &headers, body).await;
    assert_eq!(r.header("x-smartflow-cache"), Some("hit; layer=l1"));
}

#[tokio::test]
async fn a_damaged_cache_store_is_moved_aside_and_the_gateway_serves() {
    let dir = tempfile::tempdir().unwrap();
    let cache_dir = dir.path().join("cache");
    std::fs::create_dir_all(&cache_dir).unwrap();
    std::fs::write(cache_dir.join("conf"), b"\xff\xfe garbage").unwrap();
    std::fs::write(cache_dir.join("db"), vec![0x5A; 8192]).unwrap();
    let text = example(dir.path());
    let parent = dir.path().to_path_buf();
    let d = Daemon::start_with(dir, &text).await;
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, "hello", &[]).await), "miss");
    assert_eq!(cache_header(&chat(&d, DEMO_KEY, "hello", &[]).await), "hit; layer=l1");
    let stats: Value = request("GET", &d.admin_url("/api/cache/stats"), Some(ADMIN), "").await.json();
    let aside = stats["store"]["quarantined"].as_str().unwrap().to_owned();
    assert!(std::path::Path::new(&aside).join("db").exists(), "kept for forensics: {aside}");
    assert!(aside.starts_with(parent.to_str().unwrap()));
    let metrics = request("GET", &d.url("/metrics"), None, "").await.text();
    assert!(metrics.contains("smartflow_cache_quarantined 1"), "{metrics}");
}
