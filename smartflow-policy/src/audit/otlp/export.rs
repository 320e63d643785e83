//! What both OTLP transports share: the HTTP exporter (one POST of a protobuf payload, its
//! outcome classified the OTLP/HTTP way), the resource, and the GenAI names of a record.

use std::time::Duration;

use bytes::Bytes;
use http::header::CONTENT_TYPE;
use http::{HeaderName, HeaderValue, StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::resource::v1::Resource;
use smartflow_core::AuditRecord;

use super::config::{OtlpConfig, OtlpError};
use crate::audit::delivery::TransportError;

/// The OTLP/HTTP binary protobuf media type.
pub(super) const PROTOBUF: &str = "application/x-protobuf";
/// Largest collector reply read.
const MAX_REPLY_BYTES: usize = 64 << 10;

type HttpClient = crate::http_client::HttpsClient<Full<Bytes>>;

/// POSTs payloads to one OTLP signal endpoint (`/v1/traces` or `/v1/metrics`).
pub(super) struct Exporter {
    pub(super) uri: Uri,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    client: HttpClient,
    /// `service.name`, `service.version`.
    pub(super) resource: Resource,
}

impl Exporter {
    pub(super) fn new(config: &OtlpConfig, path: &str) -> Result<Self, OtlpError> {
        let (uri, headers) = config.validate(path)?;
        let resource = Resource {
            attributes: vec![
                kv("service.name", config.service_name.clone()),
                kv("service.version", env!("CARGO_PKG_VERSION")),
            ],
            ..Resource::default()
        };
        Ok(Self {
            uri,
            headers,
            timeout: config.timeout,
            client: crate::http_client::client(&config.root_certificates, config.timeout, 2)
                .map_err(OtlpError::Config)?,
            resource,
        })
    }

    /// POSTs `payload`. 2xx is sent (a protobuf reply body is returned, for partial-success
    /// checks; any other reply gives an empty body);
    /// 429, 502, 503, 504, network errors and timeouts are retryable; every other status is
    /// permanent, as the OTLP/HTTP spec requires (400: the collector rejects the data itself).
    pub(super) async fn post(&self, payload: &Bytes) -> Result<Bytes, TransportError> {
        let mut request = http::Request::post(self.uri.clone()).header(CONTENT_TYPE, PROTOBUF);
        for (name, value) in &self.headers {
            request = request.header(name, value.clone());
        }
        let request = request
            .body(Full::new(payload.clone()))
            .map_err(|e| TransportError::permanent(format!("could not build the OTLP request: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                TransportError::retryable(format!(
                    "could not reach the OTLP collector: {}",
                    crate::http_client::error_chain(&e)
                ))
            })?;
            let status = response.status();
            let protobuf =
                response.headers().get(CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(PROTOBUF.as_bytes()));
            let body = Limited::new(response.into_body(), MAX_REPLY_BYTES).collect().await.map(|b| b.to_bytes());
            Ok::<_, TransportError>((status, body.ok().filter(|_| protobuf)))
        };
        let (status, body) = tokio::time::timeout(self.timeout, exchange).await.map_err(|_| {
            TransportError::retryable(format!("the OTLP collector did not answer within {:?}", self.timeout))
        })??;
        if status.is_success() {
            return Ok(body.unwrap_or_default());
        }
        let message = format!("the OTLP collector answered {status}");
        let retry = matches!(
            status,
            StatusCode::TOO_MANY_REQUESTS
                | StatusCode::BAD_GATEWAY
                | StatusCode::SERVICE_UNAVAILABLE
                | StatusCode::GATEWAY_TIMEOUT
        );
        Err(if retry { TransportError::retryable(message) } else { TransportError::permanent(message) })
    }
}

/// The instrumentation scope of everything exported.
pub(super) fn scope() -> InstrumentationScope {
    InstrumentationScope {
        name: "smartflow".to_owned(),
        version: env!("CARGO_PKG_VERSION").to_owned(),
        ..InstrumentationScope::default()
    }
}

/// An attribute.
pub(super) fn kv(key: &str, value: impl Into<Value>) -> KeyValue {
    KeyValue { key: key.to_owned(), value: Some(AnyValue { value: Some(value.into().0) }), ..KeyValue::default() }
}

/// An attribute value: string, bool, integer or double.
pub(super) struct Value(any_value::Value);

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Self(any_value::Value::StringValue(v.to_owned()))
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Self(any_value::Value::StringValue(v))
    }
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Self(any_value::Value::BoolValue(v))
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Self(any_value::Value::IntValue(i64::try_from(v).unwrap_or(i64::MAX)))
    }
}

impl From<f64> for Value {
    fn from(v: f64) -> Self {
        Self(any_value::Value::DoubleValue(v))
    }
}

/// `gen_ai.operation.name` of a record's endpoint: `chat` (the OpenAI and Anthropic chat
/// APIs), `embeddings`, `execute_tool` (MCP tool calls); other endpoints keep their label.
pub(super) fn operation(record: &AuditRecord) -> &'static str {
    match record.endpoint {
        "chat" | "messages" => "chat",
        "tool_call" => "execute_tool",
        other => other,
    }
}

/// The configured provider name and the upstream model of `provider/model`.
pub(super) fn target(record: &AuditRecord) -> Option<(&str, &str)> {
    record.target.as_deref().map(|t| t.split_once('/').unwrap_or((t, "")))
}

/// `gen_ai.provider.name` for a configured provider name: the well-known value when the name
/// starts with a vendor's (`openai-eu` → `openai`, `bedrock-us` → `aws.bedrock`), else the
/// name itself (`vllm-local`).
pub(super) fn provider_name(configured: &str) -> String {
    const KNOWN: [(&str, &str); 14] = [
        ("azure", "azure.ai.openai"),
        ("openai", "openai"),
        ("anthropic", "anthropic"),
        ("claude", "anthropic"),
        ("bedrock", "aws.bedrock"),
        ("aws", "aws.bedrock"),
        ("gemini", "gcp.gemini"),
        ("vertex", "gcp.vertex_ai"),
        ("mistral", "mistral_ai"),
        ("groq", "groq"),
        ("deepseek", "deepseek"),
        ("cohere", "cohere"),
        ("perplexity", "perplexity"),
        ("xai", "x_ai"),
    ];
    let lower = configured.to_ascii_lowercase();
    let known = KNOWN.iter().find(|(prefix, _)| lower.starts_with(prefix));
    known.map_or_else(|| configured.to_owned(), |(_, name)| (*name).to_owned())
}

/// `error.type` of a record that did not succeed: its error label, else its HTTP status.
pub(super) fn error_type(record: &AuditRecord) -> String {
    record.error.map_or_else(|| record.status.to_string(), str::to_owned)
}

/// Unix nanoseconds at which a record's request started and ended.
pub(super) fn times(record: &AuditRecord) -> (u64, u64) {
    let start = record.timestamp_ms.saturating_mul(1_000_000);
    let latency = if record.latency_ms.is_finite() && record.latency_ms > 0.0 { record.latency_ms } else { 0.0 };
    // Float-to-int `as` saturates; a latency beyond u64 nanoseconds is not a real one anyway.
    (start, start.saturating_add((latency * 1e6) as u64))
}
