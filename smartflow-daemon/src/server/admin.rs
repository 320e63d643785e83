//! The admin plane, on its own listener: health, metrics, status and configuration reload.
//! Everything under `/api/` requires the admin key; with no admin key configured it is refused.

use std::sync::Arc;

use http::{Method, Request, Response, StatusCode};
use hyper::body::Incoming;
use smartflow_core::{Credentials, Error, ErrorKind};

use super::respond::{self, Body};
use crate::state::Shared;

/// Every admin route: method, path, and whether it requires the admin key.
pub const ROUTES: &[(&str, &str, bool)] = &[
    ("GET", "/healthz", false),
    ("GET", "/readyz", false),
    ("GET", "/metrics", false),
    ("GET", "/api/status", true),
    ("POST", "/api/config/reload", true),
];

pub(crate) async fn handle(shared: Arc<Shared>, req: Request<Incoming>) -> Response<Body> {
    let request_id = shared.next_request_id();
    let path = req.uri().path().to_owned();
    if path.starts_with("/api/") && !shared.is_admin(Credentials::from_headers(req.headers()).token()) {
        let e = Error::new(
            ErrorKind::Authentication,
            "the admin API needs the admin key: `Authorization: Bearer <admin key>`",
        )
        .with_code("invalid_admin_key");
        return respond::error(&e, &request_id);
    }
    match (req.method(), path.as_str()) {
        (&Method::GET, "/healthz") => respond::json(StatusCode::OK, &b"{\"status\":\"ok\"}"[..], &request_id),
        (&Method::GET, "/readyz") => super::readiness(&shared, &request_id),
        (&Method::GET, "/metrics") => super::metrics(&shared, &request_id),
        (&Method::GET, "/api/status") => {
            let config = shared.config.load();
            let gateway = shared.gateway.load();
            let body = serde_json::json!({
                "generation": shared.generation.load(std::sync::atomic::Ordering::Relaxed),
                "config_path": config.path.display().to_string(),
                "models": config.models.iter().map(|m| &m.name).collect::<Vec<_>>(),
                "providers": config.providers.iter().map(|p| &p.name).collect::<Vec<_>>(),
                "keys": config.keys.len(),
                "policies": gateway.policy_names(),
                "draining": shared.draining.load(std::sync::atomic::Ordering::Relaxed),
            });
            respond::json(StatusCode::OK, body.to_string(), &request_id)
        }
        (&Method::POST, "/api/config/reload") => match crate::reload::reload(&shared).await {
            Ok(generation) => respond::json(
                StatusCode::OK,
                serde_json::json!({"reloaded": true, "generation": generation}).to_string(),
                &request_id,
            ),
            Err(message) => {
                let e = Error::invalid_request(format!(
                    "reload refused, the running configuration is unchanged: {message}"
                ))
                .with_code("invalid_config");
                respond::error(&e, &request_id)
            }
        },
        _ => respond::error(
            &Error::new(ErrorKind::NotFound, "unknown admin route").with_code("unknown_url"),
            &request_id,
        ),
    }
}
