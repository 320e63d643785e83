//! `OtlpConfig`: where an OTLP/HTTP sink sends (a collector's base URL), with which headers and
//! resource; and `OtlpError` for a configuration it refuses.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Uri};
use rustls::RootCertStore;
use secrecy::{ExposeSecret as _, SecretString};

/// Settings of one OTLP/HTTP (binary protobuf) sink.
#[derive(Clone)]
pub struct OtlpConfig {
    /// Base URL of the collector (`https://otel-collector:4318`, or a vendor's OTLP base such
    /// as `https://otlp.example.com/otlp`): spans go to `{endpoint}/v1/traces`, metrics to
    /// `{endpoint}/v1/metrics`. `http://` is accepted only for a loopback host.
    pub endpoint: String,
    /// Extra request headers, typically auth (`Authorization: Bearer ...`, `x-honeycomb-team`,
    /// `DD-API-KEY`). Values are secrets: never logged, redacted in `Debug`.
    pub headers: Vec<(String, SecretString)>,
    /// The `service.name` resource attribute (default `smartflowd`).
    pub service_name: String,
    /// Connect-and-exchange timeout of one export (default 10 s).
    pub timeout: Duration,
    /// Certificate authorities trusted for an `https` collector (empty by default: the caller
    /// supplies the system's roots or its own CA).
    pub root_certificates: Arc<RootCertStore>,
}

impl OtlpConfig {
    /// A configuration for the collector at `endpoint` with the defaults: no headers, service
    /// `smartflowd`, 10 s timeout, no trusted roots.
    pub fn new(endpoint: impl Into<String>) -> Self {
        Self {
            endpoint: endpoint.into(),
            headers: Vec::new(),
            service_name: "smartflowd".to_owned(),
            timeout: Duration::from_secs(10),
            root_certificates: Arc::new(RootCertStore::empty()),
        }
    }

    /// Checks the settings; returns the URI of `{endpoint}{path}` and the headers to send (values
    /// marked sensitive).
    pub(super) fn validate(&self, path: &str) -> Result<(Uri, Vec<(HeaderName, HeaderValue)>), OtlpError> {
        let bad = |what: &str| OtlpError::Config(what.to_owned());
        let base = self.endpoint.trim().trim_end_matches('/');
        let uri: Uri = base.parse().map_err(|_| bad("the endpoint is not a valid URL"))?;
        let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
        let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
        match uri.scheme_str() {
            _ if host.is_empty() => return Err(bad("the endpoint has no host")),
            Some("https") => {}
            Some("http") if loopback => {}
            _ => return Err(bad("the endpoint must be https (http only on a loopback address)")),
        }
        if uri.query().is_some() {
            return Err(bad("the endpoint must be a base URL without a query"));
        }
        if self.service_name.trim().is_empty() {
            return Err(bad("service_name is empty"));
        }
        if self.timeout.is_zero() {
            return Err(bad("timeout must be positive"));
        }
        let headers = self
            .headers
            .iter()
            .map(|(name, value)| {
                let name = HeaderName::try_from(name.as_str())
                    .map_err(|_| OtlpError::Config(format!("{name:?} is not a valid header name")))?;
                let mut value = HeaderValue::try_from(value.expose_secret())
                    .map_err(|_| OtlpError::Config(format!("the value of header {name} cannot be sent")))?;
                value.set_sensitive(true);
                Ok((name, value))
            })
            .collect::<Result<Vec<_>, OtlpError>>()?;
        let uri = format!("{base}{path}").parse().map_err(|_| bad("the endpoint is not a valid URL"))?;
        Ok((uri, headers))
    }
}

impl fmt::Debug for OtlpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let headers: Vec<(&str, &str)> = self.headers.iter().map(|(n, _)| (n.as_str(), "[redacted]")).collect();
        f.debug_struct("OtlpConfig")
            .field("endpoint", &self.endpoint)
            .field("headers", &headers)
            .field("service_name", &self.service_name)
            .field("timeout", &self.timeout)
            .field("root_certificates", &self.root_certificates.len())
            .finish()
    }
}

/// Why an OTLP sink could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OtlpError {
    /// The configuration is invalid.
    #[error("invalid OTLP configuration: {0}")]
    Config(String),
}
