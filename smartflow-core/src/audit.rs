//! The `Audit` trait and `AuditRecord`: one record for every request outcome.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Error;
use crate::policy::{Outcome, PolicyDecision};
use crate::types::{Principal, TokenUsage};

/// One request's audit record. It carries the principal's key id, never a key, and prompt or
/// completion text only when the gateway is configured to record it.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRecord {
    /// Unix milliseconds when the request arrived.
    pub timestamp_ms: u64,
    /// The request id.
    pub request_id: String,
    /// The W3C trace id (32 hex digits).
    pub trace_id: String,
    /// The gateway's span id in that trace (16 hex digits).
    pub span_id: String,
    /// The caller's span (from its `traceparent`), the parent of ours.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parent_span_id: Option<String>,
    /// `chat`, `embeddings`, `messages`, `models`, `tool_call`, `admin`...
    pub endpoint: &'static str,
    /// Who called.
    pub principal: std::sync::Arc<Principal>,
    /// The model the client asked for.
    pub model: Option<String>,
    /// The target that served (`provider/model`).
    pub target: Option<String>,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// How it ended.
    pub outcome: Outcome,
    /// The HTTP status the client got (or would have got, for cancelled requests: 499).
    pub status: u16,
    /// The error label (`upstream_timeout`...), when it failed.
    pub error: Option<&'static str>,
    /// Policy decisions in order.
    pub decisions: Vec<PolicyDecision>,
    /// Which cache layer answered, if any.
    pub cache: Option<String>,
    /// Tokens used, when known.
    pub usage: Option<TokenUsage>,
    /// What the request cost in nano-dollars, when priced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cost_nano_usd: Option<u64>,
    /// Total latency in milliseconds.
    pub latency_ms: f64,
    /// Time to the first byte of the answer (streams), in milliseconds.
    pub ttfb_ms: Option<f64>,
    /// The prompt, only when configured (and always after any redaction policy ran).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<String>,
    /// The completion, only when configured.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub completion: Option<String>,
    /// For an admin API request: the change it made or attempted (or the read it did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub admin: Option<AdminChange>,
}

/// What an admin API request did to the gateway's state: the operation, what it did to which
/// object. It is recorded whether the request succeeded, failed or was refused, so a SIEM sees
/// attempted changes as well as made ones (the record's `outcome` and `status` say which).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AdminChange {
    /// The route as method and path template: `POST /api/keys/{id}/rotate`.
    pub operation: String,
    /// What the operation does to its object.
    pub action: ChangeAction,
    /// The kind of object: `virtual_key`, `user`, `team`, `department`, `configuration`,
    /// `cache`, `audit_trail`, `usage`, `gateway`.
    pub object_category: &'static str,
    /// The object acted on (a key id, a user, team or department), when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub object: Option<String>,
}

/// What an admin operation does to its object, in the CIM Change data model's vocabulary.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChangeAction {
    /// Reads state (a key, usage, statistics, a verification of the audit trail).
    Read,
    /// Creates an object (a virtual key).
    Created,
    /// Changes an object (a key's limits or models, a rotated secret).
    Modified,
    /// Deletes or revokes an object.
    Deleted,
    /// Empties a store (a cache flush).
    Cleared,
    /// Replaces a running configuration (a reload).
    Updated,
}

impl ChangeAction {
    /// The label (`read`, `created`...), as serialized.
    pub fn label(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Created => "created",
            Self::Modified => "modified",
            Self::Deleted => "deleted",
            Self::Cleared => "cleared",
            Self::Updated => "updated",
        }
    }

    /// Whether the operation changes state (everything but a read).
    pub fn mutates(self) -> bool {
        self != Self::Read
    }
}

impl AuditRecord {
    /// Milliseconds since the Unix epoch for a wall-clock time.
    pub fn unix_ms(t: SystemTime) -> u64 {
        t.duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
    }

    /// Milliseconds as a float, for latencies.
    pub fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1000.0
    }
}

/// A sink for audit records (JSON lines, the verified stream, Splunk, syslog, metrics...).
///
/// `record` is awaited before a non-streamed response is returned, so a sink that must not lose
/// records (fail-closed) can refuse the request by returning an error; sinks that ship records
/// elsewhere should enqueue and return quickly.
#[async_trait]
pub trait Audit: Send + Sync + 'static {
    /// The sink's name, for logs and metrics.
    fn name(&self) -> &str;

    /// Whether the sink can take records now. A fail-closed sink that cannot (its disk is full,
    /// its directory unwritable) returns the error the client should get (503), and the gateway
    /// refuses requests before serving them — streams included. Default: always ready.
    fn ready(&self) -> Result<(), Error> {
        Ok(())
    }

    /// Records one outcome. An error means the record could not be made durable.
    async fn record(&self, record: &AuditRecord) -> Result<(), Error>;

    /// Makes every record accepted so far durable (called on shutdown). Default: nothing to do.
    async fn flush(&self) -> Result<(), Error> {
        Ok(())
    }
}
