//! An in-process OTLP/HTTP receiver on 127.0.0.1 (tokio `TcpListener` + hyper) that checks what
//! a collector checks — `POST`, the signal path, `Content-Type: application/x-protobuf` — decodes
//! the body with the `opentelemetry-proto` messages, records every export, and answers with
//! scripted statuses (200 by default, with a protobuf `Export*ServiceResponse`).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper::body::Incoming;
use opentelemetry_proto::tonic::collector::metrics::v1::{ExportMetricsServiceRequest, ExportMetricsServiceResponse};
use opentelemetry_proto::tonic::collector::trace::v1::{
    ExportTracePartialSuccess, ExportTraceServiceRequest, ExportTraceServiceResponse,
};
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;

/// One export the receiver accepted and decoded.
#[derive(Debug, Clone)]
pub(super) struct Export {
    pub(super) headers: http::HeaderMap,
    pub(super) traces: Option<ExportTraceServiceRequest>,
    pub(super) metrics: Option<ExportMetricsServiceRequest>,
}

/// What the receiver does with the next request.
#[derive(Debug, Clone, Copy)]
pub(super) enum Reply {
    /// Answer this status (2xx: decode and record first).
    Status(u16),
    /// Accept, but report this many spans rejected.
    Partial(i64),
    /// Never answer.
    Hang,
}

/// A running receiver.
pub(super) struct Receiver {
    /// Its base URL (`http://127.0.0.1:PORT`).
    pub(super) url: String,
    exports: Arc<Mutex<Vec<Export>>>,
    replies: Arc<Mutex<VecDeque<Reply>>>,
    /// Requests seen, accepted or not.
    hits: Arc<Mutex<usize>>,
}

impl Receiver {
    /// Starts a receiver answering `replies` in order, then 200.
    pub(super) async fn start(replies: Vec<Reply>) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let receiver =
            Self { url, exports: Arc::default(), replies: Arc::new(Mutex::new(replies.into())), hits: Arc::default() };
        let (exports, replies, hits) = (receiver.exports.clone(), receiver.replies.clone(), receiver.hits.clone());
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let (exports, replies, hits) = (exports.clone(), replies.clone(), hits.clone());
                let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                    let (exports, replies, hits) = (exports.clone(), replies.clone(), hits.clone());
                    async move {
                        *hits.lock().unwrap() += 1;
                        let reply = replies.lock().unwrap().pop_front().unwrap_or(Reply::Status(200));
                        Ok::<_, Infallible>(handle(req, reply, &exports).await)
                    }
                });
                tokio::spawn(async move {
                    let io = hyper_util::rt::TokioIo::new(tcp);
                    let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
                });
            }
        });
        receiver
    }

    /// The exports accepted so far.
    pub(super) fn exports(&self) -> Vec<Export> {
        self.exports.lock().unwrap().clone()
    }

    /// Requests received so far (accepted or not).
    pub(super) fn hits(&self) -> usize {
        *self.hits.lock().unwrap()
    }

    /// Every span of every accepted trace export, in order.
    pub(super) fn spans(&self) -> Vec<Span> {
        self.exports()
            .into_iter()
            .filter_map(|e| e.traces)
            .flat_map(|t| t.resource_spans)
            .flat_map(|r| r.scope_spans)
            .flat_map(|s| s.spans)
            .collect()
    }

    /// Waits (up to 5 s) until `n` spans arrived.
    pub(super) async fn wait_spans(&self, n: usize) -> Vec<Span> {
        for _ in 0..500 {
            if self.spans().len() >= n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        self.spans()
    }
}

async fn handle(
    req: http::Request<Incoming>,
    reply: Reply,
    exports: &Mutex<Vec<Export>>,
) -> http::Response<Full<Bytes>> {
    let respond = |status: u16, body: Vec<u8>| {
        http::Response::builder()
            .status(status)
            .header(http::header::CONTENT_TYPE, "application/x-protobuf")
            .body(Full::new(Bytes::from(body)))
            .unwrap()
    };
    let (parts, body) = req.into_parts();
    let body = body.collect().await.unwrap().to_bytes();
    let status = match reply {
        Reply::Hang => std::future::pending().await,
        Reply::Status(status) => status,
        Reply::Partial(_) => 200,
    };
    if !(200..300).contains(&status) {
        return respond(status, Vec::new());
    }
    if parts.method != http::Method::POST {
        return respond(405, Vec::new());
    }
    if parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) != Some("application/x-protobuf") {
        return respond(415, Vec::new());
    }
    let mut export = Export { headers: parts.headers, traces: None, metrics: None };
    match parts.uri.path() {
        "/v1/traces" | "/otlp/v1/traces" => match ExportTraceServiceRequest::decode(body) {
            Ok(t) => export.traces = Some(t),
            Err(_) => return respond(400, Vec::new()),
        },
        "/v1/metrics" => match ExportMetricsServiceRequest::decode(body) {
            Ok(m) => export.metrics = Some(m),
            Err(_) => return respond(400, Vec::new()),
        },
        _ => return respond(404, Vec::new()),
    }
    let is_traces = export.traces.is_some();
    exports.lock().unwrap().push(export);
    let answer = if !is_traces {
        ExportMetricsServiceResponse::default().encode_to_vec()
    } else if let Reply::Partial(rejected) = reply {
        let partial = ExportTracePartialSuccess { rejected_spans: rejected, error_message: "bad span".to_owned() };
        ExportTraceServiceResponse { partial_success: Some(partial) }.encode_to_vec()
    } else {
        ExportTraceServiceResponse::default().encode_to_vec()
    };
    respond(status, answer)
}
