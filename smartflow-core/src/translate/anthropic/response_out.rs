//! Canonical `ChatResponse` → Anthropic Messages response, for clients of `POST /v1/messages`.

use serde_json::{Value, json};

use super::mapping::{message_id, stop_reason_from_finish_reason, usage_to_anthropic};
use super::types::{AnthropicUsage, ContentBlock, MessagesResponse};
use crate::types::{ChatResponse, MessageContent};

/// Translates a `chat.completion` into an Anthropic `message` object naming `model`.
///
/// Only the first choice is used (inbound requests never ask for more). The id becomes `msg_…`
/// (`chatcmpl-` replaced, `msg_` ids kept); the content becomes text blocks (a refusal becomes
/// text) followed by `tool_use` blocks whose `input` is the parsed `arguments` (`{}` when they are
/// empty or not a JSON object); the finish reason maps back to a stop reason; usage is
/// de-normalised (`input_tokens` excludes cache reads and writes).
pub fn to_anthropic_response(resp: &ChatResponse, model: &str) -> Value {
    let choice = resp.choices.iter().find(|c| c.index == 0).or(resp.choices.first());
    let mut content = Vec::new();
    let mut stop_reason = "end_turn";
    if let Some(choice) = choice {
        let msg = &choice.message;
        match &msg.content {
            Some(MessageContent::Text(s)) if !s.is_empty() => content.push(ContentBlock::text(s.clone())),
            Some(MessageContent::Parts(parts)) => {
                content.extend(
                    parts.iter().filter_map(|p| p.text.as_deref()).filter(|t| !t.is_empty()).map(ContentBlock::text),
                );
            }
            _ => {}
        }
        if content.is_empty()
            && let Some(refusal) = msg.rest.get("refusal").and_then(Value::as_str).filter(|r| !r.is_empty())
        {
            content.push(ContentBlock::text(refusal));
        }
        if let Some(Value::Array(calls)) = msg.rest.get("tool_calls") {
            content.extend(calls.iter().enumerate().map(|(i, call)| tool_use(call, i)));
        }
        if let Some(reason) = choice.finish_reason.as_deref() {
            stop_reason = stop_reason_from_finish_reason(reason);
        }
    }
    let usage = resp.usage.as_ref().map(usage_to_anthropic).unwrap_or(AnthropicUsage {
        input_tokens: Some(0),
        output_tokens: Some(0),
        cache_creation_input_tokens: Some(0),
        cache_read_input_tokens: Some(0),
    });
    let message = MessagesResponse {
        id: message_id(&resp.id),
        kind: "message".to_owned(),
        role: "assistant".to_owned(),
        model: model.to_owned(),
        content,
        stop_reason: Some(stop_reason.to_owned()),
        stop_sequence: None,
        usage,
    };
    serde_json::to_value(&message).unwrap_or_else(|_| json!({"type": "message", "content": []}))
}

/// An OpenAI tool call as a `tool_use` block.
fn tool_use(call: &Value, position: usize) -> ContentBlock {
    let function = call.get("function");
    let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
    let id = text(call.get("id"));
    ContentBlock::ToolUse {
        id: if id.is_empty() { format!("toolu_{position}") } else { id },
        name: text(function.and_then(|f| f.get("name"))),
        input: parse_input(function.and_then(|f| f.get("arguments")).and_then(Value::as_str).unwrap_or("")),
        cache_control: None,
    }
}

/// Tool `arguments` as an input object; anything that is not a JSON object becomes `{}`.
pub(crate) fn parse_input(arguments: &str) -> Value {
    match serde_json::from_str::<Value>(arguments) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({}),
    }
}
