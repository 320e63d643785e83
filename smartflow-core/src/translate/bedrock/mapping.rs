//! Small shared mappings: stop reasons, usage normalisation, ids, timestamps, data URIs, field
//! access and the 400 errors that name a parameter.

use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;

use super::types::ConverseUsage;
pub(crate) use crate::translate::canonical::{invalid, parse_base64_data_uri, unsupported};
use crate::types::{Extra, Usage};

/// Bedrock Converse `stopReason` → OpenAI `finish_reason`.
///
/// `end_turn`, `stop_sequence` → `stop`; `max_tokens` and `model_context_window_exceeded` →
/// `length`; `tool_use` → `tool_calls`; `guardrail_intervened` and `content_filtered` →
/// `content_filter`; anything else (`malformed_model_output`, `malformed_tool_use`, new values)
/// → `stop`.
pub fn finish_reason_from_stop_reason(stop_reason: &str) -> &'static str {
    match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => "length",
        "tool_use" => "tool_calls",
        "guardrail_intervened" | "content_filtered" => "content_filter",
        _ => "stop",
    }
}

/// Converse usage → OpenAI usage: `prompt_tokens` = `inputTokens` + `cacheReadInputTokens` +
/// `cacheWriteInputTokens`; `prompt_tokens_details.cached_tokens` = cache reads,
/// `cache_write_tokens` = cache writes. Bedrock's `totalTokens` is not trusted: the total is
/// recomputed from the parts.
pub fn usage_from_converse(u: &ConverseUsage) -> Usage {
    let read = u.cache_read_input_tokens.unwrap_or(0);
    let write = u.cache_write_input_tokens.unwrap_or(0);
    let prompt = u.input_tokens.unwrap_or(0).saturating_add(read).saturating_add(write);
    let mut usage = Usage::new(prompt, u.output_tokens.unwrap_or(0));
    let mut details = Extra::new();
    details.insert("cached_tokens".to_owned(), read.into());
    details.insert("cache_write_tokens".to_owned(), write.into());
    usage.prompt_tokens_details = Some(details);
    usage
}

/// A fresh `chatcmpl-…` id (Converse answers carry none in their body).
pub(crate) fn new_chat_id() -> String {
    let suffix: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
    format!("chatcmpl-{suffix}")
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub(crate) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// A tool-call id in the shape Converse accepts (`[a-zA-Z0-9_-]{1,64}`): other characters become
/// `_` and the id is cut to 64 characters. Deterministic, so a `toolUse` and the `toolResult`
/// that answers it still match.
pub(crate) fn tool_use_id(id: &str) -> String {
    let cleaned: String =
        id.chars().map(|c| if c.is_ascii_alphanumeric() || c == '_' || c == '-' { c } else { '_' }).take(64).collect();
    if cleaned.is_empty() { "call".to_owned() } else { cleaned }
}

/// A tool's input as OpenAI `arguments`: the JSON text, `{}` when absent.
pub(crate) fn arguments(input: &Value) -> String {
    if input.is_null() { "{}".to_owned() } else { input.to_string() }
}
