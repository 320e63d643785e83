//! One battery, every dialect: plain chat, streaming, a tool round trip (plain and streamed),
//! JSON mode and usage, through smartflowd to an upstream speaking OpenAI, Azure OpenAI,
//! Anthropic, Gemini or Bedrock Converse wire format. Errors per dialect are in `dialects.rs`.

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

/// (virtual model, whether its mock upstream streams).
const DIALECTS: &[(&str, bool)] =
    &[("ok", true), ("azure-gpt", true), ("claude", true), ("gemini", true), ("bedrock", true)];

fn weather_tool() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}])
}

fn stream_chunks(r: &Reply) -> Vec<Value> {
    let events = r.events();
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"), "{}", r.text());
    events[..events.len() - 1].iter().map(|e| serde_json::from_str(e).unwrap()).collect()
}

async fn plain(d: &Daemon, model: &str) {
    let r = post(d, "/v1/chat/completions", &chat_body(model, false)).await;
    assert_eq!(r.status, 200, "{model}: {}", r.text());
    let v = r.json();
    assert!(v["choices"][0]["message"]["content"].as_str().is_some_and(|c| !c.is_empty()), "{model}: {v}");
    assert_eq!(v["choices"][0]["finish_reason"], "stop", "{model}");
    assert_eq!(v["model"], model);
    assert!(v["usage"]["total_tokens"].as_u64().is_some_and(|n| n > 0), "{model}: {v}");
}

async fn streamed(d: &Daemon, model: &str) {
    let body = json!({"model": model, "stream": true, "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]});
    let r = post(d, "/v1/chat/completions", &body.to_string()).await;
    let chunks = stream_chunks(&r);
    let text: String = chunks.iter().filter_map(|c| c["choices"][0]["delta"]["content"].as_str()).collect();
    assert!(!text.is_empty(), "{model}");
    assert!(chunks.iter().any(|c| c["choices"][0]["finish_reason"] == "stop"), "{model}");
    assert!(
        chunks.last().is_some_and(|c| c["usage"]["total_tokens"].as_u64().is_some_and(|n| n > 0)),
        "{model}: {chunks:?}"
    );
}

async fn tools(d: &Daemon, model: &str, stream: bool) {
    let body = json!({"model": model, "stream": stream, "messages": [{"role": "user", "content": "Oslo?"}], "tools": weather_tool()});
    let r = post(d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{model}: {}", r.text());
    let (id, name, args, finish) = if stream {
        let chunks = stream_chunks(&r);
        let calls: Vec<&Value> =
            chunks.iter().filter_map(|c| c["choices"][0]["delta"]["tool_calls"].as_array()).flatten().collect();
        let id = calls.iter().find_map(|c| c["id"].as_str()).unwrap_or_default().to_owned();
        let name = calls.iter().find_map(|c| c["function"]["name"].as_str()).unwrap_or_default().to_owned();
        let args: String = calls.iter().filter_map(|c| c["function"]["arguments"].as_str()).collect();
        let finish =
            chunks.iter().find_map(|c| c["choices"][0]["finish_reason"].as_str()).unwrap_or_default().to_owned();
        (id, name, args, finish)
    } else {
        let v = r.json();
        let call = &v["choices"][0]["message"]["tool_calls"][0];
        (
            call["id"].as_str().unwrap_or_default().to_owned(),
            call["function"]["name"].as_str().unwrap_or_default().to_owned(),
            call["function"]["arguments"].as_str().unwrap_or_default().to_owned(),
            v["choices"][0]["finish_reason"].as_str().unwrap_or_default().to_owned(),
        )
    };
    assert_eq!(name, "get_weather", "{model} stream={stream}: {}", r.text());
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap_or_default(),
        json!({"city": "Oslo"}),
        "{model} stream={stream}"
    );
    assert_eq!(finish, "tool_calls", "{model} stream={stream}");
    assert!(!id.is_empty(), "{model} stream={stream}: a tool call needs an id");
    // Second turn: the tool result goes back and the model answers with it.
    let body = json!({"model": model, "messages": [
        {"role": "user", "content": "Oslo?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": id, "type": "function", "function": {"name": name, "arguments": args}}]},
        {"role": "tool", "tool_call_id": id, "content": "12C and clear"}
    ], "tools": weather_tool()});
    let r = post(d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{model}: {}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], "tool result: 12C and clear", "{model}");
}

async fn json_mode(d: &Daemon, model: &str) {
    let body = json!({"model": model, "response_format": {"type": "json_object"}, "messages": [{"role": "user", "content": "status as JSON"}]});
    let r = post(d, "/v1/chat/completions", &body.to_string()).await;
    assert_eq!(r.status, 200, "{model}: {}", r.text());
    let content = r.json()["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_owned();
    assert_eq!(serde_json::from_str::<Value>(&content).unwrap_or_default(), json!({"ok": true}), "{model}: {content}");
}

#[tokio::test]
async fn every_dialect_passes_the_battery() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    for &(model, streams) in DIALECTS {
        plain(&d, model).await;
        tools(&d, model, false).await;
        json_mode(&d, model).await;
        if streams {
            streamed(&d, model).await;
            tools(&d, model, true).await;
        }
    }
}
