//! Integration tests: the real `smartflowd` binary on ephemeral ports against an in-repo mock
//! upstream that speaks the OpenAI wire format.

#![expect(unreachable_pub, reason = "test modules share helpers with `pub`; nothing here is a public API")]
#![expect(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "test support code: a failed set-up step is a failed test"
)]

mod admin_audit;
mod admin_hosts;
mod audit;
mod cache;
mod cancel;
mod chat;
mod compliance;
mod compliance_example;
mod compliance_leaks;
mod conformance;
mod dialects;
mod egress;
mod errors;
mod governance;
mod guardrails;
mod identity;
mod input;
mod intent;
mod lifecycle;
mod observability;
mod routing;
mod support;
mod upstream;
