//! `[[guardrails]]` through the real daemon and its mock upstream: what the upstream receives is
//! redacted or tokenized, the caller gets its tokens back, blocked kinds are refused before any
//! upstream call, deny lists refuse, and the values never reach the audit file. Through the
//! in-process echo mock (which answers with exactly what it was sent): tokens come back restored
//! in whole and streamed answers while the provider and the audit record see placeholders.
//! Information barriers refuse a labelled answer (not only a labelled prompt), and the cache
//! never serves an entry across barrier segments, even within one cache scope.

use serde_json::{Value, json};

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

/// Research and trading segments (by department, with keyword classifiers) and the barrier
/// between them, enforced or audited.
fn barriers(enforcement: &str) -> String {
    format!(
        r#"
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
"#
    )
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

{barriers}"#,
        config(up, dir),
        key_hash("sf-analyst-key-0001"),
        key_hash("sf-trader-key-0001"),
        barriers = barriers(enforcement),
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

// ---- Streams and the echo mock ---------------------------------------------------------------

/// An echo provider that streams 3 characters per chunk, and its model `echo3`.
pub const ECHO3: &str = r#"
[[providers]]
name = "echo3"
type = "mock"
behavior = "echo"
stream_chunk_chars = 3

[[models]]
name = "echo3"
targets = ["echo3/echo"]
"#;

/// The test configuration with `record_prompts = true` on the audit file.
pub fn recorded(up: std::net::SocketAddr, dir: &std::path::Path) -> String {
    let base = config(up, dir);
    assert!(base.contains("sink = \"file\"\n"), "the test configuration's audit sink moved");
    base.replacen("sink = \"file\"\n", "sink = \"file\"\nrecord_prompts = true\n", 1)
}

/// A chat request for `model` with one user message, streamed or not (streams ask for usage).
pub fn ask_model(model: &str, text: &str, stream: bool) -> String {
    let mut v = json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": text}]});
    if stream {
        v["stream_options"] = json!({"include_usage": true});
    }
    v.to_string()
}

/// A streamed answer whose SSE framing was checked: every event is one `data:` line of JSON,
/// except at most one `[DONE]`, which is last.
pub struct Sse {
    /// The JSON events in order (`[DONE]` excluded).
    pub events: Vec<Value>,
    /// Whether the stream ended with `[DONE]`.
    pub done: bool,
    /// The reassembled `delta.content` of choice 0.
    pub text: String,
    /// Every `finish_reason` seen.
    pub finish: Vec<String>,
}

impl Sse {
    /// The terminal error event, if the stream ended with one.
    pub fn error(&self) -> Option<&Value> {
        self.events.last().filter(|e| e.get("error").is_some())
    }
}

/// Parses and checks the SSE framing of a 200 stream.
pub fn sse(r: &Reply) -> Sse {
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    let body = r.text();
    assert!(body.ends_with("\n\n"), "the stream ends with a whole event: {body:?}");
    let (mut events, mut dones) = (Vec::new(), 0);
    for event in body.split_terminator("\n\n") {
        let data = event.strip_prefix("data: ").unwrap_or_else(|| panic!("not one data line: {event:?}"));
        assert!(!data.contains('\n'), "an event of more than one line: {event:?}");
        assert_eq!(dones, 0, "an event after [DONE]: {body}");
        if data == "[DONE]" {
            dones += 1;
            continue;
        }
        let v: Value = serde_json::from_str(data).unwrap_or_else(|e| panic!("not JSON ({e}): {data:?}"));
        events.push(v);
    }
    let errors = events.iter().filter(|e| e.get("error").is_some()).count();
    assert!(errors == 0 || (errors == 1 && dones == 0 && events.last().unwrap().get("error").is_some()), "{body}");
    let mut text = String::new();
    let mut finish = Vec::new();
    for e in &events {
        for c in e["choices"].as_array().into_iter().flatten() {
            if c["index"] == 0
                && let Some(t) = c["delta"]["content"].as_str()
            {
                text.push_str(t);
            }
            if let Some(f) = c["finish_reason"].as_str() {
                finish.push(f.to_owned());
            }
        }
    }
    Sse { events, done: dones == 1, text, finish }
}

/// A stream that completed normally: one `[DONE]`, no error, one `stop`; its text.
pub fn sse_ok(r: &Reply) -> Sse {
    let s = sse(r);
    assert!(s.done && s.error().is_none(), "the stream did not complete: {}", r.text());
    assert_eq!(s.finish, ["stop"], "{}", r.text());
    s
}

/// The audit records of these request ids (waiting for them), in the same order.
pub async fn records_of(d: &Daemon, ids: &[&str]) -> Vec<Value> {
    for _ in 0..300 {
        let lines = d.audit_lines().await;
        let found: Vec<Value> =
            ids.iter().filter_map(|id| lines.iter().find(|l| l["request_id"] == *id).cloned()).collect();
        if found.len() == ids.len() {
            return found;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("no audit records for all of {ids:?}: {:#?}", d.audit_lines().await);
}

/// The `(rule, action, phase)` of a record's decisions.
pub fn decisions(record: &Value) -> Vec<(String, String, String)> {
    record["decisions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| {
            let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
            (s("rule"), s("action"), s("phase"))
        })
        .collect()
}

fn request_id(r: &Reply) -> String {
    r.header("x-request-id").expect("no x-request-id").to_owned()
}

#[tokio::test]
async fn tokens_come_back_restored_while_the_provider_and_the_audit_see_only_the_placeholder() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = format!(
        r#"{}{ECHO3}
[[guardrails]]
id = "pii"
type = "pii"
hooks = ["llm_input", "llm_output"]
input_actions = {{ default = "redact", EMAIL = "tokenize" }}
output_actions = {{ default = "redact" }}
"#,
        recorded(up.addr, dir.path())
    );
    let d = Daemon::start_with(dir, &text).await;
    let prompt = format!("Please write to {EMAIL} about the invoice.");
    let sent = "Please write to [EMAIL_1] about the invoice.";
    // The echo's usage counts what it answered: the placeholder prompt, not the caller's.
    let tokens = |t: &str| t.len().div_ceil(4) as u64;
    assert_ne!(tokens(&prompt), tokens(sent), "the lengths must tell the two apart");

    let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], prompt.as_str(), "the caller gets its own value back");
    assert_eq!(v["usage"]["completion_tokens"], tokens(sent), "the echo answered the placeholder: {v}");
    assert_eq!(v["usage"]["prompt_tokens"], tokens(sent), "the echo was sent the placeholder: {v}");
    let whole = request_id(&r);

    // Streamed 3 characters at a time: `[EMAIL_1]` arrives in pieces and is restored whole.
    let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, true)).await;
    let s = sse_ok(&r);
    assert_eq!(s.text, prompt, "the streamed answer is restored: {}", r.text());
    assert!(!r.text().contains("[EMAIL_1]"), "no placeholder reaches the caller: {}", r.text());
    let usage = s.events.iter().find_map(|e| e["usage"]["completion_tokens"].as_u64());
    assert_eq!(usage, Some(tokens(sent)), "the echo streamed the placeholder: {}", r.text());
    let streamed = request_id(&r);

    let records = records_of(&d, &[&whole, &streamed]).await;
    for record in &records {
        let all = record.to_string();
        assert!(!all.contains(EMAIL), "the audit record holds the tokenized value: {record:#}");
        assert_eq!(record["prompt"], sent, "the recorded prompt is the one the provider got: {record:#}");
        assert!(
            record["completion"].is_null() || record["completion"] == sent,
            "the recorded completion is the provider's (placeholder) answer: {record:#}"
        );
        assert!(decisions(record).iter().any(|(rule, action, phase)| (rule.as_str(), action.as_str(), phase.as_str())
            == ("pii.tokenize.EMAIL", "redact", "request")));
    }
}

// ---- Information barriers on answers and in the cache ---------------------------------------

const ANALYST: &str = "sf-analyst-key-0001";
const TRADER: &str = "sf-trader-key-0001";
const DESK_REPLY: &str = "Morning note: today's order book shows heavy buying in ACME.";

/// [`barrier_config`] with `desk-news`, a fixed mock answer labelled for the trading segment,
/// streamed 4 characters at a time.
fn desk_config(up: std::net::SocketAddr, dir: &std::path::Path, enforcement: &str) -> String {
    format!(
        r#"{}
[[providers]]
name = "desk"
type = "mock"
behavior = "fixed"
reply = "{DESK_REPLY}"
stream_chunk_chars = 4

[[models]]
name = "desk-news"
targets = ["desk/news"]
"#,
        barrier_config(up, dir, enforcement)
    )
}

const INNOCUOUS: &str = "Anything new this morning?";

#[tokio::test]
async fn an_answer_labelled_for_trading_is_refused_to_research_whole_and_streamed() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = desk_config(up.addr, dir.path(), "enforce");
    let d = Daemon::start_with(dir, &text).await;
    let url = d.url("/v1/chat/completions");

    // The trader gets the answer: the prompt is innocuous and the answer is theirs.
    let r = request("POST", &url, Some(TRADER), ask_model("desk-news", INNOCUOUS, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], DESK_REPLY);
    let r = request("POST", &url, Some(TRADER), ask_model("desk-news", INNOCUOUS, true)).await;
    assert_eq!(sse_ok(&r).text, DESK_REPLY);

    // The analyst sends the same prompt; the answer is labelled trading: refused.
    let r = request("POST", &url, Some(ANALYST), ask_model("desk-news", INNOCUOUS, false)).await;
    let e = r.assert_error(403);
    assert_eq!(
        (e["error"]["code"].as_str(), e["error"]["type"].as_str()),
        (Some("policy_violation"), Some("permission_error"))
    );
    let message = e["error"]["message"].as_str().unwrap();
    assert!(message.contains("information barrier") && message.contains("answer"), "{e}");
    assert!(!r.text().contains("order book") && !r.text().contains("ACME"), "the refusal never carries the answer");
    let refused = request_id(&r);

    // Streamed: the stream has started, so it ends in an error event, before the labelled
    // phrase is complete and without [DONE].
    let r = request("POST", &url, Some(ANALYST), ask_model("desk-news", INNOCUOUS, true)).await;
    let s = sse(&r);
    assert!(!s.done, "a refused stream does not end normally: {}", r.text());
    let e = s.error().unwrap_or_else(|| panic!("no terminal error event: {}", r.text()));
    assert_eq!(e["error"]["code"], "policy_violation", "{e}");
    assert!(e["error"]["message"].as_str().unwrap().contains("information barrier"), "{e}");
    assert!(!s.text.contains("order book"), "the labelled text was delivered: {:?}", s.text);
    assert!(s.finish.is_empty(), "{}", r.text());
    let cut = request_id(&r);

    let records = records_of(&d, &[&refused, &cut]).await;
    assert_eq!(records[0]["status"], 403, "{:#}", records[0]);
    let barrier = |phase: &str| ("research-vs-trading".to_owned(), "deny".to_owned(), phase.to_owned());
    assert!(decisions(&records[0]).contains(&barrier("response")), "{:#}", records[0]);
    assert!(decisions(&records[1]).contains(&barrier("chunk")), "{:#}", records[1]);
}

#[tokio::test]
async fn an_audit_barrier_delivers_a_labelled_answer_and_records_would_deny() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = desk_config(up.addr, dir.path(), "audit");
    let d = Daemon::start_with(dir, &text).await;
    let url = d.url("/v1/chat/completions");
    let r = request("POST", &url, Some(ANALYST), ask_model("desk-news", INNOCUOUS, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], DESK_REPLY);
    let whole = request_id(&r);
    let r = request("POST", &url, Some(ANALYST), ask_model("desk-news", INNOCUOUS, true)).await;
    assert_eq!(sse_ok(&r).text, DESK_REPLY);
    let streamed = request_id(&r);
    let records = records_of(&d, &[&whole, &streamed]).await;
    let would = |phase: &str| ("research-vs-trading".to_owned(), "would_deny".to_owned(), phase.to_owned());
    assert!(decisions(&records[0]).contains(&would("response")), "{:#}", records[0]);
    assert!(decisions(&records[1]).contains(&would("chunk")), "{:#}", records[1]);
    for r in &records {
        assert_eq!(r["status"], 200, "{r:#}");
        assert!(!decisions(r).iter().any(|(_, action, _)| action == "deny"), "{r:#}");
    }
}

#[tokio::test]
async fn the_cache_never_serves_an_entry_across_barrier_segments_within_one_team_scope() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    // Three keys of one team: two traders and an analyst. The cache is scoped by team, so only
    // the barrier segments keep the analyst away from the traders' entries.
    let text = format!(
        r#"{}
[[keys]]
id = "trader-a"
hash = "{}"
team = "desk"
department = "trading"

[[keys]]
id = "trader-b"
hash = "{}"
team = "desk"
department = "trading"

[[keys]]
id = "analyst"
hash = "{}"
team = "desk"
department = "research"

{barriers}
[cache]
path = "{}"
scope = "team"
"#,
        config(up.addr, dir.path()),
        key_hash("sf-trader-a-0001"),
        key_hash("sf-trader-b-0001"),
        key_hash("sf-analyst-0001"),
        dir.path().join("cache").display(),
        barriers = barriers("enforce"),
    );
    let d = Daemon::start_with(dir, &text).await;
    let url = d.url("/v1/chat/completions");
    let prompt = ask_model("ok", "What is the settlement cycle for US equities?", false);
    let ask = |key: &'static str| {
        let (url, prompt) = (url.clone(), prompt.clone());
        async move {
            let r = request("POST", &url, Some(key), prompt).await;
            assert_eq!(r.status, 200, "{key}: {}", r.text());
            r.header("x-smartflow-cache").unwrap_or_default().to_owned()
        }
    };
    assert_eq!(ask("sf-trader-a-0001").await, "miss");
    assert_eq!(up.requests(), 1);
    // Same team, same prompt, other segment: never a hit; the upstream answers again.
    assert_eq!(ask("sf-analyst-0001").await, "miss", "an entry crossed the barrier");
    assert_eq!(up.requests(), 2, "the analyst's request went upstream");
    // The same team and segment does share it (so the miss above is the barrier's doing)...
    assert_eq!(ask("sf-trader-b-0001").await, "hit; layer=l1");
    // ...and the analyst's own answer was stored in the research partition.
    assert_eq!(ask("sf-analyst-0001").await, "hit; layer=l1");
    assert_eq!(up.requests(), 2, "both hits were served from the cache");
}
