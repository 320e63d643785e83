//! Response helpers: JSON bodies, OpenAI-style errors, the headers every response carries.

use std::convert::Infallible;

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Full};
use smartflow_core::{Error, ErrorKind, ResponseMeta};

/// The response body type of every route.
pub(crate) type Body = UnsyncBoxBody<Bytes, Infallible>;

pub(crate) fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into()).boxed_unsync()
}

/// A JSON response with `x-request-id`.
pub(crate) fn json(status: StatusCode, body: impl Into<Bytes>, request_id: &str) -> Response<Body> {
    let mut resp = Response::new(full(body));
    *resp.status_mut() = status;
    resp.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    set_request_id(&mut resp, request_id);
    resp
}

/// An OpenAI-style error response: the right status, `x-request-id`, `retry-after` when known,
/// and `x-should-retry: false` where retrying cannot help.
pub(crate) fn error(err: &Error, request_id: &str) -> Response<Body> {
    error_with_body(err, request_id, err.to_openai_json())
}

/// The same error in the Anthropic Messages shape (`{"type":"error","error":{...}}`), for
/// `/v1/messages` clients.
pub(crate) fn anthropic_error(err: &Error, request_id: &str) -> Response<Body> {
    error_with_body(err, request_id, smartflow_core::translate::anthropic::anthropic_error_body(err))
}

fn error_with_body(err: &Error, request_id: &str, body: Vec<u8>) -> Response<Body> {
    let status = StatusCode::from_u16(err.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let mut resp = json(status, body, request_id);
    let h = resp.headers_mut();
    if let Some(after) = err.retry_after() {
        let secs = after.as_secs_f64().ceil().max(1.0) as u64;
        h.insert(header::RETRY_AFTER, HeaderValue::from(secs));
        h.insert("retry-after-ms", HeaderValue::from(after.as_millis() as u64));
    }
    let pointless = matches!(
        err.kind(),
        ErrorKind::InvalidRequest
            | ErrorKind::Authentication
            | ErrorKind::PermissionDenied
            | ErrorKind::PolicyDenied
            | ErrorKind::QuotaExceeded
            | ErrorKind::NotFound
            | ErrorKind::PayloadTooLarge
            | ErrorKind::HeadersTooLarge
    );
    if pointless {
        h.insert("x-should-retry", HeaderValue::from_static("false"));
    }
    resp
}

pub(crate) fn set_request_id<B>(resp: &mut Response<B>, request_id: &str) {
    if let Ok(v) = HeaderValue::from_str(request_id) {
        resp.headers_mut().insert("x-request-id", v);
    }
}

/// `x-smartflow-target`, `x-smartflow-cache` and policy headers.
pub(crate) fn apply_meta<B>(resp: &mut Response<B>, meta: ResponseMeta) {
    let h = resp.headers_mut();
    if let Some(target) = meta.target.as_deref().and_then(|t| HeaderValue::from_str(t).ok()) {
        h.insert("x-smartflow-target", target);
    }
    let cache = match meta.cache {
        None => HeaderValue::from_static("miss"),
        Some((layer, None)) => {
            HeaderValue::from_str(&format!("hit; layer={}", layer.label())).unwrap_or(HeaderValue::from_static("hit"))
        }
        Some((layer, Some(sim))) => {
            HeaderValue::from_str(&format!("hit; layer={}; similarity={sim:.2}", layer.label()))
                .unwrap_or(HeaderValue::from_static("hit"))
        }
    };
    h.insert("x-smartflow-cache", cache);
    for (name, value) in meta.headers.iter() {
        h.insert(name.clone(), value.clone());
    }
}
