//! Inline compliance, with zero external calls: PII and secret detection ([`pii`]) and what to
//! do with what it finds ([`redact`]). Information barriers and the guardrail hooks build on it.

pub mod barrier;
mod deny_list;
mod injection;
mod json_schema;
pub mod pii;
mod pii_policy;
pub mod redact;
mod size_limit;

pub use deny_list::DenyList;
pub use injection::{DEFAULT_THRESHOLD as INJECTION_THRESHOLD, PromptInjection, Verdict};
pub use json_schema::{JsonSchema, MAX_BUFFER as JSON_SCHEMA_MAX_BUFFER, SchemaError};
pub use pii_policy::PiiPolicy;
pub use size_limit::SizeLimit;
