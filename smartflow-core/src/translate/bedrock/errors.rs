//! Bedrock errors → gateway [`Error`]s: non-2xx answers (type in the `x-amzn-ErrorType` header,
//! `{"message": …}` body) and exceptions that arrive inside an event stream.

use std::time::Duration;

use serde_json::Value;

use crate::error::{Error, ErrorKind};
use crate::providers::http::upstream_error;

/// What an error type (or, without one, the status) means for the gateway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    /// The gateway's own AWS credentials or permissions are wrong.
    Auth,
    /// Too many requests or tokens.
    Throttled,
    /// The model did not answer in time.
    Timeout,
    /// Bedrock or the model failed.
    Server,
    /// The request was refused; the upstream status and message pass through.
    Client,
}

/// Turns a non-2xx Bedrock Runtime answer into a gateway error.
///
/// The error type comes from the `x-amzn-ErrorType` header (`ValidationException:http://…`,
/// the part after `:` dropped), else the body's `__type` or `code`; the message from the body's
/// `message` (or `Message`). Mapping:
///
/// - `AccessDeniedException`, `UnrecognizedClientException`, `InvalidSignatureException`,
///   `ExpiredTokenException`, other signature/token errors, and any 401/403 → a retryable 502
///   (`upstream_auth_failed`) that does not repeat the upstream message: the gateway's
///   credentials are at fault, not the client.
/// - `ThrottlingException`, `ServiceQuotaExceededException`, `ModelNotReadyException`, and any
///   429 → 429 `rate_limit_error` (`rate_limit_exceeded`), retryable.
/// - `ModelTimeoutException` → 504 `upstream_timeout`, retryable.
/// - `InternalServerException`, `ServiceUnavailableException`, `ModelErrorException`,
///   `ModelStreamErrorException` and any 5xx → a retryable 502 (`upstream_error`).
/// - Every other 4xx (`ValidationException` → 400, `ResourceNotFoundException` → 404...) passes
///   through with its status, the upstream message (truncated), type `invalid_request_error` and
///   the AWS error type as `code`.
///
/// `retry_after` is kept on every error.
pub fn error_from_bedrock(status: u16, headers: &http::HeaderMap, body: &[u8], retry_after: Option<Duration>) -> Error {
    let parsed: Value = serde_json::from_slice(body).unwrap_or(Value::Null);
    let header_type = headers.get("x-amzn-errortype").and_then(|v| v.to_str().ok());
    let body_type = ["__type", "code"].iter().find_map(|k| parsed.get(*k).and_then(Value::as_str));
    let kind = header_type.or(body_type).map(error_type).unwrap_or_default();
    let message = ["message", "Message"].iter().find_map(|k| parsed.get(*k).and_then(Value::as_str)).unwrap_or("");
    upstream_error::with_retry_after(map(status, &kind, message), retry_after)
}

/// Turns an exception from inside a `ConverseStream` event stream (`:message-type` `exception`,
/// `:exception-type` `throttlingException`...; payload `{"message": …}`) into a gateway error,
/// taking the status its type implies and mapping it like [`error_from_bedrock`]. `message`
/// overrides the payload's (for `:message-type` `error` frames, whose message is a header).
pub fn error_from_exception(exception_type: &str, payload: &[u8], message: Option<&str>) -> Error {
    let kind = error_type(exception_type);
    let status = match kind.to_ascii_lowercase().as_str() {
        "validationexception" => 400,
        "accessdeniedexception" => 403,
        "resourcenotfoundexception" => 404,
        "modeltimeoutexception" => 408,
        "throttlingexception" | "modelnotreadyexception" | "servicequotaexceededexception" => 429,
        "modelstreamerrorexception" | "modelerrorexception" => 424,
        "serviceunavailableexception" => 503,
        _ => 500,
    };
    let parsed: Value = serde_json::from_slice(payload).unwrap_or(Value::Null);
    let message = message
        .or_else(|| ["message", "Message"].iter().find_map(|k| parsed.get(*k).and_then(Value::as_str)))
        .unwrap_or("");
    map(status, &kind, message)
}

/// `ValidationException:http://internal…` and `com.amazon.coral#ValidationException` →
/// `ValidationException`.
fn error_type(raw: &str) -> String {
    let raw = raw.split(':').next().unwrap_or(raw);
    let raw = raw.rsplit('#').next().unwrap_or(raw);
    raw.trim().to_owned()
}

fn classify(status: u16, kind: &str) -> Class {
    match kind.to_ascii_lowercase().as_str() {
        "accessdeniedexception"
        | "unrecognizedclientexception"
        | "invalidsignatureexception"
        | "incompletesignatureexception"
        | "missingauthenticationtokenexception"
        | "expiredtokenexception"
        | "invalidclienttokenid"
        | "signaturedoesnotmatch" => Class::Auth,
        "throttlingexception" | "servicequotaexceededexception" | "modelnotreadyexception" => Class::Throttled,
        "modeltimeoutexception" => Class::Timeout,
        "internalserverexception"
        | "serviceunavailableexception"
        | "modelerrorexception"
        | "modelstreamerrorexception" => Class::Server,
        _ => match status {
            401 | 403 => Class::Auth,
            429 => Class::Throttled,
            400..=499 => Class::Client,
            _ => Class::Server,
        },
    }
}

fn map(status: u16, kind: &str, message: &str) -> Error {
    match classify(status, kind) {
        Class::Auth => upstream_error::credentials_rejected(),
        Class::Throttled => upstream_error::rate_limited(message),
        Class::Timeout => Error::new(ErrorKind::UpstreamTimeout, "the upstream model did not answer in time")
            .with_code("upstream_timeout"),
        Class::Server => {
            let message = match status {
                500..=599 => format!("upstream provider returned status {status}"),
                _ => "the upstream provider failed".to_owned(),
            };
            Error::new(ErrorKind::UpstreamServerError, message).with_code("upstream_error")
        }
        Class::Client => upstream_error::client_error(status, message, Some(kind.to_owned())),
    }
}
