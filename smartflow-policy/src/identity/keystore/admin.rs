//! The key-management admin API, framework-free: the daemon hands over the method, path, query
//! and body of a request on its admin listener and sends back the [`AdminReply`].
//!
//! Routes: `GET /api/me` for any caller; for admins only `GET|POST /api/keys`,
//! `GET|PATCH|DELETE /api/keys/{id}`, `POST /api/keys/{id}/rotate` and
//! `DELETE /api/{users,teams,departments}/{name}`. A caller that is not an admin gets one and
//! the same 403 on every admin route, whatever the object, method or body (T08, T09).

use http::{Method, StatusCode};
use serde::Serialize;
use serde_json::{Value, json};
use smartflow_core::{Error, ErrorKind, Principal};

use super::error::KeyStoreError;
use super::record::KeyRecord;
use super::spec::{KeyField, KeyFilter, KeyPatch, KeySpec, check_str};
use super::store::KeyStore;

/// Largest request body the admin API reads (413 beyond).
pub const MAX_ADMIN_BODY: usize = 64 * 1024;

/// The reply to an admin request: a status and a JSON body.
#[derive(Debug, Clone, PartialEq)]
pub struct AdminReply {
    /// The HTTP status.
    pub status: StatusCode,
    /// The JSON body: the result, or an OpenAI-style `{"error": {...}}`.
    pub body: Value,
}

enum Route<'a> {
    Me,
    Keys,
    Key(&'a str),
    Rotate(&'a str),
    RevokeBy(KeyField, &'a str),
    Unknown,
}

impl<'a> Route<'a> {
    /// The route for `path`, or `None` if the path is not the key API's.
    fn parse(path: &'a str) -> Option<Self> {
        if path == "/api/me" {
            return Some(Self::Me);
        }
        if path == "/api/keys" || path == "/api/keys/" {
            return Some(Self::Keys);
        }
        if let Some(rest) = path.strip_prefix("/api/keys/") {
            return Some(match rest.split('/').collect::<Vec<_>>()[..] {
                [id] if !id.is_empty() => Self::Key(id),
                [id, "rotate"] if !id.is_empty() => Self::Rotate(id),
                _ => Self::Unknown,
            });
        }
        let fields = [("/api/users/", KeyField::User), ("/api/teams/", KeyField::Team)];
        for (prefix, field) in fields.into_iter().chain([("/api/departments/", KeyField::Department)]) {
            if let Some(rest) = path.strip_prefix(prefix) {
                let ok = !rest.is_empty() && !rest.contains('/');
                return Some(if ok { Self::RevokeBy(field, rest) } else { Self::Unknown });
            }
        }
        None
    }
}

/// Serves one admin request, or returns `None` when `path` is not a key-API path (the daemon
/// then tries its other admin routes).
pub async fn handle(
    store: &KeyStore,
    caller: &Principal,
    method: &Method,
    path: &str,
    query: Option<&str>,
    body: &[u8],
) -> Option<AdminReply> {
    let route = Route::parse(path)?;
    if let Route::Me = route {
        return Some(if method == Method::GET { reply(StatusCode::OK, caller) } else { method_not_allowed() });
    }
    if !caller.admin {
        tracing::warn!(key_id = %caller.key_id, %method, "admin key route denied: caller is not an admin");
        return Some(forbidden());
    }
    if body.len() > MAX_ADMIN_BODY {
        return Some(error(
            Error::new(ErrorKind::PayloadTooLarge, "request body over 64 KiB").with_code("body_too_large"),
        ));
    }
    Some(match serve(store, route, method, query, body).await {
        Ok(r) => r,
        Err(e) => e,
    })
}

async fn serve(
    store: &KeyStore,
    route: Route<'_>,
    method: &Method,
    query: Option<&str>,
    body: &[u8],
) -> Result<AdminReply, AdminReply> {
    #[derive(Serialize)]
    struct WithSecret<'a> {
        key: &'a str,
        record: &'a KeyRecord,
    }
    #[derive(Serialize)]
    struct List<'a> {
        object: &'static str,
        data: &'a [KeyRecord],
    }
    match (route, method.clone()) {
        (Route::Keys, Method::GET) => {
            let keys = store.list(&filter(query)?).map_err(store_error)?;
            Ok(reply(StatusCode::OK, &List { object: "list", data: &keys }))
        }
        (Route::Keys, Method::POST) => {
            let (record, secret) = store.create(parse::<KeySpec>(body)?).await.map_err(store_error)?;
            Ok(reply(StatusCode::CREATED, &WithSecret { key: &secret, record: &record }))
        }
        (Route::Key(id), Method::GET) => {
            let record = store.get(&decode(id)?).map_err(store_error)?;
            record.map(|r| reply(StatusCode::OK, &r)).ok_or_else(|| store_error(KeyStoreError::NotFound))
        }
        (Route::Key(id), Method::PATCH) => {
            let patch = parse::<KeyPatch>(body)?;
            let record = store.update(&decode(id)?, patch).await.map_err(store_error)?;
            Ok(reply(StatusCode::OK, &record))
        }
        (Route::Key(id), Method::DELETE) => {
            let record = store.revoke(&decode(id)?).await.map_err(store_error)?;
            Ok(reply(StatusCode::OK, &json!({ "revoked": true, "id": record.id })))
        }
        (Route::Rotate(id), Method::POST) => {
            let (record, secret) = store.rotate(&decode(id)?).await.map_err(store_error)?;
            Ok(reply(StatusCode::CREATED, &WithSecret { key: &secret, record: &record }))
        }
        (Route::RevokeBy(field, value), Method::DELETE) => {
            let value = decode(value)?;
            check_str(field.name(), &value).map_err(store_error)?;
            let count = store.revoke_where(field, &value).await.map_err(store_error)?;
            Ok(reply(StatusCode::OK, &json!({ field.name(): value, "revoked_keys": count })))
        }
        (Route::Unknown, _) => {
            Err(error(Error::new(ErrorKind::NotFound, "unknown admin route").with_code("not_found")))
        }
        _ => Err(method_not_allowed()),
    }
}

/// The `GET /api/keys` filter from the query string; unknown parameters are refused.
fn filter(query: Option<&str>) -> Result<KeyFilter, AdminReply> {
    let mut f = KeyFilter::default();
    for (name, value) in form_urlencoded::parse(query.unwrap_or("").as_bytes()) {
        let value = value.into_owned();
        match name.as_ref() {
            "user" => f.user = Some(value),
            "team" => f.team = Some(value),
            "department" => f.department = Some(value),
            "include_revoked" => {
                f.include_revoked = match value.as_str() {
                    "true" | "1" => true,
                    "false" | "0" => false,
                    _ => return Err(bad("`include_revoked` is `true` or `false`", "include_revoked")),
                }
            }
            _ => return Err(bad("unknown query parameter", "query")),
        }
    }
    Ok(f)
}

/// Parses a JSON body; the message names the problem (serde's, bounded), never internals.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, AdminReply> {
    serde_json::from_slice(body).map_err(|e| {
        let mut msg = format!("invalid JSON body: {e}");
        if msg.len() > 200 {
            let cut = (0..=200).rev().find(|&i| msg.is_char_boundary(i)).unwrap_or(0);
            msg.truncate(cut);
        }
        error(Error::invalid_request(msg).with_code("invalid_body"))
    })
}

/// Percent-decodes a path segment (strict UTF-8).
fn decode(text: &str) -> Result<String, AdminReply> {
    percent_encoding::percent_decode_str(text)
        .decode_utf8()
        .map(std::borrow::Cow::into_owned)
        .map_err(|_| bad("percent-encoding is not UTF-8", "path"))
}

fn reply<T: Serialize + ?Sized>(status: StatusCode, value: &T) -> AdminReply {
    match serde_json::to_value(value) {
        Ok(body) => AdminReply { status, body },
        Err(_) => error(Error::internal("the key store failed")),
    }
}

fn error(e: Error) -> AdminReply {
    let status = StatusCode::from_u16(e.status_code()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    AdminReply { status, body: serde_json::from_slice(&e.to_openai_json()).unwrap_or(Value::Null) }
}

fn bad(message: &'static str, param: &'static str) -> AdminReply {
    error(Error::invalid_request(message).with_param(param).with_code("invalid_value"))
}

/// The one 403 of every admin-only route.
fn forbidden() -> AdminReply {
    error(Error::new(ErrorKind::PermissionDenied, "this route needs an admin key").with_code("admin_required"))
}

fn method_not_allowed() -> AdminReply {
    error(Error::invalid_request("method not allowed on this route").with_status(405).with_code("method_not_allowed"))
}

fn store_error(e: KeyStoreError) -> AdminReply {
    match e {
        KeyStoreError::Invalid { param, reason } => error(
            Error::invalid_request(format!("invalid `{param}`: {reason}")).with_param(param).with_code("invalid_value"),
        ),
        KeyStoreError::NotFound => error(Error::new(ErrorKind::NotFound, "no such key").with_code("key_not_found")),
        KeyStoreError::Revoked => {
            error(Error::invalid_request("the key is revoked").with_status(409).with_code("key_revoked"))
        }
        other => {
            tracing::error!(error = %other, "key store failure in the admin API");
            error(Error::internal("the key store failed"))
        }
    }
}
