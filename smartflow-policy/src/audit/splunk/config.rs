//! `SplunkConfig`: where a Splunk HEC sink sends, with what token and envelope metadata; and
//! `SplunkError` for a configuration it refuses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;
use secrecy::{ExposeSecret as _, SecretString};

/// Path of the JSON event endpoint, under the base URL.
pub(super) const EVENT_PATH: &str = "/services/collector/event";
/// Path of the indexer-acknowledgement endpoint, under the base URL.
pub(super) const ACK_PATH: &str = "/services/collector/ack";

/// Settings of one Splunk HTTP Event Collector sink.
#[derive(Clone)]
pub struct SplunkConfig {
    /// Base URL of the collector (`https://splunk:8088`); events go to
    /// `{url}/services/collector/event`. `http://` is accepted only for a loopback host.
    pub url: String,
    /// The HEC token, sent as `Authorization: Splunk <token>`; never logged or shown.
    pub token: SecretString,
    /// The index (`index` in each envelope); `None` uses the token's default index.
    pub index: Option<String>,
    /// The envelope `source` (default `smartflow`).
    pub source: String,
    /// The envelope `sourcetype` (default `smartflow:audit`).
    pub sourcetype: String,
    /// The envelope `host` (default: this machine's hostname, else `smartflowd`).
    pub host: String,
    /// Indexer acknowledgement: a batch counts as sent only once Splunk reports it indexed.
    pub ack: bool,
    /// How long to wait for the acknowledgement of one batch (default 60 s); past it the send
    /// fails as retryable (the batch is sent again: at-least-once, duplicates possible).
    pub ack_timeout: Duration,
    /// Delay before the first acknowledgement poll and between the next few (default 1 s); it
    /// then doubles, up to eight times this.
    pub ack_poll_interval: Duration,
    /// Connect-and-exchange timeout of one HTTP request (default 10 s).
    pub timeout: Duration,
    /// Certificate authorities trusted for an `https` collector (empty by default: the caller
    /// supplies the system's roots or its own CA).
    pub root_certificates: Arc<RootCertStore>,
}

impl SplunkConfig {
    /// A configuration with the defaults: no index (the token's), source `smartflow`,
    /// sourcetype `smartflow:audit`, this host's name, no acknowledgement, 10 s request timeout.
    pub fn new(url: impl Into<String>, token: SecretString) -> Self {
        Self {
            url: url.into(),
            token,
            index: None,
            source: "smartflow".to_owned(),
            sourcetype: "smartflow:audit".to_owned(),
            host: local_hostname(),
            ack: false,
            ack_timeout: Duration::from_secs(60),
            ack_poll_interval: Duration::from_secs(1),
            timeout: Duration::from_secs(10),
            root_certificates: Arc::new(RootCertStore::empty()),
        }
    }

    /// Checks the settings; returns the base URL with no trailing `/`.
    pub(super) fn validate(&self) -> Result<String, SplunkError> {
        let bad = |what: &str| Err(SplunkError::Config(what.to_owned()));
        let base = self.url.trim().trim_end_matches('/').to_owned();
        let uri: http::Uri =
            base.parse().map_err(|_| SplunkError::Config("the HEC URL is not a valid URL".to_owned()))?;
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match uri.scheme_str() {
            _ if host.is_empty() => return bad("the HEC URL has no host"),
            Some("https") => {}
            Some("http") if loopback => {}
            _ => return bad("the HEC URL must be https (http only on a loopback address)"),
        }
        if uri.query().is_some() || !matches!(uri.path(), "" | "/") {
            return bad("the HEC URL must be a base URL (scheme, host and port only)");
        }
        let token = self.token.expose_secret();
        if token.is_empty() || !token.bytes().all(|b| b.is_ascii_graphic()) {
            return bad("the HEC token is empty or holds characters a header cannot carry");
        }
        if [&self.source, &self.sourcetype, &self.host].iter().any(|s| s.trim().is_empty())
            || self.index.as_deref().is_some_and(|i| i.trim().is_empty())
        {
            return bad("source, sourcetype, host and index (when set) must be non-empty");
        }
        if [self.timeout, self.ack_timeout, self.ack_poll_interval].contains(&Duration::ZERO) {
            return bad("timeout, ack_timeout and ack_poll_interval must be positive");
        }
        Ok(base)
    }
}

impl fmt::Debug for SplunkConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SplunkConfig")
            .field("url", &self.url)
            .field("token", &"[redacted]")
            .field("index", &self.index)
            .field("source", &self.source)
            .field("sourcetype", &self.sourcetype)
            .field("host", &self.host)
            .field("ack", &self.ack)
            .field("ack_timeout", &self.ack_timeout)
            .field("ack_poll_interval", &self.ack_poll_interval)
            .field("timeout", &self.timeout)
            .field("root_certificates", &self.root_certificates.len())
            .finish()
    }
}

/// Why a Splunk sink could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SplunkError {
    /// The configuration is invalid.
    #[error("invalid Splunk HEC configuration: {0}")]
    Config(String),
}

/// This machine's hostname when it is cheap to read (Linux `/proc`, or `$HOSTNAME`), else
/// `smartflowd`.
fn local_hostname() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty() && h.len() <= 253)
        .unwrap_or_else(|| "smartflowd".to_owned())
}
