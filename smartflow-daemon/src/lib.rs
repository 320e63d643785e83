//! # smartflow-daemon
//!
//! `smartflowd` wires the Smartflow library onto HTTP: it reads the TOML configuration, builds a
//! `smartflow_core::Gateway` through the public builder, serves the data plane and the admin
//! plane, and handles signals. It holds no request flow of its own.

pub mod assemble;
pub mod cache;
pub mod cache_metrics;
pub mod cli;
pub mod commands;
pub mod config;
pub mod env;
pub mod logging;
pub mod reload;
pub mod server;
pub mod state;
pub mod stores;
pub mod tls;
