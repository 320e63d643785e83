//! Tests of the OTLP sinks against an in-process OTLP/HTTP receiver that decodes what it gets
//! with the `opentelemetry-proto` messages: span ids, names, kinds, timing, GenAI and
//! governance attributes, decision events, error status, auth headers, send outcomes, no
//! prompt text, and the GenAI metrics.

mod receiver;

use std::sync::Arc;
use std::time::Duration;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value};
use opentelemetry_proto::tonic::metrics::v1::{AggregationTemporality, HistogramDataPoint, metric};
use opentelemetry_proto::tonic::trace::v1::span::SpanKind;
use opentelemetry_proto::tonic::trace::v1::status::StatusCode;
use opentelemetry_proto::tonic::trace::v1::{Span, Status};
use prost::Message as _;
use secrecy::SecretString;
use smartflow_core::policy::{Action, PolicyDecision};
use smartflow_core::{AuditRecord, Outcome, Principal, TokenUsage};

use super::*;
use crate::audit::delivery::{Delivery, DeliveryConfig};
use receiver::{Receiver, Reply};

const TRACE: &str = "0af7651916cd43dd8448eb211c80319c";
const T0_MS: u64 = 1_732_212_345_123;

// ---------------------------------------------------------------------------------------------
// Records and helpers.

fn record(id: &str, span: &str) -> AuditRecord {
    let mut principal = Principal::new("vk-7f3a");
    principal.user = Some("alice@example.com".to_owned());
    principal.team = Some("search".to_owned());
    principal.department = Some("research".to_owned());
    principal.groups = vec!["secret-group".to_owned()];
    AuditRecord {
        timestamp_ms: T0_MS,
        request_id: id.to_owned(),
        trace_id: TRACE.to_owned(),
        span_id: span.to_owned(),
        parent_span_id: None,
        endpoint: "chat",
        principal: Arc::new(principal),
        model: Some("gpt-4o".to_owned()),
        target: Some("openai-eu/gpt-4o-2024-08-06".to_owned()),
        stream: false,
        outcome: Outcome::Allowed,
        status: 200,
        error: None,
        decisions: Vec::new(),
        cache: None,
        usage: Some(TokenUsage { input: 120, output: 30, cached_input: 100, ..TokenUsage::default() }),
        cost_nano_usd: Some(1_250_000),
        latency_ms: 812.5,
        ttfb_ms: None,
        prompt: None,
        completion: None,
        admin: None,
    }
}

fn streamed(id: &str, span: &str) -> AuditRecord {
    let mut r = record(id, span);
    r.stream = true;
    r.ttfb_ms = Some(95.0);
    r.target = Some("anthropic/claude-sonnet-4".to_owned());
    r.model = Some("assistant".to_owned());
    r.endpoint = "messages";
    r
}

fn embeddings(id: &str, span: &str) -> AuditRecord {
    let mut r = record(id, span);
    r.endpoint = "embeddings";
    r.model = Some("e5".to_owned());
    r.target = Some("bedrock-us/amazon.titan-embed-text-v2:0".to_owned());
    r.usage = Some(TokenUsage { input: 8, ..TokenUsage::default() });
    r.cost_nano_usd = None;
    r.latency_ms = 40.0;
    r
}

fn denied(id: &str, span: &str) -> AuditRecord {
    let mut r = record(id, span);
    r.outcome = Outcome::Denied;
    r.status = 403;
    r.error = Some("policy_denied");
    r.target = None;
    r.usage = None;
    r.cost_nano_usd = None;
    r.decisions.push(PolicyDecision {
        policy: "pii".to_owned(),
        rule: "us_ssn".to_owned(),
        action: Action::Deny,
        phase: "request",
    });
    r
}

fn failed(id: &str, span: &str) -> AuditRecord {
    let mut r = record(id, span);
    r.outcome = Outcome::Failed;
    r.status = 504;
    r.error = Some("upstream_timeout");
    r.target = None;
    r.usage = None;
    r.cost_nano_usd = None;
    r.latency_ms = 30_000.0;
    r
}

/// An admin who created virtual key `k_abc` (`POST /api/keys`).
fn admin_created(id: &str, span: &str) -> AuditRecord {
    crate::audit::admin_fixtures::admin_created(record(id, span), "vk-admin", Some("root@example.com"))
}

/// A caller without admin rights refused when changing key `k_abc` (`PATCH /api/keys/{id}`).
fn admin_denied(id: &str, span: &str) -> AuditRecord {
    crate::audit::admin_fixtures::admin_denied(admin_created(id, span), record(id, span).principal)
}

fn batch(records: Vec<AuditRecord>) -> Vec<Arc<AuditRecord>> {
    records.into_iter().map(Arc::new).collect()
}

fn config(url: &str) -> OtlpConfig {
    let mut c = OtlpConfig::new(url);
    c.headers = vec![("authorization".to_owned(), SecretString::from("Bearer otlp-token-123"))];
    c.timeout = Duration::from_millis(500);
    c
}

fn traces(url: &str) -> OtlpTraces {
    OtlpTraces::new(&config(url)).unwrap()
}

/// Encodes and sends one batch through `t`.
async fn ship<T: Transport>(t: &T, records: Vec<AuditRecord>) -> Result<(), TransportError> {
    let payload = t.encode(&batch(records))?;
    t.send(&payload).await
}

/// The attributes of a span (or event) as `key → value`.
fn attrs(list: &[KeyValue]) -> std::collections::BTreeMap<String, Value> {
    list.iter().map(|kv| (kv.key.clone(), kv.value.clone().unwrap().value.unwrap())).collect()
}

fn s(v: &str) -> Value {
    Value::StringValue(v.to_owned())
}

fn span_named<'a>(spans: &'a [Span], span_id: &str) -> &'a Span {
    spans.iter().find(|s| s.span_id == hex::decode(span_id).unwrap()).unwrap()
}

// ---------------------------------------------------------------------------------------------
// Spans.

#[tokio::test]
async fn spans_carry_the_records_ids_names_kind_timing_and_genai_attributes() {
    let rx = Receiver::start(vec![]).await;
    let t = traces(&rx.url);
    let records = vec![
        record("r1", "b7ad6b7169203331"),
        streamed("r2", "b7ad6b7169203332"),
        embeddings("r3", "b7ad6b7169203333"),
    ];
    ship(&t, records).await.unwrap();
    let exports = rx.exports();
    assert_eq!(exports.len(), 1, "one export per batch");
    let request = exports[0].traces.clone().unwrap();
    assert_eq!(request.resource_spans.len(), 1);
    let resource = attrs(&request.resource_spans[0].resource.clone().unwrap().attributes);
    assert_eq!(resource["service.name"], s("smartflowd"));
    assert_eq!(resource["service.version"], s(env!("CARGO_PKG_VERSION")));
    assert_eq!(request.resource_spans[0].scope_spans[0].scope.clone().unwrap().name, "smartflow");

    let spans = rx.spans();
    assert_eq!(spans.len(), 3);
    let chat = span_named(&spans, "b7ad6b7169203331");
    assert_eq!(chat.trace_id, hex::decode(TRACE).unwrap());
    assert!(chat.parent_span_id.is_empty());
    assert_eq!(chat.name, "chat gpt-4o");
    assert_eq!(chat.kind, SpanKind::Server as i32);
    assert_eq!(chat.start_time_unix_nano, T0_MS * 1_000_000);
    assert_eq!(chat.end_time_unix_nano, T0_MS * 1_000_000 + 812_500_000);
    assert_eq!(chat.status, Some(Status::default()), "unset on success");
    assert!(chat.events.is_empty());
    let a = attrs(&chat.attributes);
    assert_eq!(a["gen_ai.operation.name"], s("chat"));
    assert_eq!(a["gen_ai.provider.name"], s("openai"));
    assert_eq!(a["gen_ai.request.model"], s("gpt-4o"));
    assert_eq!(a["gen_ai.response.model"], s("gpt-4o-2024-08-06"));
    assert_eq!(a["gen_ai.request.stream"], Value::BoolValue(false));
    assert_eq!(a["gen_ai.usage.input_tokens"], Value::IntValue(120));
    assert_eq!(a["gen_ai.usage.output_tokens"], Value::IntValue(30));
    assert_eq!(a["gen_ai.usage.cache_read.input_tokens"], Value::IntValue(100));
    assert!(!a.contains_key("gen_ai.usage.cache_creation.input_tokens"), "zero counts are left out");
    assert!(!a.contains_key("error.type"));
    assert_eq!(a["http.response.status_code"], Value::IntValue(200));
    assert_eq!(a["smartflow.request_id"], s("r1"));
    assert_eq!(a["smartflow.key_id"], s("vk-7f3a"));
    assert_eq!(a["enduser.id"], s("alice@example.com"));
    assert_eq!(a["smartflow.team"], s("search"));
    assert_eq!(a["smartflow.department"], s("research"));
    assert_eq!(a["smartflow.outcome"], s("allowed"));
    assert_eq!(a["smartflow.target"], s("openai-eu/gpt-4o-2024-08-06"));
    assert_eq!(a["smartflow.cost_usd"], Value::DoubleValue(0.00125));
    assert_eq!(a["smartflow.stream"], Value::BoolValue(false));
    assert!(!a.contains_key("smartflow.cache"));

    let stream = span_named(&spans, "b7ad6b7169203332");
    assert_eq!(stream.name, "chat assistant", "the Messages API is a chat operation");
    let a = attrs(&stream.attributes);
    assert_eq!(a["gen_ai.provider.name"], s("anthropic"));
    assert_eq!(a["gen_ai.response.model"], s("claude-sonnet-4"));
    assert_eq!(a["gen_ai.request.stream"], Value::BoolValue(true));
    assert_eq!(a["gen_ai.response.time_to_first_chunk"], Value::DoubleValue(0.095));

    let embed = span_named(&spans, "b7ad6b7169203333");
    assert_eq!(embed.name, "embeddings e5");
    assert_eq!(embed.end_time_unix_nano - embed.start_time_unix_nano, 40_000_000);
    let a = attrs(&embed.attributes);
    assert_eq!(a["gen_ai.operation.name"], s("embeddings"));
    assert_eq!(a["gen_ai.provider.name"], s("aws.bedrock"));
    assert_eq!(a["gen_ai.response.model"], s("amazon.titan-embed-text-v2:0"));
    assert_eq!(a["gen_ai.usage.input_tokens"], Value::IntValue(8));
    assert!(!a.contains_key("smartflow.cost_usd"));
}

#[tokio::test]
async fn failures_and_denials_get_error_status_and_decisions_become_events() {
    let rx = Receiver::start(vec![]).await;
    let mut cached = record("r3", "c000000000000003");
    cached.cache = Some("semantic".to_owned());
    cached.target = None;
    cached.decisions.push(PolicyDecision {
        policy: "dlp".to_owned(),
        rule: "card".to_owned(),
        action: Action::WouldDeny,
        phase: "response",
    });
    let records = vec![denied("r1", "c000000000000001"), failed("r2", "c000000000000002"), cached];
    ship(&traces(&rx.url), records).await.unwrap();
    let spans = rx.spans();

    let deny = span_named(&spans, "c000000000000001");
    assert_eq!(deny.status, Some(Status { message: "policy_denied".to_owned(), code: StatusCode::Error as i32 }));
    let a = attrs(&deny.attributes);
    assert_eq!(a["error.type"], s("policy_denied"));
    assert_eq!(a["smartflow.outcome"], s("denied"));
    assert_eq!(a["http.response.status_code"], Value::IntValue(403));
    assert!(!a.contains_key("gen_ai.provider.name") && !a.contains_key("gen_ai.usage.input_tokens"));
    assert_eq!(deny.events.len(), 1);
    let event = &deny.events[0];
    assert_eq!(event.name, DECISION_EVENT);
    assert_eq!(event.time_unix_nano, deny.start_time_unix_nano, "a request-phase decision is at the start");
    let e = attrs(&event.attributes);
    assert_eq!(e["smartflow.policy.name"], s("pii"));
    assert_eq!(e["smartflow.policy.rule"], s("us_ssn"));
    assert_eq!(e["smartflow.policy.action"], s("deny"));
    assert_eq!(e["smartflow.policy.phase"], s("request"));

    let fail = span_named(&spans, "c000000000000002");
    assert_eq!(fail.status.clone().unwrap().code, StatusCode::Error as i32);
    assert_eq!(fail.status.clone().unwrap().message, "upstream_timeout");
    assert_eq!(attrs(&fail.attributes)["error.type"], s("upstream_timeout"));
    assert_eq!(fail.end_time_unix_nano - fail.start_time_unix_nano, 30_000_000_000);

    let hit = span_named(&spans, "c000000000000003");
    assert_eq!(hit.status, Some(Status::default()), "an audit-only decision is not an error");
    assert_eq!(attrs(&hit.attributes)["smartflow.cache"], s("semantic"));
    assert_eq!(hit.events[0].time_unix_nano, hit.end_time_unix_nano, "a response-phase decision is at the end");
    assert_eq!(attrs(&hit.events[0].attributes)["smartflow.policy.action"], s("would_deny"));
}

#[tokio::test]
async fn admin_spans_are_named_by_operation_and_carry_the_change() {
    let rx = Receiver::start(vec![]).await;
    let records = vec![admin_created("r1", "a200000000000001"), admin_denied("r2", "a200000000000002")];
    ship(&traces(&rx.url), records).await.unwrap();
    let spans = rx.spans();
    assert_eq!(spans.len(), 2);

    let created = span_named(&spans, "a200000000000001");
    assert_eq!(created.name, "POST /api/keys");
    assert_eq!(created.kind, SpanKind::Server as i32);
    assert_eq!(created.status, Some(Status::default()));
    assert_eq!(created.end_time_unix_nano - created.start_time_unix_nano, 3_000_000);
    let a = attrs(&created.attributes);
    assert_eq!(a["smartflow.admin.operation"], s("POST /api/keys"));
    assert_eq!(a["smartflow.admin.action"], s("created"));
    assert_eq!(a["smartflow.admin.object_category"], s("virtual_key"));
    assert_eq!(a["smartflow.admin.object"], s("k_abc"));
    assert_eq!(a["http.request.method"], s("POST"));
    assert_eq!(a["http.route"], s("/api/keys"));
    assert_eq!(a["http.response.status_code"], Value::IntValue(200));
    assert_eq!(a["smartflow.key_id"], s("vk-admin"));
    assert_eq!(a["enduser.id"], s("root@example.com"));
    assert_eq!(a["smartflow.outcome"], s("allowed"));
    for key in a.keys() {
        assert!(!key.starts_with("gen_ai."), "an admin request is no GenAI operation: {key}");
    }
    assert!(!a.contains_key("error.type") && !a.contains_key("smartflow.stream"));

    let denied = span_named(&spans, "a200000000000002");
    assert_eq!(denied.name, "PATCH /api/keys/{id}");
    assert_eq!(denied.status.clone().unwrap().code, StatusCode::Error as i32);
    assert_eq!(denied.status.clone().unwrap().message, "permission_denied");
    let a = attrs(&denied.attributes);
    assert_eq!(a["smartflow.admin.operation"], s("PATCH /api/keys/{id}"));
    assert_eq!(a["smartflow.admin.action"], s("modified"));
    assert_eq!(a["smartflow.admin.object_category"], s("virtual_key"));
    assert_eq!(a["smartflow.admin.object"], s("k_abc"));
    assert_eq!(a["http.route"], s("/api/keys/{id}"));
    assert_eq!(a["http.response.status_code"], Value::IntValue(403));
    assert_eq!(a["error.type"], s("permission_denied"));
    assert_eq!(a["smartflow.outcome"], s("denied"));
    assert_eq!(a["smartflow.key_id"], s("vk-7f3a"));
    assert!(a.keys().all(|k| !k.starts_with("gen_ai.")));
}

#[tokio::test]
async fn spans_never_carry_prompts_completions_keys_or_groups() {
    let mut r = record("r1", "d000000000000001");
    r.prompt = Some("PROMPT-TEXT my SSN is 078-05-1120".to_owned());
    r.completion = Some("COMPLETION-TEXT sure".to_owned());
    let payload = traces("http://127.0.0.1:4318").encode(&batch(vec![r])).unwrap();
    for secret in ["PROMPT-TEXT", "078-05-1120", "COMPLETION-TEXT", "secret-group", "otlp-token-123"] {
        assert!(!payload.windows(secret.len()).any(|w| w == secret.as_bytes()), "{secret} leaked into the payload");
    }
    let request = ExportTraceServiceRequest::decode(payload).unwrap();
    let span = &request.resource_spans[0].scope_spans[0].spans[0];
    for key in attrs(&span.attributes).keys() {
        assert!(!key.contains("message") && !key.contains("prompt") && !key.contains("completion"), "{key}");
    }
}

#[tokio::test]
async fn auth_headers_are_sent_and_never_shown() {
    let rx = Receiver::start(vec![]).await;
    let mut c = config(&format!("{}/otlp/", rx.url));
    c.headers.push(("x-scope-orgid".to_owned(), SecretString::from("tenant-1")));
    c.service_name = "gw-eu".to_owned();
    let t = OtlpTraces::new(&c).unwrap();
    ship(&t, vec![record("r1", "e000000000000001")]).await.unwrap();
    let export = &rx.exports()[0];
    assert_eq!(export.headers["authorization"], "Bearer otlp-token-123");
    assert_eq!(export.headers["x-scope-orgid"], "tenant-1");
    assert_eq!(export.headers["content-type"], "application/x-protobuf");
    let resource = export.traces.clone().unwrap().resource_spans[0].resource.clone().unwrap();
    assert_eq!(attrs(&resource.attributes)["service.name"], s("gw-eu"));
    for shown in [format!("{c:?}"), format!("{t:?}")] {
        assert!(!shown.contains("otlp-token-123") && !shown.contains("tenant-1"), "{shown}");
    }
    assert!(format!("{c:?}").contains("[redacted]"));
}

#[tokio::test]
async fn retryable_and_permanent_send_outcomes_follow_the_otlp_spec() {
    let rx = Receiver::start(vec![
        Reply::Status(503),
        Reply::Status(429),
        Reply::Status(502),
        Reply::Status(504),
        Reply::Status(400),
        Reply::Status(401),
        Reply::Status(500),
        Reply::Partial(1),
        Reply::Hang,
    ])
    .await;
    let t = traces(&rx.url);
    let r = || vec![record("r1", "f000000000000001")];
    for status in [503, 429, 502, 504] {
        let e = ship(&t, r()).await.unwrap_err();
        assert!(e.retryable, "{status}: {e}");
        assert!(e.message.contains(&status.to_string()), "{e}");
    }
    for status in [400, 401, 500] {
        let e = ship(&t, r()).await.unwrap_err();
        assert!(!e.retryable, "{status} must not be retried: {e}");
    }
    ship(&t, r()).await.expect("a partial success is a success (the rejected spans are logged)");
    let e = ship(&t, r()).await.unwrap_err();
    assert!(e.retryable && e.message.contains("did not answer"), "{e}");
    assert_eq!(rx.hits(), 9);

    // Nothing listens: retryable.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let e = ship(&traces(&format!("http://127.0.0.1:{port}")), r()).await.unwrap_err();
    assert!(e.retryable && e.message.contains("could not reach"), "{e}");
}

#[tokio::test]
async fn records_without_valid_ids_are_skipped_and_empty_batches_send_nothing() {
    let rx = Receiver::start(vec![]).await;
    let t = traces(&rx.url);
    let mut bad = record("r1", "not-hex");
    bad.trace_id = "00000000000000000000000000000000".to_owned();
    let payload = t.encode(&batch(vec![bad.clone()])).unwrap();
    assert!(payload.is_empty());
    t.send(&payload).await.unwrap();
    assert_eq!(rx.hits(), 0, "an empty payload is not sent");
    ship(&t, vec![bad, record("r2", "a000000000000002")]).await.unwrap();
    assert_eq!(rx.spans().len(), 1);
}

#[tokio::test]
async fn delivery_ships_spans_and_retries_after_a_503() {
    let rx = Receiver::start(vec![Reply::Status(503)]).await;
    let config = DeliveryConfig {
        linger: Duration::from_millis(10),
        retry_min: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        ..DeliveryConfig::default()
    };
    let delivery = Delivery::start(Arc::new(traces(&rx.url)), config).unwrap();
    use smartflow_core::Audit as _;
    delivery.record(&record("r1", "a100000000000001")).await.unwrap();
    delivery.record(&denied("r2", "a100000000000002")).await.unwrap();
    let spans = rx.wait_spans(2).await;
    assert_eq!(spans.len(), 2, "both records arrived after the retry");
    assert!(rx.hits() >= 2);
}

#[test]
fn configuration_is_validated() {
    let ok = |url: &str| OtlpTraces::new(&OtlpConfig::new(url)).is_ok();
    assert!(ok("https://otel.example.com:4318"));
    assert!(ok("https://otlp.example.com/otlp/"));
    assert!(ok("http://127.0.0.1:4318") && ok("http://localhost:4318") && ok("http://[::1]:4318"));
    assert!(!ok("http://otel.example.com:4318"), "plain http only on loopback");
    assert!(!ok("otel:4318") && !ok("") && !ok("https://otel.example.com?x=1"));
    let mut c = OtlpConfig::new("https://otel.example.com");
    c.headers = vec![("bad header".to_owned(), SecretString::from("x"))];
    assert!(OtlpTraces::new(&c).is_err());
    c.headers = vec![("authorization".to_owned(), SecretString::from("line\nbreak"))];
    let e = OtlpTraces::new(&c).unwrap_err();
    assert!(!e.to_string().contains("line"), "{e}");
    let mut c = OtlpConfig::new("https://otel.example.com");
    c.service_name = " ".to_owned();
    assert!(OtlpMetrics::new(&c).is_err());
    c = OtlpConfig::new("https://otel.example.com");
    c.timeout = Duration::ZERO;
    assert!(OtlpTraces::new(&c).is_err());
    let t = OtlpTraces::new(&OtlpConfig::new("https://o.example.com/x/")).unwrap();
    assert!(format!("{t:?}").contains("https://o.example.com/x/v1/traces"), "{t:?}");
    let m = OtlpMetrics::new(&OtlpConfig::new("https://o.example.com")).unwrap();
    assert!(format!("{m:?}").contains("https://o.example.com/v1/metrics"), "{m:?}");
}

#[test]
fn provider_names_map_to_the_well_known_values() {
    for (configured, expected) in [
        ("openai", "openai"),
        ("openai-eu", "openai"),
        ("azure-east", "azure.ai.openai"),
        ("Anthropic", "anthropic"),
        ("bedrock-us", "aws.bedrock"),
        ("gemini", "gcp.gemini"),
        ("vertex-ai", "gcp.vertex_ai"),
        ("mistral", "mistral_ai"),
        ("vllm-local", "vllm-local"),
        ("mock", "mock"),
    ] {
        assert_eq!(export::provider_name(configured), expected, "{configured}");
    }
}

// ---------------------------------------------------------------------------------------------
// Metrics.

fn points(request: &ExportMetricsServiceRequest, name: &str) -> Vec<HistogramDataPoint> {
    let metric = request.resource_metrics[0].scope_metrics[0].metrics.iter().find(|m| m.name == name).unwrap();
    match metric.data.clone().unwrap() {
        metric::Data::Histogram(h) => {
            assert_eq!(h.aggregation_temporality, AggregationTemporality::Delta as i32);
            h.data_points
        }
        other => panic!("{name} is not a histogram: {other:?}"),
    }
}

#[tokio::test]
async fn metrics_carry_genai_token_usage_and_duration_histograms() {
    let rx = Receiver::start(vec![]).await;
    let m = OtlpMetrics::new(&config(&rx.url)).unwrap();
    let mut second = record("r2", "a000000000000002");
    second.usage = Some(TokenUsage { input: 5000, output: 2, ..TokenUsage::default() });
    second.latency_ms = 100.0;
    second.timestamp_ms = T0_MS + 1000;
    let records = vec![
        record("r1", "a000000000000001"),
        second,
        streamed("r3", "a000000000000003"),
        failed("r4", "a000000000000004"),
        denied("r5", "a000000000000005"),
    ];
    ship(&m, records).await.unwrap();
    let request = rx.exports()[0].metrics.clone().unwrap();
    let resource = attrs(&request.resource_metrics[0].resource.clone().unwrap().attributes);
    assert_eq!(resource["service.name"], s("smartflowd"));

    let tokens = points(&request, "gen_ai.client.token.usage");
    let input: Vec<_> = tokens
        .iter()
        .filter(|p| {
            let a = attrs(&p.attributes);
            a["gen_ai.token.type"] == s("input") && a["gen_ai.provider.name"] == s("openai")
        })
        .collect();
    assert_eq!(input.len(), 1, "both openai requests share one point");
    let p = input[0];
    assert_eq!((p.count, p.sum, p.min, p.max), (2, Some(5120.0), Some(120.0), Some(5000.0)));
    assert_eq!(p.explicit_bounds.len(), 14);
    assert_eq!(p.bucket_counts.len(), 15);
    assert_eq!(p.bucket_counts[4], 1, "120 is in (64, 256]");
    assert_eq!(p.bucket_counts[7], 1, "5000 is in (4096, 16384]");
    assert_eq!(p.start_time_unix_nano, T0_MS * 1_000_000);
    assert_eq!(p.time_unix_nano, (T0_MS + 1000) * 1_000_000 + 100_000_000);
    let a = attrs(&p.attributes);
    assert_eq!(a["gen_ai.operation.name"], s("chat"));
    assert_eq!(a["gen_ai.request.model"], s("gpt-4o"));
    assert_eq!(a["gen_ai.response.model"], s("gpt-4o-2024-08-06"));
    assert!(!a.contains_key("enduser.id") && !a.contains_key("smartflow.department"), "low cardinality only");
    assert_eq!(tokens.len(), 4, "input and output for openai and anthropic");

    let durations = points(&request, "gen_ai.client.operation.duration");
    assert_eq!(durations.iter().map(|p| p.count).sum::<u64>(), 4, "the denial made no client operation");
    let failure = durations.iter().find(|p| attrs(&p.attributes).contains_key("error.type")).unwrap();
    assert_eq!(attrs(&failure.attributes)["error.type"], s("upstream_timeout"));
    assert_eq!(failure.sum, Some(30.0));
    assert_eq!(*failure.bucket_counts.last().unwrap(), 0, "30 s is in (20.48, 40.96]");
    assert_eq!(failure.bucket_counts[12], 1);

    let first = points(&request, "gen_ai.client.operation.time_to_first_chunk");
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].sum, Some(0.095));
}

#[tokio::test]
async fn metrics_of_a_batch_with_no_client_operation_send_nothing() {
    let rx = Receiver::start(vec![]).await;
    let m = OtlpMetrics::new(&config(&rx.url)).unwrap();
    ship(&m, vec![denied("r1", "a000000000000001")]).await.unwrap();
    assert_eq!(rx.hits(), 0);
}

#[tokio::test]
async fn admin_requests_are_no_genai_client_operations() {
    let rx = Receiver::start(vec![]).await;
    let m = OtlpMetrics::new(&config(&rx.url)).unwrap();
    let mut failed = admin_created("r3", "a000000000000003");
    failed.outcome = Outcome::Failed;
    failed.status = 500;
    failed.error = Some("internal");
    let mut unknown = failed.clone();
    unknown.admin = None;
    unknown.status = 404;
    unknown.error = Some("not_found");
    let admin = vec![admin_created("r1", "a000000000000001"), admin_denied("r2", "a000000000000002"), failed, unknown];
    ship(&m, admin.clone()).await.unwrap();
    assert_eq!(rx.hits(), 0, "failed admin requests (an unknown route's 404 too) reached no provider");

    let mut mixed = admin;
    mixed.push(record("r5", "a000000000000005"));
    ship(&m, mixed).await.unwrap();
    let request = rx.exports()[0].metrics.clone().unwrap();
    let durations = points(&request, "gen_ai.client.operation.duration");
    assert_eq!(durations.iter().map(|p| p.count).sum::<u64>(), 1, "only the chat request");
    assert_eq!(attrs(&durations[0].attributes)["gen_ai.operation.name"], s("chat"));
}
