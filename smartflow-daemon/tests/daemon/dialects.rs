//! Clients of one dialect, upstreams of another: OpenAI clients to an Anthropic-dialect upstream
//! and Anthropic clients to an OpenAI-dialect upstream, through the one canonical shape.

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn openai_client_to_anthropic_upstream() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let body = json!({"model": "claude", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]});
    let r = post(&d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Claude");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["model"], "claude");
    assert_eq!(v["usage"]["prompt_tokens"], 8, "input 5 + cache read 3: OpenAI counts cached tokens in prompt_tokens");
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 3);
    assert_eq!(r.header("x-smartflow-target"), Some("anth/claude-up"));
    let sent = up.last_body().await;
    assert_eq!(sent["system"], "Be brief.");
    assert_eq!(sent["model"], "claude-up");
    assert!(sent["max_tokens"].as_u64().is_some_and(|n| n > 0), "Anthropic needs max_tokens: {sent}");
    let headers = up.record.headers.lock().await.last().cloned().unwrap();
    assert_eq!(headers.get("x-api-key").and_then(|h| h.to_str().ok()), Some("azure-secret-key"));
    assert_eq!(headers.get("anthropic-version").and_then(|h| h.to_str().ok()), Some("2023-06-01"));

    let mut sbody = body.clone();
    sbody["stream"] = Value::Bool(true);
    let r = post(&d, "/v1/chat/completions", &sbody.to_string()).await;
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{}", r.text());
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello from Claude");
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"] == "stop"));
    assert!(chunks.iter().all(|c| c.get("usage").is_none()), "usage only when asked");
}

#[tokio::test]
async fn anthropic_upstream_errors_map_to_openai_errors() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let v = post(&d, "/v1/chat/completions", &chat_body("claude-400", false)).await.assert_error(400);
    assert_eq!(v["error"]["message"], "prompt is too long");
    post(&d, "/v1/chat/completions", &chat_body("claude-529", false)).await.assert_error(502);
    // A stream that stops before message_stop is an error, never a clean end.
    let r = post(&d, "/v1/chat/completions", &chat_body("claude-cut", true)).await;
    let events = r.events();
    assert!(!events.iter().any(|e| e == "[DONE]"), "{events:?}");
    assert!(serde_json::from_str::<Value>(events.last().unwrap()).unwrap()["error"].is_object());
}

#[tokio::test]
async fn anthropic_client_to_openai_upstream() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let body = json!({"model": "ok", "max_tokens": 50, "system": "Be brief.", "messages": [{"role": "user", "content": "hi"}]});
    let r = request("POST", &d.url("/v1/messages"), Some(DEMO_KEY), body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["type"], "message");
    assert_eq!(v["content"][0]["text"], "Hello from upstream");
    assert_eq!(v["stop_reason"], "end_turn");
    assert_eq!(v["usage"]["input_tokens"], 5, "prompt 7 minus 2 cached: Anthropic excludes cached tokens");
    assert_eq!(v["usage"]["cache_read_input_tokens"], 2);
    let sent = up.last_body().await;
    assert_eq!(sent["messages"][0], json!({"role": "system", "content": "Be brief."}));
    let mut sbody = body.clone();
    sbody["stream"] = Value::Bool(true);
    let r = request("POST", &d.url("/v1/messages"), Some(DEMO_KEY), sbody.to_string()).await;
    let text = r.text();
    let names: Vec<&str> = text.lines().filter_map(|l| l.strip_prefix("event: ")).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names.last(), Some(&"message_stop"), "{text}");
    assert!(text.contains(r#""text":" upstream""#), "{text}");
    // Errors come back in Anthropic's shape.
    let r = request(
        "POST",
        &d.url("/v1/messages"),
        Some(DEMO_KEY),
        json!({"model": "err400", "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]}).to_string(),
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["type"], "error");
    assert_eq!(r.json()["error"]["type"], "invalid_request_error");
}

#[tokio::test]
async fn openai_client_to_gemini_upstream() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let body = json!({"model": "gemini", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi"}]});
    let r = post(&d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Gemini");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(v["usage"]["prompt_tokens"], 6);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
    let path = up.record.paths.lock().await.last().cloned().unwrap();
    assert_eq!(path, "/v1beta/models/gemini-up:generateContent");
    let headers = up.record.headers.lock().await.last().cloned().unwrap();
    assert_eq!(headers.get("x-goog-api-key").and_then(|h| h.to_str().ok()), Some("azure-secret-key"));
    assert!(!path.contains("key="), "the key never goes in the URL");
    let sent = up.last_body().await;
    assert!(sent["systemInstruction"].is_object(), "{sent}");

    let mut sbody = body.clone();
    sbody["stream"] = Value::Bool(true);
    sbody["stream_options"] = json!({"include_usage": true});
    let r = post(&d, "/v1/chat/completions", &sbody.to_string()).await;
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{}", r.text());
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello from Gemini");
    assert!(up.record.paths.lock().await.last().unwrap().ends_with(":streamGenerateContent?alt=sse"));
    post(&d, "/v1/chat/completions", &chat_body("gemini-400", false)).await.assert_error(400);
}

#[tokio::test]
async fn openai_client_to_bedrock_upstream_signed_with_sigv4() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("bedrock", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], "Hello from Bedrock");
    assert_eq!(r.json()["usage"]["total_tokens"], 12);
    let path = up.record.paths.lock().await.last().cloned().unwrap();
    assert_eq!(
        path, "/model/anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
        "the model id is encoded into the path"
    );
    let headers = up.record.headers.lock().await.last().cloned().unwrap();
    let auth = headers.get("authorization").and_then(|h| h.to_str().ok()).unwrap_or_default();
    assert!(auth.starts_with("AWS4-HMAC-SHA256 Credential=azure-secret-key/"), "{auth}");
    assert!(auth.contains("/eu-west-1/bedrock/aws4_request"), "{auth}");
    assert!(headers.get("x-amz-date").is_some() && headers.get("x-amz-content-sha256").is_some());
}
