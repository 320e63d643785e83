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

/// Appends a streamed chunk's text to `tail` (the end of the answer so far, kept so a word or
/// value split across chunks is still seen whole).
pub(crate) fn push_chunk_text(tail: &mut String, chunk: &smartflow_core::ChatChunk) {
    for c in &chunk.choices {
        if let Some(content) = &c.delta.content {
            tail.push_str(content);
        }
    }
}

/// Cuts `tail` down to its last `keep` bytes (on a char boundary).
pub(crate) fn trim_tail(tail: &mut String, keep: usize) {
    if tail.len() > keep {
        let mut from = tail.len() - keep;
        while !tail.is_char_boundary(from) {
            from += 1;
        }
        tail.drain(..from);
    }
}
