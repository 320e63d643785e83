//! The admin plane, on its own listener: health, metrics, and the `/api/` surface — status,
//! configuration reload, virtual keys and usage. Every `/api/` request authenticates through
//! the gateway's one authenticator (the same as the data plane); only admin principals reach
//! beyond `/api/me`, and a non-admin caller gets one and the same 403 everywhere else. Every
//! authenticated `/api/` request is audited with the change it made or attempted
//! (`admin_changes`); a change is refused with 503 while a fail-closed audit sink cannot record.

use std::sync::Arc;

use bytes::Bytes;
use http::{Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Limited};
use hyper::body::Incoming;
use smartflow_core::{Endpoint, Error, ErrorKind, Principal, RequestContext};
use smartflow_policy::identity::keystore::admin::{self as keys_api, MAX_ADMIN_BODY};

use super::admin_changes;
use super::admin_host::AdminHosts;
use super::respond::{self, Body};
use crate::state::Shared;

/// Every admin route: method, path, and whether it requires authentication. Under `/api/`,
/// only `/api/me` and `/api/me/usage` are open to non-admin principals.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("GET", "/healthz", false),
    ("GET", "/readyz", false),
    ("GET", "/metrics", false),
    ("GET", "/api/status", true),
    ("POST", "/api/config/reload", true),
    ("POST", "/api/audit/verify", true),
    ("GET", "/api/cache/stats", true),
    ("POST", "/api/cache/flush", true),
    ("GET", "/api/me", true),
    ("GET", "/api/me/usage", true),
    ("GET", "/api/usage", true),
    ("GET", "/api/keys", true),
    ("POST", "/api/keys", true),
    ("GET", "/api/keys/{id}", true),
    ("PATCH", "/api/keys/{id}", true),
    ("DELETE", "/api/keys/{id}", true),
    ("POST", "/api/keys/{id}/rotate", true),
    ("DELETE", "/api/users/{user}", true),
    ("DELETE", "/api/teams/{team}", true),
    ("DELETE", "/api/departments/{department}", true),
];

pub(crate) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let request_id = shared.next_request_id();
    let answered = {
        let server = &shared.config.load().server;
        AdminHosts::new(server.admin_listen, &server.admin_hosts).check(req.headers())
    };
    if let Err(e) = answered {
        tracing::warn!(path = req.uri().path(), "admin request refused: Host or Origin not answered here");
        let ctx = RequestContext::new(&request_id, Arc::new(Principal::new("-")), Endpoint::Admin);
        shared.gateway.load().record_outcome(ctx, Err(&e), false).await;
        let mut resp = respond::error(&e, &request_id);
        respond::set_request_id(&mut resp, &request_id);
        return resp;
    }
    let path = req.uri().path().to_owned();
    let mut resp = match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => respond::json(StatusCode::OK, &b"{\"status\":\"ok\"}"[..], &request_id),
        (&Method::GET, "/readyz") => super::readiness(&shared, &request_id),
        (&Method::GET, "/metrics") => super::metrics(&shared, &request_id),
        (_, p) if p.starts_with("/api/") => api(&shared, req, &request_id).await,
        _ => respond::error(
            &Error::new(ErrorKind::NotFound, "unknown admin route").with_code("unknown_url"),
            &request_id,
        ),
    };
    respond::set_request_id(&mut resp, &request_id);
    resp
}

/// The one 403 a non-admin caller gets on every admin-only route.
fn forbidden() -> Error {
    Error::new(ErrorKind::PermissionDenied, "this admin API route needs an admin credential").with_code("forbidden")
}

async fn api(shared: &Shared, req: Request<Incoming>, request_id: &str) -> Response<Body> {
    let gateway = shared.gateway.load_full();
    let (parts, body) = req.into_parts();
    // A refused credential is audited as an authentication failure by `principal`.
    let caller = match super::data::principal(&gateway, &parts.headers, request_id, Endpoint::Admin).await {
        Ok(p) => p,
        Err(e) => return respond::error(&e, request_id),
    };
    let mut change = admin_changes::change_of(&parts.method, parts.uri.path(), parts.uri.query());
    let mutates = change.as_ref().is_some_and(|c| c.action.mutates());
    // A change that could not be recorded is not made: a fail-closed sink refuses it here.
    let (resp, created) = match gateway.audit_ready().err().filter(|_| mutates) {
        Some(e) => (respond::error(&e, request_id), None),
        None => route(shared, &caller, parts, body, request_id).await,
    };
    if let (Some(c), Some(id)) = (change.as_mut(), created) {
        c.object.get_or_insert(id);
    }
    let refused = refusal(resp.status());
    let ctx = RequestContext::new(request_id, caller, Endpoint::Admin);
    match gateway.record_admin(ctx, change, refused.as_ref().map_or(Ok(()), Err)).await {
        Ok(()) => resp,
        // The change is made; its answer says so even though the audit missed it (logged).
        Err(_) if mutates => resp,
        Err(e) => respond::error(&e, request_id),
    }
}

/// The error an admin answer's status stands for, for the audit record (`None` for success).
fn refusal(status: StatusCode) -> Option<Error> {
    if status.is_success() {
        return None;
    }
    let kind = match status.as_u16() {
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        413 => ErrorKind::PayloadTooLarge,
        429 => ErrorKind::RateLimited,
        503 => ErrorKind::Unavailable,
        400..=499 => ErrorKind::InvalidRequest,
        _ => ErrorKind::Internal,
    };
    Some(Error::new(kind, "admin request refused").with_status(status.as_u16()))
}

/// Serves an authenticated `/api/` request; the id of the key it created, if it created one.
async fn route(
    shared: &Shared,
    caller: &Arc<Principal>,
    parts: http::request::Parts,
    body: Incoming,
    request_id: &str,
) -> (Response<Body>, Option<String>) {
    let body = match read_body(body).await {
        Ok(b) => b,
        Err(e) => return (respond::error(&e, request_id), None),
    };
    let path = parts.uri.path();
    let query = parts.uri.query();
    if let Some(reply) = keys_api::handle(&shared.stores.keys, caller, &parts.method, path, query, &body).await {
        // Only the new key's id is kept for the audit, never its secret.
        let created = (reply.status == StatusCode::CREATED)
            .then(|| reply.body.pointer("/record/id").and_then(|v| v.as_str()).map(str::to_owned))
            .flatten();
        return (respond::json(reply.status, reply.body.to_string(), request_id), created);
    }
    let resp = match (&parts.method, path) {
        (&Method::GET, "/api/me/usage") => usage(shared, caller, query, true, request_id),
        _ if !caller.admin => {
            tracing::warn!(key_id = %caller.key_id, method = %parts.method, path, "admin route denied: not an admin");
            respond::error(&forbidden(), request_id)
        }
        (&Method::GET, "/api/usage") => usage(shared, caller, query, false, request_id),
        (&Method::GET, "/api/status") => status(shared, request_id),
        (&Method::POST, "/api/audit/verify") => audit_verify(shared, request_id).await,
        (&Method::GET, "/api/cache/stats") => super::cache_api::stats(shared, request_id),
        (&Method::POST, "/api/cache/flush") => super::cache_api::flush(shared, caller, &body, request_id).await,
        (&Method::POST, "/api/config/reload") => match crate::reload::reload(shared).await {
            Ok(generation) => respond::json(
                StatusCode::OK,
                serde_json::json!({"reloaded": true, "generation": generation}).to_string(),
                request_id,
            ),
            Err(message) => {
                let e = Error::invalid_request(format!(
                    "reload refused, the running configuration is unchanged: {message}"
                ))
                .with_code("invalid_config");
                respond::error(&e, request_id)
            }
        },
        _ => {
            respond::error(&Error::new(ErrorKind::NotFound, "unknown admin route").with_code("unknown_url"), request_id)
        }
    };
    (resp, None)
}

async fn read_body(body: Incoming) -> Result<Bytes, Error> {
    match Limited::new(body, MAX_ADMIN_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => {
            Err(Error::new(ErrorKind::PayloadTooLarge, "request body over 64 KiB").with_code("body_too_large"))
        }
        Err(_) => Err(Error::invalid_request("the request body could not be read")),
    }
}

fn status(shared: &Shared, request_id: &str) -> Response<Body> {
    let config = shared.config.load();
    let gateway = shared.gateway.load();
    let body = serde_json::json!({
        "generation": shared.generation.load(std::sync::atomic::Ordering::Relaxed),
        "config_path": config.path.display().to_string(),
        "models": config.models.iter().map(|m| &m.name).collect::<Vec<_>>(),
        "providers": config.providers.iter().map(|p| &p.name).collect::<Vec<_>>(),
        "keys": config.keys.len(),
        "stored_keys": shared.stores.keys.len(),
        "policies": gateway.policy_names(),
        "draining": shared.draining.load(std::sync::atomic::Ordering::Relaxed),
    });
    respond::json(StatusCode::OK, body.to_string(), request_id)
}

/// `GET /api/usage?key=|user=|team=|department=&days=N` (admin) and `GET /api/me/usage?days=N`
/// (the caller's own key).
fn usage(shared: &Shared, caller: &Principal, query: Option<&str>, own: bool, request_id: &str) -> Response<Body> {
    match crate::server::usage::report(shared, caller, query, own) {
        Ok(body) => respond::json(StatusCode::OK, body.to_string(), request_id),
        Err(e) => respond::error(&e, request_id),
    }
}

/// `POST /api/audit/verify`: the same check as `smartflowd audit verify`, on the running
/// stream as it stands.
async fn audit_verify(shared: &Shared, request_id: &str) -> Response<Body> {
    let Some(stream) = shared.stores.verified.clone() else {
        let e = Error::new(ErrorKind::NotFound, "no [audit.verified] stream is configured").with_code("not_configured");
        return respond::error(&e, request_id);
    };
    match tokio::task::spawn_blocking(move || stream.verify_live()).await {
        Ok(Ok(r)) => {
            let body = serde_json::json!({"ok": r.ok(), "report": r});
            respond::json(StatusCode::OK, body.to_string(), request_id)
        }
        _ => respond::error(&Error::internal("the audit stream could not be read"), request_id),
    }
}
