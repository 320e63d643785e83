//! `/metrics` for the audit sinks themselves: what each remote sink delivered, retried, spooled,
//! rejected and dropped, and the verified stream's lines, syncs and write failures — read from
//! the sinks' counters at scrape time, so nothing undelivered goes unreported.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::delivery::DeliveryStats;
use super::verified::VerifiedAudit;

/// The sinks to report: remote sinks by name, and the verified stream.
#[derive(Debug, Clone, Default)]
pub struct SinkSources {
    /// `(sink name, counters)` of remote sinks.
    pub remote: Vec<(String, Arc<DeliveryStats>)>,
    /// The verified stream.
    pub verified: Option<Arc<VerifiedAudit>>,
}

/// The collector; register it with `MetricsAudit::registry_mut().register_collector`.
#[derive(Debug)]
pub struct SinkCollector {
    sources: SinkSources,
}

impl SinkCollector {
    /// Reports `sources` on every scrape.
    pub fn new(sources: SinkSources) -> Self {
        Self { sources }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SinkLabel {
    sink: String,
}

impl Collector for SinkCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        // Names are relative to the registry's `smartflow` prefix; counters get `_total`.
        type Read = fn(&DeliveryStats) -> u64;
        let counters: [(&str, &str, Read); 4] = [
            ("audit_delivered_records", "Audit records delivered per sink", |s| s.delivered.load(Ordering::Relaxed)),
            ("audit_failed_sends", "Failed send attempts per sink (retried or spooled)", |s| {
                s.failed_sends.load(Ordering::Relaxed)
            }),
            ("audit_rejected_records", "Audit records the receiver rejected as invalid", |s| {
                s.rejected.load(Ordering::Relaxed)
            }),
            ("audit_dropped_records", "Audit records lost: queue and spool full", |s| {
                s.dropped.load(Ordering::Relaxed)
            }),
        ];
        let gauges: [(&str, &str, Read); 3] = [
            ("audit_spooled_payloads", "Payloads waiting in the spool per sink", |s| {
                s.spooled_payloads.load(Ordering::Relaxed)
            }),
            ("audit_spooled_bytes", "Bytes waiting in the spool per sink", |s| s.spooled_bytes.load(Ordering::Relaxed)),
            ("audit_queued_records", "Audit records waiting in the queue per sink", |s| {
                s.queued.load(Ordering::Relaxed)
            }),
        ];
        if !self.sources.remote.is_empty() {
            for (name, help, read) in counters {
                let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
                for (sink, stats) in &self.sources.remote {
                    let labels = SinkLabel { sink: sink.clone() };
                    ConstCounter::new(read(stats)).encode(family.encode_family(&labels)?)?;
                }
            }
            for (name, help, read) in gauges {
                let mut family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
                for (sink, stats) in &self.sources.remote {
                    let labels = SinkLabel { sink: sink.clone() };
                    ConstGauge::new(read(stats) as i64).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        if let Some(stream) = &self.sources.verified {
            let stats = stream.stats();
            let counters: [(&str, &str, u64); 4] = [
                (
                    "audit_stream_retention_blocked",
                    "Times retention kept an old segment because it was not marked exported",
                    stats.retention_blocked.load(Ordering::Relaxed),
                ),
                (
                    "audit_stream_lines",
                    "Lines appended to the verified audit stream",
                    stats.lines.load(Ordering::Relaxed),
                ),
                ("audit_stream_syncs", "fsyncs of the verified audit stream", stats.syncs.load(Ordering::Relaxed)),
                (
                    "audit_stream_write_failures",
                    "Records the verified audit stream could not write (refused or, degraded, lost)",
                    stats.write_failures.load(Ordering::Relaxed),
                ),
            ];
            for (name, help, value) in counters {
                let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
                ConstCounter::new(value).encode(family)?;
            }
            let family = encoder.encode_descriptor(
                "audit_stream_broken",
                "1 while the verified audit stream cannot be written",
                None,
                MetricType::Gauge,
            )?;
            ConstGauge::new(i64::from(stream.is_broken())).encode(family)?;
        }
        Ok(())
    }
}
