//! Smartflow's layered response cache: L1 exact, L3 rephrasing-equivalent, L2 semantic
//! (embedding retrieval plus verification), L4 policy-governed cross-user reuse, composed
//! cheapest first behind [`smartflow_core::Cache`].

pub mod canonical;
pub mod config;
pub mod embed;
pub mod fingerprint;
pub mod guard;
pub mod index;
mod layered;
mod layers;
mod scope;
mod stats;
mod store;

pub use config::{CacheConfig, LayerMode, Pricer, ScopeBy, SemanticConfig, ShareWithin, SharingPolicy, thresholds};
pub use layered::LayeredCache;
pub use store::OpenReport;
