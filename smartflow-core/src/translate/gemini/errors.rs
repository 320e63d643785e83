//! Gemini upstream errors (`{"error":{"code","message","status","details"}}`) → gateway
//! [`Error`]s.

use std::time::Duration;

use serde::Deserialize;
use serde_json::Value;

use super::types::GoogleStatus;
use crate::error::{Error, ErrorKind};
use crate::providers::http::upstream_error;

/// The longest retry delay taken from an error body (longer ones are capped to it).
const MAX_RETRY_DELAY: Duration = Duration::from_secs(3600);

/// Turns a non-2xx Gemini answer into a gateway error.
///
/// - 401, 403, and a 4xx whose `ErrorInfo` reason is `API_KEY_*` or whose message names the
///   "API key" (Gemini answers an invalid key with 400 `INVALID_ARGUMENT`) mean the gateway's own credentials are wrong: a retryable 502
///   `upstream_auth_failed` that does not repeat the upstream message. `FAILED_PRECONDITION`
///   (region not served, billing not enabled) is likewise the gateway's account, not the client:
///   a retryable 502 `upstream_precondition_failed`.
/// - 429 (`RESOURCE_EXHAUSTED`) passes through as 429 `rate_limit_error`,
///   `rate_limit_exceeded`; the wait is `retry_after` or else the body's `RetryInfo.retryDelay`.
/// - Other 4xx pass through with their status, the upstream message (at most 1000 bytes), type
///   `invalid_request_error` and the Google status lower-cased as `code` (`invalid_argument`).
/// - 5xx (and 499 `CANCELLED`) become a retryable 502; 503 is `upstream_overloaded`.
///
/// `retry_after` is kept on every error.
pub fn error_from_gemini(status: u16, body: &[u8], retry_after: Option<Duration>) -> Error {
    let detail = serde_json::from_slice::<Value>(body).ok().and_then(|v| status_of(&v)).unwrap_or_default();
    map(status, &detail, retry_after)
}

/// The `error` object of a body: `{"error":{…}}`, or the first element of `[{"error":{…}}]`
/// (the array framing of streams without `alt=sse`).
pub(super) fn status_of(body: &Value) -> Option<GoogleStatus> {
    let body = match body {
        Value::Array(items) => items.first()?,
        other => other,
    };
    GoogleStatus::deserialize(body.get("error")?).ok()
}

/// Turns an error object that arrived without an HTTP status (a stream event, or an error body
/// sent with 200) into a gateway error, taking the status from its `code`, else its `status`.
pub(super) fn error_from_status(detail: &GoogleStatus) -> Error {
    let status = detail.code.filter(|c| (400..=599).contains(c)).unwrap_or(match detail.status.as_str() {
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => 400,
        "UNAUTHENTICATED" => 401,
        "PERMISSION_DENIED" => 403,
        "NOT_FOUND" => 404,
        "ALREADY_EXISTS" | "ABORTED" => 409,
        "RESOURCE_EXHAUSTED" => 429,
        "CANCELLED" => 499,
        "UNIMPLEMENTED" => 501,
        "UNAVAILABLE" => 503,
        "DEADLINE_EXCEEDED" => 504,
        _ => 500,
    });
    map(status, detail, None)
}

fn map(status: u16, detail: &GoogleStatus, retry_after: Option<Duration>) -> Error {
    // Gemini answers a bad, expired or missing key with 400: recognise it by its reason, or by
    // its message when the details are missing.
    let key_rejected = detail.message.contains("API key")
        || detail
            .details
            .iter()
            .any(|d| d.get("reason").and_then(Value::as_str).is_some_and(|r| r.starts_with("API_KEY_")));
    let retry_after = retry_after.or_else(|| retry_delay(detail));
    let err = match status {
        401 | 403 => upstream_error::credentials_rejected(),
        429 => upstream_error::rate_limited(&detail.message),
        400..=499 if key_rejected => upstream_error::credentials_rejected(),
        400..=499 if detail.status == "FAILED_PRECONDITION" => {
            Error::new(ErrorKind::UpstreamServerError, "the upstream provider refused the gateway's account or region")
                .with_code("upstream_precondition_failed")
        }
        499 => Error::new(ErrorKind::UpstreamServerError, "the upstream provider cancelled the request")
            .with_code("upstream_error"),
        400..=498 => {
            let code = detail.status.to_ascii_lowercase();
            let code = (!code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b == b'_')).then_some(code);
            upstream_error::client_error(status, &detail.message, code)
        }
        503 => Error::new(ErrorKind::UpstreamServerError, "the upstream provider is overloaded")
            .with_code("upstream_overloaded"),
        _ => upstream_error::server_error(status),
    };
    upstream_error::with_retry_after(err, retry_after)
}

/// `RetryInfo.retryDelay` (`"37s"`, `"1.5s"`) from the error details, capped at an hour.
fn retry_delay(detail: &GoogleStatus) -> Option<Duration> {
    let delay = detail.details.iter().find_map(|d| {
        let is_retry_info = d.get("@type").and_then(Value::as_str).is_some_and(|t| t.ends_with("google.rpc.RetryInfo"));
        if is_retry_info { d.get("retryDelay").and_then(Value::as_str) } else { None }
    })?;
    let secs: f64 = delay.trim().strip_suffix('s')?.parse().ok()?;
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    Some(Duration::from_secs_f64(secs.min(MAX_RETRY_DELAY.as_secs_f64())))
}
