//! Small shared mappings: stop reasons, usage normalisation, ids, timestamps, data URIs and the
//! 400 errors that name a parameter.

use std::borrow::Cow;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::types::AnthropicUsage;
use crate::error::Error;
use crate::types::{ChatRequest, Extra, Usage};

/// Anthropic `stop_reason` → OpenAI `finish_reason`.
///
/// `end_turn`, `stop_sequence`, `pause_turn` and unknown reasons → `stop`; `max_tokens` and
/// `model_context_window_exceeded` → `length`; `tool_use` → `tool_calls`; `refusal` →
/// `content_filter`.
pub fn finish_reason_from_stop_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// OpenAI `finish_reason` → Anthropic `stop_reason`.
///
/// `stop` → `end_turn` (OpenAI does not say whether a stop sequence matched), `length` →
/// `max_tokens`, `tool_calls`/`function_call` → `tool_use`, `content_filter` → `refusal`.
pub fn stop_reason_from_finish_reason(finish_reason: &str) -> &'static str {
    match finish_reason {
        "length" => "max_tokens",
        "tool_calls" | "function_call" => "tool_use",
        "content_filter" => "refusal",
        _ => "end_turn",
    }
}

/// Anthropic usage → OpenAI usage: `prompt_tokens` = input + cache reads + cache writes,
/// `prompt_tokens_details.cached_tokens` = cache reads, `cache_write_tokens` = cache writes.
pub fn usage_from_anthropic(u: &AnthropicUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let write = u.cache_creation_input_tokens.unwrap_or(0);
    let prompt = u.input_tokens.unwrap_or(0).saturating_add(read).saturating_add(write);
    let mut usage = Usage::new(prompt, u.output_tokens.unwrap_or(0));
    let mut details = Extra::new();
    details.insert("cached_tokens".to_owned(), read.into());
    details.insert("cache_write_tokens".to_owned(), write.into());
    usage.prompt_tokens_details = Some(details);
    usage
}

/// OpenAI usage → Anthropic usage: `input_tokens` = prompt − cached − cache writes (the inverse
/// of [`usage_from_anthropic`]; never negative).
pub fn usage_to_anthropic(u: &Usage) -> AnthropicUsage {
    let t = u.tokens();
    let read = t.cached_input.min(t.input);
    let write = t.cache_write_input.min(t.input - read);
    AnthropicUsage {
        input_tokens: Some(t.input - read - write),
        output_tokens: Some(t.output),
        cache_creation_input_tokens: Some(write),
        cache_read_input_tokens: Some(read),
    }
}

/// An Anthropic message id for a chat id: `msg_` ids are kept, `chatcmpl-` is replaced by `msg_`.
pub(crate) fn message_id(chat_id: &str) -> String {
    if chat_id.starts_with("msg_") {
        return chat_id.to_owned();
    }
    let core = chat_id.strip_prefix("chatcmpl-").unwrap_or(chat_id);
    if core.is_empty() { "msg_smartflow".to_owned() } else { format!("msg_{core}") }
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Splits `data:<media type>;base64,<payload>` into its media type and payload.
pub(crate) fn parse_base64_data_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("data:")?;
    let (meta, payload) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    // Parameters such as `;charset=utf-8` may sit between the type and `;base64`.
    let media_type = media_type.split(';').next().unwrap_or(media_type);
    if media_type.is_empty() { None } else { Some((media_type, payload)) }
}

/// `data:<media type>;base64,<payload>`.
pub(crate) fn base64_data_uri(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}

/// A field of the request's pass-through map; `null` counts as absent.
pub(crate) fn field<'a>(req: &'a ChatRequest, name: &str) -> Option<&'a Value> {
    req.rest.get(name).filter(|v| !v.is_null())
}

/// A 400 `invalid_request_error` naming `param`.
pub(crate) fn invalid(param: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Error {
    Error::invalid_request(message).with_param(param)
}

/// A 400 naming `param`, with code `unsupported_parameter`: valid OpenAI the upstream cannot do.
pub(crate) fn unsupported(param: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Error {
    invalid(param, message).with_code("unsupported_parameter")
}
