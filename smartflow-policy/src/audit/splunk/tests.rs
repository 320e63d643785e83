//! Tests of the Splunk HEC sink: the CIM mapping of each record class, and sends against an
//! in-process HEC receiver on 127.0.0.1 that checks the protocol (path, `Authorization: Splunk`,
//! envelopes, channels, acknowledgement) the way Splunk does.
//!
//! The receiver speaks minimal HTTP/1.1 over a tokio `TcpListener` (keep-alive, `Content-Length`
//! bodies): `hyper` itself is not a dependency of this crate.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use secrecy::SecretString;
use serde_json::{Value, json};
use smartflow_core::policy::{Action, PolicyDecision};
use smartflow_core::{AdminChange, AuditRecord, ChangeAction, Outcome, Principal, TokenUsage};
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

use super::*;

const TOKEN: &str = "11111111-2222-3333-4444-555555555555";

// ---------------------------------------------------------------------------------------------
// Records and configuration.

fn record(id: &str) -> AuditRecord {
    let mut principal = Principal::new("vk-7f3a");
    principal.user = Some("alice@example.com".to_owned());
    principal.team = Some("search".to_owned());
    principal.department = Some("research".to_owned());
    AuditRecord {
        timestamp_ms: 1_732_212_345_123,
        request_id: id.to_owned(),
        trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(),
        span_id: "b7ad6b7169203331".to_owned(),
        parent_span_id: None,
        endpoint: "chat",
        principal: Arc::new(principal),
        model: Some("assistant".to_owned()),
        target: Some("openai/gpt-4o".to_owned()),
        stream: false,
        outcome: Outcome::Allowed,
        status: 200,
        error: None,
        decisions: Vec::new(),
        cache: None,
        usage: Some(TokenUsage { input: 120, output: 30, cached_input: 100, ..TokenUsage::default() }),
        cost_nano_usd: Some(1_250_000),
        latency_ms: 812.5,
        ttfb_ms: Some(95.0),
        prompt: None,
        completion: None,
        admin: None,
    }
}

fn denied(id: &str, action: Action) -> AuditRecord {
    let mut r = record(id);
    if action == Action::Deny {
        r.outcome = Outcome::Denied;
        r.status = 403;
        r.target = None;
        r.usage = None;
        r.cost_nano_usd = None;
    }
    r.decisions.push(PolicyDecision { policy: "pii".to_owned(), rule: "us_ssn".to_owned(), action, phase: "request" });
    r
}

fn unauthenticated(id: &str) -> AuditRecord {
    let mut r = record(id);
    r.principal = Arc::new(Principal::new("-"));
    r.outcome = Outcome::Denied;
    r.status = 401;
    r.error = Some("invalid_api_key");
    r.model = None;
    r.target = None;
    r.usage = None;
    r.cost_nano_usd = None;
    r
}

/// An admin who created virtual key `k_abc` (`POST /api/keys`).
fn admin_created(id: &str) -> AuditRecord {
    crate::audit::admin_fixtures::admin_created(record(id), "vk-admin", Some("root@example.com"))
}

/// A caller without admin rights refused when changing key `k_abc` (`PATCH /api/keys/{id}`).
fn admin_denied(id: &str) -> AuditRecord {
    crate::audit::admin_fixtures::admin_denied(admin_created(id), record(id).principal)
}

fn config(url: &str) -> SplunkConfig {
    let mut c = SplunkConfig::new(url, SecretString::from(TOKEN));
    c.index = Some("ai_gateway".to_owned());
    c.host = "gw-01".to_owned();
    c.timeout = Duration::from_secs(2);
    c.ack_poll_interval = Duration::from_millis(20);
    c
}

fn hec(url: &str) -> SplunkHec {
    SplunkHec::new(config(url)).unwrap()
}

/// The envelopes of a payload (concatenated JSON objects).
fn envelopes(payload: &[u8]) -> Vec<Value> {
    serde_json::Deserializer::from_slice(payload).into_iter::<Value>().map(Result::unwrap).collect()
}

fn encode(records: &[AuditRecord]) -> Vec<Value> {
    let batch: Vec<_> = records.iter().cloned().map(Arc::new).collect();
    envelopes(&hec("https://splunk.example.com:8088").encode(&batch).unwrap())
}

fn batch(records: Vec<AuditRecord>) -> Vec<Arc<AuditRecord>> {
    records.into_iter().map(Arc::new).collect()
}

// ---------------------------------------------------------------------------------------------
// The HEC receiver.

/// One HTTP request the receiver saw.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    path: String,
    query: String,
    headers: Vec<(String, String)>,
}

impl Seen {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

#[derive(Default)]
struct RxState {
    token: String,
    /// Indexer acknowledgement on: replies carry `ackId`, a channel is required.
    ack: bool,
    /// Never report an ackId as indexed.
    ack_never: bool,
    /// Answer 503 to this many event posts.
    busy_next: usize,
    /// Never answer.
    hang: bool,
    requests: Vec<Seen>,
    /// Events accepted, per post.
    posts: Vec<usize>,
    /// Every accepted envelope.
    events: Vec<Value>,
    ack_polls: usize,
    next_ack_id: u64,
    polled: HashSet<u64>,
}

struct Receiver {
    url: String,
    state: Arc<Mutex<RxState>>,
}

impl Receiver {
    async fn start(configure: impl FnOnce(&mut RxState)) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let mut state = RxState { token: TOKEN.to_owned(), ..RxState::default() };
        configure(&mut state);
        let state = Arc::new(Mutex::new(state));
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                tokio::spawn(connection(socket, shared.clone()));
            }
        });
        Self { url, state }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, RxState> {
        self.state.lock().unwrap()
    }
}

/// Serves requests on one keep-alive connection.
async fn connection(mut socket: tokio::net::TcpStream, state: Arc<Mutex<RxState>>) {
    let mut buf = Vec::new();
    while let Some((seen, body)) = read_request(&mut socket, &mut buf).await {
        if state.lock().unwrap().hang {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return;
        }
        let (status, reply) = handle(&mut state.lock().unwrap(), seen, &body);
        let reason = match status {
            200 => "OK",
            400 => "Bad Request",
            401 => "Unauthorized",
            404 => "Not Found",
            _ => "Service Unavailable",
        };
        let reply = reply.to_string();
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if socket.write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}

/// Reads one request (head and `Content-Length` body); `None` when the client closed.
async fn read_request(socket: &mut tokio::net::TcpStream, buf: &mut Vec<u8>) -> Option<(Seen, Vec<u8>)> {
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap().split(' ');
    let method = first.next().unwrap().to_owned();
    let target = first.next().unwrap();
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    assert!(!headers.iter().any(|(n, _)| n == "transfer-encoding"), "bodies are sent with a length");
    let length: usize = headers.iter().find(|(n, _)| n == "content-length").map_or(0, |(_, v)| v.parse().unwrap());
    while buf.len() < head_end + length {
        match socket.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    let body = buf[head_end..head_end + length].to_vec();
    buf.drain(..head_end + length);
    Some((Seen { method, path: path.to_owned(), query: query.to_owned(), headers }, body))
}

fn hec_reply(code: u16, text: &str) -> Value {
    json!({"text": text, "code": code})
}

/// Splunk's answer to one request.
fn handle(state: &mut RxState, seen: Seen, body: &[u8]) -> (u16, Value) {
    state.requests.push(seen.clone());
    let known = matches!(seen.path.as_str(), "/services/collector/event" | "/services/collector/ack");
    if !known || seen.method != "POST" {
        return (404, json!({"text": "The requested URL was not found on this server.", "code": 404}));
    }
    match seen.header("authorization") {
        None => return (401, hec_reply(2, "Token is required")),
        Some(a) if a != format!("Splunk {}", state.token) => return (401, hec_reply(3, "Invalid authorization")),
        Some(_) => {}
    }
    let channel = seen.header("x-splunk-request-channel").is_some() || seen.query.starts_with("channel=");
    if seen.path == "/services/collector/ack" {
        if !state.ack {
            return (400, hec_reply(14, "ACK is disabled"));
        }
        if !channel {
            return (400, hec_reply(10, "Data channel is missing"));
        }
        state.ack_polls += 1;
        let ids: Vec<u64> = serde_json::from_slice::<Value>(body).unwrap()["acks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap())
            .collect();
        let mut acks = serde_json::Map::new();
        for id in ids {
            let indexed = !state.ack_never && !state.polled.insert(id);
            acks.insert(id.to_string(), Value::Bool(indexed));
        }
        return (200, json!({ "acks": acks }));
    }
    if state.busy_next > 0 {
        state.busy_next -= 1;
        return (503, hec_reply(9, "Server is busy"));
    }
    if state.ack && !channel {
        return (400, hec_reply(10, "Data channel is missing"));
    }
    let mut accepted = Vec::new();
    for (i, envelope) in serde_json::Deserializer::from_slice(body).into_iter::<Value>().enumerate() {
        let valid = envelope.as_ref().ok().filter(|e| {
            let event_ok = e.get("event").is_some_and(|v| !v.is_null() && v != "" && v != &json!({}));
            let meta_ok = ["host", "source", "sourcetype"].iter().all(|k| e.get(*k).is_none_or(Value::is_string));
            e.get("time").is_some_and(Value::is_number) && event_ok && meta_ok
        });
        match valid {
            Some(e) => accepted.push(e.clone()),
            None => return (400, json!({"text": "Invalid data format", "code": 6, "invalid-event-number": i})),
        }
    }
    if accepted.is_empty() {
        return (400, hec_reply(5, "No data"));
    }
    state.posts.push(accepted.len());
    state.events.extend(accepted);
    if state.ack {
        let id = state.next_ack_id;
        state.next_ack_id += 1;
        return (200, json!({"text": "Success", "code": 0, "ackId": id}));
    }
    (200, hec_reply(0, "Success"))
}

// ---------------------------------------------------------------------------------------------
// The CIM mapping.

#[test]
fn allowed_request_is_one_web_event_in_a_full_envelope() {
    let events = encode(&[record("r1")]);
    assert_eq!(events.len(), 1);
    let envelope = &events[0];
    assert_eq!(envelope["time"], json!(1_732_212_345.123));
    assert_eq!(envelope["host"], "gw-01");
    assert_eq!(envelope["source"], "smartflow");
    assert_eq!(envelope["sourcetype"], "smartflow:audit");
    assert_eq!(envelope["index"], "ai_gateway");
    let e = &envelope["event"];
    let expected = json!({
        "event_class": "request", "cim": ["Web"], "app": "smartflow", "vendor_product": "Smartflow AI Gateway",
        "action": "allowed", "status": 200, "http_method": "POST", "url": "/v1/chat/completions",
        "uri_path": "/v1/chat/completions", "category": "genai:chat", "dest": "openai",
        "http_content_type": "application/json", "user": "alice@example.com", "user_id": "vk-7f3a",
        "team": "search", "department": "research", "request_id": "r1",
        "trace_id": "0af7651916cd43dd8448eb211c80319c", "span_id": "b7ad6b7169203331", "model": "assistant",
        "target": "openai/gpt-4o", "duration": 812.5, "response_time": 95.0, "cached": false, "stream": false,
        "tokens_in": 120, "tokens_out": 30, "tokens_cached_in": 100, "cost_usd": 0.00125, "outcome": "allowed",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&e[key], value, "field {key}");
    }
    for absent in ["prompt", "completion", "signature", "policies", "error", "cache"] {
        assert!(e.get(absent).is_none(), "{absent} must be absent");
    }
}

#[test]
fn policy_denial_adds_an_alerts_and_dlp_event_naming_the_rule() {
    let events = encode(&[denied("r2", Action::Deny)]);
    assert_eq!(events.len(), 2, "the request event and one policy event");
    let web = &events[0]["event"];
    assert_eq!((&web["cim"], &web["action"], &web["status"]), (&json!(["Web"]), &json!("blocked"), &json!(403)));
    assert_eq!(web["policies"], json!(["pii"]));
    let alert = &events[1]["event"];
    let expected = json!({
        "event_class": "policy", "cim": ["Alerts", "DLP"], "action": "blocked", "policy_action": "deny",
        "signature": "us_ssn", "signature_id": "pii/us_ssn", "category": "pii", "severity": "high",
        "type": "alert", "id": "r2-0", "dlp_type": "genai", "object": "prompt",
        "object_path": "/v1/chat/completions", "src_user": "alice@example.com", "user": "alice@example.com",
        "dvc": "gw-01", "dest": "gw-01", "request_id": "r2", "app": "smartflow", "phase": "request",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&alert[key], value, "field {key}");
    }
    assert!(alert["description"].as_str().unwrap().contains("us_ssn"));
    assert_eq!(events[1]["sourcetype"], "smartflow:audit");
    assert_eq!(events[1]["time"], events[0]["time"]);
}

#[test]
fn would_deny_is_an_allowed_request_with_a_medium_alert() {
    let events = encode(&[denied("r3", Action::WouldDeny)]);
    assert_eq!(events[0]["event"]["action"], "allowed");
    let alert = &events[1]["event"];
    assert_eq!((&alert["action"], &alert["policy_action"]), (&json!("allowed"), &json!("would_deny")));
    assert_eq!(alert["severity"], "medium");
    assert_eq!(alert["dest"], "openai");
}

#[test]
fn unauthenticated_request_is_an_authentication_failure_event() {
    let events = encode(&[unauthenticated("r4")]);
    assert_eq!(events.len(), 1, "a 401 gives the Authentication event instead of a Web event");
    let e = &events[0]["event"];
    let expected = json!({
        "event_class": "authentication", "cim": ["Authentication"], "action": "failure", "app": "smartflow",
        "user": "unknown", "user_id": "-", "dest": "gw-01", "reason": "invalid_api_key", "status": 401,
        "signature_id": "smartflow-auth-401", "url": "/v1/chat/completions", "request_id": "r4",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&e[key], value, "field {key}");
    }
    let mut with_key = unauthenticated("r5");
    with_key.principal = Arc::new(Principal::new("vk-expired"));
    assert_eq!(encode(&[with_key])[0]["event"]["user"], "vk-expired", "an attempted key id names the user");
}

#[test]
fn admin_change_is_a_cim_change_event() {
    let events = encode(&[admin_created("r20"), admin_denied("r21")]);
    assert_eq!(events.len(), 2, "one Change event each, no Web event");
    let created = &events[0]["event"];
    let expected = json!({
        "event_class": "change", "cim": ["Change"], "app": "smartflow", "vendor_product": "Smartflow AI Gateway",
        "action": "created", "status": "success", "http_status": 200, "result": "allowed",
        "change_type": "AAA", "object_category": "virtual_key", "object": "k_abc", "command": "POST /api/keys",
        "object_path": "/api/keys", "user": "root@example.com", "src_user": "root@example.com",
        "user_id": "vk-admin", "dest": "gw-01", "dvc": "gw-01", "duration": 3.0, "endpoint": "admin",
        "outcome": "allowed", "request_id": "r20", "trace_id": "0af7651916cd43dd8448eb211c80319c",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&created[key], value, "field {key}");
    }
    for absent in ["error", "model", "target", "tokens_in", "cost_usd", "category", "http_method", "cached"] {
        assert!(created.get(absent).is_none(), "{absent} must be absent");
    }

    let denied = &events[1]["event"];
    let expected = json!({
        "event_class": "change", "cim": ["Change"], "action": "modified", "status": "failure",
        "http_status": 403, "result": "denied", "change_type": "AAA", "object_category": "virtual_key",
        "object": "k_abc", "command": "PATCH /api/keys/{id}", "object_path": "/api/keys/{id}",
        "user": "alice@example.com", "user_id": "vk-7f3a", "error": "permission_denied", "dest": "gw-01",
    });
    for (key, value) in expected.as_object().unwrap() {
        assert_eq!(&denied[key], value, "field {key}");
    }
}

#[test]
fn admin_change_type_and_object_fall_back_for_the_gateways_own_state() {
    let mut r = admin_created("r22");
    r.admin = Some(AdminChange {
        operation: "POST /api/cache/flush".to_owned(),
        action: ChangeAction::Cleared,
        object_category: "cache",
        object: None,
    });
    let e = &encode(&[r])[0]["event"];
    assert_eq!((&e["change_type"], &e["action"]), (&json!("application"), &json!("cleared")));
    assert_eq!(e["object"], "cache", "CIM requires an object: the category stands in");
    assert_eq!(e["object_path"], "/api/cache/flush");
}

#[test]
fn admin_auth_failures_and_unknown_routes_keep_their_events() {
    let mut refused = unauthenticated("r23");
    refused.endpoint = "admin";
    let e = &encode(&[refused])[0]["event"];
    assert_eq!((&e["event_class"], &e["status"]), (&json!("authentication"), &json!(401)));

    let mut unknown = admin_created("r24");
    unknown.admin = None;
    unknown.outcome = Outcome::Failed;
    unknown.status = 404;
    unknown.error = Some("not_found");
    let e = &encode(&[unknown])[0]["event"];
    assert_eq!((&e["event_class"], &e["category"], &e["status"]), (&json!("request"), &json!("admin"), &json!(404)));
}

#[test]
fn chat_request_event_carries_no_change_fields() {
    let e = &encode(&[record("r25")])[0]["event"];
    assert_eq!((&e["event_class"], &e["status"]), (&json!("request"), &json!(200)));
    for absent in ["http_status", "change_type", "command", "object_category", "result", "dvc", "src_user"] {
        assert!(e.get(absent).is_none(), "{absent} must be absent");
    }
}

#[test]
fn prompt_and_completion_appear_only_when_recorded() {
    let mut r = record("r6");
    let plain = &encode(std::slice::from_ref(&r))[0]["event"];
    assert!(plain.get("prompt").is_none() && plain.get("completion").is_none());
    r.prompt = Some("hello [REDACTED]".to_owned());
    r.completion = Some("hi".to_owned());
    let e = &encode(&[r])[0]["event"];
    assert_eq!((&e["prompt"], &e["completion"]), (&json!("hello [REDACTED]"), &json!("hi")));
}

#[test]
fn index_is_omitted_unless_configured_and_empty_batches_encode_to_nothing() {
    let mut c = config("https://splunk.example.com");
    c.index = None;
    let sink = SplunkHec::new(c).unwrap();
    let events = envelopes(&sink.encode(&batch(vec![record("r7")])).unwrap());
    assert!(events[0].get("index").is_none());
    assert!(sink.encode(&[]).unwrap().is_empty());
}

// ---------------------------------------------------------------------------------------------
// Sending.

#[tokio::test]
async fn batch_of_50_records_is_one_post_of_50_events() {
    let rx = Receiver::start(|_| {}).await;
    let sink = hec(&rx.url);
    let records: Vec<_> = (0..50).map(|i| record(&format!("req-{i}"))).collect();
    let payload = sink.encode(&batch(records)).unwrap();
    sink.send(&payload).await.unwrap();
    let state = rx.state();
    assert_eq!(state.posts, vec![50]);
    let ids: Vec<_> = state.events.iter().map(|e| e["event"]["request_id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, (0..50).map(|i| format!("req-{i}")).collect::<Vec<_>>(), "in order");
    assert!(state.events.iter().all(|e| e["sourcetype"] == "smartflow:audit" && e["index"] == "ai_gateway"));
}

#[tokio::test]
async fn authorization_and_content_type_headers_are_exact() {
    let rx = Receiver::start(|_| {}).await;
    let sink = hec(&rx.url);
    sink.send(&sink.encode(&batch(vec![record("r8")])).unwrap()).await.unwrap();
    let state = rx.state();
    let seen = &state.requests[0];
    assert_eq!((seen.method.as_str(), seen.path.as_str()), ("POST", "/services/collector/event"));
    assert_eq!(seen.header("authorization"), Some(format!("Splunk {TOKEN}").as_str()));
    assert_eq!(seen.header("content-type"), Some("application/json"));
    assert_eq!(seen.header("x-splunk-request-channel"), None, "no channel without acknowledgement");
}

#[tokio::test]
async fn wrong_token_is_retryable_and_the_token_never_leaks() {
    let rx = Receiver::start(|s| s.token = "another-token".to_owned()).await;
    let c = config(&rx.url);
    let sink = SplunkHec::new(c.clone()).unwrap();
    let payload = sink.encode(&batch(vec![record("r9")])).unwrap();
    for _ in 0..2 {
        let err = sink.send(&payload).await.unwrap_err();
        assert!(err.retryable, "a bad token is fixed by an operator; the records are kept");
        assert!(err.message.contains("401") && err.message.contains("code 3"), "{}", err.message);
        assert!(!err.message.contains(TOKEN));
        assert!(!format!("{err:?}").contains(TOKEN));
    }
    assert!(rx.state().events.is_empty());
    for debug in [format!("{c:?}"), format!("{sink:?}"), format!("{:?}", sink.authorization)] {
        assert!(!debug.contains(TOKEN), "{debug}");
    }
    rx.state().token = TOKEN.to_owned();
    sink.send(&payload).await.unwrap();
    assert!(!sink.auth_failing.load(std::sync::atomic::Ordering::Relaxed), "the failure streak ends");
}

#[tokio::test]
async fn busy_collector_503_is_retryable_until_it_recovers() {
    let rx = Receiver::start(|s| s.busy_next = 2).await;
    let sink = hec(&rx.url);
    let payload = sink.encode(&batch(vec![record("r10")])).unwrap();
    for _ in 0..2 {
        let err = sink.send(&payload).await.unwrap_err();
        assert!(err.retryable && err.message.contains("503"), "{}", err.message);
    }
    sink.send(&payload).await.unwrap();
    assert_eq!(rx.state().events.len(), 1);
}

#[tokio::test]
async fn invalid_data_format_400_is_permanent() {
    let rx = Receiver::start(|_| {}).await;
    let sink = hec(&rx.url);
    let err = sink.send(&Bytes::from_static(br#"{"time": 1, "event": "ok"} {"time": 2}"#)).await.unwrap_err();
    assert!(!err.retryable, "resending the same payload cannot fix it");
    assert!(err.message.contains("400") && err.message.contains("Invalid data format, code 6"), "{}", err.message);
}

#[tokio::test]
async fn unreachable_or_silent_collector_is_retryable() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let sink = hec(&format!("http://127.0.0.1:{port}"));
    let payload = sink.encode(&batch(vec![record("r11")])).unwrap();
    let err = sink.send(&payload).await.unwrap_err();
    assert!(err.retryable && err.message.contains("could not reach"), "{}", err.message);

    let rx = Receiver::start(|s| s.hang = true).await;
    let mut c = config(&rx.url);
    c.timeout = Duration::from_millis(200);
    let err = SplunkHec::new(c).unwrap().send(&payload).await.unwrap_err();
    assert!(err.retryable && err.message.contains("did not answer"), "{}", err.message);
}

#[tokio::test]
async fn ack_mode_returns_only_after_the_batch_is_acked() {
    let rx = Receiver::start(|s| s.ack = true).await;
    let mut c = config(&rx.url);
    c.ack = true;
    let sink = SplunkHec::new(c).unwrap();
    let payload = sink.encode(&batch(vec![record("r12"), denied("r13", Action::Deny)])).unwrap();
    sink.send(&payload).await.unwrap();
    sink.send(&payload).await.unwrap();
    let state = rx.state();
    assert_eq!(state.posts, vec![3, 3]);
    assert_eq!(state.ack_polls, 4, "each batch: one poll answered false, one answered true");
    let channel = state.requests[0].header("x-splunk-request-channel").unwrap().to_owned();
    assert_eq!(channel.len(), 36, "a GUID: {channel}");
    for seen in &state.requests {
        assert_eq!(seen.header("x-splunk-request-channel"), Some(channel.as_str()), "one channel per sink");
        assert_eq!(seen.header("authorization"), Some(format!("Splunk {TOKEN}").as_str()));
    }
    let polls: Vec<_> = state.requests.iter().filter(|s| s.path == "/services/collector/ack").collect();
    assert_eq!(polls.len(), 4);
    assert!(polls.iter().all(|s| s.query == format!("channel={channel}")));
}

#[tokio::test]
async fn unacknowledged_batch_times_out_as_retryable() {
    let rx = Receiver::start(|s| (s.ack, s.ack_never) = (true, true)).await;
    let mut c = config(&rx.url);
    c.ack = true;
    c.ack_timeout = Duration::from_millis(300);
    let sink = SplunkHec::new(c).unwrap();
    let started = tokio::time::Instant::now();
    let err = sink.send(&sink.encode(&batch(vec![record("r14")])).unwrap()).await.unwrap_err();
    assert!(err.retryable && err.message.contains("did not acknowledge"), "{}", err.message);
    assert!(started.elapsed() >= Duration::from_millis(300));
    assert!(rx.state().ack_polls >= 5, "polled until the deadline");
}

#[tokio::test]
async fn ack_collector_refuses_a_sender_without_a_channel() {
    let rx = Receiver::start(|s| s.ack = true).await;
    let sink = hec(&rx.url);
    let err = sink.send(&sink.encode(&batch(vec![record("r15")])).unwrap()).await.unwrap_err();
    assert!(!err.retryable && err.message.contains("code 10"), "{}", err.message);
}

// ---------------------------------------------------------------------------------------------
// Configuration.

#[test]
fn http_to_a_non_loopback_host_is_refused_at_construction() {
    let refused = |url: &str| SplunkHec::new(config(url)).unwrap_err();
    assert!(refused("http://splunk.example.com:8088").to_string().contains("https"));
    assert!(refused("http://10.0.0.5:8088").to_string().contains("https"));
    assert!(refused("ftp://127.0.0.1").to_string().contains("https"));
    assert!(refused("https://splunk.example.com:8088/services/collector").to_string().contains("base URL"));
    for ok in ["http://127.0.0.1:8088", "http://localhost:8088/", "http://[::1]:8088", "https://splunk:8088"] {
        assert!(SplunkHec::new(config(ok)).is_ok(), "{ok}");
    }
}

#[test]
fn bad_settings_are_refused_without_echoing_the_token() {
    let mut c = config("https://splunk:8088");
    c.token = SecretString::from("");
    assert!(SplunkHec::new(c).is_err());
    let mut c = config("https://splunk:8088");
    c.token = SecretString::from("secret with spaces");
    let err = SplunkHec::new(c).unwrap_err().to_string();
    assert!(!err.contains("secret"), "{err}");
    let mut c = config("https://splunk:8088");
    c.index = Some(String::new());
    assert!(SplunkHec::new(c).is_err());
    let mut c = config("https://splunk:8088");
    c.ack_timeout = Duration::ZERO;
    assert!(SplunkHec::new(c).is_err());
}

#[test]
fn defaults_match_the_documentation() {
    let c = SplunkConfig::new("https://splunk:8088", SecretString::from(TOKEN));
    assert_eq!((c.source.as_str(), c.sourcetype.as_str()), ("smartflow", "smartflow:audit"));
    assert!(!c.host.is_empty());
    assert_eq!(c.index, None);
    assert!(!c.ack);
    assert_eq!((c.timeout, c.ack_timeout), (Duration::from_secs(10), Duration::from_secs(60)));
    assert_eq!(c.ack_poll_interval, Duration::from_secs(1));
    let sink = SplunkHec::new(c).unwrap();
    assert_eq!(sink.name(), "splunk");
    assert_eq!(sink.event_uri.to_string(), "https://splunk:8088/services/collector/event");
}

#[tokio::test]
async fn empty_payload_is_not_sent() {
    let rx = Receiver::start(|_| {}).await;
    hec(&rx.url).send(&Bytes::new()).await.unwrap();
    assert!(rx.state().requests.is_empty());
}
