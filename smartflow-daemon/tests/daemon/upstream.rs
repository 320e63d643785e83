//! An in-repo mock upstream speaking the OpenAI wire format, with scripted behaviours chosen by
//! the upstream model name in the request body, and a record of what it received and when its
//! responses were abandoned.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::BodyExt;
use http_body_util::combinators::UnsyncBoxBody;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use hyper_util::rt::TokioIo;
use serde_json::{Value, json};
use tokio::sync::Mutex;
use tokio::time::Instant;

use crate::intent::Intent;

type RespBody = UnsyncBoxBody<Bytes, std::io::Error>;

/// What the mock saw.
#[derive(Default)]
pub struct Record {
    pub requests: AtomicUsize,
    pub bodies: Mutex<Vec<Value>>,
    pub headers: Mutex<Vec<http::HeaderMap>>,
    pub paths: Mutex<Vec<String>>,
    /// When a response (stream body or pending handler) was dropped before it finished.
    pub abandoned: Mutex<Vec<Instant>>,
}

pub struct Upstream {
    pub addr: SocketAddr,
    pub record: Arc<Record>,
}

impl Upstream {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let record = Arc::new(Record::default());
        let rec = record.clone();
        tokio::spawn(async move {
            loop {
                let Ok((stream, _)) = listener.accept().await else { return };
                let rec = rec.clone();
                tokio::spawn(async move {
                    let svc = hyper::service::service_fn(move |req| handle(rec.clone(), req));
                    let _ =
                        hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), svc).await;
                });
            }
        });
        Self { addr, record }
    }

    pub fn requests(&self) -> usize {
        self.record.requests.load(Ordering::SeqCst)
    }

    pub async fn last_body(&self) -> Value {
        self.record.bodies.lock().await.last().cloned().unwrap_or(Value::Null)
    }
}

/// Marks the response abandoned when dropped before `done` is set.
struct DropGuard {
    record: Arc<Record>,
    done: bool,
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        if !self.done {
            let rec = self.record.clone();
            let at = Instant::now();
            // Drop cannot await; the lock is uncontended in tests.
            if let Ok(mut v) = rec.abandoned.try_lock() {
                v.push(at);
            }
        }
    }
}

fn full(status: u16, body: impl Into<Bytes>, ctype: &str) -> Response<RespBody> {
    let body = http_body_util::Full::new(body.into()).map_err(|never: Infallible| match never {}).boxed_unsync();
    Response::builder().status(status).header("content-type", ctype).body(body).unwrap()
}

fn completion(model: &str) -> Value {
    json!({
        "id": "chatcmpl-up", "object": "chat.completion", "created": 1, "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from upstream"}, "finish_reason": "stop", "logprobs": null}],
        "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10, "prompt_tokens_details": {"cached_tokens": 2}}
    })
}

fn chunk(model: &str, delta: Value, finish: Option<&str>, with_usage_null: bool) -> Bytes {
    let mut c = json!({"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": model,
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]});
    if with_usage_null {
        c["usage"] = Value::Null;
    }
    Bytes::from(format!("data: {c}\n\n"))
}

/// A body that yields `frames` with `gap` between them, then optionally fails (connection reset).
struct Script {
    frames: std::collections::VecDeque<Bytes>,
    gap: Duration,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    fail_at_end: bool,
    guard: DropGuard,
}

impl Body for Script {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        if let Some(s) = self.sleep.as_mut() {
            if s.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        match self.frames.pop_front() {
            Some(f) => {
                if !self.gap.is_zero() {
                    self.sleep = Some(Box::pin(tokio::time::sleep(self.gap)));
                }
                Poll::Ready(Some(Ok(Frame::data(f))))
            }
            None => {
                self.guard.done = true;
                if self.fail_at_end {
                    Poll::Ready(Some(Err(std::io::Error::new(std::io::ErrorKind::ConnectionReset, "scripted reset"))))
                } else {
                    Poll::Ready(None)
                }
            }
        }
    }
}

fn sse(record: &Arc<Record>, frames: Vec<Bytes>, gap: Duration, fail_at_end: bool) -> Response<RespBody> {
    let body = Script {
        frames: frames.into(),
        gap,
        sleep: None,
        fail_at_end,
        guard: DropGuard { record: record.clone(), done: false },
    };
    Response::builder().status(200).header("content-type", "text/event-stream").body(body.boxed_unsync()).unwrap()
}

/// Text for a non-tool intent.
fn intent_text(intent: &Intent) -> String {
    match intent {
        Intent::ToolResult(t) => format!("tool result: {t}"),
        Intent::Json => r#"{"ok":true}"#.to_owned(),
        _ => "Hello".to_owned(),
    }
}

/// OpenAI-dialect answers for tool calls, tool results and JSON mode.
fn openai_intent(record: &Arc<Record>, model: &str, stream: bool, usage: bool, intent: Intent) -> Response<RespBody> {
    let call = |args: String| json!([{"index": 0, "id": "call_1", "type": "function", "function": {"name": match &intent { Intent::CallTool { name, .. } => name.clone(), _ => String::new() }, "arguments": args}}]);
    if !stream {
        let (message, finish) = match &intent {
            Intent::CallTool { key, .. } => (
                json!({"role": "assistant", "content": null, "tool_calls": call(crate::intent::args(key).to_string())}),
                "tool_calls",
            ),
            other => (json!({"role": "assistant", "content": intent_text(other)}), "stop"),
        };
        let mut c = completion(model);
        c["choices"][0]["message"] = message;
        c["choices"][0]["finish_reason"] = Value::from(finish);
        return full(200, c.to_string(), "application/json");
    }
    let mut frames = vec![chunk(model, json!({"role": "assistant", "content": ""}), None, usage)];
    let finish = match &intent {
        Intent::CallTool { key, .. } => {
            let args = crate::intent::args(key).to_string();
            let (a, b) = args.split_at(args.len() / 2);
            frames.push(chunk(model, json!({"tool_calls": call(a.to_owned())}), None, usage));
            frames.push(chunk(model, json!({"tool_calls": [{"index": 0, "function": {"arguments": b}}]}), None, usage));
            "tool_calls"
        }
        other => {
            frames.push(chunk(model, json!({"content": intent_text(other)}), None, usage));
            "stop"
        }
    };
    frames.push(chunk(model, json!({}), Some(finish), usage));
    if usage {
        let u = json!({"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": model, "choices": [],
            "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}});
        frames.push(Bytes::from(format!("data: {u}\n\n")));
    }
    frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
    sse(record, frames, Duration::ZERO, false)
}

/// The Anthropic Messages dialect: a message, its named-event stream, and errors.
fn anthropic(record: &Arc<Record>, model: &str, stream: bool, body: &Value) -> Response<RespBody> {
    let intent = crate::intent::anthropic(body);
    match model {
        "err529" => {
            return full(
                529,
                json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}).to_string(),
                "application/json",
            );
        }
        "err400" => {
            return full(
                400,
                json!({"type": "error", "error": {"type": "invalid_request_error", "message": "prompt is too long"}})
                    .to_string(),
                "application/json",
            );
        }
        _ => {}
    }
    let tool = match &intent {
        Intent::CallTool { name, key } => Some((name.clone(), crate::intent::args(key))),
        Intent::Json => Some(("json_response".to_owned(), json!({"ok": true}))),
        _ => None,
    };
    let text = match &intent {
        Intent::ToolResult(_) => intent_text(&intent),
        _ => "Hello from Claude".to_owned(),
    };
    if !stream {
        let (content, stop) = match &tool {
            Some((name, input)) => {
                (json!([{"type": "tool_use", "id": "toolu_1", "name": name, "input": input}]), "tool_use")
            }
            None => (json!([{"type": "text", "text": text}]), "end_turn"),
        };
        let m = json!({"id": "msg_up", "type": "message", "role": "assistant", "model": model,
            "content": content, "stop_reason": stop, "stop_sequence": null,
            "usage": {"input_tokens": 5, "output_tokens": 4, "cache_read_input_tokens": 3, "cache_creation_input_tokens": 0}});
        return full(200, m.to_string(), "application/json");
    }
    let ev = |name: &str, data: Value| Bytes::from(format!("event: {name}\ndata: {data}\n\n"));
    if let Some((name, input)) = tool {
        let args = input.to_string();
        let (a, b) = args.split_at(args.len() / 2);
        let frames = vec![
            ev(
                "message_start",
                json!({"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
            ),
            ev(
                "content_block_start",
                json!({"type": "content_block_start", "index": 0, "content_block": {"type": "tool_use", "id": "toolu_1", "name": name, "input": {}}}),
            ),
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": a}}),
            ),
            ev(
                "content_block_delta",
                json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": b}}),
            ),
            ev("content_block_stop", json!({"type": "content_block_stop", "index": 0})),
            ev(
                "message_delta",
                json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null}, "usage": {"output_tokens": 4}}),
            ),
            ev("message_stop", json!({"type": "message_stop"})),
        ];
        return sse(record, frames, Duration::ZERO, false);
    }
    let words: Vec<String> = if text == "Hello from Claude" {
        vec!["Hello".into(), " from".into(), " Claude".into()]
    } else {
        vec![text.clone()]
    };
    let mut frames = vec![
        ev(
            "message_start",
            json!({"type": "message_start", "message": {"id": "msg_up", "type": "message", "role": "assistant", "model": model, "content": [], "stop_reason": null, "usage": {"input_tokens": 5, "output_tokens": 1}}}),
        ),
        ev(
            "content_block_start",
            json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        ),
        ev("ping", json!({"type": "ping"})),
    ];
    for w in &words {
        frames.push(ev(
            "content_block_delta",
            json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": w}}),
        ));
    }
    frames.push(ev("content_block_stop", json!({"type": "content_block_stop", "index": 0})));
    frames.push(ev("message_delta", json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null}, "usage": {"output_tokens": 4}})));
    if model != "cut" {
        frames.push(ev("message_stop", json!({"type": "message_stop"})));
    }
    sse(record, frames, Duration::ZERO, false)
}

/// The Gemini dialect: `models/{model}:generateContent` and `:streamGenerateContent?alt=sse`.
fn gemini(record: &Arc<Record>, model: &str, stream: bool, body: &Value) -> Response<RespBody> {
    let intent = crate::intent::gemini(body);
    if model == "gemini-400" {
        return full(400, json!({"error": {"code": 400, "message": "Request contains an invalid argument.", "status": "INVALID_ARGUMENT"}}).to_string(), "application/json");
    }
    let usage =
        json!({"promptTokenCount": 6, "candidatesTokenCount": 4, "totalTokenCount": 10, "cachedContentTokenCount": 2});
    let part = |text: &str, finish: Option<&str>, usage: Option<&Value>| {
        let mut c = json!({"content": {"role": "model", "parts": [{"text": text}]}, "index": 0});
        if let Some(f) = finish {
            c["finishReason"] = Value::from(f);
        }
        let mut r = json!({"candidates": [c], "modelVersion": model, "responseId": "g-1"});
        if let Some(u) = usage {
            r["usageMetadata"] = u.clone();
        }
        r
    };
    if intent != Intent::Plain {
        let mut r = part(&intent_text(&intent), Some("STOP"), Some(&usage));
        if let Intent::CallTool { name, key } = &intent {
            r["candidates"][0]["content"]["parts"] =
                json!([{"functionCall": {"name": name, "args": crate::intent::args(key)}}]);
        }
        return if stream {
            sse(record, vec![Bytes::from(format!("data: {r}\r\n\r\n"))], Duration::ZERO, false)
        } else {
            full(200, r.to_string(), "application/json")
        };
    }
    if !stream {
        return full(200, part("Hello from Gemini", Some("STOP"), Some(&usage)).to_string(), "application/json");
    }
    let frames = vec![
        Bytes::from(format!("data: {}\r\n\r\n", part("Hello", None, None))),
        Bytes::from(format!("data: {}\r\n\r\n", part(" from", None, None))),
        Bytes::from(format!("data: {}\r\n\r\n", part(" Gemini", Some("STOP"), Some(&usage)))),
    ];
    sse(record, frames, Duration::ZERO, false)
}

async fn handle(record: Arc<Record>, req: Request<Incoming>) -> Result<Response<RespBody>, Infallible> {
    record.requests.fetch_add(1, Ordering::SeqCst);
    record.headers.lock().await.push(req.headers().clone());
    let path = req.uri().path().to_owned();
    record.paths.lock().await.push(req.uri().to_string());
    let bytes = req.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    record.bodies.lock().await.push(body.clone());
    if path.ends_with("/embeddings") {
        let resp = json!({"object": "list", "model": body["model"], "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}], "usage": {"prompt_tokens": 2, "total_tokens": 2}});
        return Ok(full(200, resp.to_string(), "application/json"));
    }
    let model = body["model"].as_str().unwrap_or("").to_owned();
    let stream = body["stream"].as_bool().unwrap_or(false);
    if path.ends_with("/messages") {
        return Ok(anthropic(&record, &model, stream, &body));
    }
    if path.starts_with("/model/") && path.ends_with("/converse-stream") {
        let intent = crate::intent::bedrock(&body);
        let text = match &intent {
            Intent::Plain => "Hello from Bedrock".to_owned(),
            other => intent_text(other),
        };
        let frames = crate::intent::converse_stream(&intent, &text).into_iter().map(Bytes::from).collect();
        let mut resp = sse(&record, frames, Duration::ZERO, false);
        resp.headers_mut().insert("content-type", http::HeaderValue::from_static("application/vnd.amazon.eventstream"));
        return Ok(resp);
    }
    if path.starts_with("/model/") && path.ends_with("/converse") {
        let intent = crate::intent::bedrock(&body);
        let (content, stop) = match &intent {
            Intent::CallTool { name, key } => (
                json!([{"toolUse": {"toolUseId": "tu_1", "name": name, "input": crate::intent::args(key)}}]),
                "tool_use",
            ),
            Intent::Json => (
                json!([{"toolUse": {"toolUseId": "tu_1", "name": "json_response", "input": {"ok": true}}}]),
                "tool_use",
            ),
            Intent::ToolResult(_) => (json!([{"text": intent_text(&intent)}]), "end_turn"),
            Intent::Plain => (json!([{"text": "Hello from Bedrock"}]), "end_turn"),
        };
        let resp = json!({"output": {"message": {"role": "assistant", "content": content}},
            "stopReason": stop, "usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12}});
        return Ok(full(200, resp.to_string(), "application/json"));
    }
    if let Some((_, rest)) = path.split_once("/models/")
        && let Some((model, op)) = rest.split_once(':')
    {
        return Ok(gemini(&record, model, op == "streamGenerateContent", &body));
    }
    let usage = body["stream_options"]["include_usage"].as_bool().unwrap_or(false);
    let error = |status: u16, msg: &str, ty: &str, code: &str| {
        full(
            status,
            json!({"error": {"message": msg, "type": ty, "param": "messages", "code": code}}).to_string(),
            "application/json",
        )
    };
    let ok_frames = |done: bool| {
        let mut f = vec![chunk(&model, json!({"role": "assistant", "content": ""}), None, usage)];
        for w in ["Hello", " from", " upstream"] {
            f.push(chunk(&model, json!({"content": w}), None, usage));
        }
        f.push(chunk(&model, json!({}), Some("stop"), usage));
        if usage {
            let u = json!({"id": "chatcmpl-up", "object": "chat.completion.chunk", "created": 1, "model": &model, "choices": [],
                "usage": {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": 10}});
            f.push(Bytes::from(format!("data: {u}\n\n")));
        }
        if done {
            f.push(Bytes::from_static(b"data: [DONE]\n\n"));
        }
        f
    };
    let resp = match model.as_str() {
        "err400" => error(
            400,
            "This model's maximum context length is 10 tokens",
            "invalid_request_error",
            "context_length_exceeded",
        ),
        "err401" => error(401, "Incorrect API key provided: sk-upstr***", "invalid_request_error", "invalid_api_key"),
        "err429" => {
            let mut r = error(429, "Rate limit reached", "rate_limit_error", "rate_limit_exceeded");
            r.headers_mut().insert("retry-after", http::HeaderValue::from_static("2"));
            r
        }
        "err500" => full(500, "internal upstream failure", "text/plain"),
        "badjson" => full(200, "<html>not json</html>", "text/html"),
        "slow" => {
            let mut guard = DropGuard { record: record.clone(), done: false };
            tokio::time::sleep(Duration::from_secs(30)).await;
            guard.done = true;
            full(200, completion(&model).to_string(), "application/json")
        }
        "reset" if stream => {
            let mut frames = ok_frames(false);
            frames.truncate(2);
            // Gaps let the frames reach the wire before the reset.
            sse(&record, frames, Duration::from_millis(20), true)
        }
        "nodone" if stream => sse(&record, ok_frames(false), Duration::ZERO, false),
        "drip" if stream => {
            let frames = (0..300).map(|i| chunk(&model, json!({"content": format!("t{i} ")}), None, usage)).collect();
            sse(&record, frames, Duration::from_millis(100), false)
        }
        "drip10" if stream => {
            let mut frames: Vec<Bytes> =
                (0..10).map(|i| chunk(&model, json!({"content": format!("t{i} ")}), None, usage)).collect();
            frames.push(chunk(&model, json!({}), Some("stop"), usage));
            frames.push(Bytes::from_static(b"data: [DONE]\n\n"));
            sse(&record, frames, Duration::from_millis(100), false)
        }
        "split" if stream => {
            // Every event split across frames at awkward points, with \r\n line ends.
            let joined: Vec<u8> = ok_frames(true).iter().flat_map(|b| b.to_vec()).collect();
            let text = String::from_utf8(joined).unwrap().replace("\n", "\r\n");
            let frames = text.as_bytes().chunks(7).map(Bytes::copy_from_slice).collect();
            sse(&record, frames, Duration::ZERO, false)
        }
        _ if crate::intent::openai(&body) != Intent::Plain => {
            openai_intent(&record, &model, stream, usage, crate::intent::openai(&body))
        }
        _ if stream => sse(&record, ok_frames(true), Duration::ZERO, false),
        _ => full(200, completion(&model).to_string(), "application/json"),
    };
    Ok(resp)
}
