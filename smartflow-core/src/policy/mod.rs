//! The `Policy` trait: named phases with no-op defaults, run in life-cycle order for every
//! request, and `PolicyStack`, an ordered list of policies that is itself a `Policy`.
//!
//! Phases, in order:
//! 1. [`Policy::on_request`] / [`Policy::on_embedding_request`]: after authentication, before the
//!    cache and routing (access, reservations, PII, barriers).
//! 2. [`Policy::on_response`]: on a complete response (provider or cache), before it is stored
//!    in the cache or returned.
//! 3. [`Policy::on_chunk`]: on every streamed chunk, synchronously, before it is sent.
//! 4. [`Policy::on_tool_call`] / [`Policy::on_tool_result`]: MCP pre-tool and post-tool.
//! 5. [`Policy::on_complete`]: always, once, with the outcome — denied, failed and cancelled
//!    requests included — so reservations are settled and nothing escapes the audit.

mod stack;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::{Error, ErrorKind};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, RequestContext, TokenUsage, ToolCall, ToolResult,
};

pub use stack::PolicyStack;

/// What a hook decided.
#[derive(Debug, Clone)]
pub enum Decision {
    /// Go on to the next policy and phase.
    Continue,
    /// Stop the request with this denial (or, in audit enforcement, record it and go on).
    Deny(Denial),
    /// Answer with this response instead of calling a provider (request phase only).
    Respond(Box<ChatResponse>),
}

/// Why a policy denied a request.
#[derive(Debug, Clone)]
pub struct Denial {
    /// The rule that decided, as configured (`pii.block_cards`).
    pub rule: String,
    /// A client-safe explanation (never the offending text).
    pub message: String,
    /// The kind of error the client gets (`PolicyDenied`, `RateLimited`, `QuotaExceeded`...).
    pub kind: ErrorKind,
    /// For rate limits: when to retry.
    pub retry_after: Option<std::time::Duration>,
}

impl Denial {
    /// A 403 policy denial by `rule`.
    pub fn new(rule: impl Into<String>, message: impl Into<String>) -> Self {
        Self { rule: rule.into(), message: message.into(), kind: ErrorKind::PolicyDenied, retry_after: None }
    }

    /// The error the client sees.
    pub fn to_error(&self) -> Error {
        let mut e = Error::new(self.kind, self.message.clone()).with_code("policy_violation");
        match self.kind {
            ErrorKind::RateLimited => e = e.with_code("rate_limit_exceeded"),
            ErrorKind::QuotaExceeded => e = e.with_code("insufficient_quota"),
            _ => {}
        }
        if let Some(after) = self.retry_after {
            e = e.with_retry_after(after);
        }
        e
    }
}

/// Whether a denial stops the request or is only recorded.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Enforcement {
    /// A denial stops the request.
    #[default]
    Enforce,
    /// A denial is recorded as "would have blocked" and the request goes on.
    Audit,
}

/// What a policy did, as recorded for the audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    /// Denied and stopped the request.
    Deny,
    /// Would have denied (audit enforcement).
    WouldDeny,
    /// Answered the request itself.
    Respond,
    /// Rewrote the request or answer (a redaction, a tokenization): recorded, not refused.
    Redact,
    /// A cache layer in shadow mode would have answered (the request went upstream).
    WouldHit,
    /// Answered from an entry another user's request stored (L4, as a sharing policy allows).
    Share,
}

/// One recorded decision.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PolicyDecision {
    /// The policy's name.
    pub policy: String,
    /// The rule within it.
    pub rule: String,
    /// What happened.
    pub action: Action,
    /// The phase (`request`, `response`, `chunk`...).
    pub phase: &'static str,
}

/// How a request ended, as `on_complete` and the audit see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Served (by a provider or the cache).
    Allowed,
    /// Refused by authentication or a policy.
    Denied,
    /// Failed (bad input, upstream or internal error).
    Failed,
    /// The client went away first.
    Cancelled,
}

impl Outcome {
    /// A stable label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Allowed => "allowed",
            Self::Denied => "denied",
            Self::Failed => "failed",
            Self::Cancelled => "cancelled",
        }
    }
}

/// What `on_complete` receives.
#[derive(Debug, Clone, Copy)]
pub struct Completion<'a> {
    /// How the request ended.
    pub outcome: Outcome,
    /// The error, when it failed or was denied.
    pub error: Option<&'a Error>,
    /// Tokens actually used (partial for cancelled or failed streams), when known.
    pub usage: Option<TokenUsage>,
    /// The target that served (`provider/model`), when one did.
    pub target: Option<&'a str>,
}

/// A policy: any subset of the phases. Every hook has a no-op default.
///
/// Policies are shared across requests; per-request state goes in
/// [`RequestContext::extensions`].
#[async_trait]
pub trait Policy: Send + Sync + 'static {
    /// The name decisions are recorded under.
    fn name(&self) -> &str;

    /// `Enforce` (default): denials stop the request. `Audit`: they are only recorded.
    fn enforcement(&self) -> Enforcement {
        Enforcement::Enforce
    }

    /// Before the cache and routing. May rewrite the request (mutate mode), deny it, or answer
    /// it. Default: `Continue`.
    async fn on_request(&self, _ctx: &mut RequestContext, _req: &mut ChatRequest) -> Decision {
        Decision::Continue
    }

    /// Before an embeddings request is routed. Default: `Continue`.
    async fn on_embedding_request(&self, _ctx: &mut RequestContext, _req: &mut EmbeddingRequest) -> Decision {
        Decision::Continue
    }

    /// On a complete (non-streamed) response before it is cached or returned. May rewrite it or
    /// deny it. Default: `Continue`.
    async fn on_response(&self, _ctx: &mut RequestContext, _resp: &mut ChatResponse) -> Decision {
        Decision::Continue
    }

    /// On every streamed chunk before it is sent; synchronous, so it must be cheap. A `Deny`
    /// ends the stream with a terminal error event. Default: `Continue`.
    fn on_chunk(&self, _ctx: &mut RequestContext, _chunk: &mut ChatChunk) -> Decision {
        Decision::Continue
    }

    /// Before an MCP tool call is sent (pre-tool). Default: `Continue`.
    async fn on_tool_call(&self, _ctx: &mut RequestContext, _call: &mut ToolCall) -> Decision {
        Decision::Continue
    }

    /// After an MCP tool answered (post-tool). Default: `Continue`.
    async fn on_tool_result(&self, _ctx: &mut RequestContext, _result: &mut ToolResult) -> Decision {
        Decision::Continue
    }

    /// Always runs exactly once at the end of every request, whatever happened. Use it to settle
    /// reservations. Default: nothing.
    fn on_complete(&self, _ctx: &RequestContext, _completion: &Completion<'_>) {}
}
