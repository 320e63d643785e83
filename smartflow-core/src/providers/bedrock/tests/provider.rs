//! The provider against a local HTTP server: the request it sends (path, headers, body, and a
//! signature recomputed from what the server received), answers, errors and streams (complete,
//! truncated, stalled, failing mid-stream).

use std::collections::VecDeque;
use std::convert::Infallible;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures_util::StreamExt;
use http_body_util::combinators::BoxBody;
use http_body_util::{BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use serde_json::{Value, json};

use super::super::sigv4::{AwsCredentials, authorization, sha256_hex};
use super::super::{BedrockConfig, BedrockProvider};
use crate::error::ErrorKind;
use crate::provider::{Provider, ProviderCall};
use crate::providers::http::HttpConfig;
use crate::types::{ChatChunk, ChatRequest};

const MODEL: &str = "anthropic.claude-3-haiku-20240307-v1:0";
/// The `traceparent` every test call carries.
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

/// A response body the test server sends: whole, or these bytes and then nothing, forever.
enum Body {
    Whole(Vec<u8>),
    Stall(Vec<u8>),
}

/// A canned answer: status, headers, body.
type Canned = (u16, Vec<(&'static str, &'static str)>, Body);

/// What the server received.
struct Seen {
    path: String,
    headers: http::HeaderMap,
    body: Bytes,
}

/// Serves `canned` answers in order on 127.0.0.1; returns the base URL and what it received.
async fn serve(canned: Vec<Canned>) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let queue = Arc::new(Mutex::new(VecDeque::from(canned)));
    let record = seen.clone();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = listener.accept().await {
            let (record, queue) = (record.clone(), queue.clone());
            let service = hyper::service::service_fn(move |req: http::Request<Incoming>| {
                let (record, queue) = (record.clone(), queue.clone());
                async move {
                    let (parts, body) = req.into_parts();
                    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
                    record.lock().unwrap().push(Seen {
                        path: parts.uri.path().to_owned(),
                        headers: parts.headers,
                        body,
                    });
                    let (status, headers, body) = queue.lock().unwrap().pop_front().unwrap();
                    let body: BoxBody<Bytes, Infallible> = match body {
                        Body::Whole(b) => Full::new(Bytes::from(b)).boxed(),
                        Body::Stall(b) => {
                            let first = futures_util::stream::iter([Ok(Frame::data(Bytes::from(b)))]);
                            BodyExt::boxed(StreamBody::new(first.chain(futures_util::stream::pending())))
                        }
                    };
                    let mut resp = http::Response::builder().status(status);
                    for (name, value) in headers {
                        resp = resp.header(name, value);
                    }
                    Ok::<_, Infallible>(resp.body(body).unwrap())
                }
            });
            tokio::spawn(async move {
                let io = hyper_util::rt::TokioIo::new(tcp);
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(io, service).await;
            });
        }
    });
    (format!("http://{addr}"), seen)
}

fn credentials() -> AwsCredentials {
    AwsCredentials::new("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
}

fn provider(base_url: &str, credentials: AwsCredentials) -> BedrockProvider {
    let mut http = HttpConfig::new(base_url).unwrap();
    http.idle_timeout = Duration::from_millis(300);
    let config = BedrockConfig { http, region: "us-west-2".to_owned(), credentials, default_max_tokens: 512 };
    BedrockProvider::new("bedrock", config).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::from_slice(br#"{"model":"assistant","messages":[{"role":"user","content":"Hi"}]}"#).unwrap()
}

fn call(req: &ChatRequest) -> ProviderCall<'_> {
    ProviderCall { request: req, upstream_model: MODEL, request_id: "req-1", traceparent: TRACEPARENT }
}

/// Checks what the server received: path, headers, body, and the signature recomputed from the
/// received request with the signing functions.
fn check_signed(seen: &Seen, path: &str, accept: &str, creds: &AwsCredentials) {
    assert_eq!(seen.path, path);
    let header = |name: &str| seen.headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("").to_owned();
    assert_eq!(header("content-type"), "application/json");
    assert_eq!(header("accept"), accept);
    assert_eq!(header("traceparent"), TRACEPARENT, "sent, and not signed");
    assert_eq!(header("x-amz-content-sha256"), sha256_hex(&seen.body));
    let body: Value = serde_json::from_slice(&seen.body).unwrap();
    assert_eq!(
        body,
        json!({"messages": [{"role": "user", "content": [{"text": "Hi"}]}], "inferenceConfig": {"maxTokens": 512}})
    );
    let authz = header("authorization");
    let signed = authz.split("SignedHeaders=").nth(1).and_then(|s| s.split(',').next()).unwrap();
    let signed_headers: Vec<(http::HeaderName, http::HeaderValue)> = signed
        .split(';')
        .map(|name| (http::HeaderName::from_bytes(name.as_bytes()).unwrap(), seen.headers[name].clone()))
        .collect();
    let date = header("x-amz-date");
    let recomputed = authorization(
        "POST",
        &seen.path,
        "",
        &signed_headers,
        &sha256_hex(&seen.body),
        creds,
        "us-west-2",
        "bedrock",
        &date,
    );
    assert_eq!(authz, recomputed);
    assert!(
        authz.contains(&format!("Credential=AKIDEXAMPLE/{}/us-west-2/bedrock/aws4_request", &date[..8])),
        "{authz}"
    );
    let expected_signed = if creds.session_token.is_some() {
        "content-type;host;x-amz-content-sha256;x-amz-date;x-amz-security-token"
    } else {
        "content-type;host;x-amz-content-sha256;x-amz-date"
    };
    assert_eq!(signed, expected_signed);
}

/// A Bedrock event frame (string headers only).
fn event(event_type: &str, payload: &Value) -> Vec<u8> {
    frame(&[(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")], payload)
}

fn frame(headers: &[(&str, &str)], payload: &Value) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        h.push(7);
        h.extend_from_slice(&(value.len() as u16).to_be_bytes());
        h.extend_from_slice(value.as_bytes());
    }
    let payload = payload.to_string().into_bytes();
    let mut out = ((16 + h.len() + payload.len()) as u32).to_be_bytes().to_vec();
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out.extend(h);
    out.extend(payload);
    let crc = crc32fast::hash(&out);
    out.extend_from_slice(&crc.to_be_bytes());
    out
}

fn stream_events() -> Vec<Vec<u8>> {
    vec![
        event("messageStart", &json!({"role": "assistant"})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}})),
        event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": " there"}})),
        event("contentBlockStop", &json!({"contentBlockIndex": 0})),
        event("messageStop", &json!({"stopReason": "end_turn"})),
        event("metadata", &json!({"usage": {"inputTokens": 9, "outputTokens": 2}, "metrics": {"latencyMs": 5}})),
    ]
}

async fn drain(provider: &BedrockProvider, req: &ChatRequest) -> (Vec<ChatChunk>, Option<crate::Error>) {
    let mut stream = provider.chat_stream(call(req)).await.unwrap();
    let mut chunks = Vec::new();
    while let Some(item) = stream.next().await {
        match item {
            Ok(c) => chunks.push(c),
            Err(e) => {
                assert!(stream.next().await.is_none(), "an error ends the stream");
                return (chunks, Some(e));
            }
        }
    }
    (chunks, None)
}

fn text(chunks: &[ChatChunk]) -> String {
    chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.delta.content.as_deref()).collect()
}

#[tokio::test]
async fn chat_is_signed_and_translated() {
    let answer = json!({"output": {"message": {"role": "assistant", "content": [{"text": "Hello!"}]}},
        "stopReason": "end_turn", "usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12}});
    let (url, seen) = serve(vec![(
        200,
        vec![("content-type", "application/json"), ("x-amzn-RequestId", "5d1a3c2e-0000-4f6b-9e1a-3b2f0d8c7a61")],
        Body::Whole(answer.to_string().into_bytes()),
    )])
    .await;
    let creds = credentials().with_session_token("FQoGZXIvYXdzEXAMPLE");
    let provider = provider(&format!("{url}/"), creds.clone());
    let req = request();
    let resp = provider.chat(call(&req)).await.unwrap();
    assert_eq!(resp.id, "chatcmpl-5d1a3c2e-0000-4f6b-9e1a-3b2f0d8c7a61");
    assert_eq!(resp.choices[0].message.text().as_deref(), Some("Hello!"));
    assert_eq!(resp.usage.as_ref().map(|u| u.total_tokens), Some(12));
    let seen = seen.lock().unwrap();
    check_signed(&seen[0], "/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse", "application/json", &creds);
    assert_eq!(seen[0].headers["x-amz-security-token"], "FQoGZXIvYXdzEXAMPLE");
}

#[tokio::test]
async fn upstream_errors_are_mapped() {
    let (url, _) = serve(vec![
        (
            400,
            vec![("x-amzn-ErrorType", "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/")],
            Body::Whole(br#"{"message":"The model returned the following errors: max_tokens: too big"}"#.to_vec()),
        ),
        (
            403,
            vec![("x-amzn-ErrorType", "AccessDeniedException:http://x/")],
            Body::Whole(br#"{"message":"denied"}"#.to_vec()),
        ),
        (429, vec![("x-amzn-ErrorType", "ThrottlingException"), ("retry-after", "2")], Body::Whole(b"{}".to_vec())),
    ])
    .await;
    let provider = provider(&url, credentials());
    let req = request();
    let e = provider.chat(call(&req)).await.unwrap_err();
    assert_eq!((e.status_code(), e.code()), (400, Some("ValidationException")));
    assert!(e.message().contains("max_tokens: too big"));
    let e = provider.chat(call(&req)).await.unwrap_err();
    assert_eq!((e.status_code(), e.code(), e.message().contains("denied")), (502, Some("upstream_auth_failed"), false));
    let e = provider.chat_stream(call(&req)).await.err().unwrap();
    assert_eq!((e.status_code(), e.retry_after()), (429, Some(Duration::from_secs(2))));
}

#[tokio::test]
async fn streams_complete_with_usage() {
    let body = stream_events().concat();
    let (url, seen) = serve(vec![(
        200,
        vec![("content-type", "application/vnd.amazon.eventstream"), ("x-amzn-RequestId", "rid-1")],
        Body::Whole(body),
    )])
    .await;
    let creds = credentials();
    let provider = provider(&format!("{url}/prefix"), creds.clone());
    let req = request();
    let (chunks, err) = drain(&provider, &req).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(text(&chunks), "Hello there");
    assert!(chunks.iter().all(|c| c.id == "chatcmpl-rid-1" && c.model == MODEL));
    let last = chunks.last().unwrap();
    assert_eq!(last.usage().map(|u| (u.prompt_tokens, u.completion_tokens)), Some((9, 2)));
    let seen = seen.lock().unwrap();
    check_signed(
        &seen[0],
        "/prefix/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse-stream",
        "application/vnd.amazon.eventstream",
        &creds,
    );
}

#[tokio::test]
async fn broken_streams_end_with_an_error() {
    let events = stream_events();
    let truncated = events[..3].concat();
    let mid_frame = {
        let all = events.concat();
        all[..all.len() - 5].to_vec()
    };
    let mut throttled = events[..2].concat();
    throttled.extend(frame(
        &[
            (":exception-type", "throttlingException"),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        &json!({"message": "Too many tokens, please wait before trying again."}),
    ));
    let mut corrupt = events[..2].concat();
    let mut bad = events[2].clone();
    bad[20] ^= 1;
    corrupt.extend(bad);
    let (url, _) = serve(vec![
        (200, vec![], Body::Whole(truncated)),
        (200, vec![], Body::Whole(mid_frame)),
        (200, vec![], Body::Whole(throttled)),
        (200, vec![], Body::Whole(corrupt)),
        (200, vec![], Body::Stall(events[..2].concat())),
        (200, vec![], Body::Stall(events.concat())),
    ])
    .await;
    let provider = provider(&url, credentials());
    let req = request();
    // (case, error kind, client status, words of the message, text before the error)
    let cases = [
        ("ends before messageStop", ErrorKind::UpstreamProtocol, 502, "end marker", "Hello there"),
        ("ends mid-frame", ErrorKind::UpstreamProtocol, 502, "middle of a frame", "Hello there"),
        ("throttled mid-stream", ErrorKind::UpstreamClientError, 429, "Too many tokens", "Hello"),
        ("corrupt frame", ErrorKind::UpstreamProtocol, 502, "message CRC", "Hello"),
        ("stalls", ErrorKind::UpstreamTimeout, 504, "idle timeout", "Hello"),
    ];
    for (case, kind, status, words, before) in cases {
        let (chunks, err) = drain(&provider, &req).await;
        let err = err.unwrap_or_else(|| panic!("{case}: no error"));
        assert_eq!((err.kind(), err.status_code()), (kind, status), "{case}: {err}");
        assert!(err.message().contains(words), "{case}: {}", err.message());
        assert_eq!(text(&chunks), before, "{case}");
    }
    // A complete stream whose body then stalls ends cleanly once the idle timeout passes.
    let (chunks, err) = drain(&provider, &req).await;
    assert!(err.is_none(), "{err:?}");
    assert!(chunks.last().unwrap().is_usage_only());
}
