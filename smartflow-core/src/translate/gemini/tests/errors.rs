//! Errors: Gemini upstream error bodies → gateway errors.

use std::time::Duration;

use serde_json::{Value, json};

use super::super::error_from_gemini;
use crate::error::ErrorKind;

fn body(code: u16, status: &str, message: &str, details: Value) -> Vec<u8> {
    json!({"error": {"code": code, "message": message, "status": status, "details": details}}).to_string().into_bytes()
}

#[test]
fn upstream_errors_map_by_status() {
    let wait = Some(Duration::from_secs(3));
    let key_invalid = json!([{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID",
        "domain": "googleapis.com", "metadata": {"service": "generativelanguage.googleapis.com"}}]);
    // (status, google status, details, kind, client status, openai type, code, message passed through, retryable)
    let cases = [
        (
            400,
            "INVALID_ARGUMENT",
            json!([]),
            ErrorKind::UpstreamClientError,
            400,
            "invalid_request_error",
            "invalid_argument",
            true,
            false,
        ),
        (
            400,
            "INVALID_ARGUMENT",
            key_invalid,
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_auth_failed",
            false,
            true,
        ),
        (
            400,
            "FAILED_PRECONDITION",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_precondition_failed",
            false,
            true,
        ),
        (
            401,
            "UNAUTHENTICATED",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_auth_failed",
            false,
            true,
        ),
        (
            403,
            "PERMISSION_DENIED",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_auth_failed",
            false,
            true,
        ),
        (
            404,
            "NOT_FOUND",
            json!([]),
            ErrorKind::UpstreamClientError,
            404,
            "invalid_request_error",
            "not_found",
            true,
            false,
        ),
        (413, "", json!([]), ErrorKind::UpstreamClientError, 413, "invalid_request_error", "", true, false),
        (
            429,
            "RESOURCE_EXHAUSTED",
            json!([]),
            ErrorKind::UpstreamClientError,
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            true,
            true,
        ),
        (
            500,
            "INTERNAL",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_error",
            false,
            true,
        ),
        (
            503,
            "UNAVAILABLE",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_overloaded",
            false,
            true,
        ),
        (
            504,
            "DEADLINE_EXCEEDED",
            json!([]),
            ErrorKind::UpstreamServerError,
            502,
            "server_error",
            "upstream_error",
            false,
            true,
        ),
    ];
    for (status, google, details, kind, want_status, want_type, code, passes_message, retryable) in cases {
        let secret = "contents[0] is invalid near sk-SECRET";
        let e = error_from_gemini(status, &body(status, google, secret, details), wait);
        let label = format!("{status} {google}");
        assert_eq!((e.kind(), e.status_code(), e.openai_type()), (kind, want_status, want_type), "{label}");
        assert_eq!(e.code().unwrap_or(""), code, "{label}");
        assert_eq!(e.message().contains(secret), passes_message, "{label}: {}", e.message());
        assert_eq!(e.is_retryable(), retryable, "{label}");
        assert_eq!(e.retry_after(), wait, "{label} keeps retry-after");
    }
}

#[test]
fn a_rejected_key_is_recognised_by_its_message_too() {
    let e = error_from_gemini(
        400,
        &body(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.", json!([])),
        None,
    );
    assert_eq!((e.status_code(), e.code()), (502, Some("upstream_auth_failed")));
    assert!(!e.message().contains("API key not valid"));
}

#[test]
fn retry_delay_comes_from_the_header_else_the_body() {
    let details = json!([
        {"@type": "type.googleapis.com/google.rpc.QuotaFailure", "violations": [{"quotaMetric": "x"}]},
        {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "37.5s"}]);
    let quota = body(429, "RESOURCE_EXHAUSTED", "You exceeded your current quota", details);
    assert_eq!(error_from_gemini(429, &quota, None).retry_after(), Some(Duration::from_millis(37_500)));
    assert_eq!(
        error_from_gemini(429, &quota, Some(Duration::from_secs(2))).retry_after(),
        Some(Duration::from_secs(2))
    );
    let long = body(
        429,
        "RESOURCE_EXHAUSTED",
        "x",
        json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "86400s"}]),
    );
    assert_eq!(error_from_gemini(429, &long, None).retry_after(), Some(Duration::from_secs(3600)));
    for bad in ["soon", "-3s", "NaNs", ""] {
        let b = body(
            429,
            "RESOURCE_EXHAUSTED",
            "x",
            json!([{"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": bad}]),
        );
        assert_eq!(error_from_gemini(429, &b, None).retry_after(), None, "{bad}");
    }
}

#[test]
fn odd_bodies_still_map() {
    let e = error_from_gemini(503, b"<html>busy</html>", None);
    assert_eq!((e.status_code(), e.is_retryable(), e.retry_after()), (502, true, None));
    let e = error_from_gemini(422, b"not json", None);
    assert_eq!((e.status_code(), e.message(), e.code()), (422, "upstream provider returned status 422", None));
    let e = error_from_gemini(429, b"", None);
    assert_eq!((e.status_code(), e.code()), (429, Some("rate_limit_exceeded")));
    // The array framing of streams without alt=sse.
    let array = format!("[{}]", String::from_utf8(body(400, "INVALID_ARGUMENT", "bad field", json!([]))).unwrap());
    let e = error_from_gemini(400, array.as_bytes(), None);
    assert_eq!((e.status_code(), e.message()), (400, "bad field"));
    let long = "x".repeat(5000);
    assert!(error_from_gemini(400, &body(400, "INVALID_ARGUMENT", &long, json!([])), None).message().len() < 1100);
    let e = error_from_gemini(499, &body(499, "CANCELLED", "cancelled", json!([])), None);
    assert_eq!((e.kind(), e.status_code()), (ErrorKind::UpstreamServerError, 502));
}
