//! `[[guardrails]]` through the real daemon and its mock upstream: what the upstream receives is
//! redacted or tokenized, the caller gets its tokens back, blocked kinds are refused before any
//! upstream call, deny lists refuse, and the values never reach the audit file.

use crate::support::*;
use crate::upstream::Upstream;

const EMAIL: &str = "ann.lee@corp-mail.io";
const CARD: &str = "4111 1111 1111 1111";

fn guarded(up: std::net::SocketAddr, dir: &std::path::Path) -> String {
    format!(
        r#"{}
[[guardrails]]
id = "pii"
type = "pii"
hooks = ["llm_input", "llm_output"]
input_actions = {{ default = "redact", EMAIL = "tokenize", US_SSN = "block" }}
output_actions = {{ default = "redact" }}

[[guardrails]]
id = "no-project-x"
type = "deny_list"
hooks = ["llm_input"]
keywords = ["project x"]
"#,
        config(up, dir)
    )
}

fn body(text: &str) -> String {
    serde_json::json!({"model": "ok", "messages": [{"role": "user", "content": text}]}).to_string()
}

#[tokio::test]
async fn redacted_and_tokenized_values_never_reach_the_upstream_and_tokens_come_back() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = guarded(up.addr, dir.path());
    let d = Daemon::start_with(dir, &text).await;
    let prompt = format!("Please email {EMAIL} the receipt for card {CARD}.");
    let r = post(&d, "/v1/chat/completions", &body(&prompt)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let seen = up.last_body().await.to_string();
    assert!(!seen.contains(EMAIL) && !seen.contains("4111"), "the upstream saw: {seen}");
    assert!(seen.contains("[EMAIL_1]") && seen.contains("[CREDIT_CARD_1]"), "{seen}");
    let audit = crate::chat::wait_for_audit(&d, 1).await;
    let all = serde_json::to_string(&audit).unwrap();
    assert!(!all.contains(EMAIL) && !all.contains("4111"), "the audit never holds the values");
    let rules: Vec<&str> =
        audit.last().unwrap()["decisions"].as_array().unwrap().iter().filter_map(|d| d["rule"].as_str()).collect();
    assert!(rules.contains(&"pii.tokenize.EMAIL") && rules.contains(&"pii.redact.CREDIT_CARD"), "{rules:?}");
}

#[tokio::test]
async fn blocked_kinds_and_deny_lists_refuse_before_any_upstream_call() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = guarded(up.addr, dir.path());
    let d = Daemon::start_with(dir, &text).await;
    let r = post(&d, "/v1/chat/completions", &body("my ssn is 536-22-8741")).await;
    let e = r.assert_error(403);
    assert_eq!(e["error"]["code"], "policy_violation");
    assert!(!r.text().contains("536-22-8741"));
    let r = post(&d, "/v1/chat/completions", &body("status of Project X please")).await;
    r.assert_error(403);
    assert_eq!(up.requests(), 0, "nothing reached the upstream");
}

fn barrier_config(up: std::net::SocketAddr, dir: &std::path::Path, enforcement: &str) -> String {
    format!(
        r#"{}
[[keys]]
id = "analyst"
hash = "{}"
department = "research"

[[keys]]
id = "trader"
hash = "{}"
department = "trading"

[[barriers.segments]]
name = "research"
departments = ["research"]
keywords = ["coverage initiation"]

[[barriers.segments]]
name = "trading"
departments = ["trading"]
keywords = ["order book", "block trade"]

[[barriers.rules]]
id = "research-vs-trading"
segments = ["research", "trading"]
enforcement = "{enforcement}"
"#,
        config(up, dir),
        key_hash("sf-analyst-key-0001"),
        key_hash("sf-trader-key-0001"),
    )
}

#[tokio::test]
async fn an_information_barrier_keeps_trading_content_away_from_research() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = barrier_config(up.addr, dir.path(), "enforce");
    let d = Daemon::start_with(dir, &text).await;
    let url = d.url("/v1/chat/completions");
    let prompt = body("Summarise today's order book for ACME");
    let r = request("POST", &url, Some("sf-analyst-key-0001"), prompt.clone()).await;
    let e = r.assert_error(403);
    assert!(e["error"]["message"].as_str().unwrap().contains("information barrier"));
    assert_eq!(up.requests(), 0);
    let r = request("POST", &url, Some("sf-trader-key-0001"), prompt).await;
    assert_eq!(r.status, 200, "{}", r.text());
}

#[tokio::test]
async fn an_audit_barrier_lets_the_request_through_and_records_would_deny() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = barrier_config(up.addr, dir.path(), "audit");
    let d = Daemon::start_with(dir, &text).await;
    let r =
        request("POST", &d.url("/v1/chat/completions"), Some("sf-analyst-key-0001"), body("book a block trade")).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let audit = crate::chat::wait_for_audit(&d, 1).await;
    let decision = &audit.last().unwrap()["decisions"][0];
    assert_eq!(
        (decision["rule"].as_str(), decision["action"].as_str()),
        (Some("research-vs-trading"), Some("would_deny"))
    );
}
