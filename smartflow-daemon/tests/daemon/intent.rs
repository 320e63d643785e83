//! What the mock upstream should do with a request, read from each dialect's own wire format:
//! call the first offered tool, answer a tool result, or answer in JSON mode. Lets one battery
//! check tools and JSON mode through every dialect.

use serde_json::{Value, json};

/// The mock's decision.
#[derive(Debug, Clone, PartialEq)]
pub enum Intent {
    /// No tools, no JSON mode: the plain answer.
    Plain,
    /// Call `name` with `{key: "Oslo"}`.
    CallTool { name: String, key: String },
    /// The last turn carries this tool result.
    ToolResult(String),
    /// JSON mode: answer `{"ok":true}`.
    Json,
}

fn first_property(schema: &Value) -> String {
    schema["properties"].as_object().and_then(|p| p.keys().next().cloned()).unwrap_or_else(|| "arg".to_owned())
}

fn text_of(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Array(items) => items.iter().filter_map(|b| b["text"].as_str()).collect(),
        Value::Object(o) => o.get("content").map(text_of).unwrap_or_else(|| v.to_string()),
        _ => String::new(),
    }
}

/// OpenAI chat completions.
pub fn openai(body: &Value) -> Intent {
    let last = body["messages"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    if last["role"] == "tool" {
        return Intent::ToolResult(text_of(&last["content"]));
    }
    if body["response_format"]["type"].as_str().is_some_and(|t| t.starts_with("json")) {
        return Intent::Json;
    }
    match body["tools"][0]["function"].as_object() {
        Some(f) => Intent::CallTool {
            name: f["name"].as_str().unwrap_or_default().to_owned(),
            key: first_property(&f.get("parameters").cloned().unwrap_or_default()),
        },
        None => Intent::Plain,
    }
}

/// Anthropic Messages.
pub fn anthropic(body: &Value) -> Intent {
    let last = body["messages"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    if let Some(r) = last["content"].as_array().and_then(|c| c.iter().find(|b| b["type"] == "tool_result")) {
        return Intent::ToolResult(text_of(&r["content"]));
    }
    if body["tool_choice"]["name"] == "json_response" {
        return Intent::Json;
    }
    match body["tools"].as_array().and_then(|t| t.iter().find(|t| t["name"] != "json_response")) {
        Some(t) => Intent::CallTool {
            name: t["name"].as_str().unwrap_or_default().to_owned(),
            key: first_property(&t["input_schema"]),
        },
        None => Intent::Plain,
    }
}

/// Gemini generateContent.
pub fn gemini(body: &Value) -> Intent {
    let last = body["contents"].as_array().and_then(|c| c.last()).cloned().unwrap_or_default();
    if let Some(r) = last["parts"].as_array().and_then(|p| p.iter().find(|p| p.get("functionResponse").is_some())) {
        return Intent::ToolResult(text_of(&r["functionResponse"]["response"]));
    }
    if body["generationConfig"]["responseMimeType"] == "application/json" {
        return Intent::Json;
    }
    match body["tools"][0]["functionDeclarations"][0].as_object() {
        Some(f) => {
            let schema = f.get("parametersJsonSchema").or_else(|| f.get("parameters")).cloned().unwrap_or_default();
            Intent::CallTool { name: f["name"].as_str().unwrap_or_default().to_owned(), key: first_property(&schema) }
        }
        None => Intent::Plain,
    }
}

/// Bedrock Converse.
pub fn bedrock(body: &Value) -> Intent {
    let last = body["messages"].as_array().and_then(|m| m.last()).cloned().unwrap_or_default();
    if let Some(r) = last["content"].as_array().and_then(|c| c.iter().find(|b| b.get("toolResult").is_some())) {
        return Intent::ToolResult(text_of(&r["toolResult"]["content"]));
    }
    if body["toolConfig"]["toolChoice"]["tool"]["name"] == "json_response" {
        return Intent::Json;
    }
    let spec = body["toolConfig"]["tools"]
        .as_array()
        .and_then(|t| t.iter().find(|t| t["toolSpec"]["name"] != "json_response"));
    match spec {
        Some(t) => Intent::CallTool {
            name: t["toolSpec"]["name"].as_str().unwrap_or_default().to_owned(),
            key: first_property(&t["toolSpec"]["inputSchema"]["json"]),
        },
        None => Intent::Plain,
    }
}

/// The tool arguments the mock always sends.
pub fn args(key: &str) -> Value {
    json!({ key: "Oslo" })
}

/// One AWS event-stream frame (`:event-type`, JSON payload), as Bedrock's `converse-stream`
/// sends them: prelude (total and header lengths, CRC), headers, payload, message CRC.
pub fn aws_event(event_type: &str, payload: &Value) -> Vec<u8> {
    let mut headers = Vec::new();
    for (name, value) in
        [(":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")]
    {
        headers.push(name.len() as u8);
        headers.extend_from_slice(name.as_bytes());
        headers.push(7);
        headers.extend_from_slice(&(value.len() as u16).to_be_bytes());
        headers.extend_from_slice(value.as_bytes());
    }
    let payload = payload.to_string().into_bytes();
    let total = 12 + headers.len() + payload.len() + 4;
    let mut frame = Vec::with_capacity(total);
    frame.extend_from_slice(&(total as u32).to_be_bytes());
    frame.extend_from_slice(&(headers.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&prelude_crc.to_be_bytes());
    frame.extend_from_slice(&headers);
    frame.extend_from_slice(&payload);
    let crc = crc32fast::hash(&frame);
    frame.extend_from_slice(&crc.to_be_bytes());
    frame
}

/// The Converse stream for an intent: text or a tool call, then the stop reason and usage.
pub fn converse_stream(intent: &Intent, text: &str) -> Vec<Vec<u8>> {
    let mut frames = vec![aws_event("messageStart", &json!({"role": "assistant"}))];
    let stop = match intent {
        Intent::CallTool { name, key } => {
            let input = args(key).to_string();
            let (a, b) = input.split_at(input.len() / 2);
            frames.push(aws_event(
                "contentBlockStart",
                &json!({"contentBlockIndex": 0, "start": {"toolUse": {"toolUseId": "tu_1", "name": name}}}),
            ));
            for part in [a, b] {
                frames.push(aws_event(
                    "contentBlockDelta",
                    &json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": part}}}),
                ));
            }
            "tool_use"
        }
        _ => {
            for word in text.split_inclusive(' ') {
                frames.push(aws_event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": word}})));
            }
            "end_turn"
        }
    };
    frames.push(aws_event("contentBlockStop", &json!({"contentBlockIndex": 0})));
    frames.push(aws_event("messageStop", &json!({"stopReason": stop})));
    frames.push(aws_event(
        "metadata",
        &json!({"usage": {"inputTokens": 9, "outputTokens": 3, "totalTokens": 12}, "metrics": {"latencyMs": 1}}),
    ));
    frames
}
