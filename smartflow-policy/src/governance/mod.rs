//! Governance: token and request limits and spend budgets with reservation at admission and
//! settlement at the end, so concurrent requests never overshoot.
//!
//! - [`spec`]: what is counted (requests, tokens, spend), per which window, how much.
//! - [`window`]: fixed UTC windows (minute … month, total).
//! - [`ledger`]: the counters, reserved atomically and settled once.
//! - [`rules`]: which requests a rule applies to and how it is scoped.
//! - [`prices`]: per-model prices and costs.
//! - [`tokens`]: prompt token counting per model family.
//! - [`usage`]: per-day usage totals for reporting.
//! - [`persist`]: the background writer that keeps counters in sled off the request path.
//! - [`governor`]: the [`Governor`] policy that ties them together.

pub mod governor;
pub mod ledger;
pub mod persist;
pub mod prices;
pub mod rules;
pub mod spec;
pub mod tokens;
pub mod usage;
pub mod window;

pub use governor::{Governor, GovernorConfig, KeyLimits};
