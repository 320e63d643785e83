//! Audit sinks: where `AuditRecord`s go.

mod jsonl;
mod metrics;

pub use jsonl::{JsonLinesAudit, JsonLinesTarget};
pub use metrics::{HealthSource, MetricsAudit};
