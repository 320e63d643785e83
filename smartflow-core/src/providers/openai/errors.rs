//! Mapping upstream failures to gateway errors: what the client may see, what is retryable.

use crate::error::Error;
use crate::providers::http::{retry_after, upstream_error};

/// Turns a non-2xx upstream answer into an error.
///
/// 4xx errors pass through with their status, type, code and message (the client's request was
/// at fault), except 401/403/404-on-credentials, which mean the gateway's own upstream
/// credentials are wrong and become a 502 that leaks nothing. 5xx become 502.
pub(crate) fn from_status(status: u16, headers: &http::HeaderMap, body: &[u8]) -> Error {
    let parsed: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |k: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get("error"))
            .and_then(|e| e.get(k))
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
    };
    let message = field("message").unwrap_or_default();
    let mut e = upstream_error::by_status(status, &message, field("code"), retry_after(headers));
    // The OpenAI dialect is the client's own: keep the upstream's type and param on 4xx.
    if (400..=499).contains(&status) && !matches!(status, 401 | 403) {
        if let Some(t) = field("type") {
            e = e.with_upstream_type(t);
        }
        if let Some(p) = field("param") {
            e = e.with_param(p);
        }
        // `insufficient_quota` and `rate_limit_exceeded` both come as 429: keep which.
        if let Some(c) = field("code").filter(|_| status == 429) {
            e = e.with_code(c);
        }
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn client_errors_pass_through_and_credentials_do_not() {
        let body = br#"{"error":{"message":"context too long","type":"invalid_request_error","code":"context_length_exceeded","param":"messages"}}"#;
        let e = from_status(400, &http::HeaderMap::new(), body);
        assert_eq!(
            (e.status_code(), e.message(), e.code()),
            (400, "context too long", Some("context_length_exceeded"))
        );
        let e = from_status(401, &http::HeaderMap::new(), br#"{"error":{"message":"Incorrect API key sk-abc"}}"#);
        assert_eq!(e.status_code(), 502);
        assert!(!e.message().contains("sk-abc"));
        let e = from_status(503, &http::HeaderMap::new(), b"<html>");
        assert_eq!(e.status_code(), 502);
        assert!(e.is_retryable());
    }

    #[test]
    fn retry_after_is_parsed_and_capped() {
        use std::time::Duration;

        use crate::providers::http::MAX_RETRY_AFTER;

        let mut h = http::HeaderMap::new();
        h.insert("retry-after", http::HeaderValue::from_static("2"));
        assert_eq!(retry_after(&h), Some(Duration::from_secs(2)));
        h.insert("retry-after-ms", http::HeaderValue::from_static("150"));
        assert_eq!(retry_after(&h), Some(Duration::from_millis(150)));
        h.insert("retry-after-ms", http::HeaderValue::from_static("99999999"));
        assert_eq!(retry_after(&h), Some(MAX_RETRY_AFTER));
    }
}
