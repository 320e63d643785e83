//! `SplunkHec`: a [`Transport`] that ships audit records to a Splunk HTTP Event Collector as
//! CIM-named JSON events (the mapping lives in the private `event` submodule), with optional
//! indexer acknowledgement.
//!
//! Every record gives one event (`event_class` `request`: CIM Web; `authentication`: CIM
//! Authentication for a 401; or `change`: CIM Change for an admin API request, with `action`
//! `read`/`created`/`modified`/`deleted`/`cleared`/`updated`, `status` `success`/`failure`,
//! `object_category`, `object` and `command`) plus one `policy` event (CIM Alerts + DLP) per
//! policy decision. Each event names its data models in `cim`, so a TA can tag them with
//! eventtypes such as `sourcetype=smartflow:audit event_class=request` → `web`,
//! `event_class=policy` → `alert dlp incident`, `event_class=authentication` →
//! `authentication`, `event_class=change` → `change`.
//!
//! Send outcomes: 2xx (and, with acknowledgement, an acked `ackId`) is sent; 429, 5xx, network
//! errors, timeouts and an unacknowledged batch are retryable; 401/403 (bad or disabled token)
//! are retryable too, so an operator can fix the token without losing records, and are logged
//! once per failure streak; 413 and other 4xx (`Invalid data format`...) are permanent.

mod ack;
mod config;
mod event;
#[cfg(test)]
mod tests;

use std::fmt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderValue};
use http::{StatusCode, Uri};
use http_body_util::{BodyExt as _, Full, Limited};
use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;
use smartflow_core::AuditRecord;

pub use config::{SplunkConfig, SplunkError};

use super::delivery::{Transport, TransportError};
use config::{ACK_PATH, EVENT_PATH};
use event::EnvelopeMeta;

/// Largest collector reply read.
const MAX_REPLY_BYTES: usize = 64 << 10;
/// Header naming the acknowledgement channel.
const CHANNEL_HEADER: &str = "x-splunk-request-channel";

type HttpClient = crate::http_client::HttpsClient<Full<Bytes>>;

/// A Splunk HEC sink: encodes batches as CIM-mapped event envelopes and POSTs them.
pub struct SplunkHec {
    event_uri: Uri,
    ack_uri: Uri,
    /// `Splunk <token>`, marked sensitive.
    authorization: HeaderValue,
    /// Kept only to scrub it from anything the collector echoes back.
    token: SecretString,
    /// The acknowledgement channel (a random GUID) when acknowledgement is on.
    channel: Option<HeaderValue>,
    meta: EnvelopeMeta,
    timeout: Duration,
    ack_timeout: Duration,
    ack_poll_interval: Duration,
    client: HttpClient,
    /// Whether the last send failed on the token (401/403): logged once per streak.
    auth_failing: AtomicBool,
    /// Whether the missing-`ackId` warning was logged.
    warned_no_ack: AtomicBool,
}

/// The collector's JSON reply.
#[derive(Debug, Default, Deserialize)]
struct HecReply {
    text: Option<String>,
    code: Option<i64>,
    #[serde(rename = "ackId")]
    ack_id: Option<u64>,
}

impl SplunkHec {
    /// A sink for `config`; fails on an invalid configuration (including `http://` to a host
    /// that is not loopback). Makes no connection yet.
    pub fn new(config: SplunkConfig) -> Result<Self, SplunkError> {
        let base = config.validate()?;
        let channel = if config.ack { Some(ack::new_channel()?) } else { None };
        let parse =
            |s: String| s.parse::<Uri>().map_err(|_| SplunkError::Config("the HEC URL is not valid".to_owned()));
        let event_uri = parse(format!("{base}{EVENT_PATH}"))?;
        let ack_uri = parse(format!("{base}{ACK_PATH}?channel={}", channel.as_deref().unwrap_or_default()))?;
        let mut authorization = HeaderValue::try_from(format!("Splunk {}", config.token.expose_secret()))
            .map_err(|_| SplunkError::Config("the HEC token cannot be sent in a header".to_owned()))?;
        authorization.set_sensitive(true);
        let channel = channel
            .map(|c| HeaderValue::try_from(c).map_err(|_| SplunkError::Config("bad channel id".to_owned())))
            .transpose()?;
        Ok(Self {
            event_uri,
            ack_uri,
            authorization,
            client: crate::http_client::client(&config.root_certificates, config.timeout, 4)
                .map_err(SplunkError::Config)?,
            token: config.token,
            channel,
            meta: EnvelopeMeta {
                host: config.host,
                source: config.source,
                sourcetype: config.sourcetype,
                index: config.index,
            },
            timeout: config.timeout,
            ack_timeout: config.ack_timeout,
            ack_poll_interval: config.ack_poll_interval,
            auth_failing: AtomicBool::new(false),
            warned_no_ack: AtomicBool::new(false),
        })
    }

    /// POSTs `body` to `uri` within the request timeout: the status and the reply body.
    async fn post(&self, uri: &Uri, body: Bytes) -> Result<(StatusCode, Bytes), TransportError> {
        let mut request = http::Request::post(uri.clone())
            .header(AUTHORIZATION, self.authorization.clone())
            .header(CONTENT_TYPE, "application/json");
        if let Some(channel) = &self.channel {
            request = request.header(CHANNEL_HEADER, channel.clone());
        }
        let request = request
            .body(Full::new(body))
            .map_err(|e| TransportError::permanent(format!("could not build the HEC request: {e}")))?;
        let exchange = async {
            let response = self.client.request(request).await.map_err(|e| {
                TransportError::retryable(format!(
                    "could not reach the Splunk HEC: {}",
                    crate::http_client::error_chain(&e)
                ))
            })?;
            let status = response.status();
            let body = Limited::new(response.into_body(), MAX_REPLY_BYTES)
                .collect()
                .await
                .map_err(|e| TransportError::retryable(format!("could not read the Splunk HEC reply: {e}")))?;
            Ok((status, body.to_bytes()))
        };
        tokio::time::timeout(self.timeout, exchange).await.map_err(|_| {
            TransportError::retryable(format!("the Splunk HEC did not answer within {:?}", self.timeout))
        })?
    }

    /// `answered 400 (Invalid data format, code 6)`, without anything that echoes the token.
    fn describe(&self, status: StatusCode, reply: &HecReply) -> String {
        let text = reply.text.as_deref().filter(|t| t.len() <= 200 && !t.contains(self.token.expose_secret()));
        match (text, reply.code) {
            (Some(text), Some(code)) => format!("the Splunk HEC answered {status} ({text}, code {code})"),
            (Some(text), None) => format!("the Splunk HEC answered {status} ({text})"),
            (None, Some(code)) => format!("the Splunk HEC answered {status} (code {code})"),
            (None, None) => format!("the Splunk HEC answered {status}"),
        }
    }
}

impl fmt::Debug for SplunkHec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplunkHec")
            .field("event_uri", &self.event_uri)
            .field("token", &"[redacted]")
            .field("ack", &self.channel.is_some())
            .field("meta", &self.meta)
            .finish_non_exhaustive()
    }
}

#[async_trait]
impl Transport for SplunkHec {
    fn name(&self) -> &str {
        "splunk"
    }

    fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
        event::encode(&self.meta, batch)
            .map(Bytes::from)
            .map_err(|e| TransportError::permanent(format!("could not encode HEC events: {e}")))
    }

    async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
        if payload.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        let (status, body) = self.post(&self.event_uri, payload.clone()).await?;
        let reply: HecReply = serde_json::from_slice(&body).unwrap_or_default();
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            let message = self.describe(status, &reply);
            if !self.auth_failing.swap(true, Ordering::Relaxed) {
                tracing::warn!(%message, "the Splunk HEC refused the token; records are kept and retried");
            }
            return Err(TransportError::retryable(message));
        }
        self.auth_failing.store(false, Ordering::Relaxed);
        if !status.is_success() {
            let message = self.describe(status, &reply);
            let retry = status.is_server_error()
                || status == StatusCode::TOO_MANY_REQUESTS
                || status == StatusCode::REQUEST_TIMEOUT
                || !status.is_client_error();
            return Err(if retry { TransportError::retryable(message) } else { TransportError::permanent(message) });
        }
        if self.channel.is_none() {
            return Ok(());
        }
        match reply.ack_id {
            Some(id) => ack::wait(self, id).await,
            None => {
                if !self.warned_no_ack.swap(true, Ordering::Relaxed) {
                    tracing::warn!("the Splunk HEC returned no ackId: the token has no indexer acknowledgement");
                }
                Ok(())
            }
        }
    }
}
