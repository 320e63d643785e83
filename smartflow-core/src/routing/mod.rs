//! Router implementations. `ModelTable` maps each virtual model to targets ordered per request
//! by a [`Strategy`] (priority, weighted, round-robin, least-latency), skips targets whose
//! [`CircuitBreaker`] is open, and carries the model's [`RetryPolicy`] into the plan.

mod breaker;
mod retry;
mod strategy;
mod table;

pub use breaker::{BreakerConfig, BreakerState, CircuitBreaker};
pub use retry::RetryPolicy;
pub use strategy::Strategy;
pub use table::{ModelTable, VirtualModel};
