//! Round trips: non-streaming and streaming, through an OpenAI-dialect upstream and the mock.

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn non_streaming_round_trip() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let v = r.json();
    assert_eq!(v["model"], "ok", "the virtual name is returned");
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from upstream");
    assert_eq!(v["usage"]["total_tokens"], 10);
    assert_eq!(v["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
    assert_eq!(v["system_fingerprint"], "fp_mock", "unknown response fields pass through");
    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"));
    assert_eq!(r.header("x-smartflow-cache"), Some("miss"));
    assert!(r.header("x-request-id").is_some_and(|id| id.starts_with("req_")));
    let sent = up.last_body().await;
    assert_eq!(sent["model"], "ok");
    assert!(sent.get("stream_options").is_none());
}

#[tokio::test]
async fn unknown_request_fields_reach_the_upstream_unchanged() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let body = json!({
        "model": "ok",
        "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": [{"type": "text", "text": "hi"}, {"type": "image_url", "image_url": {"url": "data:image/png;base64,AAAA", "detail": "low"}}], "name": "bob"}],
        "temperature": 0.25, "seed": 42, "logit_bias": {"50256": -100}, "metadata": {"base_url": "is just data here"},
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {"api_base": {"type": "string"}}}}}],
        "tool_choice": "auto", "response_format": {"type": "json_object"}, "max_completion_tokens": 50
    });
    let r = post(&d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let sent = up.last_body().await;
    let mut expect = body.clone();
    expect["model"] = Value::from("ok");
    assert_eq!(sent, expect);
}

#[tokio::test]
async fn streaming_round_trip_strips_the_injected_usage_chunk() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("ok", true)).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"));
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect();
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert_eq!(text, "Hello from upstream");
    assert_eq!(chunks.last().unwrap()["choices"][0]["finish_reason"], "stop");
    assert!(chunks.iter().all(|c| c.get("usage").is_none()), "client did not ask for usage");
    assert!(chunks.iter().all(|c| c["model"] == "ok"));
    let sent = up.last_body().await;
    assert_eq!(sent["stream_options"]["include_usage"], true, "usage is requested upstream");
    // The gateway still counted the tokens the client did not see.
    let audit = wait_for_audit(&d, 1).await;
    assert_eq!(audit[0]["usage"]["input"], 7);
    assert_eq!(audit[0]["usage"]["output"], 3);
}

#[tokio::test]
async fn streaming_usage_is_kept_when_the_client_asks() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let body = r#"{"model":"ok","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}"#;
    let r = post(&d, "/v1/chat/completions", body).await;
    let events = r.events();
    let last: Value = serde_json::from_str(&events[events.len() - 2]).unwrap();
    assert_eq!(last["choices"], json!([]));
    assert_eq!(last["usage"]["total_tokens"], 10);
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert!(first["usage"].is_null() && first.get("usage").is_some(), "usage: null is preserved");
}

#[tokio::test]
async fn stream_split_across_frames_with_crlf_is_reassembled() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("split", true)).await;
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{}", r.text());
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, "Hello from upstream");
}

#[tokio::test]
async fn echo_mock_returns_the_prompt_exactly() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let prompt = "  Exact\ttext, ünïcode & \"quotes\"\n  ";
    let body = json!({"model": "echo", "messages": [{"role": "user", "content": prompt}]});
    let r = post(&d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.json()["choices"][0]["message"]["content"], prompt);
    let mut sbody = body.clone();
    sbody["stream"] = Value::Bool(true);
    let r = post(&d, "/v1/chat/completions", &sbody.to_string()).await;
    let events = r.events();
    let text: String = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str::<Value>(e).unwrap())
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(text, prompt);
    assert_eq!(up.requests(), 0, "the mock provider never touches the network");
}

#[tokio::test]
async fn embeddings_and_models() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/embeddings", r#"{"model":"embed","input":["a","b"]}"#).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["model"], "embed");
    assert_eq!(up.last_body().await["model"], "emb");
    let r = request("GET", &d.url("/v1/models"), Some(DEMO_KEY), "").await;
    let ids: Vec<String> =
        r.json()["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert!(ids.contains(&"ok".to_owned()) && ids.contains(&"echo".to_owned()) && ids.contains(&"embed".to_owned()));
    assert_eq!(r.json()["object"], "list");
    let r = request("GET", &d.url("/v1/models/echo"), Some(DEMO_KEY), "").await;
    assert_eq!(r.json()["id"], "echo");
    request("GET", &d.url("/v1/models/nope"), Some(DEMO_KEY), "").await.assert_error(404);
    post(&d, "/v1/chat/completions", &chat_body("embed", false)).await.assert_error(404);
}

pub async fn wait_for_audit(d: &Daemon, n: usize) -> Vec<Value> {
    for _ in 0..200 {
        let lines = d.audit_lines().await;
        if lines.len() >= n {
            return lines;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    panic!("fewer than {n} audit records");
}

#[tokio::test]
async fn azure_deployment_urls_and_api_key_header() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("azure-gpt", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-smartflow-target"), Some("azure/ok"));
    let path = up.record.paths.lock().await.last().cloned().unwrap();
    assert_eq!(path, "/openai/deployments/ok/chat/completions?api-version=2024-10-21");
    let headers = up.record.headers.lock().await.last().cloned().unwrap();
    assert_eq!(headers.get("api-key").and_then(|v| v.to_str().ok()), Some("azure-secret-key"));
    assert!(headers.get("authorization").is_none(), "the key goes only in api-key");
    let r = post(&d, "/v1/chat/completions", &chat_body("azure-gpt", true)).await;
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"));
}
