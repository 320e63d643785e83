//! The GenAI client metrics of a batch of audit records, as OTLP histograms with DELTA
//! temporality: `gen_ai.client.token.usage`, `gen_ai.client.operation.duration` and, for
//! streams, `gen_ai.client.operation.time_to_first_chunk`, with the advisory bucket boundaries
//! of the semantic conventions.
//!
//! Each batch is one delta per attribute set, its window spanning the requests it covers.
//! Only requests that reached a provider (a target, or a failure while routing) count: denials,
//! cache answers and admin API requests made no client operation. Attributes are the conventions' low-cardinality
//! ones only (no user, key or department).

use std::collections::BTreeMap;
use std::sync::Arc;

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Histogram, HistogramDataPoint, Metric, ResourceMetrics, ScopeMetrics, metric,
};
use opentelemetry_proto::tonic::resource::v1::Resource;
use smartflow_core::{AuditRecord, Outcome};

use super::export::{error_type, kv, operation, provider_name, scope, target, times};

/// One histogram instrument.
struct Instrument {
    name: &'static str,
    unit: &'static str,
    description: &'static str,
    bounds: &'static [f64],
}

const SECONDS: &[f64] = &[0.01, 0.02, 0.04, 0.08, 0.16, 0.32, 0.64, 1.28, 2.56, 5.12, 10.24, 20.48, 40.96, 81.92];

const TOKENS: Instrument = Instrument {
    name: "gen_ai.client.token.usage",
    unit: "{token}",
    description: "Number of input and output tokens used.",
    bounds: &[
        1.0, 4.0, 16.0, 64.0, 256.0, 1024.0, 4096.0, 16384.0, 65536.0, 262144.0, 1048576.0, 4194304.0, 16777216.0,
        67108864.0,
    ],
};
const DURATION: Instrument = Instrument {
    name: "gen_ai.client.operation.duration",
    unit: "s",
    description: "GenAI operation duration.",
    bounds: SECONDS,
};
const FIRST_CHUNK: Instrument = Instrument {
    name: "gen_ai.client.operation.time_to_first_chunk",
    unit: "s",
    description: "Time to receive the first chunk in a streaming operation.",
    bounds: SECONDS,
};

/// A data point's attribute set (all string-valued), sorted for a stable output.
type Attributes = Vec<(&'static str, String)>;

/// The data points of one instrument.
type Series = BTreeMap<Attributes, Point>;

/// The running aggregate of one data point.
#[derive(Default)]
struct Point {
    start: u64,
    end: u64,
    count: u64,
    sum: f64,
    min: f64,
    max: f64,
    buckets: Vec<u64>,
}

/// Adds `value`, observed over `window`, to the point of `attrs`.
fn add(series: &mut Series, bounds: &[f64], mut attrs: Attributes, value: f64, (start, end): (u64, u64)) {
    attrs.sort();
    let p = series.entry(attrs).or_default();
    if p.count == 0 {
        (p.start, p.end, p.min, p.max) = (start, end, value, value);
        p.buckets = vec![0; bounds.len() + 1];
    }
    (p.start, p.end) = (p.start.min(start), p.end.max(end));
    (p.min, p.max) = (p.min.min(value), p.max.max(value));
    p.count += 1;
    p.sum += value;
    // OTLP buckets are upper-inclusive: bucket i holds bounds[i-1] < v <= bounds[i].
    if let Some(n) = p.buckets.get_mut(bounds.partition_point(|&b| b < value)) {
        *n += 1;
    }
}

/// The export request for a batch; `None` when no record made a client operation.
pub(super) fn request(resource: &Resource, batch: &[Arc<AuditRecord>]) -> Option<ExportMetricsServiceRequest> {
    let (mut tokens, mut duration, mut first_chunk) = (Series::new(), Series::new(), Series::new());
    for record in batch.iter().filter(|r| client_operation(r)) {
        let window = times(record);
        let mut base: Attributes = vec![("gen_ai.operation.name", operation(record).to_owned())];
        if let Some((provider, model)) = target(record) {
            base.push(("gen_ai.provider.name", provider_name(provider)));
            if !model.is_empty() {
                base.push(("gen_ai.response.model", model.to_owned()));
            }
        }
        if let Some(model) = &record.model {
            base.push(("gen_ai.request.model", model.clone()));
        }
        let mut attrs = base.clone();
        if matches!(record.outcome, Outcome::Failed | Outcome::Denied) {
            attrs.push(("error.type", error_type(record)));
        }
        add(&mut duration, DURATION.bounds, attrs, record.latency_ms.max(0.0) / 1000.0, window);
        if let Some(ttfb) = record.ttfb_ms.filter(|_| record.stream) {
            add(&mut first_chunk, FIRST_CHUNK.bounds, base.clone(), ttfb.max(0.0) / 1000.0, window);
        }
        if let Some(usage) = &record.usage {
            for (kind, n) in [("input", usage.input), ("output", usage.output)] {
                let mut attrs = base.clone();
                attrs.push(("gen_ai.token.type", kind.to_owned()));
                add(&mut tokens, TOKENS.bounds, attrs, n as f64, window);
            }
        }
    }
    let metrics: Vec<Metric> = [(TOKENS, tokens), (DURATION, duration), (FIRST_CHUNK, first_chunk)]
        .into_iter()
        .filter(|(_, points)| !points.is_empty())
        .map(|(instrument, points)| metric(&instrument, points))
        .collect();
    if metrics.is_empty() {
        return None;
    }
    let scope_metrics = ScopeMetrics { scope: Some(scope()), metrics, ..ScopeMetrics::default() };
    Some(ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(resource.clone()),
            scope_metrics: vec![scope_metrics],
            ..ResourceMetrics::default()
        }],
    })
}

/// Whether a record made a GenAI client operation: it reached a provider (a target, or a
/// failure while routing), and it is model traffic, not an admin API request (whose failures,
/// an unknown route's 404 among them, never involved a provider).
fn client_operation(record: &AuditRecord) -> bool {
    let admin = record.admin.is_some() || record.endpoint == "admin";
    !admin && (record.target.is_some() || record.outcome == Outcome::Failed)
}

fn metric(instrument: &Instrument, points: Series) -> Metric {
    let data_points = points
        .into_iter()
        .map(|(attrs, p)| HistogramDataPoint {
            attributes: attrs.into_iter().map(|(k, v)| kv(k, v)).collect(),
            start_time_unix_nano: p.start,
            time_unix_nano: p.end,
            count: p.count,
            sum: Some(p.sum),
            bucket_counts: p.buckets,
            explicit_bounds: instrument.bounds.to_vec(),
            min: Some(p.min),
            max: Some(p.max),
            ..HistogramDataPoint::default()
        })
        .collect();
    Metric {
        name: instrument.name.to_owned(),
        unit: instrument.unit.to_owned(),
        description: instrument.description.to_owned(),
        data: Some(metric::Data::Histogram(Histogram {
            data_points,
            aggregation_temporality: AggregationTemporality::Delta.into(),
        })),
        ..Metric::default()
    }
}
