//! Audit sinks: where `AuditRecord`s go.

#[cfg(test)]
mod admin_fixtures;
pub mod delivery;
mod jsonl;
mod metrics;
pub mod otlp;
pub mod sink_metrics;
pub mod splunk;
pub mod syslog;
pub mod verified;

pub use jsonl::{JsonLinesAudit, JsonLinesTarget};
pub use metrics::{HealthSource, MetricsAudit};
