//! Errors in both directions: Anthropic upstream errors → gateway [`Error`]s, and gateway errors
//! → Anthropic error bodies and stream `error` events for `/v1/messages` clients.

use std::time::Duration;

use bytes::Bytes;

use super::stream_out::sse_event;
use super::types::{ErrorDetail, StreamEvent};
use crate::error::{Error, ErrorKind};
use crate::providers::http::upstream_error;

/// Turns a non-2xx Anthropic answer into a gateway error.
///
/// The status decides: 401 and 403 (and 402 `billing_error`) mean the gateway's own credentials
/// or account are wrong, so they become a 502 that does not repeat the upstream message; other 4xx
/// pass through with their status, the upstream message, an OpenAI-style `type`
/// (`rate_limit_error` for 429, else `invalid_request_error`) and the Anthropic type as `code`;
/// 5xx and 529 (overloaded) become a retryable 502. `retry_after` is kept on every error.
pub fn error_from_anthropic(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    let detail = serde_json::from_slice::<serde_json::Value>(body)
        .ok()
        .and_then(|v| v.get("error").cloned())
        .and_then(|e| serde_json::from_value::<ErrorDetail>(e).ok())
        .unwrap_or_default();
    map(status, &detail, retry_after)
}

/// Turns an Anthropic error object that arrived without a status (a mid-stream `error` event or
/// an error body sent with 200) into a gateway error, taking the status its type implies.
pub(crate) fn error_from_detail(detail: &ErrorDetail, retry_after: Option<Duration>) -> Error {
    let status = match detail.kind.as_str() {
        "invalid_request_error" => 400,
        "authentication_error" => 401,
        "billing_error" => 402,
        "permission_error" => 403,
        "not_found_error" => 404,
        "request_too_large" => 413,
        "rate_limit_error" => 429,
        "timeout_error" => 504,
        "overloaded_error" => 529,
        _ => 500,
    };
    map(status, detail, retry_after)
}

fn map(status: u16, detail: &ErrorDetail, retry_after: Option<Duration>) -> Error {
    let err = match status {
        402 => Error::new(ErrorKind::UpstreamServerError, "the upstream provider refused the gateway's account")
            .with_code("upstream_billing_error"),
        529 => overloaded(),
        500..=599 if detail.kind == "overloaded_error" => overloaded(),
        _ => return upstream_error::by_status(status, &detail.message, Some(detail.kind.clone()), retry_after),
    };
    upstream_error::with_retry_after(err, retry_after)
}

fn overloaded() -> Error {
    Error::new(ErrorKind::UpstreamServerError, "the upstream provider is overloaded").with_code("upstream_overloaded")
}

/// The Anthropic error `type` for a gateway error, chosen by the status the client sees.
///
/// 401 `authentication_error`, 402 `billing_error`, 403 `permission_error`, 404
/// `not_found_error`, 413 `request_too_large`, 429 `rate_limit_error`, 503 and 529
/// `overloaded_error`, 504 `timeout_error`, other 5xx `api_error`, other statuses
/// `invalid_request_error`.
pub fn anthropic_error_type(err: &Error) -> &'static str {
    if err.kind() == ErrorKind::Unavailable {
        return "overloaded_error";
    }
    match err.status_code() {
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        500..=599 => "api_error",
        _ => "invalid_request_error",
    }
}

/// The error `{type, message}` for `err`; a parameter at fault prefixes the message the way
/// Anthropic does (`max_tokens: field required`) unless the message already names it.
fn detail(err: &Error) -> ErrorDetail {
    let message = match err.param() {
        Some(param) if !err.message().starts_with(param) => format!("{param}: {}", err.message()),
        _ => err.message().to_owned(),
    };
    ErrorDetail { kind: anthropic_error_type(err).to_owned(), message }
}

/// The Anthropic error body `{"type":"error","error":{"type":…,"message":…}}` for `err`; send it
/// with `err.status_code()`.
pub fn anthropic_error_body(err: &Error) -> Vec<u8> {
    let body = StreamEvent::Error { error: detail(err) };
    serde_json::to_vec(&body).unwrap_or_else(|_| br#"{"type":"error","error":{"type":"api_error"}}"#.to_vec())
}

/// The stream event `event: error` carrying `err`, for failures after a stream began.
pub fn error_event(err: &Error) -> Bytes {
    sse_event(&StreamEvent::Error { error: detail(err) })
}
