//! The one small HTTPS client the policy crate's outbound calls share (JWKS fetches, Splunk HEC,
//! OTLP): hyper-util's pooled client over rustls with ring, the roots it is handed (no system
//! store read here), TCP_NODELAY, a connect timeout, HTTP/1.1.

use std::sync::Arc;
use std::time::Duration;

use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::RootCertStore;

/// A pooled client sending bodies of type `B`.
pub(crate) type HttpsClient<B> = Client<HttpsConnector<HttpConnector>, B>;

/// A client trusting `roots`, connecting within `connect_timeout`, keeping up to `idle` idle
/// connections per host for 30 s.
pub(crate) fn client<B>(
    roots: &Arc<RootCertStore>,
    connect_timeout: Duration,
    idle: usize,
) -> Result<HttpsClient<B>, String>
where
    B: http_body::Body + Send + 'static + Unpin,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(Some(connect_timeout));
    let tls = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .map_err(|_| "could not set up TLS".to_owned())?
        .with_root_certificates(roots.clone())
        .with_no_client_auth();
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(tls)
        .https_or_http()
        .enable_http1()
        .wrap_connector(http);
    let mut builder = Client::builder(TokioExecutor::new());
    builder.pool_timer(TokioTimer::new()).pool_idle_timeout(Duration::from_secs(30)).pool_max_idle_per_host(idle);
    Ok(builder.build(https))
}

/// An error and its sources (`client error (Connect): tcp connect error: Connection refused`).
pub(crate) fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        text.push_str(": ");
        text.push_str(&e.to_string());
        source = e.source();
    }
    text
}
