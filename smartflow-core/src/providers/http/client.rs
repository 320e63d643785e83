//! `UpstreamClient`: the pooled hyper-util HTTP(S) client behind every HTTP dialect, with
//! connect, first-byte and total timeouts and bounded bodies. It knows transport failures only;
//! each dialect turns a non-2xx answer into an error with [`UpstreamClient::error_parts`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{HeaderName, HeaderValue};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::connect::proxy::Tunnel;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use super::config::HttpConfig;
use crate::error::{Error, ErrorKind};

type Direct = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;
type Proxied = Client<HttpsConnector<Tunnel<HttpConnector>>, Full<Bytes>>;

/// Direct connections, or connections tunnelled through an egress proxy.
#[derive(Clone)]
enum Pool {
    Direct(Direct),
    Proxied(Proxied),
}

/// A pooled client for one upstream.
#[derive(Clone)]
pub struct UpstreamClient {
    client: Pool,
    first_byte_timeout: Duration,
    total_timeout: Duration,
    idle_timeout: Duration,
    max_response_bytes: usize,
    max_event_bytes: usize,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient").finish_non_exhaustive()
    }
}

/// The longest `retry-after` honoured from an upstream (longer ones are capped to it).
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// An upstream's `retry-after-ms`, else `retry-after` in seconds, capped at an hour. (The
/// per-model `max_retry_after` decides whether the gateway waits that long.)
pub fn retry_after(headers: &http::HeaderMap) -> Option<Duration> {
    let get = |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<f64>().ok());
    let secs = get("retry-after-ms")
        .map(|ms| ms / 1000.0)
        .or_else(|| get("retry-after"))
        .filter(|s| s.is_finite() && *s >= 0.0)?;
    Some(Duration::from_secs_f64(secs.min(MAX_RETRY_AFTER.as_secs_f64())))
}

fn invalid_body(what: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, format!("upstream returned an invalid {what}"))
        .with_code("invalid_upstream_response")
}

fn timeout_error() -> Error {
    Error::new(ErrorKind::UpstreamTimeout, "the upstream provider did not answer in time").with_code("upstream_timeout")
}

impl UpstreamClient {
    /// A client with `config`'s timeouts, pool and trust roots (TCP_NODELAY on).
    pub fn new(config: &HttpConfig) -> Result<Self, Error> {
        let mut http = HttpConnector::new();
        http.set_nodelay(true);
        http.enforce_http(false);
        http.set_connect_timeout(Some(config.connect_timeout));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let tls = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|_| Error::internal("could not set up TLS"))?
            .with_root_certificates(config.root_certificates.clone())
            .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2();
        let mut builder = Client::builder(TokioExecutor::new());
        builder
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host);
        let client = match &config.proxy {
            None => Pool::Direct(builder.build(https.wrap_connector(http))),
            Some(proxy) => {
                let mut tunnel = Tunnel::new(proxy.clone(), http);
                if let Some(creds) = &config.proxy_credentials {
                    use base64::Engine as _;
                    use secrecy::ExposeSecret as _;
                    let token = base64::engine::general_purpose::STANDARD.encode(creds.expose_secret());
                    let value = HeaderValue::try_from(format!("Basic {token}"))
                        .map_err(|_| Error::internal("proxy credentials are not a valid header value"))?;
                    tunnel = tunnel.with_auth(value);
                }
                Pool::Proxied(builder.build(https.wrap_connector(tunnel)))
            }
        };
        Ok(Self {
            client,
            first_byte_timeout: config.first_byte_timeout,
            total_timeout: config.total_timeout,
            idle_timeout: config.idle_timeout,
            max_response_bytes: config.max_response_bytes,
            max_event_bytes: config.max_event_bytes,
        })
    }

    /// The stream idle timeout.
    pub fn idle_timeout(&self) -> Duration {
        self.idle_timeout
    }

    /// The largest stream event accepted.
    pub fn max_event_bytes(&self) -> usize {
        self.max_event_bytes
    }

    /// POSTs `body` to `url` with `headers` and waits for the response head (first-byte
    /// timeout). Any status comes back; only transport failures are errors.
    pub async fn post(
        &self,
        url: &str,
        body: Bytes,
        headers: &[(HeaderName, HeaderValue)],
    ) -> Result<http::Response<Incoming>, Error> {
        let mut builder = http::Request::post(url);
        for (name, value) in headers {
            builder = builder.header(name, value);
        }
        let req = builder.body(Full::new(body)).map_err(|_| Error::internal("could not build the upstream request"))?;
        let sent = async {
            match &self.client {
                Pool::Direct(c) => c.request(req).await,
                Pool::Proxied(c) => c.request(req).await,
            }
        };
        match tokio::time::timeout(self.first_byte_timeout, sent).await {
            Err(_) => Err(timeout_error()),
            Ok(Err(e)) => {
                let message = if e.is_connect() {
                    "could not connect to the upstream provider"
                } else {
                    "the connection to the upstream provider failed"
                };
                tracing::debug!(error = %e, "upstream request failed");
                Err(Error::new(ErrorKind::UpstreamConnect, message).with_code("upstream_unreachable"))
            }
            Ok(Ok(r)) => Ok(r),
        }
    }

    /// Splits a non-2xx response into status, headers and (at most 64 KiB of) body.
    pub async fn error_parts(&self, response: http::Response<Incoming>) -> (u16, http::HeaderMap, Bytes) {
        let status = response.status().as_u16();
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, 64 << 10).collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        (status, parts.headers, bytes)
    }

    /// Reads a whole body, bounded by the size limit.
    pub async fn collect(&self, body: Incoming) -> Result<Bytes, Error> {
        match Limited::new(body, self.max_response_bytes).collect().await {
            Ok(c) => Ok(c.to_bytes()),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => {
                Err(Error::new(ErrorKind::UpstreamProtocol, "upstream response exceeds the size limit")
                    .with_code("invalid_upstream_response"))
            }
            Err(_) => Err(Error::new(ErrorKind::UpstreamConnect, "the connection to the upstream provider failed")
                .with_code("upstream_unreachable")),
        }
    }

    /// A whole non-streamed exchange within the total timeout: `send` (which maps non-2xx answers
    /// to the dialect's errors), then the body read and parsed as JSON. Returns the response
    /// headers with it. A body that is not the expected JSON is an `invalid_upstream_response`
    /// naming `what`.
    pub async fn exchange_json<T: serde::de::DeserializeOwned>(
        &self,
        send: impl Future<Output = Result<http::Response<Incoming>, Error>>,
        what: &'static str,
    ) -> Result<(http::HeaderMap, T), Error> {
        let (headers, bytes) = self
            .within_total(async {
                let (parts, body) = send.await?.into_parts();
                Ok((parts.headers, self.collect(body).await?))
            })
            .await?;
        let value = serde_json::from_slice(&bytes).map_err(|_| invalid_body(what))?;
        Ok((headers, value))
    }

    /// Parses a collected body as JSON, or an `invalid_upstream_response` naming `what`.
    pub fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &'static str) -> Result<T, Error> {
        serde_json::from_slice(bytes).map_err(|_| invalid_body(what))
    }

    /// Runs a whole non-streamed exchange within the total timeout.
    pub async fn within_total<T>(&self, exchange: impl Future<Output = Result<T, Error>>) -> Result<T, Error> {
        tokio::time::timeout(self.total_timeout, exchange).await.unwrap_or_else(|_| Err(timeout_error()))
    }
}
