//! Identity through the real daemon: hostile and malformed credentials, stored keys created,
//! revoked, expired and rotated through the admin API (and the `keys` CLI), object-level
//! authorisation on the key API, JWTs from a configured issuer, and LDAP logins.

use std::time::Duration;

use tokio::time::Instant;

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

/// A daemon on the test configuration plus the admin key and `extra`.
async fn start(up: &Upstream, extra: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), extra);
    Daemon::start_with(dir, &text).await
}

async fn chat_status(d: &Daemon, key: &str) -> u16 {
    request("POST", &d.url("/v1/chat/completions"), Some(key), chat_body("ok", false)).await.status
}

/// A 401 in the shape of the route's dialect: OpenAI's, or Anthropic's on `/v1/messages`.
fn assert_401(r: &Reply, path: &str) {
    if path == "/v1/messages" {
        assert_eq!(r.status, 401, "{path}: {}", r.text());
        let v = r.json();
        assert_eq!((v["type"].as_str(), v["error"]["type"].as_str()), (Some("error"), Some("authentication_error")));
    } else {
        r.assert_error(401);
    }
}

#[tokio::test]
async fn t01_sqli_like_bearer_rejected_quickly() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let url = d.url("/v1/chat/completions");
    for token in ["' OR '1'='1", "' OR (SELECT pg_sleep(10)) IS NULL --", "demo' --", "sf-demo-key-0001' OR 1=1 --"] {
        let started = Instant::now();
        let r = request("POST", &url, Some(token), chat_body("ok", false)).await;
        let took = started.elapsed();
        let v = r.assert_error(401);
        assert!(took < Duration::from_secs(1), "{token:?} took {took:?}");
        for fragment in ["OR", "pg_sleep", "--", token] {
            assert!(!r.text().contains(fragment), "the token is echoed: {v}");
        }
    }

    // A NUL in the token: sent as raw bytes, since HTTP clients refuse it.
    let started = Instant::now();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer {DEMO_KEY}\0x"
    );
    let body = chat_body("ok", false);
    let (status, raw) = raw_request(d.addr, head.as_bytes(), body.as_bytes()).await;
    assert!(started.elapsed() < Duration::from_secs(1), "NUL token took {:?}", started.elapsed());
    assert!(matches!(status, 400 | 401), "NUL in the token: {status} {}", String::from_utf8_lossy(&raw));

    // 64 KiB: over the header limit (16 KiB) or, if read, refused as a key.
    let big = "A".repeat(64 << 10);
    let started = Instant::now();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\nauthorization: Bearer {big}"
    );
    let (status, raw) = raw_request(d.addr, head.as_bytes(), body.as_bytes()).await;
    assert!(started.elapsed() < Duration::from_secs(1), "64 KiB token took {:?}", started.elapsed());
    assert!(matches!(status, 401 | 431), "64 KiB token: {status} {}", String::from_utf8_lossy(&raw));
    assert!(!String::from_utf8_lossy(&raw).contains("AAAAAAAA"), "the token is echoed");
    assert_eq!(up.requests(), 0, "nothing reached the upstream");
}

#[tokio::test]
async fn t02_malformed_auth_never_yields_an_anonymous_principal() {
    let up = Upstream::start().await;
    let d = start(&up, "").await;
    let empty_password = format!("Basic {}", b64(b"u:"));
    let variants: [&[(&str, &str)]; 6] = [
        &[],
        &[("authorization", "Bearer")],
        &[("authorization", "Basic !!!")],
        &[("authorization", &empty_password)],
        &[("authorization", "Token x")],
        &[("x-api-key", "")],
    ];
    let routes = smartflow_daemon::server::data::ROUTES
        .iter()
        .map(|r| (r, true))
        .chain(smartflow_daemon::server::admin::ROUTES.iter().map(|r| (r, false)));
    let mut checked = 0;
    for ((method, path, guarded), data_plane) in routes {
        if !guarded {
            continue;
        }
        let concrete = path
            .replace("{id}", "key_0123456789abcdef0123")
            .replace("{user}", "u1")
            .replace("{team}", "t1")
            .replace("{department}", "eng")
            .replace("{model}", "ok");
        let url = if data_plane { d.url(&concrete) } else { d.admin_url(&concrete) };
        let body = match *path {
            "/v1/embeddings" => r#"{"model":"embed","input":"hi"}"#.to_owned(),
            "/v1/messages" => r#"{"model":"ok","max_tokens":8,"messages":[{"role":"user","content":"hi"}]}"#.to_owned(),
            "/api/keys" | "/api/keys/{id}" => r#"{"admin":true}"#.to_owned(),
            _ if *method == "POST" => chat_body("ok", false),
            _ => String::new(),
        };
        for headers in variants {
            let r = request_with(method, &url, headers, body.clone()).await;
            assert_401(&r, path);
            assert!(r.header("x-request-id").is_some(), "{method} {path} {headers:?}");
            checked += 1;
        }
    }
    assert!(checked >= 6 * 15, "only {checked} checks");
    assert_eq!(up.requests(), 0, "nothing reached the upstream");
    // The data-plane refusals are audited as denied, by no principal.
    let audit = d.audit_lines().await;
    assert!(!audit.is_empty());
    for r in &audit {
        assert_eq!((r["outcome"].as_str(), r["status"].as_u64()), (Some("denied"), Some(401)), "{r}");
        assert_eq!(r["principal"]["key_id"], "-", "{r}");
    }
    // Nothing was created or changed by the refused admin calls.
    let keys = request("GET", &d.admin_url("/api/keys?include_revoked=true"), Some(ADMIN_KEY), "").await;
    assert_eq!(keys.json()["data"], json!([]), "{}", keys.text());
}

/// T10 (revocation is immediate on every path): delete, user and team deletion, expiry and
/// rotation each stop a key on the very next request, on a kept-alive connection and a new one.
mod t10_revocation_immediate_all_paths {
    use super::*;

    #[tokio::test]
    async fn keys_created_through_the_admin_api_work_and_revocation_is_immediate() {
        let up = Upstream::start().await;
        let d = start(&up, "").await;
        let chat = d.url("/v1/chat/completions");

        // Created: the secret is in the 201 answer only.
        let r = request("POST", &d.admin_url("/api/keys"), Some(ADMIN_KEY), r#"{"user":"dave"}"#).await;
        assert_eq!(r.status, 201, "{}", r.text());
        let v = r.json();
        let (secret, id) = (v["key"].as_str().unwrap().to_owned(), v["record"]["id"].as_str().unwrap().to_owned());
        assert!(!v["record"].to_string().contains(&secret) && !v["record"].to_string().contains("sha256:"));
        let list = request("GET", &d.admin_url("/api/keys?include_revoked=true"), Some(ADMIN_KEY), "").await;
        assert_eq!(list.status, 200);
        assert!(list.text().contains(&id), "{}", list.text());
        assert!(!list.text().contains(&secret) && !list.text().contains("sha256:"), "{}", list.text());
        let one = request("GET", &d.admin_url(&format!("/api/keys/{id}")), Some(ADMIN_KEY), "").await;
        assert!(!one.text().contains(&secret) && !one.text().contains("sha256:"), "{}", one.text());

        // Works, on a kept-alive connection; revoked, the next request is 401 on that same
        // connection and on a new one.
        let kept = client();
        assert_eq!(request_on(&kept, "POST", &chat, Some(&secret), chat_body("ok", false)).await.status, 200);
        let r = request("DELETE", &d.admin_url(&format!("/api/keys/{id}")), Some(ADMIN_KEY), "").await;
        assert_eq!((r.status, &r.json()["revoked"]), (200, &json!(true)), "{}", r.text());
        request_on(&kept, "POST", &chat, Some(&secret), chat_body("ok", false)).await.assert_error(401);
        request("POST", &chat, Some(&secret), chat_body("ok", false)).await.assert_error(401);
        let me = request("GET", &d.admin_url("/api/me"), Some(&secret), "").await;
        me.assert_error(401);

        // Deleting the user, or the team, revokes their keys.
        let (erin, _) = create_key(&d, &json!({"user": "erin"})).await;
        let (erin2, _) = create_key(&d, &json!({"user": "erin", "team": "blue"})).await;
        let (frank, _) = create_key(&d, &json!({"user": "frank", "team": "green"})).await;
        let (gina, _) = create_key(&d, &json!({"user": "gina", "team": "green"})).await;
        for k in [&erin, &erin2, &frank, &gina] {
            assert_eq!(chat_status(&d, k).await, 200);
        }
        let r = request("DELETE", &d.admin_url("/api/users/erin"), Some(ADMIN_KEY), "").await;
        assert_eq!(r.json()["revoked_keys"], 2, "{}", r.text());
        assert_eq!((chat_status(&d, &erin).await, chat_status(&d, &erin2).await), (401, 401));
        assert_eq!(chat_status(&d, &frank).await, 200, "another user's key is untouched");
        let r = request("DELETE", &d.admin_url("/api/teams/green"), Some(ADMIN_KEY), "").await;
        assert_eq!(r.json()["revoked_keys"], 2, "{}", r.text());
        assert_eq!((chat_status(&d, &frank).await, chat_status(&d, &gina).await), (401, 401));

        // Rotation: the old secret stops at once, the new one works.
        let (old, id) = create_key(&d, &json!({"user": "hal"})).await;
        assert_eq!(chat_status(&d, &old).await, 200);
        let r = request("POST", &d.admin_url(&format!("/api/keys/{id}/rotate")), Some(ADMIN_KEY), "").await;
        assert_eq!(r.status, 201, "{}", r.text());
        let new = r.json()["key"].as_str().unwrap().to_owned();
        assert_ne!(new, old);
        assert_eq!(r.json()["record"]["id"], id.as_str());
        assert_eq!((chat_status(&d, &old).await, chat_status(&d, &new).await), (401, 200));

        // Expiry: works until `expires_at`, then 401.
        let expires_at = unix_now() + 2;
        let (short, _) = create_key(&d, &json!({"user": "ida", "expires_at": expires_at})).await;
        assert_eq!(chat_status(&d, &short).await, 200);
        while unix_now() < expires_at {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        request("POST", &chat, Some(&short), chat_body("ok", false)).await.assert_error(401);
    }
}

#[tokio::test]
async fn revocation_is_durable_across_restart() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!("[storage]\npath = \"{}\"\n", dir.path().join("store").display());
    let text = admin_config(up.addr, dir.path(), &extra);
    let d = Daemon::start_with(dir, &text).await;
    let (revoked, revoked_id) = create_key(&d, &json!({"user": "jack"})).await;
    let (live, live_id) = create_key(&d, &json!({"user": "kate"})).await;
    let r = request("DELETE", &d.admin_url(&format!("/api/keys/{revoked_id}")), Some(ADMIN_KEY), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    let dir = d.stop().await;
    let d = Daemon::start_with(dir, &text).await;
    assert_eq!(chat_status(&d, &revoked).await, 401, "a revoked key came back after a restart");
    assert_eq!(chat_status(&d, &live).await, 200, "a live key was lost in the restart");
    let list = request("GET", &d.admin_url("/api/keys"), Some(ADMIN_KEY), "").await.json();
    let ids: Vec<&str> = list["data"].as_array().unwrap().iter().map(|k| k["id"].as_str().unwrap()).collect();
    assert_eq!(ids, [live_id.as_str()]);
    let record = request("GET", &d.admin_url(&format!("/api/keys/{revoked_id}")), Some(ADMIN_KEY), "").await.json();
    assert!(record["revoked_at"].is_u64(), "{record}");
}

/// Every key-API call a non-admin might try on `target`, with bodies that would escalate.
fn attempts(target: &str) -> Vec<(&'static str, String, String)> {
    let escalate = r#"{"admin":true,"models":null,"limits":[]}"#.to_owned();
    vec![
        ("GET", format!("/api/keys/{target}"), String::new()),
        ("PATCH", format!("/api/keys/{target}"), escalate.clone()),
        ("DELETE", format!("/api/keys/{target}"), String::new()),
        ("POST", format!("/api/keys/{target}/rotate"), String::new()),
        ("PATCH", format!("/api/keys/{target}"), r#"{"not_a_field":1}"#.to_owned()),
        ("PATCH", format!("/api/keys/{target}"), "{broken".to_owned()),
    ]
}

/// T08 and T09: a non-admin gets one and the same 403 for every key-API call, whatever the
/// object (another key, its own, one that does not exist), method or body.
async fn non_admins_get_one_403(d: &Daemon, callers: &[&str], targets: &[&str]) -> bytes::Bytes {
    let mut first: Option<bytes::Bytes> = None;
    for caller in callers {
        let mut calls: Vec<(&str, String, String)> = targets.iter().flat_map(|t| attempts(t)).collect();
        calls.push(("POST", "/api/keys".to_owned(), r#"{"user":"mallory","admin":true}"#.to_owned()));
        calls.push(("GET", "/api/keys".to_owned(), String::new()));
        calls.push(("DELETE", "/api/users/u1".to_owned(), String::new()));
        calls.push(("DELETE", "/api/teams/blue".to_owned(), String::new()));
        for (method, path, body) in calls {
            let r = request(method, &d.admin_url(&path), Some(caller), body).await;
            r.assert_error(403);
            match &first {
                None => first = Some(r.body.clone()),
                Some(b) => assert_eq!(b, &r.body, "{method} {path} by {caller}: a different 403"),
            }
        }
    }
    first.unwrap()
}

/// A daemon with two stored keys: a non-admin caller's and a victim's, and their records.
struct Objects {
    _up: Upstream,
    d: Daemon,
    caller: String,
    caller_id: String,
    caller_before: Value,
    victim_id: String,
    victim_before: Value,
}

impl Objects {
    async fn new() -> Self {
        let up = Upstream::start().await;
        let d = start(&up, "").await;
        let (caller, caller_id) = create_key(&d, &json!({"user": "mallory", "models": ["ok"]})).await;
        let (_, victim_id) = create_key(&d, &json!({"user": "victor", "team": "blue"})).await;
        let mut o =
            Self { _up: up, d, caller, caller_id, caller_before: Value::Null, victim_id, victim_before: Value::Null };
        o.caller_before = o.record(&o.caller_id).await;
        o.victim_before = o.record(&o.victim_id).await;
        o
    }

    /// The record of `id`, as the admin sees it.
    async fn record(&self, id: &str) -> Value {
        request("GET", &self.d.admin_url(&format!("/api/keys/{id}")), Some(ADMIN_KEY), "").await.json()
    }
}

#[tokio::test]
async fn t08_mass_assignment_key_update_is_refused_for_non_admins() {
    let o = Objects::new().await;
    let d = &o.d;
    // Its own key, another's, and (with the demo key, a configuration key) both.
    non_admins_get_one_403(d, &[&o.caller, DEMO_KEY], &[&o.caller_id, &o.victim_id]).await;
    assert_eq!(o.record(&o.caller_id).await, o.caller_before, "the caller's own record changed");
    assert_eq!(o.record(&o.victim_id).await, o.victim_before, "another key's record changed");
    assert_eq!(o.caller_before["admin"], false);
    // Still not an admin, still restricted to its models, still working.
    request("GET", &d.admin_url("/api/keys"), Some(&o.caller), "").await.assert_error(403);
    let r = request("POST", &d.url("/v1/chat/completions"), Some(&o.caller), chat_body("echo", false)).await;
    r.assert_error(403);
    assert_eq!(chat_status(d, &o.caller).await, 200);
}

#[tokio::test]
async fn t09_bola_admin_objects_indistinguishable() {
    let o = Objects::new().await;
    let d = &o.d;
    // An existing key, a well-formed id that does not exist, and junk: one 403 for all.
    let targets = [o.victim_id.as_str(), "key_00000000000000000000", "nope", "%00", "..%2F..%2Fetc"];
    let body = non_admins_get_one_403(d, &[&o.caller, DEMO_KEY], &targets).await;
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains(&o.victim_id) && !text.contains("key_0000"), "the 403 names an object: {text}");
    assert_eq!(o.record(&o.victim_id).await, o.victim_before, "the victim's record changed");
    // The admin does tell them apart.
    let missing = request("GET", &d.admin_url("/api/keys/key_00000000000000000000"), Some(ADMIN_KEY), "").await;
    missing.assert_error(404);
}

/// An Ed25519 signing key and its JWKS.
struct Issuer {
    key: ring::signature::Ed25519KeyPair,
}

impl Issuer {
    fn new() -> Self {
        let rng = ring::rand::SystemRandom::new();
        let pkcs8 = ring::signature::Ed25519KeyPair::generate_pkcs8(&rng).unwrap();
        Self { key: ring::signature::Ed25519KeyPair::from_pkcs8(pkcs8.as_ref()).unwrap() }
    }

    fn jwks(&self) -> String {
        use ring::signature::KeyPair as _;
        json!({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": b64url(self.key.public_key().as_ref()),
            "kid": "k1", "alg": "EdDSA", "use": "sig"}]})
        .to_string()
    }

    fn token(&self, header: &Value, claims: &Value) -> String {
        let signing_input =
            format!("{}.{}", b64url(header.to_string().as_bytes()), b64url(claims.to_string().as_bytes()));
        let signature = self.key.sign(signing_input.as_bytes());
        format!("{signing_input}.{}", b64url(signature.as_ref()))
    }

    fn signed(&self, claims: &Value) -> String {
        self.token(&json!({"alg": "EdDSA", "kid": "k1", "typ": "JWT"}), claims)
    }
}

fn claims(sub: &str, groups: &[&str], aud: &str, exp_from_now: i64) -> Value {
    let now = unix_now();
    json!({"iss": "https://idp.test", "aud": aud, "sub": sub, "team": "red", "groups": groups,
        "iat": now - 10, "exp": now.saturating_add_signed(exp_from_now)})
}

#[tokio::test]
async fn jwt_bearer_tokens_from_a_configured_issuer_authenticate() {
    let up = Upstream::start().await;
    let issuer = Issuer::new();
    let dir = tempfile::tempdir().unwrap();
    let jwks = dir.path().join("jwks.json");
    std::fs::write(&jwks, issuer.jwks()).unwrap();
    let extra = format!(
        "[[jwt]]\nissuer = \"https://idp.test\"\naudiences = [\"smartflow\"]\njwks_file = \"{}\"\nalgorithms = [\"EdDSA\"]\nteam_claim = \"team\"\ngroups_claim = \"groups\"\nadmin_groups = [\"gw-admins\"]\n",
        jwks.display()
    );
    let text = admin_config(up.addr, dir.path(), &extra);
    let d = Daemon::start_with(dir, &text).await;

    let valid = issuer.signed(&claims("jane", &["eng"], "smartflow", 300));
    assert_eq!(chat_status(&d, &valid).await, 200);
    let me = request("GET", &d.admin_url("/api/me"), Some(&valid), "").await;
    assert_eq!(me.status, 200, "{}", me.text());
    let me = me.json();
    assert_eq!((me["user"].as_str(), me["team"].as_str()), (Some("jane"), Some("red")), "{me}");
    assert_eq!(me["key_id"], "jwt:jane", "{me}");
    assert!(me.get("admin").is_none_or(|a| a == false), "{me}");
    request("GET", &d.admin_url("/api/keys"), Some(&valid), "").await.assert_error(403);

    let admin = issuer.signed(&claims("root", &["eng", "gw-admins"], "smartflow", 300));
    let r = request("GET", &d.admin_url("/api/keys"), Some(&admin), "").await;
    assert_eq!(r.status, 200, "{}", r.text());

    let expired = issuer.signed(&claims("jane", &["gw-admins"], "smartflow", -120));
    let wrong_audience = issuer.signed(&claims("jane", &["gw-admins"], "someone-else", 300));
    let unsigned = format!(
        "{}.{}.",
        b64url(json!({"alg": "none", "typ": "JWT"}).to_string().as_bytes()),
        b64url(claims("jane", &["gw-admins"], "smartflow", 300).to_string().as_bytes())
    );
    let none_signed = issuer
        .token(&json!({"alg": "none", "kid": "k1", "typ": "JWT"}), &claims("jane", &["gw-admins"], "smartflow", 300));
    let other_key = Issuer::new().signed(&claims("jane", &["gw-admins"], "smartflow", 300));
    let mut tampered_parts: Vec<String> = admin.split('.').map(str::to_owned).collect();
    tampered_parts[1] = b64url(claims("eve", &["gw-admins"], "smartflow", 300).to_string().as_bytes());
    let tampered = tampered_parts.join(".");
    for (what, token) in [
        ("expired", &expired),
        ("wrong audience", &wrong_audience),
        ("alg none, no signature", &unsigned),
        ("alg none, signed", &none_signed),
        ("another key", &other_key),
        ("tampered claims", &tampered),
    ] {
        let r = request("POST", &d.url("/v1/chat/completions"), Some(token), chat_body("ok", false)).await;
        assert_eq!(r.status, 401, "{what}: {}", r.text());
        r.assert_error(401);
        let r = request("GET", &d.admin_url("/api/keys"), Some(token), "").await;
        assert_eq!(r.status, 401, "{what} on the admin API: {}", r.text());
    }
    assert_eq!(up.requests(), 1);
}

#[tokio::test]
async fn ldap_basic_login_through_the_daemon() {
    let Some(slapd) = Slapd::start() else { return };
    let up = Upstream::start().await;
    let extra = format!(
        "[ldap]\nurl = \"{}\"\nuser_dn_template = \"uid={{user}},ou=people,dc=example,dc=org\"\ntimeout = \"3s\"\n",
        slapd.url()
    );
    let d = start(&up, &extra).await;
    let chat = d.url("/v1/chat/completions");
    let basic = |user: &str, password: &str| format!("Basic {}", b64(format!("{user}:{password}").as_bytes()));
    let ok = basic("alice", "alice-password");
    let r = request_with("POST", &chat, &[("authorization", &ok)], chat_body("ok", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let me = request_with("GET", &d.admin_url("/api/me"), &[("authorization", &ok)], "").await;
    assert_eq!(me.json()["key_id"], "ldap:alice", "{}", me.text());
    for (user, password) in [("alice", "wrong"), ("alice", ""), ("nobody", "alice-password"), ("*", "*")] {
        let r = request_with("POST", &chat, &[("authorization", &basic(user, password))], chat_body("ok", false)).await;
        r.assert_error(401);
    }
    assert_eq!(up.requests(), 1);
}

#[tokio::test]
async fn keys_cli_creates_lists_and_revokes_through_the_admin_api() {
    let up = Upstream::start().await;
    let d = start(&up, "").await;
    let admin_url = format!("http://{}", d.admin);
    let cli = |args: &[&str], with_key: bool| {
        let mut c = tokio::process::Command::new(env!("CARGO_BIN_EXE_smartflowd"));
        c.arg("keys").args(args).args(["--admin-url", &admin_url]).current_dir(d.dir.path());
        if with_key {
            c.env("SMARTFLOW_ADMIN_KEY", ADMIN_KEY);
        } else {
            c.env_remove("SMARTFLOW_ADMIN_KEY");
        }
        c.output()
    };
    let out = cli(&["create", "--user", "carol", "--tokens-per-minute", "5000"], true).await.unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    let created: Value = serde_json::Deserializer::from_str(&stdout).into_iter().next().unwrap().unwrap();
    let (secret, id) = (created["key"].as_str().unwrap(), created["record"]["id"].as_str().unwrap());
    assert_eq!(created["record"]["user"], "carol");
    assert_eq!(created["record"]["limits"][0]["amount"], 5000, "{created}");
    assert_eq!(chat_status(&d, secret).await, 200);

    let out = cli(&["list"], true).await.unwrap();
    assert!(out.status.success());
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains(id) && !listed.contains(secret), "{listed}");

    let out = cli(&["revoke", id], true).await.unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(chat_status(&d, secret).await, 401);

    let out = cli(&["list"], false).await.unwrap();
    assert!(!out.status.success(), "ran without an admin key");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("SMARTFLOW_ADMIN_KEY"), "the message does not name the variable: {err}");
    let out = cli(&["create", "--user", "dan"], false).await.unwrap();
    assert!(!out.status.success() && String::from_utf8_lossy(&out.stderr).contains("SMARTFLOW_ADMIN_KEY"));
    let keys = request("GET", &d.admin_url("/api/keys?include_revoked=true"), Some(ADMIN_KEY), "").await.json();
    assert_eq!(keys["data"].as_array().unwrap().len(), 1, "the refused create made a key: {keys}");
}
