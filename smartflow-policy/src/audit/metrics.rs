//! `MetricsAudit`: turns audit records into Prometheus metrics — requests, latency and
//! time-to-first-byte histograms, and tokens, by endpoint, model, target and outcome — and
//! admin API requests by operation and outcome.
//!
//! Label values come only from configuration (model and target names of routed requests) and
//! fixed sets (outcome, error kind, admin route templates), so a client cannot grow the series
//! count: an unknown model is counted as `-`, an unknown admin route as `unknown`, and the
//! object an admin request names (a key id, a user) is never a label.
//!
//! Admin API requests by authenticated callers count only in `smartflow_admin_requests_total`,
//! so they do not dilute the request-rate and latency series of model traffic (an
//! `/api/audit/verify` taking seconds is not gateway latency); a refused credential (401) on the
//! admin API still counts in `smartflow_requests_total{endpoint="admin"}`.

use std::sync::Arc;

use async_trait::async_trait;
use prometheus_client::collector::Collector;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::ConstGauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use smartflow_core::router::TargetStatus;
use smartflow_core::routing::BreakerState;
use smartflow_core::{Audit, AuditRecord, Error};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    endpoint: &'static str,
    model: String,
    target: String,
    outcome: &'static str,
    error: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct LatencyLabels {
    endpoint: &'static str,
    model: String,
    target: String,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TokenLabels {
    model: String,
    target: String,
    direction: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AdminLabels {
    operation: String,
    outcome: &'static str,
}

type HistogramFamily = Family<LatencyLabels, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    // 0.5 ms .. ~65 s
    Histogram::new(exponential_buckets(0.0005, 2.0, 18))
}

/// A Prometheus registry fed by audit records.
#[derive(Debug)]
pub struct MetricsAudit {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    duration: HistogramFamily,
    ttfb: HistogramFamily,
    tokens: Family<TokenLabels, Counter>,
    admin: Family<AdminLabels, Counter>,
}

impl Default for MetricsAudit {
    fn default() -> Self {
        Self::new()
    }
}

impl MetricsAudit {
    /// A fresh registry with the `smartflow_` metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("smartflow");
        let requests = Family::<RequestLabels, Counter>::default();
        let duration: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let ttfb: HistogramFamily = Family::new_with_constructor(latency_histogram);
        let tokens = Family::<TokenLabels, Counter>::default();
        let admin = Family::<AdminLabels, Counter>::default();
        registry.register("requests", "Requests by endpoint, model, target and outcome", requests.clone());
        registry.register("request_duration_seconds", "Request latency, end to end", duration.clone());
        registry.register("time_to_first_byte_seconds", "Time to the first streamed chunk", ttfb.clone());
        registry.register("tokens", "Tokens by model, target and direction (input/output)", tokens.clone());
        registry.register(
            "admin_requests",
            "Authenticated admin API requests by operation (method and route template) and outcome",
            admin.clone(),
        );
        Self { registry, requests, duration, ttfb, tokens, admin }
    }

    /// The registry, to add more metrics or to encode.
    pub fn registry(&self) -> &Registry {
        &self.registry
    }

    /// The registry, to register the embedding program's own metrics beside these.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Exports routing-target health on every scrape: `smartflow_target_circuit_state{target,
    /// state}` (1 for the current state) and `smartflow_target_first_byte_seconds{target}` (the
    /// moving average), read from `source` (typically `Gateway::target_health`).
    pub fn register_target_health(&mut self, source: HealthSource) {
        self.registry.register_collector(Box::new(TargetHealthCollector { source }));
    }

    /// The OpenMetrics text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }

    fn observe(&self, r: &AuditRecord) {
        // An authenticated admin API request (a 401 stays a request like any other refusal).
        if (r.admin.is_some() || r.endpoint == "admin") && r.status != 401 {
            let operation = r.admin.as_ref().map_or_else(|| "unknown".to_owned(), |c| c.operation.clone());
            self.admin.get_or_create(&AdminLabels { operation, outcome: r.outcome.label() }).inc();
            return;
        }
        let routed = r.target.is_some();
        let model = match (&r.model, routed) {
            (Some(m), true) => m.clone(),
            _ => "-".to_owned(),
        };
        let target = r.target.clone().unwrap_or_else(|| "-".to_owned());
        let outcome = r.outcome.label();
        self.requests
            .get_or_create(&RequestLabels {
                endpoint: r.endpoint,
                model: model.clone(),
                target: target.clone(),
                outcome,
                error: r.error.unwrap_or(""),
            })
            .inc();
        let lat = LatencyLabels { endpoint: r.endpoint, model: model.clone(), target: target.clone(), outcome };
        self.duration.get_or_create(&lat).observe(r.latency_ms / 1000.0);
        if let Some(ttfb) = r.ttfb_ms {
            self.ttfb.get_or_create(&lat).observe(ttfb / 1000.0);
        }
        if let Some(u) = r.usage {
            for (direction, n) in [("input", u.input), ("output", u.output)] {
                if n > 0 {
                    self.tokens
                        .get_or_create(&TokenLabels { model: model.clone(), target: target.clone(), direction })
                        .inc_by(n);
                }
            }
        }
    }
}

/// Where target health comes from at scrape time.
pub type HealthSource = Arc<dyn Fn() -> Vec<TargetStatus> + Send + Sync>;

struct TargetHealthCollector {
    source: HealthSource,
}

impl std::fmt::Debug for TargetHealthCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TargetHealthCollector")
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CircuitLabels {
    target: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TargetLabel {
    target: String,
}

impl Collector for TargetHealthCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let health = (self.source)();
        let mut states = encoder.encode_descriptor(
            "target_circuit_state",
            "Circuit breaker state per routing target (1 = current state)",
            None,
            MetricType::Gauge,
        )?;
        for t in &health {
            for state in [BreakerState::Closed, BreakerState::Open, BreakerState::HalfOpen] {
                let labels = CircuitLabels { target: t.label.to_string(), state: state.label() };
                ConstGauge::new(i64::from(t.state == state)).encode(states.encode_family(&labels)?)?;
            }
        }
        let mut latency = encoder.encode_descriptor(
            "target_first_byte_seconds",
            "Moving average of time to first byte per routing target",
            None,
            MetricType::Gauge,
        )?;
        for t in &health {
            if let Some(d) = t.first_byte_ewma {
                let labels = TargetLabel { target: t.label.to_string() };
                ConstGauge::new(d.as_secs_f64()).encode(latency.encode_family(&labels)?)?;
            }
        }
        Ok(())
    }
}

#[async_trait]
impl Audit for MetricsAudit {
    fn name(&self) -> &str {
        "metrics"
    }

    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        self.observe(record);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use smartflow_core::{Outcome, Principal, TokenUsage};

    use super::*;

    fn chat() -> AuditRecord {
        AuditRecord {
            timestamp_ms: 1,
            request_id: "r".into(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: None,
            endpoint: "chat",
            principal: std::sync::Arc::new(Principal::new("k")),
            model: Some("gpt".into()),
            target: Some("mock/echo".into()),
            stream: false,
            outcome: Outcome::Allowed,
            status: 200,
            error: None,
            decisions: vec![],
            cache: None,
            usage: Some(TokenUsage { input: 10, output: 5, ..TokenUsage::default() }),
            cost_nano_usd: None,
            latency_ms: 3.0,
            ttfb_ms: None,
            prompt: None,
            completion: None,
            admin: None,
        }
    }

    /// An admin who created virtual key `k_abc` (`POST /api/keys`).
    fn admin_created() -> AuditRecord {
        crate::audit::admin_fixtures::admin_created(chat(), "k-admin", None)
    }

    /// A caller without admin rights refused when changing key `k_abc`.
    fn admin_denied() -> AuditRecord {
        crate::audit::admin_fixtures::admin_denied(admin_created(), std::sync::Arc::new(Principal::new("k")))
    }

    #[tokio::test]
    async fn records_become_series_and_unknown_models_do_not() {
        let m = MetricsAudit::new();
        let mut r = chat();
        m.record(&r).await.unwrap();
        r.model = Some("attacker-chosen-name".into());
        r.target = None;
        r.outcome = Outcome::Failed;
        r.error = Some("not_found");
        m.record(&r).await.unwrap();
        let text = m.render();
        assert!(text.contains(r#"smartflow_requests_total{endpoint="chat",model="gpt",target="mock/echo",outcome="allowed",error=""} 1"#), "{text}");
        assert!(
            text.contains(r#"smartflow_tokens_total{model="gpt",target="mock/echo",direction="input"} 10"#),
            "{text}"
        );
        assert!(!text.contains("attacker-chosen-name"));
        assert!(text.contains("smartflow_request_duration_seconds_bucket"));
    }

    #[tokio::test]
    async fn admin_requests_are_counted_by_operation_and_outcome_only() {
        let m = MetricsAudit::new();
        m.record(&chat()).await.unwrap();
        m.record(&admin_created()).await.unwrap();
        m.record(&admin_created()).await.unwrap();
        m.record(&admin_denied()).await.unwrap();
        let mut unknown = admin_created();
        unknown.admin = None;
        unknown.outcome = Outcome::Failed;
        unknown.status = 404;
        unknown.error = Some("not_found");
        m.record(&unknown).await.unwrap();
        let mut refused = admin_created();
        refused.admin = None;
        refused.outcome = Outcome::Denied;
        refused.status = 401;
        refused.error = Some("authentication");
        m.record(&refused).await.unwrap();
        let text = m.render();
        assert!(text.contains("# HELP smartflow_admin_requests Authenticated admin API requests"), "{text}");
        assert!(text.contains("# TYPE smartflow_admin_requests counter"), "{text}");
        for line in [
            r#"smartflow_admin_requests_total{operation="POST /api/keys",outcome="allowed"} 2"#,
            r#"smartflow_admin_requests_total{operation="PATCH /api/keys/{id}",outcome="denied"} 1"#,
            r#"smartflow_admin_requests_total{operation="unknown",outcome="failed"} 1"#,
            // A refused credential is counted as it always was, not as an admin request.
            r#"smartflow_requests_total{endpoint="admin",model="-",target="-",outcome="denied",error="authentication"} 1"#,
            r#"smartflow_requests_total{endpoint="chat",model="gpt",target="mock/echo",outcome="allowed",error=""} 1"#,
        ] {
            assert!(text.contains(line), "{line} in {text}");
        }
        assert!(!text.contains("k_abc"), "the object is never a label");
        let admin_series: Vec<&str> = text.lines().filter(|l| l.contains(r#"endpoint="admin""#)).collect();
        assert!(admin_series.iter().all(|l| l.contains(r#"outcome="denied""#)), "only the 401: {admin_series:?}");
        assert!(!text.contains("permission_denied") && !text.contains("not_found"), "{text}");
    }
}
