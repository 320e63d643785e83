//! W3C trace propagation end to end: a request that arrives with a `traceparent` reaches an
//! OpenAI-dialect upstream (a local hyper server) with a `traceparent` of the same trace whose
//! parent is the gateway's own span, on chat, streamed chat and embeddings; the audit record
//! names the same trace and span.

#![expect(clippy::unwrap_used, reason = "test support code: a failed set-up step is a failed test")]

use std::convert::Infallible;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use smartflow_core::providers::{OpenAiConfig, OpenAiProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::{
    Audit, AuditRecord, ChatRequest, EmbeddingRequest, Endpoint, Error, Gateway, ModelKind, Principal, RequestContext,
    Target, TraceContext,
};

const INCOMING: &str = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

#[derive(Default)]
struct Memory(Mutex<Vec<AuditRecord>>);

#[async_trait]
impl Audit for Memory {
    fn name(&self) -> &str {
        "memory"
    }
    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        self.0.lock().unwrap().push(record.clone());
        Ok(())
    }
}

/// An OpenAI-compatible upstream on 127.0.0.1 that records each request's path and
/// `traceparent` and answers chat (JSON or SSE, as asked) and embeddings.
async fn upstream() -> (String, Arc<Mutex<Vec<(String, Option<String>)>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let record = record.clone();
            let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let record = record.clone();
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.unwrap().to_bytes();
                    let traceparent = parts.headers.get("traceparent").map(|v| v.to_str().unwrap().to_owned());
                    record.lock().unwrap().push((parts.uri.path().to_owned(), traceparent));
                    let stream = serde_json::from_slice::<serde_json::Value>(&body).unwrap()["stream"] == true;
                    let (content_type, answer) = if parts.uri.path().ends_with("/embeddings") {
                        ("application/json", r#"{"object":"list","model":"e","data":[{"object":"embedding","index":0,"embedding":[0.1,0.2]}],"usage":{"prompt_tokens":2,"total_tokens":2}}"#.to_owned())
                    } else if stream {
                        ("text/event-stream", concat!(
                            r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"},"finish_reason":"stop"}]}"#, "\n\n",
                            r#"data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"up","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#, "\n\n",
                            "data: [DONE]\n\n").to_owned())
                    } else {
                        ("application/json", r#"{"id":"c1","object":"chat.completion","created":1,"model":"up","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}"#.to_owned())
                    };
                    let response = http::Response::builder()
                        .header(http::header::CONTENT_TYPE, content_type)
                        .body(Full::new(Bytes::from(answer)))
                        .unwrap();
                    Ok::<_, Infallible>(response)
                }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(tcp);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (base, seen)
}

fn gateway(base: &str, audit: Arc<Memory>) -> Gateway {
    let provider = Arc::new(OpenAiProvider::new("openai", OpenAiConfig::new(base).unwrap()).unwrap());
    let mut table = ModelTable::new("test");
    table.insert(VirtualModel::new("m", ModelKind::Chat, vec![Arc::new(Target::new(provider.clone(), "up"))])).unwrap();
    table.insert(VirtualModel::new("e", ModelKind::Embedding, vec![Arc::new(Target::new(provider, "up-e"))])).unwrap();
    Gateway::builder().router(table).shared_audit(audit).build().unwrap()
}

/// A context continuing the caller's trace `INCOMING`.
fn ctx(endpoint: Endpoint) -> RequestContext {
    let mut ctx = RequestContext::new("r1", Arc::new(Principal::new("k1")), endpoint);
    ctx.trace = TraceContext::from_traceparent(Some(INCOMING));
    ctx
}

fn chat(stream: bool) -> ChatRequest {
    let body = format!(r#"{{"model":"m","stream":{stream},"messages":[{{"role":"user","content":"hello"}}]}}"#);
    ChatRequest::from_slice(body.as_bytes()).unwrap()
}

/// Checks the upstream's `traceparent`: the caller's trace, the gateway's span (`span_id`) as
/// parent, sampled.
fn check(traceparent: Option<&str>, span_id: &str) {
    assert_eq!(traceparent, Some(format!("00-{TRACE_ID}-{span_id}-01").as_str()));
    assert_ne!(span_id, "00f067aa0ba902b7", "the gateway's span is a child of the caller's");
}

#[tokio::test]
async fn the_upstream_receives_the_requests_trace_on_chat_streams_and_embeddings() {
    let (base, seen) = upstream().await;
    let audit = Arc::new(Memory::default());
    let gw = gateway(&base, audit.clone());

    let c = ctx(Endpoint::ChatCompletions);
    let span = c.trace.span_id_hex();
    gw.chat(c, chat(false)).await.unwrap();
    let (path, tp) = seen.lock().unwrap()[0].clone();
    assert_eq!(path, "/v1/chat/completions");
    check(tp.as_deref(), &span);

    let c = ctx(Endpoint::ChatCompletions);
    let stream_span = c.trace.span_id_hex();
    let served = gw.chat_stream(c, chat(true)).await.unwrap();
    let _chunks: Vec<_> = served.value.collect().await;
    check(seen.lock().unwrap()[1].1.as_deref(), &stream_span);

    let c = ctx(Endpoint::Embeddings);
    let embed_span = c.trace.span_id_hex();
    let req = EmbeddingRequest::from_slice(br#"{"model":"e","input":"hello"}"#).unwrap();
    gw.embeddings(c, req).await.unwrap();
    let (path, tp) = seen.lock().unwrap()[2].clone();
    assert_eq!(path, "/v1/embeddings");
    check(tp.as_deref(), &embed_span);

    // The audit record names the same trace and span, so exported spans line up.
    for _ in 0..200 {
        if audit.0.lock().unwrap().len() >= 3 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let records = audit.0.lock().unwrap().clone();
    let mut spans: Vec<_> = records.iter().map(|r| (r.trace_id.as_str(), r.span_id.clone())).collect();
    spans.sort();
    let mut want = vec![(TRACE_ID, span), (TRACE_ID, stream_span), (TRACE_ID, embed_span)];
    want.sort();
    assert_eq!(spans, want);
}
