//! # smartflow-policy
//!
//! Concrete policies and sinks for the Smartflow pipeline, each implementing a
//! `smartflow_core` trait:
//!
//! - [`identity`]: authenticators (`StaticKeys`: virtual keys stored as SHA-256 hashes).
//! - [`audit`]: audit sinks (`JsonLinesAudit` to a file or stdout, `MetricsAudit` feeding the
//!   Prometheus exposition).

pub mod audit;
pub mod compliance;
pub mod governance;
mod http_client;
pub mod identity;
