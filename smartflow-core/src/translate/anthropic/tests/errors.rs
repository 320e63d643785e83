//! Errors: Anthropic upstream errors → gateway errors, gateway errors → Anthropic bodies/events.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::{anthropic_error_body, error_event, error_from_anthropic};
use crate::error::{Error, ErrorKind};

fn body(kind: &str, message: &str) -> Vec<u8> {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_1"})
        .to_string()
        .into_bytes()
}

#[test]
fn upstream_errors_map_by_status() {
    let wait = Some(Duration::from_secs(3));
    // (status, anthropic type, kind, client status, openai type, message passed through, retryable)
    let cases = [
        (400, "invalid_request_error", ErrorKind::UpstreamClientError, 400, "invalid_request_error", true, false),
        (401, "authentication_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (402, "billing_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (403, "permission_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (404, "not_found_error", ErrorKind::UpstreamClientError, 404, "invalid_request_error", true, false),
        (413, "request_too_large", ErrorKind::UpstreamClientError, 413, "invalid_request_error", true, false),
        (429, "rate_limit_error", ErrorKind::UpstreamClientError, 429, "rate_limit_error", true, true),
        (500, "api_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (504, "timeout_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (529, "overloaded_error", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
    ];
    for (status, kind, want_kind, want_status, want_type, passes_message, retryable) in cases {
        let secret = "key sk-ant-SECRET is invalid";
        let e = error_from_anthropic(status, &body(kind, secret), wait);
        assert_eq!((e.kind(), e.status_code(), e.openai_type()), (want_kind, want_status, want_type), "{status}");
        assert_eq!(e.message().contains(secret), passes_message, "{status}: {}", e.message());
        assert_eq!(e.is_retryable(), retryable, "{status}");
        assert_eq!(e.retry_after(), wait, "{status} keeps retry-after");
    }
    let e = error_from_anthropic(400, &body("invalid_request_error", "x"), None);
    assert_eq!(e.code(), Some("invalid_request_error"));
    assert_eq!(error_from_anthropic(429, b"", None).code(), Some("rate_limit_exceeded"));
    let e = error_from_anthropic(503, b"<html>busy</html>", None);
    assert_eq!((e.status_code(), e.is_retryable(), e.retry_after()), (502, true, None));
    let e = error_from_anthropic(422, b"not json", None);
    assert_eq!((e.status_code(), e.message()), (422, "upstream provider returned status 422"));
    let long = "x".repeat(5000);
    assert!(error_from_anthropic(400, &body("invalid_request_error", &long), None).message().len() < 1100);
}

#[test]
fn gateway_errors_map_to_anthropic_types() {
    let cases = [
        (Error::invalid_request("bad"), "invalid_request_error"),
        (Error::new(ErrorKind::Authentication, "who?"), "authentication_error"),
        (Error::new(ErrorKind::PermissionDenied, "no"), "permission_error"),
        (Error::new(ErrorKind::PolicyDenied, "blocked"), "permission_error"),
        (Error::new(ErrorKind::QuotaExceeded, "spent"), "permission_error"),
        (Error::new(ErrorKind::NotFound, "no model"), "not_found_error"),
        (Error::new(ErrorKind::PayloadTooLarge, "big"), "request_too_large"),
        (Error::new(ErrorKind::HeadersTooLarge, "big"), "invalid_request_error"),
        (Error::new(ErrorKind::RateLimited, "slow"), "rate_limit_error"),
        (Error::new(ErrorKind::UpstreamClientError, "x").with_status(429), "rate_limit_error"),
        (Error::new(ErrorKind::UpstreamClientError, "x").with_status(404), "not_found_error"),
        (Error::new(ErrorKind::UpstreamServerError, "x"), "api_error"),
        (Error::new(ErrorKind::UpstreamProtocol, "x"), "api_error"),
        (Error::internal("x"), "api_error"),
        (Error::new(ErrorKind::UpstreamTimeout, "x"), "timeout_error"),
        (Error::new(ErrorKind::Unavailable, "draining"), "overloaded_error"),
    ];
    for (err, want) in cases {
        let v: Value = serde_json::from_slice(&anthropic_error_body(&err)).unwrap();
        assert_eq!(v["type"], "error");
        assert_eq!(v["error"]["type"], want, "{err:?}");
        assert_eq!(v["error"]["message"], err.message(), "{err:?}");
    }
    let e = Error::invalid_request("must be at least 1").with_param("max_tokens");
    let v: Value = serde_json::from_slice(&anthropic_error_body(&e)).unwrap();
    assert_eq!(v["error"]["message"], "max_tokens: must be at least 1");
    let e = Error::invalid_request("max_tokens: field required").with_param("max_tokens");
    let v: Value = serde_json::from_slice(&anthropic_error_body(&e)).unwrap();
    assert_eq!(v["error"]["message"], "max_tokens: field required");
}

#[test]
fn error_events_are_sse() {
    let ev = error_event(&Error::new(ErrorKind::UpstreamServerError, "upstream failed"));
    assert_eq!(
        &ev[..],
        b"event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"api_error\",\"message\":\"upstream failed\"}}\n\n"
    );
}
