//! Errors: Bedrock Runtime non-2xx answers → gateway errors.

use std::time::Duration;

use http::{HeaderMap, HeaderValue};
use serde_json::json;

use super::super::error_from_bedrock;
use crate::error::ErrorKind;

fn typed(kind: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert("x-amzn-errortype", HeaderValue::from_str(kind).unwrap());
    h
}

#[test]
fn upstream_errors_map_by_type_and_status() {
    let wait = Some(Duration::from_secs(3));
    let secret = "key AKIAEXAMPLE is not authorized for arn:aws:bedrock:us-east-1:123:model";
    // (status, x-amzn-ErrorType, kind, client status, openai type, message passed through, retryable)
    let cases = [
        (
            400,
            "ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/",
            ErrorKind::UpstreamClientError,
            400,
            "invalid_request_error",
            true,
            false,
        ),
        (403, "AccessDeniedException:http://x/", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (403, "UnrecognizedClientException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (403, "InvalidSignatureException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (400, "ExpiredTokenException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (403, "", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (401, "", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (429, "ThrottlingException", ErrorKind::UpstreamClientError, 429, "rate_limit_error", true, true),
        (400, "ServiceQuotaExceededException", ErrorKind::UpstreamClientError, 429, "rate_limit_error", true, true),
        (429, "ModelNotReadyException", ErrorKind::UpstreamClientError, 429, "rate_limit_error", true, true),
        (429, "", ErrorKind::UpstreamClientError, 429, "rate_limit_error", true, true),
        (404, "ResourceNotFoundException", ErrorKind::UpstreamClientError, 404, "invalid_request_error", true, false),
        (408, "ModelTimeoutException", ErrorKind::UpstreamTimeout, 504, "server_error", false, true),
        (424, "ModelErrorException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (500, "InternalServerException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (503, "ServiceUnavailableException", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (502, "", ErrorKind::UpstreamServerError, 502, "server_error", false, true),
        (413, "", ErrorKind::UpstreamClientError, 413, "invalid_request_error", true, false),
    ];
    for (status, kind, want_kind, want_status, want_type, passes_message, retryable) in cases {
        let headers = if kind.is_empty() { HeaderMap::new() } else { typed(kind) };
        let body = json!({"message": secret}).to_string();
        let e = error_from_bedrock(status, &headers, body.as_bytes(), wait);
        let label = format!("{status} {kind}");
        assert_eq!((e.kind(), e.status_code(), e.openai_type()), (want_kind, want_status, want_type), "{label}");
        assert_eq!(e.message().contains(secret), passes_message, "{label}: {}", e.message());
        assert_eq!(e.is_retryable(), retryable, "{label}");
        assert_eq!(e.retry_after(), wait, "{label} keeps retry-after");
    }
}

#[test]
fn type_and_message_are_found_where_aws_puts_them() {
    let e = error_from_bedrock(400, &typed("ValidationException:http://x/"), br#"{"message":"bad maxTokens"}"#, None);
    assert_eq!((e.code(), e.message()), (Some("ValidationException"), "bad maxTokens"));
    // No header: the body's `__type` (with a namespace) or `code`, and a capitalised `Message`.
    let e = error_from_bedrock(
        400,
        &HeaderMap::new(),
        br#"{"__type":"com.amazon.coral.validate#ValidationException","Message":"too long"}"#,
        None,
    );
    assert_eq!((e.code(), e.message()), (Some("ValidationException"), "too long"));
    let e = error_from_bedrock(403, &HeaderMap::new(), br#"{"code":"AccessDeniedException","message":"no"}"#, None);
    assert_eq!((e.status_code(), e.code()), (502, Some("upstream_auth_failed")));
    // Not JSON at all.
    let e = error_from_bedrock(422, &HeaderMap::new(), b"<html>nope</html>", None);
    assert_eq!((e.status_code(), e.message()), (422, "upstream provider returned status 422"));
    let e = error_from_bedrock(503, &HeaderMap::new(), b"", None);
    assert_eq!((e.status_code(), e.is_retryable(), e.retry_after()), (502, true, None));
    // Long messages are cut.
    let long = json!({"message": "é".repeat(3000)}).to_string();
    let e = error_from_bedrock(400, &typed("ValidationException"), long.as_bytes(), None);
    assert!(e.message().len() < 1100);
}
