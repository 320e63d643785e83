//! The admin plane in the audit trail: every authenticated `/api/` request is one record with
//! endpoint `admin` and the change it made or attempted (operation, action, object kind and
//! object); a non-admin's refused attempt is recorded as denied (T08); a created or rotated
//! key's secret never reaches the audit; and while a fail-closed audit sink cannot record, a
//! change is refused with 503 and not made.

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

/// The records of admin requests (authenticated or not) in the daemon's audit file.
async fn admin_records(d: &Daemon) -> Vec<Value> {
    d.audit_lines().await.into_iter().filter(|r| r["endpoint"] == "admin").collect()
}

/// The one audit record of the request `reply` answered (the file sink writes behind the
/// answer, so it is waited for).
async fn record_of(d: &Daemon, reply: &Reply) -> Value {
    let id = reply.header("x-request-id").expect("no x-request-id");
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let found: Vec<Value> = admin_records(d).await.into_iter().filter(|r| r["request_id"] == id).collect();
        if found.len() == 1 || tokio::time::Instant::now() > deadline {
            assert_eq!(found.len(), 1, "records of {id}: {found:?}");
            return found.into_iter().next().unwrap();
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// `(operation, action, object_category, object)` of a record's change.
type Change<'a> = (&'a str, &'a str, &'a str, Option<&'a str>);

/// The change of a record.
fn change(r: &Value) -> Change<'_> {
    let a = &r["admin"];
    let s = |k: &str| a[k].as_str().unwrap_or_else(|| panic!("no admin.{k} in {r}"));
    (s("operation"), s("action"), s("object_category"), a["object"].as_str())
}

fn outcome(r: &Value) -> (&str, u64) {
    (r["outcome"].as_str().unwrap(), r["status"].as_u64().unwrap())
}

#[tokio::test]
async fn every_admin_request_is_audited_with_its_change() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), "");
    let d = Daemon::start_with(dir, &text).await;
    let admin = |method: &'static str, path: String, body: &'static str| {
        let url = d.admin_url(&path);
        async move { request(method, &url, Some(ADMIN_KEY), body).await }
    };

    // Created: the record names the new key's id, and never holds its secret.
    let r = admin("POST", "/api/keys".to_owned(), r#"{"user":"dave","team":"risk"}"#).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let (secret, id) =
        (r.json()["key"].as_str().unwrap().to_owned(), r.json()["record"]["id"].as_str().unwrap().to_owned());
    let rec = record_of(&d, &r).await;
    assert_eq!(change(&rec), ("POST /api/keys", "created", "virtual_key", Some(id.as_str())));
    assert_eq!(outcome(&rec), ("allowed", 200));

    let cases: Vec<(&'static str, String, &'static str, Change<'_>)> = vec![
        ("GET", format!("/api/keys/{id}"), "", ("GET /api/keys/{id}", "read", "virtual_key", Some(&id))),
        (
            "PATCH",
            format!("/api/keys/{id}"),
            r#"{"models":["ok"]}"#,
            ("PATCH /api/keys/{id}", "modified", "virtual_key", Some(&id)),
        ),
        (
            "POST",
            format!("/api/keys/{id}/rotate"),
            "",
            ("POST /api/keys/{id}/rotate", "modified", "virtual_key", Some(&id)),
        ),
        ("GET", "/api/usage?team=risk&days=1".to_owned(), "", ("GET /api/usage", "read", "usage", Some("risk"))),
        ("POST", "/api/cache/flush".to_owned(), "{}", ("POST /api/cache/flush", "cleared", "cache", None)),
        ("POST", "/api/config/reload".to_owned(), "", ("POST /api/config/reload", "updated", "configuration", None)),
        ("DELETE", format!("/api/keys/{id}"), "", ("DELETE /api/keys/{id}", "deleted", "virtual_key", Some(&id))),
        ("DELETE", "/api/teams/risk".to_owned(), "", ("DELETE /api/teams/{team}", "deleted", "team", Some("risk"))),
        (
            "DELETE",
            "/api/users/d%C3%A9sir%C3%A9e".to_owned(),
            "",
            ("DELETE /api/users/{user}", "deleted", "user", Some("désirée")),
        ),
    ];
    let mut rotated = None;
    for (method, path, body, expected) in &cases {
        let r = admin(method, path.clone(), body).await;
        let rec = record_of(&d, &r).await;
        assert_eq!(change(&rec), *expected, "{method} {path}: {rec}");
        // The answer and the record agree: a success is allowed with 200, a refusal keeps its status.
        let status = if r.status < 300 { 200 } else { u64::from(r.status) };
        let expected_outcome = if r.status < 300 { "allowed" } else { "failed" };
        assert_eq!(outcome(&rec), (expected_outcome, status), "{method} {path}: {}", r.text());
        assert_eq!(rec["principal"]["admin"], true, "{rec}");
        assert!(rec.get("model").is_none_or(Value::is_null) && rec["usage"].is_null(), "{rec}");
        if path.ends_with("/rotate") {
            assert_eq!(r.status, 201, "{}", r.text());
            rotated = Some(r.json()["key"].as_str().unwrap().to_owned());
        }
    }
    // A refusal by the key store is recorded with its status: a key that does not exist.
    let r = admin("GET", "/api/keys/key_00000000000000000000".to_owned(), "").await;
    assert_eq!(r.status, 404);
    let rec = record_of(&d, &r).await;
    assert_eq!(outcome(&rec), ("failed", 404));
    assert_eq!(rec["error"], "not_found", "{rec}");
    // A route that does not exist is recorded, with no change.
    let r = admin("PUT", "/api/keys".to_owned(), "").await;
    assert!(r.status >= 400, "{}", r.text());
    let rec = record_of(&d, &r).await;
    assert!(rec.get("admin").is_none(), "{rec}");
    // A refused credential stays an authentication failure by no principal.
    let r = request("GET", &d.admin_url("/api/keys"), Some("not-the-admin-key"), "").await;
    r.assert_error(401);
    let rec = record_of(&d, &r).await;
    assert_eq!((outcome(&rec), rec["principal"]["key_id"].as_str()), (("denied", 401), Some("-")));

    // Neither the created nor the rotated secret is anywhere in the audit.
    let all = std::fs::read_to_string(d.stop().await.path().join("audit.jsonl")).unwrap();
    let rotated = rotated.unwrap();
    assert!(!all.contains(&secret) && !all.contains(&rotated), "a key secret reached the audit");
}

/// T08: a non-admin's refused change is recorded as denied, naming who tried what on which object.
#[tokio::test]
async fn t08_refused_admin_changes_are_audited_as_denied() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), "");
    let d = Daemon::start_with(dir, &text).await;
    let (caller, caller_id) = create_key(&d, &json!({"user": "mallory"})).await;
    let (_, victim_id) = create_key(&d, &json!({"user": "victor"})).await;

    let attempts = [
        (
            "PATCH",
            format!("/api/keys/{victim_id}"),
            r#"{"admin":true}"#,
            "PATCH /api/keys/{id}",
            Some(victim_id.as_str()),
        ),
        (
            "PATCH",
            format!("/api/keys/{caller_id}"),
            r#"{"admin":true}"#,
            "PATCH /api/keys/{id}",
            Some(caller_id.as_str()),
        ),
        ("DELETE", format!("/api/keys/{victim_id}"), "", "DELETE /api/keys/{id}", Some(victim_id.as_str())),
        ("POST", "/api/keys".to_owned(), r#"{"user":"mallory","admin":true}"#, "POST /api/keys", None),
        ("DELETE", "/api/departments/eng".to_owned(), "", "DELETE /api/departments/{department}", Some("eng")),
        ("POST", "/api/config/reload".to_owned(), "", "POST /api/config/reload", None),
    ];
    for (method, path, body, operation, object) in &attempts {
        let r = request(method, &d.admin_url(path), Some(&caller), *body).await;
        r.assert_error(403);
        let rec = record_of(&d, &r).await;
        assert_eq!(outcome(&rec), ("denied", 403), "{method} {path}: {rec}");
        assert_eq!(rec["principal"]["key_id"], caller_id.as_str(), "{rec}");
        assert_eq!(rec["principal"]["user"], "mallory", "{rec}");
        let (op, _, _, obj) = change(&rec);
        assert_eq!((op, obj), (*operation, *object), "{rec}");
    }
}

/// While a fail-closed (`on_failure = "reject"`) stream cannot record, an admin change is refused
/// with 503 and not made; reads are refused too (they could not be recorded either).
#[tokio::test]
async fn changes_are_refused_while_the_audit_cannot_record_them() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let blocker = dir.path().join("stream");
    std::fs::write(&blocker, "a file where the stream directory should be\n").unwrap();
    let key = dir.path().join("audit-hmac.key");
    std::fs::write(&key, random_hex(32)).unwrap();
    let text = format!(
        "{}\n[audit.verified]\ndir = \"stream\"\nhmac_key = \"file:{}\"\non_failure = \"reject\"\n",
        admin_config(up.addr, dir.path(), ""),
        key.display()
    );
    let d = Daemon::start_with(dir, &text).await;

    let r = request("POST", &d.admin_url("/api/keys"), Some(ADMIN_KEY), r#"{"user":"nina"}"#).await;
    let v = r.assert_error(503);
    assert_eq!(v["error"]["code"], "audit_unavailable", "{v}");
    assert!(!r.text().contains("\"key\""), "a key was handed out: {}", r.text());
    request("GET", &d.admin_url("/api/keys"), Some(ADMIN_KEY), "").await.assert_error(503);

    // The disk is fixed: nothing was created while the audit was down, and changes work again.
    std::fs::remove_file(&blocker).unwrap();
    let list = request("GET", &d.admin_url("/api/keys"), Some(ADMIN_KEY), "").await;
    assert_eq!((list.status, &list.json()["data"]), (200, &json!([])), "{}", list.text());
    create_key(&d, &json!({"user": "nina"})).await;
    let dir = d.stop().await;
    let changes: Vec<Value> = stream_records(&dir.path().join("stream"))
        .into_iter()
        .filter(|r| r["endpoint"] == "admin")
        .map(|r| r["admin"]["operation"].clone())
        .collect();
    assert_eq!(changes, [json!("GET /api/keys"), json!("POST /api/keys")]);
}
