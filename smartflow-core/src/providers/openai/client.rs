//! `UpstreamClient`: the pooled hyper-util HTTP(S) client behind the OpenAI adapter, with
//! connect, first-byte and total timeouts and a bounded response body.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use secrecy::ExposeSecret;

use super::config::OpenAiConfig;
use super::errors;
use crate::error::{Error, ErrorKind};

type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A pooled client for one upstream.
#[derive(Clone)]
pub(super) struct UpstreamClient {
    client: HttpsClient,
    auth: Option<http::HeaderValue>,
    first_byte_timeout: Duration,
    total_timeout: Duration,
    max_response_bytes: usize,
}

impl std::fmt::Debug for UpstreamClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UpstreamClient").finish_non_exhaustive()
    }
}

impl UpstreamClient {
    pub(super) fn new(config: &OpenAiConfig) -> Result<Self, Error> {
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
        let builder = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(tls);
        let connector = builder.https_or_http().enable_http1().enable_http2().wrap_connector(http);
        let client = Client::builder(TokioExecutor::new())
            .timer(TokioTimer::new())
            .pool_timer(TokioTimer::new())
            .pool_idle_timeout(config.pool_idle_timeout)
            .pool_max_idle_per_host(config.pool_max_idle_per_host)
            .build(connector);
        let auth = match &config.api_key {
            Some(key) => {
                let mut v = http::HeaderValue::try_from(format!("Bearer {}", key.expose_secret()))
                    .map_err(|_| Error::internal("provider api key contains characters not allowed in a header"))?;
                v.set_sensitive(true);
                Some(v)
            }
            None => None,
        };
        Ok(Self {
            client,
            auth,
            first_byte_timeout: config.first_byte_timeout,
            total_timeout: config.total_timeout,
            max_response_bytes: config.max_response_bytes,
        })
    }

    fn request(
        &self,
        url: &str,
        body: Bytes,
        request_id: &str,
        accept: &'static str,
    ) -> Result<http::Request<Full<Bytes>>, Error> {
        let mut builder = http::Request::post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, accept);
        if let Ok(id) = http::HeaderValue::from_str(request_id) {
            builder = builder.header("x-request-id", id);
        }
        if let Some(auth) = &self.auth {
            builder = builder.header(http::header::AUTHORIZATION, auth.clone());
        }
        builder.body(Full::new(body)).map_err(|_| Error::internal("could not build the upstream request"))
    }

    /// Sends and waits for the response headers (first-byte timeout); non-2xx become errors.
    async fn send(&self, req: http::Request<Full<Bytes>>) -> Result<http::Response<Incoming>, Error> {
        let response = match tokio::time::timeout(self.first_byte_timeout, self.client.request(req)).await {
            Err(_) => {
                return Err(Error::new(ErrorKind::UpstreamTimeout, "the upstream provider did not answer in time")
                    .with_code("upstream_timeout"));
            }
            Ok(Err(e)) => {
                let message = if e.is_connect() {
                    "could not connect to the upstream provider"
                } else {
                    "the connection to the upstream provider failed"
                };
                tracing::debug!(error = %e, "upstream request failed");
                return Err(Error::new(ErrorKind::UpstreamConnect, message).with_code("upstream_unreachable"));
            }
            Ok(Ok(r)) => r,
        };
        let status = response.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(response);
        }
        let (parts, body) = response.into_parts();
        let bytes = Limited::new(body, 64 << 10).collect().await.map(|c| c.to_bytes()).unwrap_or_default();
        Err(errors::from_status(status, &parts.headers, &bytes))
    }

    /// Reads a whole body, bounded by the size limit.
    pub(super) async fn collect(&self, body: Incoming) -> Result<Bytes, Error> {
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

    /// POSTs JSON and returns the whole 2xx body, all within the total timeout.
    pub(super) async fn post_json(&self, url: &str, body: Bytes, request_id: &str) -> Result<Bytes, Error> {
        let req = self.request(url, body, request_id, "application/json")?;
        let exchange = async {
            let response = self.send(req).await?;
            self.collect(response.into_body()).await
        };
        tokio::time::timeout(self.total_timeout, exchange).await.unwrap_or_else(|_| {
            Err(Error::new(ErrorKind::UpstreamTimeout, "the upstream provider did not answer in time")
                .with_code("upstream_timeout"))
        })
    }

    /// POSTs JSON asking for an event stream; returns once the 2xx headers arrived.
    pub(super) async fn post_stream(
        &self,
        url: &str,
        body: Bytes,
        request_id: &str,
    ) -> Result<http::Response<Incoming>, Error> {
        let req = self.request(url, body, request_id, "text/event-stream")?;
        self.send(req).await
    }
}
