//! Small shared mappings: finish reasons, usage normalisation, ids, timestamps, data URIs, media
//! types and the errors that name a parameter.

use std::time::{SystemTime, UNIX_EPOCH};

use super::types::UsageMetadata;
use crate::error::{Error, ErrorKind};
pub(crate) use crate::translate::canonical::{field, invalid, parse_base64_data_uri, unsupported};
use crate::types::{Extra, Usage};

/// Gemini `finishReason` → OpenAI `finish_reason`.
///
/// `STOP` → `stop`; `MAX_TOKENS` → `length`; the filter reasons (`SAFETY`, `RECITATION`,
/// `BLOCKLIST`, `PROHIBITED_CONTENT`, `SPII` and their `IMAGE_*` forms) → `content_filter`;
/// everything else (`LANGUAGE`, `OTHER`, `MALFORMED_FUNCTION_CALL`, `UNEXPECTED_TOOL_CALL`,
/// unknown reasons) → `stop`. A candidate that carries function calls and would finish with
/// `stop` finishes with `tool_calls` instead; the callers decide that.
pub fn finish_reason_from_gemini(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => "content_filter",
        _ => "stop",
    }
}

/// Gemini `usageMetadata` → OpenAI usage.
///
/// `prompt_tokens` = `promptTokenCount` (which already includes cached content) +
/// `toolUsePromptTokenCount` (results of built-in tools, billed as input; zero for client-side
/// function calling); `completion_tokens` = `candidatesTokenCount` + `thoughtsTokenCount`, with
/// the thoughts also reported as `completion_tokens_details.reasoning_tokens`;
/// `prompt_tokens_details.cached_tokens` = `cachedContentTokenCount`. `totalTokenCount` is not
/// read: the total is recomputed as prompt + completion.
pub fn usage_from_gemini(u: &UsageMetadata) -> Usage {
    let prompt = u.prompt_token_count.saturating_add(u.tool_use_prompt_token_count);
    let completion = u.candidates_token_count.saturating_add(u.thoughts_token_count);
    let mut usage = Usage::new(prompt, completion);
    let mut prompt_details = Extra::new();
    prompt_details.insert("cached_tokens".to_owned(), u.cached_content_token_count.into());
    usage.prompt_tokens_details = Some(prompt_details);
    let mut completion_details = Extra::new();
    completion_details.insert("reasoning_tokens".to_owned(), u.thoughts_token_count.into());
    usage.completion_tokens_details = Some(completion_details);
    usage
}

/// A `chat.completion` id: `chatcmpl-<responseId>`, or a random one when the upstream sent none.
pub(super) fn chat_id(response_id: Option<&str>) -> String {
    match response_id.filter(|id| !id.is_empty()) {
        Some(id) => format!("chatcmpl-{id}"),
        None => {
            let suffix: String = std::iter::repeat_with(fastrand::alphanumeric).take(24).collect();
            format!("chatcmpl-{suffix}")
        }
    }
}

/// The id given to the `n`th function call of a response or stream (`call_0`, `call_1`...).
pub(super) fn call_id(n: u32) -> String {
    format!("call_{n}")
}

/// Now, in Unix seconds (0 if the clock is before 1970).
pub(super) fn now_unix() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Whether `url` is an `http://` or `https://` URL (scheme case-insensitive).
pub(super) fn is_http_url(url: &str) -> bool {
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    lower.starts_with("https://") || lower.starts_with("http://")
}

/// The media type a URL's file extension implies, for the formats Gemini reads by URI.
pub(super) fn media_type_from_url(url: &str) -> Option<&'static str> {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    let file = path.rsplit('/').next().unwrap_or(path);
    let (_, ext) = file.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "gif" => "image/gif",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        _ => return None,
    })
}

/// A 502 for an upstream answer that is not the protocol.
pub(super) fn protocol(message: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message).with_code("invalid_upstream_response")
}

/// The error for a prompt Gemini refused to answer (`promptFeedback.blockReason`, no candidates).
///
/// A 400 with code `content_filter`, as OpenAI-compatible services answer a prompt their filter
/// rejects: the same prompt would be refused again, so it is not retryable, and there is no
/// partial answer to return. The block reason is a Gemini enum name, safe to show.
pub(super) fn prompt_blocked(reason: &str) -> Error {
    let reason: String = reason.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '_').take(64).collect();
    Error::new(ErrorKind::UpstreamClientError, format!("the upstream provider blocked the prompt ({reason})"))
        .with_status(400)
        .with_upstream_type("invalid_request_error")
        .with_code("content_filter")
        .with_param("messages")
}
