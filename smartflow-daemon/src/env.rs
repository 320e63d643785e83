//! Environment variables the daemon reads, in one place.

/// Overrides `[log] level` (a `tracing` filter such as `debug` or `smartflow=trace`).
pub const LOG: &str = "SMARTFLOW_LOG";

/// The admin credential the `keys create|list|revoke|rotate` commands send.
pub const ADMIN_KEY: &str = "SMARTFLOW_ADMIN_KEY";

/// Reads an environment variable, as UTF-8.
pub fn var(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
