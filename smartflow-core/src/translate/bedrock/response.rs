//! Bedrock Converse response → canonical `ChatResponse`, for answers from a Bedrock upstream.

use serde::Deserialize;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::mapping::{arguments, finish_reason_from_stop_reason, new_chat_id, now_unix, usage_from_converse};
use super::types::ConverseResponse;
use crate::error::{Error, ErrorKind};
use crate::types::{ChatResponse, Choice, Extra, Message, MessageContent, Role};

/// Translates a `Converse` response body into a `chat.completion` named `model`.
///
/// Text blocks are concatenated into the message content; `toolUse` blocks become `tool_calls`
/// with the input serialised as `arguments`, except the [`JSON_TOOL_NAME`] emulation tool,
/// whose input becomes the content (finish reason `stop`). Reasoning text becomes the
/// non-standard `reasoning_content` field (signatures and redacted reasoning are dropped). Usage
/// is normalised to OpenAI semantics (cache reads and writes included in `prompt_tokens`). The
/// body carries no id, so a fresh `chatcmpl-…` id is made (the provider may replace it with the
/// request id Bedrock sends in a header).
///
/// # Errors
/// [`ErrorKind::UpstreamProtocol`] when the body is not a Converse response (no
/// `output.message`).
pub fn from_converse_response(body: &Value, model: &str) -> Result<ChatResponse, Error> {
    let resp = ConverseResponse::deserialize(body).map_err(|_| invalid_response())?;
    let message = resp.output.and_then(|o| o.message).ok_or_else(invalid_response)?;
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut json_answer = None;
    let mut calls = Vec::new();
    for block in &message.content {
        if let Some(t) = &block.text {
            text.push_str(t);
        } else if let Some(tool) = &block.tool_use {
            if tool.name == JSON_TOOL_NAME {
                json_answer = Some(arguments(&tool.input));
            } else {
                calls.push(json!({
                    "id": tool.tool_use_id,
                    "type": "function",
                    "function": { "name": tool.name, "arguments": arguments(&tool.input) },
                }));
            }
        } else if let Some(r) = block.reasoning_content.as_ref().and_then(|r| r.reasoning_text.as_ref()) {
            reasoning.push_str(&r.text);
        }
    }
    let mut finish = resp.stop_reason.as_deref().map_or("stop", finish_reason_from_stop_reason);
    if let Some(answer) = json_answer {
        // JSON mode: the forced tool's input is the answer; any text around it is preamble.
        text = answer;
        if calls.is_empty() && finish == "tool_calls" {
            finish = "stop";
        }
    }
    let mut rest = Extra::new();
    if !reasoning.is_empty() {
        rest.insert("reasoning_content".to_owned(), Value::String(reasoning));
    }
    let content = if text.is_empty() && !calls.is_empty() { None } else { Some(MessageContent::Text(text)) };
    if !calls.is_empty() {
        rest.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    Ok(ChatResponse {
        id: new_chat_id(),
        object: "chat.completion".to_owned(),
        created: now_unix(),
        model: model.to_owned(),
        choices: vec![Choice {
            index: 0,
            message: Message { role: Role::Assistant, content, rest },
            finish_reason: Some(finish.to_owned()),
            rest: Extra::new(),
        }],
        usage: resp.usage.as_ref().map(usage_from_converse),
        rest: Extra::new(),
    })
}

fn invalid_response() -> Error {
    Error::new(ErrorKind::UpstreamProtocol, "upstream sent an invalid Converse response")
        .with_code("invalid_upstream_response")
}
