//! The Gemini provider against a one-shot local HTTP server: URLs, the key header, a complete
//! answer, a stream, a truncated stream, an upstream error, and model names that could escape
//! the URL path.

use std::time::Duration;

use futures_util::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

use super::{GeminiConfig, GeminiProvider};
use crate::error::ErrorKind;
use crate::provider::{Provider, ProviderCall};
use crate::types::{ChatChunk, ChatRequest};

/// Serves one request with `status`, `content_type` and `body` (written in a few pieces); the
/// handle yields the raw request (head and body).
async fn serve_once(
    status: u16,
    content_type: &'static str,
    body: String,
) -> (String, tokio::task::JoinHandle<String>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}/v1beta", listener.local_addr().unwrap());
    let handle = tokio::spawn(async move {
        let (mut socket, _) = listener.accept().await.unwrap();
        let mut request = Vec::new();
        let mut buf = [0u8; 4096];
        let head_end = loop {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "client closed early");
            request.extend_from_slice(&buf[..n]);
            if let Some(pos) = request.windows(4).position(|w| w == b"\r\n\r\n") {
                break pos + 4;
            }
        };
        let head = String::from_utf8_lossy(&request[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .map(|v| v.trim().parse().unwrap())
            .unwrap_or(0);
        while request.len() < head_end + length {
            let n = socket.read(&mut buf).await.unwrap();
            assert!(n > 0, "client closed early");
            request.extend_from_slice(&buf[..n]);
        }
        let head = format!(
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
            body.len()
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        for piece in body.as_bytes().chunks(97) {
            socket.write_all(piece).await.unwrap();
            socket.flush().await.unwrap();
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
        socket.shutdown().await.ok();
        String::from_utf8(request).unwrap()
    });
    (base, handle)
}

fn provider(base: &str) -> GeminiProvider {
    let mut config = GeminiConfig::new(base).unwrap();
    config.api_key = Some(SecretString::from("test-key-123"));
    GeminiProvider::new("gemini", config).unwrap()
}

fn request() -> ChatRequest {
    ChatRequest::from_slice(br#"{"model":"assistant","messages":[{"role":"system","content":"Be brief."},{"role":"user","content":"Hi"}],"max_tokens":50}"#)
        .unwrap()
}

/// The `traceparent` every test call carries.
const TRACEPARENT: &str = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

fn call<'a>(req: &'a ChatRequest, model: &'a str) -> ProviderCall<'a> {
    ProviderCall { request: req, upstream_model: model, request_id: "req-1", traceparent: TRACEPARENT }
}

/// The request line, the headers (lower-cased) and the JSON body of a raw request.
fn split_request(raw: &str) -> (String, String, Value) {
    let (head, body) = raw.split_once("\r\n\r\n").unwrap();
    let (line, headers) = head.split_once("\r\n").unwrap();
    (line.to_owned(), headers.to_ascii_lowercase(), serde_json::from_str(body).unwrap())
}

#[tokio::test]
async fn chat_posts_generate_content_with_the_key_in_a_header() {
    let answer = json!({"candidates": [{"content": {"role": "model", "parts": [{"text": "Hello!"}]}, "finishReason": "STOP"}],
        "usageMetadata": {"promptTokenCount": 7, "candidatesTokenCount": 2, "totalTokenCount": 9},
        "modelVersion": "gemini-2.5-flash", "responseId": "r1"});
    let (base, server) = serve_once(200, "application/json", answer.to_string()).await;
    let req = request();
    let resp = provider(&base).chat(call(&req, "gemini-2.5-flash")).await.unwrap();
    assert_eq!(resp.choices[0].message.text().as_deref(), Some("Hello!"));
    assert_eq!((resp.id.as_str(), resp.model.as_str()), ("chatcmpl-r1", "gemini-2.5-flash"));
    assert_eq!(resp.usage.map(|u| (u.prompt_tokens, u.completion_tokens)), Some((7, 2)));
    let (line, headers, body) = split_request(&server.await.unwrap());
    assert_eq!(line, "POST /v1beta/models/gemini-2.5-flash:generateContent HTTP/1.1");
    assert!(headers.contains("x-goog-api-key: test-key-123"), "{headers}");
    assert!(headers.contains(&format!("traceparent: {TRACEPARENT}")), "{headers}");
    assert!(headers.contains("content-type: application/json"), "{headers}");
    assert!(!line.contains("key="), "the key never goes in the URL");
    assert_eq!(body["systemInstruction"], json!({"parts": [{"text": "Be brief."}]}));
    assert_eq!(body["contents"], json!([{"role": "user", "parts": [{"text": "Hi"}]}]));
    assert_eq!(body["generationConfig"], json!({"maxOutputTokens": 50}));
}

const SSE: &str = concat!(
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"Hel\"}],\"role\": \"model\"},\"index\": 0}],",
    "\"usageMetadata\": {\"promptTokenCount\": 7,\"totalTokenCount\": 7},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"s1\"}\r\n\r\n",
    "data: {\"candidates\": [{\"content\": {\"parts\": [{\"text\": \"lo!\"}],\"role\": \"model\"},\"finishReason\": \"STOP\",\"index\": 0}],",
    "\"usageMetadata\": {\"promptTokenCount\": 7,\"candidatesTokenCount\": 3,\"totalTokenCount\": 10},\"modelVersion\": \"gemini-2.5-flash\",\"responseId\": \"s1\"}\r\n\r\n",
);

#[tokio::test]
async fn chat_stream_reads_sse_until_the_body_ends_after_the_finish() {
    let (base, server) = serve_once(200, "text/event-stream", SSE.to_owned()).await;
    let req = request();
    let stream = provider(&base).chat_stream(call(&req, "models/gemini-2.5-flash")).await.unwrap();
    let items: Vec<_> = stream.collect().await;
    let chunks: Vec<ChatChunk> = items.into_iter().map(|i| i.unwrap()).collect();
    let text: String = chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.delta.content.as_deref()).collect();
    assert_eq!(text, "Hello!");
    let finishes: Vec<_> = chunks.iter().flat_map(|c| &c.choices).filter_map(|c| c.finish_reason.as_deref()).collect();
    assert_eq!(finishes, ["stop"]);
    let last = chunks.last().unwrap();
    assert!(last.is_usage_only());
    assert_eq!(last.usage().map(|u| (u.prompt_tokens, u.completion_tokens)), Some((7, 3)));
    assert!(chunks.iter().all(|c| c.id == "chatcmpl-s1"));
    let (line, headers, _) = split_request(&server.await.unwrap());
    assert_eq!(line, "POST /v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse HTTP/1.1");
    assert!(headers.contains("x-goog-api-key: test-key-123") && headers.contains("accept: text/event-stream"));
}

#[tokio::test]
async fn a_stream_that_ends_before_a_finish_reason_is_truncated() {
    let first_event = SSE.split_inclusive("\r\n\r\n").next().unwrap().to_owned();
    let (base, _server) = serve_once(200, "text/event-stream", first_event).await;
    let req = request();
    let stream = provider(&base).chat_stream(call(&req, "gemini-2.5-flash")).await.unwrap();
    let items: Vec<_> = stream.collect().await;
    let err = items.last().unwrap().as_ref().err().unwrap();
    assert_eq!(err.kind(), ErrorKind::UpstreamProtocol);
    assert!(items[..items.len() - 1].iter().all(Result::is_ok));
}

#[tokio::test]
async fn upstream_errors_are_mapped() {
    let body = json!({"error": {"code": 429, "message": "Quota exceeded", "status": "RESOURCE_EXHAUSTED",
        "details": [{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}]}});
    let (base, _server) = serve_once(429, "application/json", body.to_string()).await;
    let req = request();
    let err = provider(&base).chat(call(&req, "gemini-2.5-flash")).await.err().unwrap();
    assert_eq!((err.status_code(), err.is_retryable()), (429, true));
    assert_eq!(err.retry_after(), Some(Duration::from_secs(12)));
}

#[tokio::test]
async fn model_names_that_could_escape_the_path_are_refused() {
    // Nothing listens here: a refused name must fail before any connection is attempted.
    let gemini = provider("http://127.0.0.1:9/v1beta");
    let req = request();
    for model in ["", "..", "a:b", "a/b", "gemini?x=1", "models/../x", "gemini#f", "gemini 2"] {
        let err = gemini.chat(call(&req, model)).await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Internal, "{model}");
        let err = gemini.chat_stream(call(&req, model)).await.err().unwrap();
        assert_eq!(err.kind(), ErrorKind::Internal, "{model}");
    }
}
