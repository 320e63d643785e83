//! `Transport`: how one kind of sink (Splunk HEC, syslog, OTLP...) encodes a batch of audit
//! records and sends it. The delivery machinery around it ([`super::Delivery`]) owns the queue,
//! batching, retries with backoff, the spool and the counters, so a transport is only a codec
//! and a send.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use smartflow_core::AuditRecord;

/// A failed encode or send.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    /// What went wrong, for logs (never a secret: no tokens, no record contents).
    pub message: String,
    /// Whether sending the same payload again may succeed (network down, 5xx, 429, timeout).
    /// A non-retryable failure (the receiver rejects the payload itself) is counted and logged
    /// as rejected instead of being retried forever.
    pub retryable: bool,
}

impl TransportError {
    /// A failure worth retrying.
    pub fn retryable(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: true }
    }

    /// A failure that retrying will not fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self { message: message.into(), retryable: false }
    }
}

/// One sink's codec and connection.
#[async_trait]
pub trait Transport: Send + Sync + 'static {
    /// The sink's name, for logs and metrics (`splunk`, `syslog`, `otlp`).
    fn name(&self) -> &str;

    /// Encodes a batch (1 ..= the configured batch size, in order) into one payload: exactly
    /// what [`send`](Self::send) sends, and what is written to the spool when it cannot be sent.
    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError>;

    /// Sends one payload (possibly one read back from the spool after a restart). Must finish
    /// or fail within its own timeout.
    async fn send(&self, payload: &Bytes) -> Result<(), TransportError>;
}
