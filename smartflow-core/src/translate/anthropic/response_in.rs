//! Anthropic Messages response → canonical `ChatResponse`, for answers from an Anthropic upstream.

use serde::Deserialize;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::errors::error_from_detail;
use super::mapping::{finish_reason_from_stop_reason, now_unix, usage_from_anthropic};
use super::request_in::arguments;
use super::types::{ContentBlock, ErrorDetail, MessagesResponse};
use crate::error::{Error, ErrorKind};
use crate::types::{ChatResponse, Choice, Extra, Message, MessageContent, Role};

/// Translates a non-streamed Anthropic response body into a `chat.completion` named `model`.
///
/// Text blocks are concatenated into the message content; `tool_use` blocks become `tool_calls`
/// with the input serialised as `arguments`, except the [`JSON_TOOL_NAME`] emulation tool, whose
/// input becomes the content (finish reason `stop`). Thinking blocks become the non-standard
/// `reasoning_content` field. Usage is normalised to OpenAI semantics (cache reads and writes
/// included in `prompt_tokens`). The `msg_…` id is kept.
///
/// # Errors
/// [`ErrorKind::UpstreamProtocol`] when the body is not a Messages response; the mapped upstream
/// error when the body is an Anthropic error object.
pub fn from_anthropic_response(body: &Value, model: &str) -> Result<ChatResponse, Error> {
    if body.get("type").and_then(Value::as_str) == Some("error") {
        let detail = body.get("error").and_then(|e| ErrorDetail::deserialize(e).ok()).unwrap_or_default();
        return Err(error_from_detail(&detail, None));
    }
    let resp = MessagesResponse::deserialize(body).map_err(|_| {
        Error::new(ErrorKind::UpstreamProtocol, "upstream sent an invalid Messages response")
            .with_code("invalid_upstream_response")
    })?;
    if resp.kind != "message" {
        return Err(Error::new(ErrorKind::UpstreamProtocol, "upstream sent an invalid Messages response")
            .with_code("invalid_upstream_response"));
    }
    Ok(chat_response(resp, model))
}

fn chat_response(resp: MessagesResponse, model: &str) -> ChatResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut json_answer = None;
    let mut calls = Vec::new();
    for block in &resp.content {
        match block {
            ContentBlock::Text { text: t, .. } => text.push_str(t),
            ContentBlock::Thinking { thinking, .. } => reasoning.push_str(thinking),
            ContentBlock::ToolUse { name, input, .. } if name == JSON_TOOL_NAME => json_answer = Some(arguments(input)),
            ContentBlock::ToolUse { id, name, input, .. } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments(input) },
            })),
            _ => {}
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
    ChatResponse {
        id: resp.id,
        object: "chat.completion".to_owned(),
        created: now_unix(),
        model: if model.is_empty() { resp.model } else { model.to_owned() },
        choices: vec![Choice {
            index: 0,
            message: Message { role: Role::Assistant, content, rest },
            finish_reason: Some(finish.to_owned()),
            rest: Extra::new(),
        }],
        usage: Some(usage_from_anthropic(&resp.usage)),
        rest: Extra::new(),
    }
}
