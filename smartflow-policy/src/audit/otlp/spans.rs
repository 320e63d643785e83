//! One OTLP span per audit record, named and attributed by the OpenTelemetry GenAI semantic
//! conventions plus `smartflow.*` governance attributes (an admin API request's span follows
//! the HTTP server conventions instead, with `smartflow.admin.*`). Prompts, completions, keys,
//! groups and free-form principal tags are never exported.

use std::sync::Arc;

use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::span::{Event, SpanKind};
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status};
use smartflow_core::policy::Action;
use smartflow_core::{AdminChange, AuditRecord, Outcome};

use super::export::{error_type, kv, operation, provider_name, scope, target, times};

/// The name of the span event recording one policy decision.
pub const DECISION_EVENT: &str = "smartflow.policy.decision";

/// The export request for a batch: one resource, one scope, one span per record with valid
/// ids (a record whose trace or span id is not hex of the right length is left out: a collector
/// would reject the whole batch for it). `None` when no record gave a span.
pub(super) fn request(resource: &Resource, batch: &[Arc<AuditRecord>]) -> Option<ExportTraceServiceRequest> {
    let spans: Vec<Span> = batch.iter().filter_map(|r| span(r)).collect();
    if spans.is_empty() {
        return None;
    }
    let scope_spans = ScopeSpans { scope: Some(scope()), spans, ..ScopeSpans::default() };
    let resource_spans =
        ResourceSpans { resource: Some(resource.clone()), scope_spans: vec![scope_spans], ..ResourceSpans::default() };
    Some(ExportTraceServiceRequest { resource_spans: vec![resource_spans] })
}

/// The span of one record: the gateway's handling of the request, kind SERVER, from arrival to
/// the end of the answer.
fn span(record: &AuditRecord) -> Option<Span> {
    let trace_id = hex::decode(&record.trace_id).ok().filter(|id| id.len() == 16 && id.iter().any(|&b| b != 0));
    let span_id = hex::decode(&record.span_id).ok().filter(|id| id.len() == 8 && id.iter().any(|&b| b != 0));
    let (Some(trace_id), Some(span_id)) = (trace_id, span_id) else {
        tracing::warn!(request_id = %record.request_id, "audit record with an invalid trace or span id: no span");
        return None;
    };
    let op = operation(record);
    let name = match (&record.admin, &record.model) {
        // `POST /api/keys/{id}/rotate`: the HTTP conventions' `{method} {http.route}`.
        (Some(change), _) => change.operation.clone(),
        (None, Some(model)) => format!("{op} {model}"),
        (None, None) => op.to_owned(),
    };
    let (start, end) = times(record);
    let failed = matches!(record.outcome, Outcome::Failed | Outcome::Denied);
    let status =
        if failed { Status { code: StatusCode::Error.into(), message: error_type(record) } } else { Status::default() };
    let events = record
        .decisions
        .iter()
        .map(|d| Event {
            time_unix_nano: if d.phase == "request" { start } else { end },
            name: DECISION_EVENT.to_owned(),
            attributes: vec![
                kv("smartflow.policy.name", d.policy.as_str()),
                kv("smartflow.policy.rule", d.rule.as_str()),
                kv("smartflow.policy.action", action_label(&d.action)),
                kv("smartflow.policy.phase", d.phase),
            ],
            ..Event::default()
        })
        .collect();
    let parent_span_id = record
        .parent_span_id
        .as_deref()
        .and_then(|p| hex::decode(p).ok())
        .filter(|id| id.len() == 8)
        .unwrap_or_default();
    Some(Span {
        trace_id,
        span_id,
        parent_span_id,
        name,
        kind: SpanKind::Server.into(),
        start_time_unix_nano: start,
        end_time_unix_nano: end,
        attributes: attributes(record, op, failed),
        events,
        status: Some(status),
        ..Span::default()
    })
}

fn attributes(record: &AuditRecord, op: &'static str, failed: bool) -> Vec<KeyValue> {
    let mut a = match &record.admin {
        Some(change) => http_attributes(change),
        None => genai_attributes(record, op),
    };
    if failed {
        a.push(kv("error.type", error_type(record)));
    }
    a.push(kv("http.response.status_code", u64::from(record.status)));
    let p = &record.principal;
    a.push(kv("smartflow.request_id", record.request_id.as_str()));
    a.push(kv("smartflow.key_id", p.key_id.as_str()));
    for (key, value) in [("enduser.id", &p.user), ("smartflow.team", &p.team), ("smartflow.department", &p.department)]
    {
        if let Some(v) = value {
            a.push(kv(key, v.as_str()));
        }
    }
    a.push(kv("smartflow.outcome", record.outcome.label()));
    if let Some(change) = &record.admin {
        // An admin API request: the change it made or attempted; nothing of model traffic.
        a.push(kv("smartflow.admin.operation", change.operation.as_str()));
        a.push(kv("smartflow.admin.action", change.action.label()));
        a.push(kv("smartflow.admin.object_category", change.object_category));
        if let Some(object) = &change.object {
            a.push(kv("smartflow.admin.object", object.as_str()));
        }
        return a;
    }
    if let Some(t) = &record.target {
        a.push(kv("smartflow.target", t.as_str()));
    }
    if let Some(cache) = &record.cache {
        a.push(kv("smartflow.cache", cache.as_str()));
    }
    if let Some(nano) = record.cost_nano_usd {
        // Nano-dollars to dollars; f64 is exact to well beyond any single request's cost.
        a.push(kv("smartflow.cost_usd", nano as f64 / 1e9));
    }
    a.push(kv("smartflow.stream", record.stream));
    a
}

/// The HTTP server attributes of an admin API request: `http.request.method` and `http.route`
/// of its operation (`PATCH /api/keys/{id}`).
fn http_attributes(change: &AdminChange) -> Vec<KeyValue> {
    match change.operation.split_once(' ') {
        Some((method, route)) => vec![kv("http.request.method", method), kv("http.route", route)],
        None => Vec::new(),
    }
}

/// The GenAI attributes of a model request: operation, provider, models, usage, first chunk.
fn genai_attributes(record: &AuditRecord, op: &'static str) -> Vec<KeyValue> {
    let mut a = vec![kv("gen_ai.operation.name", op)];
    if let Some((provider, model)) = target(record) {
        a.push(kv("gen_ai.provider.name", provider_name(provider)));
        if !model.is_empty() {
            a.push(kv("gen_ai.response.model", model));
        }
    }
    if let Some(model) = &record.model {
        a.push(kv("gen_ai.request.model", model.as_str()));
    }
    a.push(kv("gen_ai.request.stream", record.stream));
    if let Some(u) = &record.usage {
        a.push(kv("gen_ai.usage.input_tokens", u.input));
        a.push(kv("gen_ai.usage.output_tokens", u.output));
        for (key, n) in [
            ("gen_ai.usage.cache_read.input_tokens", u.cached_input),
            ("gen_ai.usage.cache_creation.input_tokens", u.cache_write_input),
            ("gen_ai.usage.reasoning.output_tokens", u.reasoning),
        ] {
            if n > 0 {
                a.push(kv(key, n));
            }
        }
    }
    if let Some(ttfb) = record.ttfb_ms.filter(|_| record.stream) {
        a.push(kv("gen_ai.response.time_to_first_chunk", ttfb / 1000.0));
    }
    a
}

/// The audit label of a policy action (as in the JSON records).
fn action_label(action: &Action) -> &'static str {
    match action {
        Action::Deny => "deny",
        Action::WouldDeny => "would_deny",
        Action::Respond => "respond",
        Action::Redact => "redact",
        Action::WouldHit => "would_hit",
        Action::Share => "share",
    }
}
