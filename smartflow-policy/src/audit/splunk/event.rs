//! The CIM mapping: each `AuditRecord` becomes HEC event envelopes whose `event` objects carry
//! Common Information Model field names, so `| tstats ... from datamodel=Web` (and Alerts, DLP,
//! Authentication) work once a TA tags them.
//!
//! - every record gives one primary event: `event_class=authentication` (CIM Authentication,
//!   `action=failure`) for a request refused with 401, else `event_class=change` (CIM Change)
//!   for an admin API request that names its change (made, attempted or refused; reads too),
//!   else `event_class=request` (CIM Web);
//! - each policy decision adds one `event_class=policy` event (CIM Alerts + DLP) naming the rule.
//!
//! Prompt and completion appear only when the record carries them; keys never do (records hold
//! only the key id).

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use smartflow_core::policy::{Action, PolicyDecision};
use smartflow_core::{AdminChange, AuditRecord, Outcome};

/// `vendor_product` of every event.
const VENDOR_PRODUCT: &str = "Smartflow AI Gateway";
/// `app` of every event.
const APP: &str = "smartflow";

/// The envelope metadata shared by every event of a sink.
#[derive(Debug, Clone)]
pub(super) struct EnvelopeMeta {
    pub(super) host: String,
    pub(super) source: String,
    pub(super) sourcetype: String,
    pub(super) index: Option<String>,
}

#[derive(Serialize)]
struct Envelope<'a> {
    time: f64,
    host: &'a str,
    source: &'a str,
    sourcetype: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    index: Option<&'a str>,
    event: Map<String, Value>,
}

/// Newline-separated HEC envelopes for a batch, in order.
pub(super) fn encode(meta: &EnvelopeMeta, batch: &[Arc<AuditRecord>]) -> Result<Vec<u8>, serde_json::Error> {
    let mut out = Vec::with_capacity(batch.len() * 1024);
    for record in batch {
        for event in events(record, &meta.host) {
            let envelope = Envelope {
                time: record.timestamp_ms as f64 / 1000.0,
                host: &meta.host,
                source: &meta.source,
                sourcetype: &meta.sourcetype,
                index: meta.index.as_deref(),
                event,
            };
            serde_json::to_writer(&mut out, &envelope)?;
            out.push(b'\n');
        }
    }
    Ok(out)
}

/// The `event` objects of one record: its primary event, then one per policy decision.
pub(super) fn events(record: &AuditRecord, host: &str) -> Vec<Map<String, Value>> {
    let mut events = Vec::with_capacity(1 + record.decisions.len());
    events.push(match &record.admin {
        _ if is_auth_failure(record) => authentication(record, host),
        Some(admin) => change(record, admin, host),
        None => request(record, host),
    });
    events.extend(record.decisions.iter().enumerate().map(|(i, d)| policy(record, d, i, host)));
    events
}

/// A request refused because the caller could not be authenticated.
fn is_auth_failure(record: &AuditRecord) -> bool {
    record.status == 401
}

/// Fields every event carries: class, CIM models, identity and correlation ids.
fn common(record: &AuditRecord, class: &str, cim: &[&str]) -> Map<String, Value> {
    let mut m = Map::new();
    put(&mut m, "event_class", class);
    put(&mut m, "cim", cim);
    put(&mut m, "app", APP);
    put(&mut m, "vendor_product", VENDOR_PRODUCT);
    put(&mut m, "request_id", record.request_id.as_str());
    put(&mut m, "trace_id", record.trace_id.as_str());
    put(&mut m, "span_id", record.span_id.as_str());
    put(&mut m, "user", user(record));
    put(&mut m, "user_id", record.principal.key_id.as_str());
    opt(&mut m, "team", record.principal.team.as_deref());
    opt(&mut m, "department", record.principal.department.as_deref());
    put(&mut m, "endpoint", record.endpoint);
    opt(&mut m, "url", endpoint_path(record.endpoint));
    put(&mut m, "status", record.status);
    put(&mut m, "outcome", record.outcome.label());
    opt(&mut m, "model", record.model.as_deref());
    opt(&mut m, "target", record.target.as_deref());
    m
}

/// CIM Web: one request through the gateway.
fn request(record: &AuditRecord, host: &str) -> Map<String, Value> {
    let mut m = common(record, "request", &["Web"]);
    let action = match record.outcome {
        Outcome::Allowed | Outcome::Cancelled => "allowed",
        Outcome::Denied => "blocked",
        Outcome::Failed => "failure",
    };
    put(&mut m, "action", action);
    opt(&mut m, "http_method", http_method(record.endpoint));
    opt(&mut m, "uri_path", endpoint_path(record.endpoint));
    put(&mut m, "category", category(record.endpoint));
    put(&mut m, "dest", dest(record, host));
    put(&mut m, "http_content_type", if record.stream { "text/event-stream" } else { "application/json" });
    put(&mut m, "stream", record.stream);
    put(&mut m, "duration", record.latency_ms);
    opt(&mut m, "response_time", record.ttfb_ms);
    put(&mut m, "cached", record.cache.is_some());
    opt(&mut m, "cache", record.cache.as_deref());
    opt(&mut m, "error", record.error);
    if let Some(usage) = &record.usage {
        put(&mut m, "tokens_in", usage.input);
        put(&mut m, "tokens_out", usage.output);
        put(&mut m, "tokens_cached_in", usage.cached_input);
        put(&mut m, "tokens_reasoning", usage.reasoning);
    }
    opt(&mut m, "cost_usd", record.cost_nano_usd.map(|n| n as f64 / 1e9));
    if !record.decisions.is_empty() {
        put(&mut m, "policies", record.decisions.iter().map(|d| d.policy.as_str()).collect::<Vec<_>>());
    }
    opt(&mut m, "prompt", record.prompt.as_deref());
    opt(&mut m, "completion", record.completion.as_deref());
    m
}

/// CIM Alerts + DLP: one policy decision on a request.
fn policy(record: &AuditRecord, decision: &PolicyDecision, i: usize, host: &str) -> Map<String, Value> {
    let mut m = common(record, "policy", &["Alerts", "DLP"]);
    let (action, verb, severity) = match decision.action {
        Action::Deny => ("blocked", "deny", "high"),
        Action::WouldDeny => ("allowed", "would_deny", "medium"),
        Action::Respond => ("blocked", "respond", "informational"),
        Action::Redact => ("allowed", "redact", "low"),
        Action::WouldHit => ("allowed", "would_hit", "informational"),
        Action::Share => ("allowed", "share", "low"),
    };
    put(&mut m, "action", action);
    put(&mut m, "policy_action", verb);
    put(&mut m, "severity", severity);
    put(&mut m, "signature", decision.rule.as_str());
    put(&mut m, "signature_id", format!("{}/{}", decision.policy, decision.rule));
    put(&mut m, "category", decision.policy.as_str());
    put(&mut m, "policy", decision.policy.as_str());
    put(&mut m, "rule", decision.rule.as_str());
    put(&mut m, "phase", decision.phase);
    put(&mut m, "id", format!("{}-{i}", record.request_id));
    put(&mut m, "type", "alert");
    let description =
        format!("policy {} rule {} decided {verb} in the {} phase", decision.policy, decision.rule, decision.phase);
    put(&mut m, "description", description);
    put(&mut m, "dlp_type", "genai");
    put(&mut m, "object", object(decision.phase));
    opt(&mut m, "object_path", endpoint_path(record.endpoint));
    put(&mut m, "src_user", user(record));
    put(&mut m, "dest", dest(record, host));
    put(&mut m, "dvc", host);
    m
}

/// CIM Change: an admin API request by an authenticated caller — the change it made, or the
/// one it attempted and was refused or failed (reads too, with `action=read`).
fn change(record: &AuditRecord, admin: &AdminChange, host: &str) -> Map<String, Value> {
    let mut m = common(record, "change", &["Change"]);
    put(&mut m, "action", admin.action.label());
    // CIM Change's status vocabulary replaces the HTTP status `common` put there.
    put(&mut m, "status", if record.outcome == Outcome::Allowed { "success" } else { "failure" });
    put(&mut m, "http_status", record.status);
    put(&mut m, "result", record.outcome.label());
    put(&mut m, "change_type", change_type(admin.object_category));
    put(&mut m, "object_category", admin.object_category);
    // CIM requires `object`: the category stands in when the operation names no object.
    put(&mut m, "object", admin.object.as_deref().unwrap_or(admin.object_category));
    put(&mut m, "command", admin.operation.as_str());
    put(&mut m, "object_path", operation_path(&admin.operation));
    put(&mut m, "src_user", user(record));
    put(&mut m, "dest", host);
    put(&mut m, "dvc", host);
    put(&mut m, "duration", record.latency_ms);
    opt(&mut m, "error", record.error);
    m
}

/// CIM Change `change_type`: `AAA` for changes to identities and credentials (keys, users,
/// teams, departments), `application` for the gateway's own state.
fn change_type(object_category: &str) -> &'static str {
    match object_category {
        "virtual_key" | "user" | "team" | "department" => "AAA",
        _ => "application",
    }
}

/// The path template of an operation (`/api/keys/{id}` of `PATCH /api/keys/{id}`).
fn operation_path(operation: &str) -> &str {
    operation.split_once(' ').map_or(operation, |(_, path)| path)
}

/// CIM Authentication: a caller refused with 401.
fn authentication(record: &AuditRecord, host: &str) -> Map<String, Value> {
    let mut m = common(record, "authentication", &["Authentication"]);
    put(&mut m, "action", "failure");
    put(&mut m, "dest", host);
    put(&mut m, "authentication_service", APP);
    put(&mut m, "reason", record.error.unwrap_or("unauthenticated"));
    put(&mut m, "signature", "smartflow authentication failed");
    put(&mut m, "signature_id", "smartflow-auth-401");
    put(&mut m, "duration", record.latency_ms);
    m
}

/// The principal as CIM `user`: the end user, else the key id, else `unknown`.
fn user(record: &AuditRecord) -> &str {
    let p = &record.principal;
    match p.user.as_deref() {
        Some(u) if !u.is_empty() => u,
        _ if p.key_id.is_empty() || p.key_id == "-" => "unknown",
        _ => &p.key_id,
    }
}

/// The upstream provider that served (`openai` of `openai/gpt-4o`), else this gateway.
fn dest<'a>(record: &'a AuditRecord, host: &'a str) -> &'a str {
    record.target.as_deref().and_then(|t| t.split('/').next()).filter(|p| !p.is_empty()).unwrap_or(host)
}

fn endpoint_path(endpoint: &str) -> Option<&'static str> {
    Some(match endpoint {
        "chat" => "/v1/chat/completions",
        "embeddings" => "/v1/embeddings",
        "messages" => "/v1/messages",
        "models" => "/v1/models",
        "tool_call" => "/mcp",
        "admin" => "/api",
        _ => return None,
    })
}

fn http_method(endpoint: &str) -> Option<&'static str> {
    match endpoint {
        "chat" | "embeddings" | "messages" | "tool_call" => Some("POST"),
        "models" => Some("GET"),
        _ => None,
    }
}

fn category(endpoint: &str) -> String {
    match endpoint {
        "tool_call" => "mcp:tools_call".to_owned(),
        "admin" | "unrouted" => endpoint.to_owned(),
        other => format!("genai:{other}"),
    }
}

/// What carried the data a policy looked at (CIM DLP `object`).
fn object(phase: &str) -> &str {
    match phase {
        "request" => "prompt",
        "response" | "chunk" => "completion",
        "tool_call" => "tool_arguments",
        other => other,
    }
}

fn put(m: &mut Map<String, Value>, key: &str, value: impl Into<Value>) {
    m.insert(key.to_owned(), value.into());
}

fn opt<V: Into<Value>>(m: &mut Map<String, Value>, key: &str, value: Option<V>) {
    if let Some(v) = value {
        put(m, key, v);
    }
}
