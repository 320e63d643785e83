//! The HTTP listeners: accept loops with a connection limit, hyper HTTP/1.1 connections with
//! header-size, header-count and header-read-timeout limits (hyper gets a timer, or its
//! timeout silently does nothing), TCP_NODELAY, and graceful draining on shutdown.

pub mod admin;
pub mod admin_changes;
mod admin_host;
mod body;
mod cache_api;
pub mod data;
mod messages;
mod respond;
mod sse;
mod usage;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use http::StatusCode;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::sync::{Semaphore, watch};

use crate::config::ServerConfig;
use crate::state::Shared;
use body::BodyLimits;
use respond::Body;

/// Which routes a listener serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Plane {
    /// `/v1/...`, health, metrics.
    Data,
    /// `/api/...`, health, metrics.
    Admin,
}

/// Serves `listener` until `shutdown` turns true; connections are registered with `graceful`.
pub async fn serve(
    listener: TcpListener,
    plane: Plane,
    shared: Arc<Shared>,
    limits: &ServerConfig,
    graceful: &GracefulShutdown,
    mut shutdown: watch::Receiver<bool>,
) {
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout)
        .max_headers(limits.max_headers)
        .max_header_size(limits.max_header_bytes)
        .max_buf_size(limits.max_header_bytes.max(8192))
        .keep_alive(true);
    let body_limits = BodyLimits {
        max_bytes: limits.max_body_bytes,
        timeout: limits.body_read_timeout,
        max_json_depth: limits.max_json_depth,
    };
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => match p { Ok(p) => p, Err(_) => return },
            _ = shutdown.changed() => return,
        };
        let (stream, _peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(conn) => conn,
                Err(e) => {
                    // EMFILE and friends: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => return,
        };
        let _ = stream.set_nodelay(true);
        let shared = shared.clone();
        let service = service_fn(move |req| {
            let shared = shared.clone();
            async move {
                let resp = match plane {
                    Plane::Data => data::handle(shared, body_limits, req).await,
                    Plane::Admin => admin::handle(shared, req).await,
                };
                Ok::<_, Infallible>(resp)
            }
        });
        let conn = graceful.watch(http.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
            drop(permit);
        });
    }
}

/// Binds a listener, naming the address on failure.
pub async fn bind(addr: SocketAddr) -> anyhow::Result<TcpListener> {
    TcpListener::bind(addr).await.map_err(|e| anyhow::anyhow!("cannot listen on {addr}: {e}"))
}

fn readiness(shared: &Shared, request_id: &str) -> http::Response<Body> {
    if shared.draining.load(Ordering::Relaxed) {
        respond::json(StatusCode::SERVICE_UNAVAILABLE, &b"{\"status\":\"draining\"}"[..], request_id)
    } else if shared.gateway.load().audit_ready().is_err() {
        respond::json(StatusCode::SERVICE_UNAVAILABLE, &b"{\"status\":\"audit_unavailable\"}"[..], request_id)
    } else {
        respond::json(StatusCode::OK, &b"{\"status\":\"ready\"}"[..], request_id)
    }
}

fn metrics(shared: &Shared, request_id: &str) -> http::Response<Body> {
    let mut resp = http::Response::new(respond::full(shared.metrics.render()));
    resp.headers_mut().insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    respond::set_request_id(&mut resp, request_id);
    resp
}
