//! `RequestContext`: everything known about one request while it flows through the pipeline.

use std::sync::Arc;
use std::time::SystemTime;

use tokio::time::Instant;

use super::{Principal, TraceContext};
use crate::policy::PolicyDecision;

/// Which API the request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`.
    ChatCompletions,
    /// `POST /v1/embeddings`.
    Embeddings,
    /// `POST /v1/messages`.
    Messages,
    /// `GET /v1/models`.
    Models,
    /// A path or method no route serves.
    Unrouted,
    /// An MCP tool call.
    ToolCall,
    /// The admin API.
    Admin,
}

impl Endpoint {
    /// A stable label (`chat`, `embeddings`...).
    pub fn label(self) -> &'static str {
        match self {
            Self::ChatCompletions => "chat",
            Self::Embeddings => "embeddings",
            Self::Messages => "messages",
            Self::Models => "models",
            Self::Unrouted => "unrouted",
            Self::ToolCall => "tool_call",
            Self::Admin => "admin",
        }
    }
}

/// Per-request state: identity, timing, policy decisions, and typed extensions policies use to
/// carry their own per-request state from one phase to the next.
#[derive(Debug)]
pub struct RequestContext {
    /// The request id (echoed as `x-request-id`).
    pub request_id: String,
    /// Who is calling.
    pub principal: Arc<Principal>,
    /// Which API.
    pub endpoint: Endpoint,
    /// Monotonic start, for latencies.
    pub started: Instant,
    /// Wall-clock start, for audit timestamps.
    pub started_at: SystemTime,
    /// Every policy decision so far, in order.
    pub decisions: Vec<PolicyDecision>,
    /// Headers policies want on the response (`x-ratelimit-*`).
    pub response_headers: http::HeaderMap,
    /// Per-request state of policies and callers.
    pub extensions: http::Extensions,
    /// The W3C trace this request belongs to (continued from `traceparent`, or new).
    pub trace: TraceContext,
    /// What the request cost in nano-dollars, set by the policy that prices it (at settlement)
    /// for the audit record; 0 when unpriced.
    pub cost_nano_usd: std::sync::atomic::AtomicU64,
}

impl RequestContext {
    /// A context for a request that has just been authenticated.
    pub fn new(request_id: impl Into<String>, principal: Arc<Principal>, endpoint: Endpoint) -> Self {
        Self {
            request_id: request_id.into(),
            principal,
            endpoint,
            started: Instant::now(),
            started_at: SystemTime::now(),
            decisions: Vec::new(),
            response_headers: http::HeaderMap::new(),
            extensions: http::Extensions::new(),
            trace: TraceContext::new_root(),
            cost_nano_usd: std::sync::atomic::AtomicU64::new(0),
        }
    }

    /// A copy for work that outlives the request (a cache store after a stream ended): identity,
    /// ids, trace and extensions; not the decisions, headers or cost.
    pub fn snapshot(&self) -> Self {
        Self {
            request_id: self.request_id.clone(),
            principal: self.principal.clone(),
            endpoint: self.endpoint,
            started: self.started,
            started_at: self.started_at,
            decisions: Vec::new(),
            response_headers: http::HeaderMap::new(),
            extensions: self.extensions.clone(),
            trace: self.trace,
            cost_nano_usd: std::sync::atomic::AtomicU64::new(0),
        }
    }
}
