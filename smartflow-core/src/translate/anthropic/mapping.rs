//! Small shared mappings: stop reasons, usage normalisation, ids, timestamps, data URIs and the
//! 400 errors that name a parameter.

use std::time::{SystemTime, UNIX_EPOCH};

use super::types::AnthropicUsage;
pub(crate) use crate::translate::canonical::{field, invalid, parse_base64_data_uri, unsupported};
use crate::types::{Extra, Usage};

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

/// `data:<media type>;base64,<payload>`.
pub(crate) fn base64_data_uri(media_type: &str, data: &str) -> String {
    format!("data:{media_type};base64,{data}")
}
