//! Gemini `GenerateContentResponse` → canonical `ChatResponse`, for answers from a Gemini
//! upstream.

use serde::Deserialize;
use serde_json::{Value, json};

use super::errors::{error_from_status, status_of};
use super::mapping::{
    call_id, chat_id, finish_reason_from_gemini, now_unix, prompt_blocked, protocol, usage_from_gemini,
};
use super::types::{Candidate, FunctionCall, GenerateContentResponse, Part};
use crate::error::Error;
use crate::types::{ChatResponse, Choice, Extra, Message, MessageContent, Role};

/// Translates a non-streamed Gemini response body into a `chat.completion` named `model` (the
/// upstream's `modelVersion` when `model` is empty).
///
/// Each candidate becomes a choice (at its `index`). Text parts are concatenated into the
/// content; thought parts (`thought: true`) become the non-standard `reasoning_content` field;
/// `functionCall` parts become `tool_calls` with ids `call_0`, `call_1`... (numbered across the
/// whole response; Gemini sends none), arguments serialised from `args`, and the part's
/// `thoughtSignature` kept as `extra_content.google.thought_signature` so it can be sent back.
/// Other parts (inline data, code execution) are dropped. The finish reason is mapped by
/// [`finish_reason_from_gemini`](super::finish_reason_from_gemini), and a candidate with calls
/// that stopped normally finishes with `tool_calls`. The id is `chatcmpl-<responseId>`; usage is
/// mapped by [`usage_from_gemini`](super::usage_from_gemini).
///
/// A prompt the upstream blocked (`promptFeedback.blockReason`, no candidates) is an error, not
/// an answer: a 400 with code `content_filter` (not retryable; the same prompt is refused again).
///
/// # Errors
/// That 400 for a blocked prompt; the mapped upstream error when the body is an error object;
/// [`ErrorKind::UpstreamProtocol`](crate::error::ErrorKind::UpstreamProtocol) when the body is not
/// a `GenerateContentResponse` or has no candidates without saying why.
pub fn from_gemini_response(body: &Value, model: &str) -> Result<ChatResponse, Error> {
    if let Some(status) = status_of(body) {
        return Err(error_from_status(&status));
    }
    if !body.is_object() {
        return Err(invalid_response());
    }
    let resp = GenerateContentResponse::deserialize(body).map_err(|_| invalid_response())?;
    if resp.candidates.is_empty() {
        return match resp.prompt_feedback.as_ref().and_then(|f| f.block_reason.as_deref()) {
            Some(reason) => Err(prompt_blocked(reason)),
            None => Err(invalid_response()),
        };
    }
    let mut next_call = 0;
    let mut choices: Vec<Choice> = resp
        .candidates
        .iter()
        .enumerate()
        .map(|(position, candidate)| choice(candidate, position, &mut next_call))
        .collect();
    choices.sort_by_key(|c| c.index);
    let model = match resp.model_version.as_deref() {
        Some(version) if model.is_empty() => version.to_owned(),
        _ => model.to_owned(),
    };
    Ok(ChatResponse {
        id: chat_id(resp.response_id.as_deref()),
        object: "chat.completion".to_owned(),
        created: now_unix(),
        model,
        choices,
        usage: resp.usage_metadata.as_ref().map(usage_from_gemini),
        rest: Extra::new(),
    })
}

fn invalid_response() -> Error {
    protocol("upstream sent an invalid generateContent response")
}

fn choice(candidate: &Candidate, position: usize, next_call: &mut u32) -> Choice {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for part in candidate.content.iter().flat_map(|c| &c.parts) {
        if let Some(call) = &part.function_call {
            calls.push(tool_call(call, part, call_id(*next_call)));
            *next_call += 1;
        } else if let Some(t) = &part.text {
            if part.thought == Some(true) { reasoning.push_str(t) } else { text.push_str(t) }
        }
    }
    let mut finish = candidate.finish_reason.as_deref().map_or("stop", finish_reason_from_gemini);
    if !calls.is_empty() && finish == "stop" {
        finish = "tool_calls";
    }
    let mut rest = Extra::new();
    if !reasoning.is_empty() {
        rest.insert("reasoning_content".to_owned(), Value::String(reasoning));
    }
    let content = if text.is_empty() && !calls.is_empty() { None } else { Some(MessageContent::Text(text)) };
    if !calls.is_empty() {
        rest.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    let index = candidate.index.unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
    Choice {
        index,
        message: Message { role: Role::Assistant, content, rest },
        finish_reason: Some(finish.to_owned()),
        rest: Extra::new(),
    }
}

/// An OpenAI tool call for a `functionCall` part (without the stream's `index`).
pub(super) fn tool_call(call: &FunctionCall, part: &Part, id: String) -> Value {
    let arguments = match &call.args {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(args) => args.to_string(),
    };
    let mut value = json!({
        "id": id,
        "type": "function",
        "function": { "name": call.name, "arguments": arguments },
    });
    if let (Some(signature), Some(obj)) = (&part.thought_signature, value.as_object_mut()) {
        obj.insert("extra_content".to_owned(), json!({ "google": { "thought_signature": signature } }));
    }
    value
}
