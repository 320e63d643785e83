//! Syslog audit transport: every [`AuditRecord`] as one RFC 5424 message over UDP (RFC 5426),
//! TCP (RFC 6587 octet counting) or TLS (RFC 5425), for SIEMs that collect syslog.
//!
//! A message looks like
//!
//! ```text
//! <134>1 2026-11-21T19:45:18.123Z gw-01 smartflowd 4123 chat [smartflow@32473 request_id="r-1"
//!   key_id="k-1" user="alice" model="gpt-4o" outcome="allowed" status="200" ...] chat request allowed: ...
//! ```
//!
//! - PRI = facility × 8 + severity: allowed and cancelled → informational (6), allowed with
//!   audit-mode ("would deny") decisions only, or an admin change made → notice (5), denied by
//!   a policy, a permission check or authentication (401) → warning (4), failed → error (3).
//! - MSGID is `auth` for a refused credential, `admin` for an admin API request, `policy` when
//!   a policy denied (or would have denied), else the endpoint (`chat`, `embeddings`,
//!   `messages`, `tool_call`).
//! - The `[smartflow@32473 ...]` element (32473 is the documentation Private Enterprise Number)
//!   carries `request_id key_id user team department model target operation action
//!   object_category object outcome status tokens_in tokens_out cost_usd latency_ms error
//!   trace_id policy rule`, absent values left out, values escaped as RFC 5424 §6.3.3 says
//!   (`operation action object_category object` describe an admin API request's change:
//!   `operation="PATCH /api/keys/{id}" action="modified" object_category="virtual_key"
//!   object="k_1"`).
//! - MSG is a one-line summary, without a BOM (`chat request allowed: status 200, model ...`;
//!   `admin POST /api/keys/{id}/rotate (modified virtual_key k_1) allowed: status 200, 3 ms`).
//!   The principal's key id is sent, never a key; the prompt and completion only when the
//!   record carries them (the gateway was configured to record them).
//! - With [`SyslogFormat::Cef`] the MSG is instead an ArcSight CEF line
//!   (`CEF:0|Smartflow|smartflowd|<version>|policy.deny|Request denied by policy|7|rt=... suser=...
//!   act=denied outcome=failure request=/v1/chat/completions requestMethod=POST reason=<rule>
//!   cs1Label=model cs1=...`) and the structured data is `-`: the RFC 5424 frame carries the CEF
//!   event. An admin API request is `admin.<action>` (`admin.modified`), with `act=<action>`,
//!   `request=<path template>`, `requestMethod`, `cs1Label=object_category` and
//!   `cs2Label=object`.
//! - A message longer than `max_message_bytes` has its MSG cut at a UTF-8 boundary, ends in
//!   ` [truncated]` and gets `truncated="true"` in its structured data.
//!
//! [`Transport::encode`] frames each message as `MSG-LEN SP SYSLOG-MSG` (octet counting) and
//! concatenates them: that is what goes over TCP and TLS, and over UDP [`Transport::send`]
//! splits it into one datagram per message. TCP and TLS keep one connection, replaced after
//! any error or timeout (and before a write when the receiver has closed it); syslog has no
//! acknowledgements, so a message written just as the receiver dies can still be lost. A batch
//! that fails part-way over UDP is sent again whole when retried.

mod cef;
mod config;
mod conn;
mod rfc5424;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use smartflow_core::policy::Action;
use smartflow_core::{AdminChange, AuditRecord, Outcome, PolicyDecision};

pub use config::{
    Facility, STREAM_MAX_MESSAGE_BYTES, SyslogConfig, SyslogConfigError, SyslogFormat, SyslogTransport,
    UDP_MAX_MESSAGE_BYTES,
};

use crate::audit::delivery::{Transport, TransportError};

/// Sends audit records to a syslog receiver; a [`Transport`] for [`crate::audit::delivery`].
#[derive(Debug)]
pub struct Syslog {
    config: SyslogConfig,
    header: rfc5424::Header,
    conn: conn::Conn,
}

impl Syslog {
    /// A sink for `config`, after [`SyslogConfig::validate`]. Nothing is contacted yet.
    pub fn new(config: SyslogConfig) -> Result<Self, SyslogConfigError> {
        config.validate()?;
        let header = rfc5424::Header::new(&config.hostname, &config.app_name);
        let conn = conn::Conn::new(&config)?;
        Ok(Self { config, header, conn })
    }

    /// The configuration in use.
    pub fn config(&self) -> &SyslogConfig {
        &self.config
    }

    /// One record as a syslog message (RFC 5424, with a CEF MSG in [`SyslogFormat::Cef`]),
    /// without framing, at most `max_message_bytes` long.
    pub fn message(&self, record: &AuditRecord) -> String {
        let event = classify(record);
        let (params, msg) = match self.config.format {
            SyslogFormat::Rfc5424 => (rfc5424::params(record), rfc5424::summary(record, event)),
            SyslogFormat::Cef => (Vec::new(), cef::message(record, event, &self.header.hostname)),
        };
        let message = rfc5424::Message {
            pri: self.config.facility.code() * 8 + rfc5424::severity(record, event),
            timestamp_ms: record.timestamp_ms,
            msgid: rfc5424::msgid(record, event).to_owned(),
            params,
            msg,
        };
        message.render(&self.header, self.config.max_message_bytes)
    }
}

#[async_trait]
impl Transport for Syslog {
    fn name(&self) -> &str {
        "syslog"
    }

    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
        let mut out = Vec::with_capacity(batch.len() * 512);
        for record in batch {
            rfc5424::push_frame(&mut out, self.message(record).as_bytes());
        }
        Ok(Bytes::from(out))
    }

    async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
        self.conn.send(payload).await
    }
}

/// What kind of event a record is, for severities, MSGIDs and CEF signatures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Event {
    /// Served.
    Allowed,
    /// Served, but a policy in audit enforcement would have denied it.
    WouldDeny,
    /// Refused by a policy (or another 4xx refusal that is not authentication).
    Denied,
    /// Refused because the credential was missing or invalid (401).
    AuthFailure,
    /// Failed (bad input, upstream or internal error).
    Failed,
    /// The client went away first.
    Cancelled,
}

fn classify(record: &AuditRecord) -> Event {
    match record.outcome {
        Outcome::Denied | Outcome::Failed if record.status == 401 => Event::AuthFailure,
        Outcome::Denied => Event::Denied,
        Outcome::Failed => Event::Failed,
        Outcome::Cancelled => Event::Cancelled,
        Outcome::Allowed if record.decisions.iter().any(|d| d.action == Action::WouldDeny) => Event::WouldDeny,
        Outcome::Allowed => Event::Allowed,
    }
}

/// The admin change a record describes: an admin API request by an authenticated caller (a
/// refused credential stays an authentication event).
fn admin_change(record: &AuditRecord, event: Event) -> Option<&AdminChange> {
    record.admin.as_ref().filter(|_| event != Event::AuthFailure)
}

/// The decision that explains the event: the last denial, else the first audit-mode denial.
fn decisive(record: &AuditRecord) -> Option<&PolicyDecision> {
    let decisions = &record.decisions;
    decisions
        .iter()
        .rev()
        .find(|d| d.action == Action::Deny)
        .or_else(|| decisions.iter().find(|d| d.action == Action::WouldDeny))
}
