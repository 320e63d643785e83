//! The one error type of the pipeline, classified the way a gateway needs: where it came from
//! (client, upstream, policy, internal), whether another attempt may succeed, and which HTTP
//! status and OpenAI error object the client sees.

use std::borrow::Cow;
use std::fmt;
use std::time::Duration;

use serde::Serialize;

/// Who is at fault for an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSource {
    /// The request was malformed, unauthenticated or not allowed.
    Client,
    /// The upstream provider failed, timed out or answered with an error.
    Upstream,
    /// A policy denied the request.
    Policy,
    /// Smartflow itself failed.
    Internal,
}

/// What went wrong; each kind fixes the HTTP status, the OpenAI error `type` and the source.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ErrorKind {
    /// Malformed or invalid request (400).
    InvalidRequest,
    /// Missing or wrong credentials (401).
    Authentication,
    /// Authenticated but not allowed (403).
    PermissionDenied,
    /// Unknown model or route (404).
    NotFound,
    /// Request body over the configured limit (413).
    PayloadTooLarge,
    /// Request headers over the configured limits (431).
    HeadersTooLarge,
    /// A rate limit was hit (429).
    RateLimited,
    /// A quota or budget is exhausted (403, code `insufficient_quota`).
    QuotaExceeded,
    /// A policy (guardrail, barrier) blocked the request (403 unless the denial says otherwise).
    PolicyDenied,
    /// The upstream answered with a 4xx; its status is passed through.
    UpstreamClientError,
    /// The upstream answered with a 5xx (502 to the client).
    UpstreamServerError,
    /// The upstream did not answer in time (504).
    UpstreamTimeout,
    /// The upstream could not be reached (502).
    UpstreamConnect,
    /// The upstream answered with something that is not the protocol (502).
    UpstreamProtocol,
    /// Smartflow cannot serve now: draining, overloaded, audit unavailable (503).
    Unavailable,
    /// The client went away before the answer was complete (499, never sent).
    Cancelled,
    /// A bug or an unexpected internal failure (500).
    Internal,
}

impl ErrorKind {
    /// The HTTP status code for this kind (upstream 4xx uses the upstream's own status).
    pub fn default_status(self) -> u16 {
        match self {
            Self::InvalidRequest => 400,
            Self::Authentication => 401,
            Self::PermissionDenied | Self::QuotaExceeded | Self::PolicyDenied => 403,
            Self::NotFound => 404,
            Self::PayloadTooLarge => 413,
            Self::HeadersTooLarge => 431,
            Self::RateLimited => 429,
            Self::UpstreamClientError => 400,
            Self::UpstreamServerError | Self::UpstreamConnect | Self::UpstreamProtocol => 502,
            Self::UpstreamTimeout => 504,
            Self::Unavailable => 503,
            Self::Cancelled => 499,
            Self::Internal => 500,
        }
    }

    /// The OpenAI error `type` string.
    pub fn openai_type(self) -> &'static str {
        match self {
            Self::InvalidRequest | Self::NotFound | Self::PayloadTooLarge | Self::HeadersTooLarge => {
                "invalid_request_error"
            }
            Self::Authentication => "authentication_error",
            Self::PermissionDenied | Self::PolicyDenied => "permission_error",
            Self::QuotaExceeded => "insufficient_quota",
            Self::RateLimited => "rate_limit_error",
            Self::UpstreamClientError => "invalid_request_error",
            Self::UpstreamServerError
            | Self::UpstreamTimeout
            | Self::UpstreamConnect
            | Self::UpstreamProtocol
            | Self::Unavailable
            | Self::Cancelled
            | Self::Internal => "server_error",
        }
    }

    /// Who is at fault.
    pub fn source(self) -> ErrorSource {
        match self {
            Self::InvalidRequest
            | Self::Authentication
            | Self::PermissionDenied
            | Self::NotFound
            | Self::PayloadTooLarge
            | Self::HeadersTooLarge
            | Self::Cancelled => ErrorSource::Client,
            Self::RateLimited | Self::QuotaExceeded | Self::PolicyDenied => ErrorSource::Policy,
            Self::UpstreamClientError
            | Self::UpstreamServerError
            | Self::UpstreamTimeout
            | Self::UpstreamConnect
            | Self::UpstreamProtocol => ErrorSource::Upstream,
            Self::Unavailable | Self::Internal => ErrorSource::Internal,
        }
    }

    /// A short stable label for metrics and audit (`upstream_timeout`, `invalid_request`...).
    pub fn label(self) -> &'static str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::Authentication => "authentication",
            Self::PermissionDenied => "permission_denied",
            Self::NotFound => "not_found",
            Self::PayloadTooLarge => "payload_too_large",
            Self::HeadersTooLarge => "headers_too_large",
            Self::RateLimited => "rate_limited",
            Self::QuotaExceeded => "quota_exceeded",
            Self::PolicyDenied => "policy_denied",
            Self::UpstreamClientError => "upstream_client_error",
            Self::UpstreamServerError => "upstream_server_error",
            Self::UpstreamTimeout => "upstream_timeout",
            Self::UpstreamConnect => "upstream_connect",
            Self::UpstreamProtocol => "invalid_upstream_response",
            Self::Unavailable => "unavailable",
            Self::Cancelled => "cancelled",
            Self::Internal => "internal",
        }
    }
}

/// The pipeline's error: a kind plus a client-safe message.
///
/// The message never contains prompt or completion text, secrets or upstream URLs; it is what the
/// client reads in `error.message`.
#[derive(Debug, Clone)]
pub struct Error {
    kind: ErrorKind,
    message: Cow<'static, str>,
    param: Option<String>,
    code: Option<Cow<'static, str>>,
    status: Option<u16>,
    retry_after: Option<Duration>,
    upstream_type: Option<String>,
}

impl Error {
    /// A new error of `kind` with a client-safe `message`.
    pub fn new(kind: ErrorKind, message: impl Into<Cow<'static, str>>) -> Self {
        Self {
            kind,
            message: message.into(),
            param: None,
            code: None,
            status: None,
            retry_after: None,
            upstream_type: None,
        }
    }

    /// A 400 `invalid_request_error`.
    pub fn invalid_request(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::InvalidRequest, message)
    }

    /// A 500 with a generic message; details belong in logs, not in the client's error.
    pub fn internal(message: impl Into<Cow<'static, str>>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    /// Names the request parameter at fault (`messages[0].role`).
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Sets the OpenAI error `code` (`model_not_found`, `rate_limit_exceeded`...).
    pub fn with_code(mut self, code: impl Into<Cow<'static, str>>) -> Self {
        self.code = Some(code.into());
        self
    }

    /// Overrides the HTTP status (used for upstream 4xx pass-through and policy denials).
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = Some(status);
        self
    }

    /// Sets how long the client should wait before retrying (`retry-after`).
    pub fn with_retry_after(mut self, after: Duration) -> Self {
        self.retry_after = Some(after);
        self
    }

    /// Keeps the upstream's own error `type` for pass-through of upstream 4xx errors.
    pub fn with_upstream_type(mut self, ty: impl Into<String>) -> Self {
        self.upstream_type = Some(ty.into());
        self
    }

    /// The kind of error.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The client-safe message.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// The parameter at fault, if known.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// The OpenAI error code, if any.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    /// Who is at fault.
    pub fn source(&self) -> ErrorSource {
        self.kind.source()
    }

    /// The HTTP status the client sees.
    pub fn status_code(&self) -> u16 {
        self.status.unwrap_or_else(|| self.kind.default_status())
    }

    /// How long the client should wait before retrying, if known.
    pub fn retry_after(&self) -> Option<Duration> {
        self.retry_after
    }

    /// Whether another attempt (the same or another target) may succeed.
    ///
    /// Connect errors, timeouts, upstream 5xx and upstream 429 are retryable; everything the
    /// client or a policy caused is not.
    pub fn is_retryable(&self) -> bool {
        match self.kind {
            ErrorKind::UpstreamServerError
            | ErrorKind::UpstreamTimeout
            | ErrorKind::UpstreamConnect
            | ErrorKind::UpstreamProtocol => true,
            ErrorKind::UpstreamClientError => matches!(self.status, Some(408 | 409 | 429)),
            _ => false,
        }
    }

    /// The OpenAI error `type` the client sees.
    pub fn openai_type(&self) -> &str {
        self.upstream_type.as_deref().unwrap_or(self.kind.openai_type())
    }

    /// The OpenAI-style error body: `{"error": {"message", "type", "param", "code"}}`.
    pub fn to_openai_json(&self) -> Vec<u8> {
        #[derive(Serialize)]
        struct Body<'a> {
            error: Inner<'a>,
        }
        #[derive(Serialize)]
        struct Inner<'a> {
            message: &'a str,
            #[serde(rename = "type")]
            ty: &'a str,
            param: Option<&'a str>,
            code: Option<&'a str>,
        }
        let body = Body {
            error: Inner {
                message: &self.message,
                ty: self.openai_type(),
                param: self.param.as_deref(),
                code: self.code.as_deref(),
            },
        };
        // Serialising plain strings into a Vec cannot fail.
        serde_json::to_vec(&body).unwrap_or_else(|_| b"{\"error\":{}}".to_vec())
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)
    }
}

impl std::error::Error for Error {}

/// Walks an error's `source()` chain and returns the first cause of type `E`.
pub fn cause_ref<'a, E: std::error::Error + 'static>(mut err: &'a (dyn std::error::Error + 'static)) -> Option<&'a E> {
    loop {
        if let Some(found) = err.downcast_ref::<E>() {
            return Some(found);
        }
        err = err.source()?;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_and_types_follow_openai() {
        let cases = [
            (ErrorKind::InvalidRequest, 400, "invalid_request_error"),
            (ErrorKind::Authentication, 401, "authentication_error"),
            (ErrorKind::NotFound, 404, "invalid_request_error"),
            (ErrorKind::RateLimited, 429, "rate_limit_error"),
            (ErrorKind::UpstreamServerError, 502, "server_error"),
            (ErrorKind::UpstreamTimeout, 504, "server_error"),
        ];
        for (kind, status, ty) in cases {
            let e = Error::new(kind, "x");
            assert_eq!(e.status_code(), status, "{kind:?}");
            assert_eq!(e.openai_type(), ty, "{kind:?}");
        }
    }

    #[test]
    fn json_body_has_all_four_fields() {
        let e = Error::invalid_request("bad").with_param("model");
        let v: serde_json::Value = serde_json::from_slice(&e.to_openai_json()).unwrap_or_default();
        assert_eq!(v["error"]["message"], "bad");
        assert_eq!(v["error"]["type"], "invalid_request_error");
        assert_eq!(v["error"]["param"], "model");
        assert!(v["error"]["code"].is_null());
    }

    #[test]
    fn retryability() {
        assert!(Error::new(ErrorKind::UpstreamConnect, "x").is_retryable());
        assert!(Error::new(ErrorKind::UpstreamClientError, "x").with_status(429).is_retryable());
        assert!(!Error::new(ErrorKind::UpstreamClientError, "x").with_status(400).is_retryable());
        assert!(!Error::invalid_request("x").is_retryable());
    }
}
