//! The cache's admin routes: `GET /api/cache/stats` (analytics) and `POST /api/cache/flush`
//! (`{"all": true}`, `{"scope": "team:payments"}` or `{"model": "gpt-4o"}`).

use http::{Response, StatusCode};
use serde::Deserialize;
use smartflow_core::{Cache, CacheScope, Error, ErrorKind, Principal};

use super::respond::{self, Body};
use crate::state::Shared;

fn not_configured() -> Error {
    Error::new(ErrorKind::NotFound, "no [cache] is configured").with_code("not_configured")
}

/// Counters, per layer, model and scope, and the store's state.
pub(super) fn stats(shared: &Shared, request_id: &str) -> Response<Body> {
    let Some(cache) = &shared.stores.cache else { return respond::error(&not_configured(), request_id) };
    let s = cache.stats();
    let report = cache.open_report();
    let hit_rate = if s.total.lookups == 0 { 0.0 } else { s.total.total_hits() as f64 / s.total.lookups as f64 };
    let body = serde_json::json!({
        "stats": s,
        "hit_rate": hit_rate,
        "store": {
            "temporary": report.temporary,
            "quarantined": report.quarantined.as_ref().map(|p| p.display().to_string()),
            "quarantine_reason": report.reason,
            "loaded_at_start": report.loaded,
            "dropped_corrupt_at_start": report.dropped_corrupt,
        },
    });
    respond::json(StatusCode::OK, body.to_string(), request_id)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FlushRequest {
    #[serde(default)]
    all: bool,
    scope: Option<String>,
    model: Option<String>,
}

/// Removes entries; says how many.
pub(super) async fn flush(shared: &Shared, caller: &Principal, body: &[u8], request_id: &str) -> Response<Body> {
    let Some(cache) = &shared.stores.cache else { return respond::error(&not_configured(), request_id) };
    let usage = "send {\"all\": true}, {\"scope\": \"team:payments\"} or {\"model\": \"name\"}";
    let req: FlushRequest = match serde_json::from_slice(body) {
        Ok(r) => r,
        Err(_) => {
            return respond::error(&Error::invalid_request(format!("invalid flush request: {usage}")), request_id);
        }
    };
    let scope = match (req.all, req.scope, req.model) {
        (true, None, None) => CacheScope::All,
        (false, Some(s), None) if !s.is_empty() => CacheScope::Scope(s),
        (false, None, Some(m)) if !m.is_empty() => CacheScope::Model(m),
        _ => {
            return respond::error(
                &Error::invalid_request(format!("name exactly one thing to flush: {usage}")),
                request_id,
            );
        }
    };
    match cache.invalidate(&scope).await {
        Ok(n) => {
            tracing::info!(admin = %caller.key_id, ?scope, removed = n, "cache flushed");
            respond::json(StatusCode::OK, serde_json::json!({"flushed": n}).to_string(), request_id)
        }
        Err(e) => respond::error(&e, request_id),
    }
}
