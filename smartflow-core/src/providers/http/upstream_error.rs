//! The rules every dialect applies to an upstream's non-2xx answer, so a 429 or a rejected key
//! means the same to clients whichever provider sent it. Dialects handle their own special cases
//! (Anthropic's 529, Gemini's key-as-400, Bedrock's exception types) and use these for the rest.

use std::time::Duration;

use crate::error::{Error, ErrorKind};

/// The longest upstream message passed on to a client.
const MAX_MESSAGE: usize = 1000;

/// 401/403 from an upstream: the gateway's own credentials are wrong. A 502 that tells the
/// client nothing about them.
pub(crate) fn credentials_rejected() -> Error {
    Error::new(ErrorKind::UpstreamServerError, "the upstream provider rejected the gateway's credentials")
        .with_code("upstream_auth_failed")
}

/// The upstream's message for the client: cut to 1,000 bytes, or a status line when empty.
pub(crate) fn upstream_message(status: u16, message: &str) -> String {
    if message.is_empty() {
        format!("upstream provider returned status {status}")
    } else {
        truncate(message, MAX_MESSAGE)
    }
}

/// 429: passed on with the upstream's message (retryable; the router decides whether to wait).
pub(crate) fn rate_limited(message: &str) -> Error {
    Error::new(ErrorKind::UpstreamClientError, upstream_message(429, message))
        .with_status(429)
        .with_upstream_type("rate_limit_error")
        .with_code("rate_limit_exceeded")
}

/// Another 4xx: the client's request was at fault; status, message and code pass through.
pub(crate) fn client_error(status: u16, message: &str, code: Option<String>) -> Error {
    let e = Error::new(ErrorKind::UpstreamClientError, upstream_message(status, message))
        .with_status(status)
        .with_upstream_type("invalid_request_error");
    match code.filter(|c| !c.is_empty()) {
        Some(code) => e.with_code(code),
        None => e,
    }
}

/// A 5xx (or anything else): a 502 that names only the status.
pub(crate) fn server_error(status: u16) -> Error {
    Error::new(ErrorKind::UpstreamServerError, format!("upstream provider returned status {status}"))
        .with_code("upstream_error")
}

/// The shared rule by status alone, with `retry_after` kept.
pub(crate) fn by_status(status: u16, message: &str, code: Option<String>, retry_after: Option<Duration>) -> Error {
    let e = match status {
        401 | 403 => credentials_rejected(),
        429 => rate_limited(message),
        400..=499 => client_error(status, message, code),
        _ => server_error(status),
    };
    with_retry_after(e, retry_after)
}

/// `e` with the upstream's `retry-after`, if it sent one.
pub(crate) fn with_retry_after(e: Error, retry_after: Option<Duration>) -> Error {
    match retry_after {
        Some(after) => e.with_retry_after(after),
        None => e,
    }
}

/// `s` cut to at most `max` bytes on a character boundary, with an ellipsis when cut.
pub(crate) fn truncate(s: &str, max: usize) -> String {
    if s.len() <= max {
        return s.to_owned();
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}…", &s[..end])
}
