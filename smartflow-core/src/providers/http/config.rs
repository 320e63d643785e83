//! `HttpConfig`: an upstream's base URL, timeouts, size limits, pool and trust roots.

use std::sync::Arc;
use std::time::Duration;

use rustls::RootCertStore;

use crate::error::Error;

/// Connection settings of one upstream, shared by every dialect.
#[derive(Debug, Clone)]
pub struct HttpConfig {
    base_url: String,
    /// TCP (and TLS) connect timeout.
    pub connect_timeout: Duration,
    /// Time from sending the request to the response headers.
    pub first_byte_timeout: Duration,
    /// Longest gap between two stream frames.
    pub idle_timeout: Duration,
    /// Whole non-streamed exchange.
    pub total_timeout: Duration,
    /// Largest non-streamed response body accepted.
    pub max_response_bytes: usize,
    /// Largest single stream event accepted.
    pub max_event_bytes: usize,
    /// Idle pooled connections kept per host.
    pub pool_max_idle_per_host: usize,
    /// How long an idle pooled connection is kept.
    pub pool_idle_timeout: Duration,
    /// Certificate authorities trusted for `https` upstreams. Empty by default: this crate reads
    /// no files, so the caller supplies the system's roots (the daemon loads them) or its own CA
    /// bundle. Plain-`http` upstreams need none.
    pub root_certificates: Arc<RootCertStore>,
    /// An HTTP proxy (`http://host:port`) to tunnel every connection through with `CONNECT`
    /// (closed networks with an egress proxy). `None` connects directly.
    pub proxy: Option<http::Uri>,
    /// `user:password` for the proxy (sent as `Proxy-Authorization: Basic`), if it needs one.
    pub proxy_credentials: Option<secrecy::SecretString>,
}

impl HttpConfig {
    /// Settings for `base_url` with the defaults: connect 5 s, first byte 120 s, stream idle
    /// 120 s, total 600 s; bodies up to 32 MiB, events up to 1 MiB.
    pub fn new(base_url: &str) -> Result<Self, Error> {
        Ok(Self {
            base_url: validate_base_url(base_url)?,
            connect_timeout: Duration::from_secs(5),
            first_byte_timeout: Duration::from_secs(120),
            idle_timeout: Duration::from_secs(120),
            total_timeout: Duration::from_secs(600),
            max_response_bytes: 32 << 20,
            max_event_bytes: 1 << 20,
            pool_max_idle_per_host: 256,
            pool_idle_timeout: Duration::from_secs(90),
            root_certificates: Arc::new(RootCertStore::empty()),
            proxy: None,
            proxy_credentials: None,
        })
    }

    /// The base URL, without a trailing slash.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// Checks an egress proxy URL: `http://host:port`, nothing else.
pub fn validate_proxy_url(url: &str) -> Result<http::Uri, Error> {
    let uri: http::Uri = url.parse().map_err(|_| Error::internal("proxy is not a valid URL"))?;
    if uri.scheme_str() != Some("http") || uri.host().is_none_or(str::is_empty) || uri.port_u16().is_none() {
        return Err(Error::internal("proxy must be http://host:port"));
    }
    if uri.authority().is_some_and(|a| a.as_str().contains('@'))
        || uri.path_and_query().is_some_and(|p| p.as_str() != "/")
    {
        return Err(Error::internal("proxy may not carry user info, a path or a query"));
    }
    Ok(uri)
}

/// Checks an upstream base URL: http or https, a host, no user info, query or fragment.
/// Returns it without a trailing slash.
pub fn validate_base_url(base_url: &str) -> Result<String, Error> {
    let uri: http::Uri = base_url.parse().map_err(|_| Error::internal("provider base_url is not a valid URL"))?;
    match uri.scheme_str() {
        Some("http" | "https") => {}
        _ => return Err(Error::internal("provider base_url must start with http:// or https://")),
    }
    if uri.host().is_none_or(str::is_empty) {
        return Err(Error::internal("provider base_url has no host"));
    }
    if uri.query().is_some() || base_url.contains('#') || uri.authority().is_some_and(|a| a.as_str().contains('@')) {
        return Err(Error::internal("provider base_url may not carry a query, fragment or user info"));
    }
    Ok(base_url.trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base_urls_are_checked() {
        assert_eq!(validate_base_url("http://127.0.0.1:8000/v1/").ok().as_deref(), Some("http://127.0.0.1:8000/v1"));
        for bad in ["ftp://h/v1", "h/v1", "http:///v1", "http://u:p@h/v1", "http://h/v1?x=1", "http://h/v1#f"] {
            assert!(validate_base_url(bad).is_err(), "{bad}");
        }
    }
}
