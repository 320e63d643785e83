//! What each admin API route does, for its audit record: the operation (method and path
//! template), the CIM Change action and the kind of object, and which object a request names.

use http::Method;
use smartflow_core::{AdminChange, ChangeAction};

use ChangeAction::{Cleared, Created, Deleted, Modified, Read, Updated};

/// Every `/api/` route of [`super::admin::ROUTES`]: method, path template, action, object kind.
pub const CHANGES: &[(&str, &str, ChangeAction, &str)] = &[
    ("GET", "/api/status", Read, "gateway"),
    ("POST", "/api/config/reload", Updated, "configuration"),
    ("POST", "/api/audit/verify", Read, "audit_trail"),
    ("GET", "/api/cache/stats", Read, "cache"),
    ("POST", "/api/cache/flush", Cleared, "cache"),
    ("GET", "/api/me", Read, "virtual_key"),
    ("GET", "/api/me/usage", Read, "usage"),
    ("GET", "/api/usage", Read, "usage"),
    ("GET", "/api/keys", Read, "virtual_key"),
    ("POST", "/api/keys", Created, "virtual_key"),
    ("GET", "/api/keys/{id}", Read, "virtual_key"),
    ("PATCH", "/api/keys/{id}", Modified, "virtual_key"),
    ("DELETE", "/api/keys/{id}", Deleted, "virtual_key"),
    ("POST", "/api/keys/{id}/rotate", Modified, "virtual_key"),
    ("DELETE", "/api/users/{user}", Deleted, "user"),
    ("DELETE", "/api/teams/{team}", Deleted, "team"),
    ("DELETE", "/api/departments/{department}", Deleted, "department"),
];

/// Longest object name recorded; a longer path segment is cut (at a character boundary).
const MAX_OBJECT: usize = 256;

/// The change a request to `path` with `method` makes or attempts; `None` for a route that
/// does not exist. The object is the route's `{…}` segment, percent-decoded; for
/// `GET /api/usage` it is the subject the query names (`key=k_1` → `k_1`).
pub fn change_of(method: &Method, path: &str, query: Option<&str>) -> Option<AdminChange> {
    let (template, action, category, object) = CHANGES.iter().find_map(|(m, template, action, category)| {
        if *m != method.as_str() {
            return None;
        }
        matches(template, path).map(|object| (*template, *action, *category, object))
    })?;
    let object = object.map(decode).or_else(|| if template == "/api/usage" { usage_subject(query) } else { None });
    Some(AdminChange {
        operation: format!("{method} {template}"),
        action,
        object_category: category,
        object: object.map(|o| truncate(o, MAX_OBJECT)),
    })
}

/// Whether `path` fits `template`; the value of its one `{…}` segment, if it has one.
fn matches<'p>(template: &str, path: &'p str) -> Option<Option<&'p str>> {
    let mut object = None;
    let mut t = template.split('/');
    let mut p = path.split('/');
    loop {
        match (t.next(), p.next()) {
            (None, None) => return Some(object),
            (Some(ts), Some(ps)) if ts.starts_with('{') => {
                if ps.is_empty() {
                    return None;
                }
                object = Some(ps);
            }
            (Some(ts), Some(ps)) if ts == ps => {}
            _ => return None,
        }
    }
}

fn decode(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8()
        .map_or_else(|_| segment.to_owned(), std::borrow::Cow::into_owned)
}

/// The subject of a `GET /api/usage` query: its `key`, `user`, `team` or `department`.
fn usage_subject(query: Option<&str>) -> Option<String> {
    form_urlencoded::parse(query?.as_bytes())
        .find(|(name, _)| matches!(name.as_ref(), "key" | "user" | "team" | "department"))
        .map(|(_, value)| value.into_owned())
}

fn truncate(mut s: String, max: usize) -> String {
    if s.len() > max {
        let mut cut = max;
        while !s.is_char_boundary(cut) {
            cut -= 1;
        }
        s.truncate(cut);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every admin `/api/` route has its change, and every change is a route.
    #[test]
    fn every_api_route_has_a_change() {
        let api: Vec<(&str, &str)> =
            super::super::admin::ROUTES.iter().filter(|r| r.1.starts_with("/api/")).map(|r| (r.0, r.1)).collect();
        let changes: Vec<(&str, &str)> = CHANGES.iter().map(|c| (c.0, c.1)).collect();
        assert_eq!(api, changes);
    }

    #[test]
    fn changes_name_their_object() {
        let rotate = change_of(&Method::POST, "/api/keys/k_12%20ab/rotate", None).unwrap();
        assert_eq!(rotate.operation, "POST /api/keys/{id}/rotate");
        assert_eq!(rotate.action, Modified);
        assert_eq!(rotate.object_category, "virtual_key");
        assert_eq!(rotate.object.as_deref(), Some("k_12 ab"));

        let team = change_of(&Method::DELETE, "/api/teams/risk", None).unwrap();
        assert_eq!((team.action, team.object_category, team.object.as_deref()), (Deleted, "team", Some("risk")));

        let create = change_of(&Method::POST, "/api/keys", None).unwrap();
        assert_eq!((create.action, create.object), (Created, None));

        let usage = change_of(&Method::GET, "/api/usage", Some("days=7&team=risk")).unwrap();
        assert_eq!(usage.object.as_deref(), Some("risk"));

        let long = format!("/api/users/{}", "é".repeat(300));
        assert_eq!(change_of(&Method::DELETE, &long, None).unwrap().object.unwrap().len(), 256);
    }

    #[test]
    fn unknown_routes_and_methods_have_no_change() {
        assert!(change_of(&Method::PUT, "/api/keys", None).is_none());
        assert!(change_of(&Method::GET, "/api/keys/k_1/extra", None).is_none());
        assert!(change_of(&Method::DELETE, "/api/users/", None).is_none());
        assert!(change_of(&Method::GET, "/api/nothing", None).is_none());
    }
}
