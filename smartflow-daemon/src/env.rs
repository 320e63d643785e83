//! Environment variables the daemon reads, in one place.

/// Overrides `[log] level` (a `tracing` filter such as `debug` or `smartflow=trace`).
pub const LOG: &str = "SMARTFLOW_LOG";
