//! The data plane: `/v1/chat/completions`, `/v1/embeddings`, `/v1/models`, health and metrics.
//! Every `/v1` route authenticates first (before reading a body), then reads the body within
//! limits, then hands the request to the gateway.

use std::sync::Arc;

use http::{HeaderValue, Method, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::Incoming;
use smartflow_core::{
    ChatRequest, Credentials, EmbeddingRequest, Endpoint, Error, ErrorKind, Gateway, Principal, RequestContext, Served,
};

use smartflow_core::types::validate;

use super::body::{self, BodyLimits};
use super::respond::{self, Body};
use super::sse::SseBody;
use crate::state::Shared;

/// Every data-plane route: method, path, and whether it requires a virtual key. The route
/// inventory test checks that only health and metrics are open.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("POST", "/v1/chat/completions", true),
    ("POST", "/v1/embeddings", true),
    ("POST", "/v1/messages", true),
    ("GET", "/v1/models", true),
    ("GET", "/v1/models/{model}", true),
    ("GET", "/healthz", false),
    ("GET", "/readyz", false),
    ("GET", "/metrics", false),
];

pub(crate) async fn handle(shared: Arc<Shared>, limits: BodyLimits, req: Request<Incoming>) -> Response<Body> {
    let request_id = shared.next_request_id();
    let path = req.uri().path().to_owned();
    let method = req.method().clone();
    let mut resp = match (&method, path.as_str()) {
        (&Method::POST, "/v1/chat/completions") => chat(&shared, limits, req, &request_id).await,
        (&Method::POST, "/v1/embeddings") => embeddings(&shared, limits, req, &request_id).await,
        (&Method::POST, "/v1/messages") => super::messages::handle(&shared, limits, req, &request_id).await,
        (&Method::GET, "/v1/models") => models(&shared, req, &request_id, None).await,
        (&Method::GET, p) if p.starts_with("/v1/models/") => {
            let id = p.trim_start_matches("/v1/models/").to_owned();
            models(&shared, req, &request_id, Some(id)).await
        }
        (&Method::GET, "/healthz") => respond::json(StatusCode::OK, &b"{\"status\":\"ok\"}"[..], &request_id),
        (&Method::GET, "/readyz") => super::readiness(&shared, &request_id),
        (&Method::GET, "/metrics") => super::metrics(&shared, &request_id),
        (_, p) if ROUTES.iter().any(|(_, r, _)| *r == p) => {
            let e = Error::invalid_request(format!("method {method} is not allowed on {p}")).with_status(405);
            unrouted(&shared, &request_id, &e).await;
            let mut r = respond::error(&e, &request_id);
            let allow: Vec<&str> = ROUTES.iter().filter(|(_, r, _)| *r == p).map(|(m, _, _)| *m).collect();
            if let Ok(v) = HeaderValue::from_str(&allow.join(", ")) {
                r.headers_mut().insert(header::ALLOW, v);
            }
            r
        }
        _ => {
            let e =
                Error::new(ErrorKind::NotFound, "unknown route; see /v1/chat/completions, /v1/embeddings, /v1/models")
                    .with_code("unknown_url");
            unrouted(&shared, &request_id, &e).await;
            respond::error(&e, &request_id)
        }
    };
    respond::set_request_id(&mut resp, &request_id);
    resp
}

/// Audits a request for no route (unauthenticated: it never reached a key check).
async fn unrouted(shared: &Shared, request_id: &str, e: &Error) {
    let ctx = RequestContext::new(request_id, Arc::new(Principal::new("-")), Endpoint::Unrouted);
    shared.gateway.load().record_outcome(ctx, Err(e), false).await;
}

/// Authenticates; on failure the rejection is audited and the 401 returned.
pub(crate) async fn principal(
    gateway: &Gateway,
    headers: &http::HeaderMap,
    request_id: &str,
    endpoint: Endpoint,
) -> Result<Arc<Principal>, Error> {
    match gateway.authenticate(&Credentials::from_headers(headers)).await {
        Ok(p) => Ok(p),
        Err(e) => {
            let ctx = RequestContext::new(request_id, Arc::new(Principal::new("-")), endpoint);
            gateway.record_outcome(ctx, Err(&e), false).await;
            Err(e)
        }
    }
}

/// An authenticated, parsed request, ready for the gateway.
pub(super) struct Admitted<T> {
    pub(super) gateway: Arc<Gateway>,
    pub(super) ctx: RequestContext,
    pub(super) request: T,
}

/// Authenticates (before reading any body), then reads and parses the body within limits.
/// Every refusal is audited and returned as the response to send.
pub(super) async fn admit<T>(
    shared: &Shared,
    limits: BodyLimits,
    req: Request<Incoming>,
    request_id: &str,
    endpoint: Endpoint,
    parse: fn(&[u8]) -> Result<T, Error>,
) -> Result<Admitted<T>, Error> {
    let gateway = shared.gateway.load_full();
    let (parts, body) = req.into_parts();
    let principal = principal(&gateway, &parts.headers, request_id, endpoint).await?;
    let mut ctx = RequestContext::new(request_id, principal, endpoint);
    let traceparent = parts.headers.get("traceparent").and_then(|v| v.to_str().ok());
    ctx.trace = smartflow_core::TraceContext::from_traceparent(traceparent);
    let overrides = validate::reject_upstream_overrides_outside_body(parts.uri.query(), &parts.headers)
        .and_then(|()| cache_directives(&parts.headers, &mut ctx));
    let parsed = match overrides {
        Err(e) => Err(e),
        Ok(()) => match body::read_json(&parts.headers, body, limits).await {
            Ok(bytes) => parse(&bytes),
            Err(e) => Err(e),
        },
    };
    match parsed {
        Ok(request) => Ok(Admitted { gateway, ctx, request }),
        Err(e) => {
            gateway.record_outcome(ctx, Err(&e), true).await;
            Err(e)
        }
    }
}

/// `x-smartflow-cache` request directives, for the cache to read from the context.
fn cache_directives(headers: &http::HeaderMap, ctx: &mut RequestContext) -> Result<(), Error> {
    let Some(value) = headers.get("x-smartflow-cache") else { return Ok(()) };
    let text = value.to_str().map_err(|_| {
        Error::invalid_request("the x-smartflow-cache header is not ASCII").with_param("x-smartflow-cache")
    })?;
    ctx.extensions.insert(smartflow_core::CacheDirectives::parse(text)?);
    Ok(())
}

/// A served answer as a JSON response with its metadata headers.
fn served_json<T: serde::Serialize>(result: Result<Served<T>, Error>, request_id: &str) -> Response<Body> {
    let served = match result {
        Ok(s) => s,
        Err(e) => return respond::error(&e, request_id),
    };
    match serde_json::to_vec(&served.value) {
        Ok(bytes) => {
            let mut resp = respond::json(StatusCode::OK, bytes, request_id);
            respond::apply_meta(&mut resp, served.meta);
            resp
        }
        Err(_) => respond::error(&Error::internal("could not encode the response"), request_id),
    }
}

async fn chat(shared: &Shared, limits: BodyLimits, req: Request<Incoming>, request_id: &str) -> Response<Body> {
    let a = match admit(shared, limits, req, request_id, Endpoint::ChatCompletions, ChatRequest::from_slice).await {
        Ok(a) => a,
        Err(e) => return respond::error(&e, request_id),
    };
    if !a.request.is_stream() {
        return served_json(a.gateway.chat(a.ctx, a.request).await, request_id);
    }
    match a.gateway.chat_stream(a.ctx, a.request).await {
        Ok(served) => {
            let mut resp = Response::new(SseBody::new(served.value).boxed_unsync());
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            h.insert("x-accel-buffering", HeaderValue::from_static("no"));
            respond::apply_meta(&mut resp, served.meta);
            resp
        }
        Err(e) => respond::error(&e, request_id),
    }
}

async fn embeddings(shared: &Shared, limits: BodyLimits, req: Request<Incoming>, request_id: &str) -> Response<Body> {
    match admit(shared, limits, req, request_id, Endpoint::Embeddings, EmbeddingRequest::from_slice).await {
        Ok(a) => served_json(a.gateway.embeddings(a.ctx, a.request).await, request_id),
        Err(e) => respond::error(&e, request_id),
    }
}

async fn models(shared: &Shared, req: Request<Incoming>, request_id: &str, one: Option<String>) -> Response<Body> {
    let gateway = shared.gateway.load_full();
    let principal = match principal(&gateway, req.headers(), request_id, Endpoint::Models).await {
        Ok(p) => p,
        Err(e) => return respond::error(&e, request_id),
    };
    let models = gateway.models(&principal);
    let ctx = RequestContext::new(request_id, principal, Endpoint::Models);
    gateway.record_outcome(ctx, Ok(()), true).await;
    let body = match one {
        None => serde_json::to_vec(&serde_json::json!({"object": "list", "data": models})),
        Some(id) => match models.iter().find(|m| m.id == id) {
            Some(m) => serde_json::to_vec(m),
            None => {
                let e = Error::new(ErrorKind::NotFound, "the model does not exist or you do not have access to it")
                    .with_param("model")
                    .with_code("model_not_found");
                return respond::error(&e, request_id);
            }
        },
    };
    match body {
        Ok(bytes) => respond::json(StatusCode::OK, bytes, request_id),
        Err(_) => respond::error(&Error::internal("could not encode the model list"), request_id),
    }
}
