//! Inline compliance, with zero external calls: PII and secret detection ([`pii`]) and what to
//! do with what it finds ([`redact`]). Information barriers and the guardrail hooks build on it.

mod deny_list;
pub mod pii;
mod pii_policy;
pub mod redact;

pub use deny_list::DenyList;
pub use pii_policy::PiiPolicy;
