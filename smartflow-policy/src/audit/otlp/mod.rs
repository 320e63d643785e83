//! OTLP/HTTP export of audit records: [`OtlpTraces`] turns each record into one span, and
//! [`OtlpMetrics`] into GenAI client metrics, both POSTed as binary protobuf
//! (`application/x-protobuf`, messages from `opentelemetry-proto`) to a collector's
//! `/v1/traces` and `/v1/metrics`. Both are [`Transport`]s, so the delivery machinery
//! ([`super::delivery`]) batches, retries and spools them.
//!
//! # The span of a record
//!
//! - trace and span id: the record's (the request's W3C trace, continued from the caller's
//!   `traceparent`; the same span id is the parent in the `traceparent` sent upstream, so a
//!   provider's own spans hang under it).
//! - kind `SERVER`: the span covers the gateway's handling of the inbound request (arrival to
//!   the end of the answer, including policies, cache answers and denials), which the GenAI
//!   conventions model as the server side; the upstream call is inside it.
//! - name `{gen_ai.operation.name} {gen_ai.request.model}` (`chat gpt-4o`, `embeddings e5`).
//! - status `ERROR` (message: the error label, else the HTTP status) when the request failed or
//!   was denied; unset otherwise (cancelled requests included).
//! - attributes: `gen_ai.operation.name`, `gen_ai.provider.name`, `gen_ai.request.model`,
//!   `gen_ai.response.model`, `gen_ai.request.stream`, `gen_ai.usage.input_tokens`,
//!   `gen_ai.usage.output_tokens` (and the cache-read, cache-creation and reasoning counts when
//!   non-zero), `gen_ai.response.time_to_first_chunk` (streams), `error.type`,
//!   `http.response.status_code`, `enduser.id`, and `smartflow.{request_id, key_id, team,
//!   department, outcome, target, cache, cost_usd, stream}`.
//! - one event [`DECISION_EVENT`] per policy decision, with `smartflow.policy.{name, rule,
//!   action, phase}`.
//!
//! An admin API request's span is no GenAI operation: it is named by its operation
//! (`POST /api/keys/{id}/rotate`, the HTTP conventions' `{method} {http.route}`) and carries
//! `http.request.method`, `http.route`, `http.response.status_code`, `error.type`,
//! `enduser.id`, `smartflow.{request_id, key_id, team, department, outcome}` and
//! `smartflow.admin.{operation, action, object_category, object}`, no `gen_ai.*`; nor does it
//! count in the GenAI metrics.
//!
//! Prompts and completions are never exported, even when the record carries them; nor are
//! keys, groups or principal tags.
//!
//! # Send outcomes (OTLP/HTTP spec)
//!
//! 2xx is sent (a partial success is logged, not retried); 429, 502, 503, 504, network errors
//! and timeouts are retryable; every other status (400 above all) is permanent.

mod config;
mod export;
mod metrics;
mod spans;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceResponse;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceResponse;
use prost::Message as _;
use smartflow_core::AuditRecord;

pub use config::{OtlpConfig, OtlpError};
pub use spans::DECISION_EVENT;

use super::delivery::{Transport, TransportError};
use export::Exporter;

/// A trace sink: one span per audit record, POSTed to `{endpoint}/v1/traces`.
pub struct OtlpTraces(Exporter);

impl OtlpTraces {
    /// A sink for `config`; fails on an invalid configuration (including `http://` to a host
    /// that is not loopback). Makes no connection yet.
    pub fn new(config: &OtlpConfig) -> Result<Self, OtlpError> {
        Exporter::new(config, "/v1/traces").map(Self)
    }
}

/// A metrics sink: the GenAI client histograms of each batch, POSTed to
/// `{endpoint}/v1/metrics` with DELTA temporality (a Prometheus backend behind the collector
/// needs its `deltatocumulative` processor).
pub struct OtlpMetrics(Exporter);

impl OtlpMetrics {
    /// A sink for `config`; fails on an invalid configuration. Makes no connection yet.
    pub fn new(config: &OtlpConfig) -> Result<Self, OtlpError> {
        Exporter::new(config, "/v1/metrics").map(Self)
    }
}

impl fmt::Debug for OtlpTraces {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpTraces").field("uri", &self.0.uri).finish_non_exhaustive()
    }
}

impl fmt::Debug for OtlpMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OtlpMetrics").field("uri", &self.0.uri).finish_non_exhaustive()
    }
}

/// Logs a collector's partial success (rejected items are not retried, per the spec).
fn log_partial(signal: &str, rejected: i64, message: &str) {
    if rejected > 0 || !message.is_empty() {
        let message: String = message.chars().take(200).collect();
        tracing::warn!(signal, rejected, %message, "the OTLP collector accepted the export partially");
    }
}

#[async_trait]
impl Transport for OtlpTraces {
    fn name(&self) -> &str {
        "otlp-traces"
    }

    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
        Ok(spans::request(&self.0.resource, batch).map(|r| Bytes::from(r.encode_to_vec())).unwrap_or_default())
    }

    async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
        if payload.is_empty() {
            return Ok(());
        }
        let reply = self.0.post(payload).await?;
        if let Some(p) = ExportTraceServiceResponse::decode(reply).ok().and_then(|r| r.partial_success) {
            log_partial("traces", p.rejected_spans, &p.error_message);
        }
        Ok(())
    }
}

#[async_trait]
impl Transport for OtlpMetrics {
    fn name(&self) -> &str {
        "otlp-metrics"
    }

    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
        Ok(metrics::request(&self.0.resource, batch).map(|r| Bytes::from(r.encode_to_vec())).unwrap_or_default())
    }

    async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
        if payload.is_empty() {
            return Ok(());
        }
        let reply = self.0.post(payload).await?;
        if let Some(p) = ExportMetricsServiceResponse::decode(reply).ok().and_then(|r| r.partial_success) {
            log_partial("metrics", p.rejected_data_points, &p.error_message);
        }
        Ok(())
    }
}
