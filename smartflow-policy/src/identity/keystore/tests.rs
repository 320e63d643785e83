//! Behaviour of the key store and its admin API, each test against sled in a temporary directory.

use std::collections::{BTreeMap, BTreeSet};

use http::{Method, StatusCode};
use serde_json::{Value, json};
use smartflow_core::{Authenticator, Credentials, Principal};
use tokio::time::Instant;

use super::record::{Stored, now_secs};
use super::*;
use crate::governance::spec::{Limit, Metric, Period};
use crate::identity::KeyHash;

fn temp_db() -> (tempfile::TempDir, sled::Db) {
    let dir = tempfile::tempdir().unwrap();
    let db = sled::open(dir.path()).unwrap();
    (dir, db)
}

/// Reopens the database at `path` once the dropped handle's background flusher has let go of
/// its lock (sled holds it until that thread's next tick).
async fn reopen(path: &std::path::Path) -> sled::Db {
    let deadline = Instant::now() + std::time::Duration::from_secs(10);
    loop {
        match sled::open(path) {
            Ok(db) => return db,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(e) => panic!("reopen {}: {e}", path.display()),
        }
    }
}

fn admin() -> Principal {
    Principal { admin: true, ..Principal::new("key_root") }
}

fn spec(user: &str, team: &str) -> KeySpec {
    KeySpec { user: Some(user.into()), team: Some(team.into()), ..KeySpec::default() }
}

async fn call(store: &KeyStore, caller: &Principal, method: Method, path: &str, body: &str) -> AdminReply {
    let (path, query) = path.split_once('?').map_or((path, None), |(p, q)| (p, Some(q)));
    handle(store, caller, &method, path, query, body.as_bytes()).await.unwrap()
}

#[tokio::test]
async fn created_key_authenticates_as_its_principal_with_its_limits() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let limit = Limit::rate(Metric::Requests, Period::Minute, 60);
    let models = BTreeSet::from(["gpt-4o".to_owned()]);
    let s = KeySpec { limits: vec![limit], models: Some(models.clone()), ..spec("alice", "red") };
    let (record, secret) = store.create(s).await.unwrap();
    assert!(secret.starts_with("sf-") && secret.len() == 46, "{}", secret.len());
    assert_eq!(record.prefix, secret[..7]);
    assert!(record.id.starts_with("key_") && record.id.len() == 24);
    let entry = store.lookup(&secret).unwrap();
    assert_eq!(entry.principal.key_id, record.id);
    assert_eq!(entry.principal.user.as_deref(), Some("alice"));
    assert_eq!(entry.principal.models.as_ref(), Some(&models));
    assert_eq!(&*store.limits(&record.id).unwrap(), &[limit]);
    let p = store.authenticate(&Credentials::bearer(secret.clone())).await.unwrap();
    assert_eq!(p.key_id, record.id);
    let via_api_key = Credentials { api_key: Some(secret), ..Credentials::default() };
    assert!(store.authenticate(&via_api_key).await.is_ok());
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn list_get_and_create_replies_never_contain_the_hash() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let created = call(&store, &admin(), Method::POST, "/api/keys", r#"{"user":"alice"}"#).await;
    assert_eq!(created.status, StatusCode::CREATED);
    let secret = created.body["key"].as_str().unwrap().to_owned();
    let id = created.body["record"]["id"].as_str().unwrap().to_owned();
    let hash = KeyHash::of(&secret).to_string();
    let hash_hex = hash.trim_start_matches("sha256:");
    let listed = call(&store, &admin(), Method::GET, "/api/keys?include_revoked=true", "").await;
    let got = call(&store, &admin(), Method::GET, &format!("/api/keys/{id}"), "").await;
    assert_eq!(listed.body["data"].as_array().map(Vec::len), Some(1));
    for reply in [&created, &listed, &got] {
        let text = reply.body.to_string();
        assert!(!text.contains(hash_hex) && !text.contains("\"hash\""), "{text}");
    }
    for reply in [&listed, &got] {
        assert!(!reply.body.to_string().contains(&secret));
    }
    assert!(!format!("{:?} {:?}", store, store.get(&id).unwrap()).contains(&secret));
}

#[tokio::test]
async fn revoked_key_fails_next_lookup_and_stays_revoked_after_reopen() {
    let (dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, secret) = store.create(spec("alice", "red")).await.unwrap();
    let (_, other) = store.create(spec("bob", "red")).await.unwrap();
    let revoked = store.revoke(&record.id).await.unwrap();
    assert!(revoked.revoked_at.is_some());
    assert!(store.lookup(&secret).is_none());
    assert!(store.limits(&record.id).is_none());
    drop((store, db));
    let db = reopen(dir.path()).await;
    let store = KeyStore::open(&db).unwrap();
    assert!(store.lookup(&secret).is_none());
    assert!(store.lookup(&other).is_some());
    assert!(store.get(&record.id).unwrap().unwrap().is_revoked());
    let hashes = db.open_tree(HASHES_TREE).unwrap();
    assert!(!hashes.contains_key(KeyHash::of(&secret).as_bytes()).unwrap());
}

#[tokio::test]
async fn revoking_twice_is_idempotent_and_revoked_keys_cannot_be_changed() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, _) = store.create(spec("alice", "red")).await.unwrap();
    let first = store.revoke(&record.id).await.unwrap();
    assert_eq!(store.revoke(&record.id).await.unwrap(), first);
    assert!(matches!(store.rotate(&record.id).await, Err(KeyStoreError::Revoked)));
    assert!(matches!(store.update(&record.id, KeyPatch::default()).await, Err(KeyStoreError::Revoked)));
}

#[tokio::test]
async fn rotation_disables_the_old_secret_and_enables_the_new_one() {
    let (dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, old) = store.create(spec("alice", "red")).await.unwrap();
    let (rotated, new) = store.rotate(&record.id).await.unwrap();
    assert_ne!(old, new);
    assert_eq!(rotated.id, record.id);
    assert_eq!(rotated.prefix, new[..7]);
    assert!(rotated.rotated_at.is_some());
    assert!(store.lookup(&old).is_none());
    assert_eq!(store.lookup(&new).unwrap().principal.key_id, record.id);
    assert_eq!(store.len(), 1);
    drop((store, db));
    let db = reopen(dir.path()).await;
    let store = KeyStore::open(&db).unwrap();
    assert!(store.lookup(&old).is_none());
    assert!(store.lookup(&new).is_some());
}

#[tokio::test]
async fn expired_key_is_refused_even_though_it_is_loaded() {
    let (dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, secret) = store.create(spec("alice", "red")).await.unwrap();
    // Rewrite the record with an expiry in the past, as if time had passed, then reopen.
    let mut past = record.clone();
    past.expires_at = Some(now_secs() - 1);
    let bytes = Stored::encode(KeyHash::of(&secret), &past).unwrap();
    db.open_tree(KEYS_TREE).unwrap().insert(record.id.as_bytes(), bytes).unwrap();
    drop((store, db));
    let db = reopen(dir.path()).await;
    let store = KeyStore::open(&db).unwrap();
    assert_eq!(store.len(), 1);
    assert!(store.lookup(&secret).is_none());
    assert!(store.authenticate(&Credentials::bearer(secret)).await.is_err());
}

#[tokio::test]
async fn create_and_update_refuse_past_expiry_and_invalid_fields() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let bad = [
        KeySpec { expires_at: Some(now_secs() - 10), ..KeySpec::default() },
        KeySpec { user: Some("x".repeat(257)), ..KeySpec::default() },
        KeySpec { team: Some("red\nblue".into()), ..KeySpec::default() },
        KeySpec { department: Some(String::new()), ..KeySpec::default() },
        KeySpec { groups: (0..65).map(|i| i.to_string()).collect(), ..KeySpec::default() },
        KeySpec { tags: BTreeMap::from([("k".into(), "v\0".into())]), ..KeySpec::default() },
    ];
    for s in bad {
        assert!(matches!(store.create(s.clone()).await, Err(KeyStoreError::Invalid { .. })), "{s:?}");
    }
    assert!(store.is_empty());
    let (record, _) =
        store.create(KeySpec { expires_at: Some(now_secs() + 3600), ..KeySpec::default() }).await.unwrap();
    let patch = KeyPatch { expires_at: Some(Some(1)), ..KeyPatch::default() };
    assert!(matches!(store.update(&record.id, patch).await, Err(KeyStoreError::Invalid { param: "expires_at", .. })));
}

#[tokio::test]
async fn patch_sets_and_clears_fields_and_takes_effect_on_next_lookup() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, secret) = store.create(spec("alice", "red")).await.unwrap();
    let body = r#"{"team": null, "tier": "gold", "models": ["m1"], "admin": true}"#;
    let reply = call(&store, &admin(), Method::PATCH, &format!("/api/keys/{}", record.id), body).await;
    assert_eq!(reply.status, StatusCode::OK, "{}", reply.body);
    let p = &store.lookup(&secret).unwrap().principal;
    assert_eq!((p.user.as_deref(), p.team.as_deref(), p.tier.as_deref()), (Some("alice"), None, Some("gold")));
    assert!(p.admin && p.may_use("m1") && !p.may_use("m2"));
    assert_eq!(reply.body["team"], Value::Null);
}

#[tokio::test]
async fn revoke_where_team_revokes_every_key_of_that_team_only() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (_, a) = store.create(spec("alice", "red")).await.unwrap();
    let (_, b) = store.create(spec("bob", "red")).await.unwrap();
    let (_, c) = store.create(spec("carol", "blue")).await.unwrap();
    assert_eq!(store.revoke_where(KeyField::Team, "red").await.unwrap(), 2);
    assert!(store.lookup(&a).is_none() && store.lookup(&b).is_none());
    assert!(store.lookup(&c).is_some());
    assert_eq!(store.revoke_where(KeyField::Team, "red").await.unwrap(), 0);
    let red = KeyFilter { team: Some("red".into()), include_revoked: true, ..KeyFilter::default() };
    assert!(store.list(&red).unwrap().iter().all(KeyRecord::is_revoked));
    assert_eq!(store.list(&KeyFilter::default()).unwrap().len(), 1);
}

#[tokio::test]
async fn admin_delete_user_route_revokes_that_users_keys_and_counts_them() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (_, a1) = store.create(spec("al ice", "red")).await.unwrap();
    let (_, a2) = store.create(spec("al ice", "blue")).await.unwrap();
    let reply = call(&store, &admin(), Method::DELETE, "/api/users/al%20ice", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, json!({"user": "al ice", "revoked_keys": 2}));
    assert!(store.lookup(&a1).is_none() && store.lookup(&a2).is_none());
}

#[tokio::test]
async fn t08_mass_assignment_non_admin_cannot_create_or_patch() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (own, own_secret) = store.create(spec("mallory", "red")).await.unwrap();
    let caller = store.lookup(&own_secret).unwrap().principal.clone();
    let (victim, _) = store.create(spec("alice", "blue")).await.unwrap();
    let escalate = r#"{"user":"alice","team":"blue","admin":true,"models":null,
        "limits":[{"metric":"spend","period":"month","amount":999999999999,"kind":"quota"}]}"#;
    for (method, path) in [
        (Method::POST, "/api/keys".to_owned()),
        (Method::PATCH, format!("/api/keys/{}", own.id)),
        (Method::PATCH, format!("/api/keys/{}", victim.id)),
    ] {
        let reply = call(&store, &caller, method, &path, escalate).await;
        assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
    }
    assert_eq!(store.get(&own.id).unwrap().unwrap(), own);
    assert_eq!(store.get(&victim.id).unwrap().unwrap(), victim);
    assert_eq!(store.list(&KeyFilter::default()).unwrap().len(), 2);
    assert!(!store.lookup(&own_secret).unwrap().principal.admin);
}

#[tokio::test]
async fn t09_bola_non_admin_gets_same_403_for_existing_and_missing_keys() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (_, secret) = store.create(spec("mallory", "red")).await.unwrap();
    let caller = store.lookup(&secret).unwrap().principal.clone();
    let (victim, _) = store.create(spec("alice", "blue")).await.unwrap();
    let missing = "key_00000000000000000000";
    let mut bodies = Vec::new();
    for id in [victim.id.as_str(), missing] {
        for (method, path) in [
            (Method::GET, format!("/api/keys/{id}")),
            (Method::PATCH, format!("/api/keys/{id}")),
            (Method::DELETE, format!("/api/keys/{id}")),
            (Method::POST, format!("/api/keys/{id}/rotate")),
            (Method::GET, "/api/keys?user=alice".to_owned()),
            (Method::DELETE, "/api/teams/blue".to_owned()),
            (Method::PUT, format!("/api/keys/{id}/nope")),
        ] {
            let reply = call(&store, &caller, method, &path, "{}").await;
            assert_eq!(reply.status, StatusCode::FORBIDDEN, "{path}");
            bodies.push(serde_json::to_vec(&reply.body).unwrap());
        }
    }
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
    assert!(store.get(&victim.id).unwrap().is_some_and(|r| !r.is_revoked()));
}

#[tokio::test]
async fn admin_gets_404_for_unknown_key_ids() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    for (method, path) in [
        (Method::GET, "/api/keys/key_00000000000000000000"),
        (Method::PATCH, "/api/keys/key_00000000000000000000"),
        (Method::DELETE, "/api/keys/key_00000000000000000000"),
        (Method::POST, "/api/keys/key_00000000000000000000/rotate"),
        (Method::GET, "/api/keys/a/b/c"),
    ] {
        let reply = call(&store, &admin(), method, path, "{}").await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(reply.body["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn admin_gets_400_for_unknown_fields_bad_json_and_bad_values() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, _) = store.create(spec("alice", "red")).await.unwrap();
    let patch_path = format!("/api/keys/{}", record.id);
    for (method, path, body) in [
        (Method::POST, "/api/keys", r#"{"user":"a","role":"proxy_admin"}"#),
        (Method::POST, "/api/keys", "{not json"),
        (Method::POST, "/api/keys", r#"{"team":"a\u0000b"}"#),
        (Method::PATCH, patch_path.as_str(), r#"{"max_budget":1}"#),
        (Method::GET, "/api/keys?include_revoked=maybe", ""),
        (Method::GET, "/api/keys?owner=x", ""),
    ] {
        let reply = call(&store, &admin(), method, path, body).await;
        assert_eq!(reply.status, StatusCode::BAD_REQUEST, "{body}");
        let e = &reply.body["error"];
        assert!(e["message"].is_string());
        assert_eq!(e["type"], "invalid_request_error");
    }
    assert_eq!(store.get(&record.id).unwrap().unwrap(), record);
}

#[tokio::test]
async fn bodies_over_64_kib_are_refused_with_413() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let body = format!(r#"{{"name":"{}"}}"#, "x".repeat(MAX_ADMIN_BODY));
    let reply = call(&store, &admin(), Method::POST, "/api/keys", &body).await;
    assert_eq!(reply.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(store.is_empty());
}

#[tokio::test]
async fn me_returns_the_callers_own_principal_and_nothing_secret() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, secret) = store.create(spec("alice", "red")).await.unwrap();
    let caller = store.lookup(&secret).unwrap().principal.clone();
    let reply = call(&store, &caller, Method::GET, "/api/me", "").await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body["key_id"], record.id.as_str());
    assert_eq!(reply.body["user"], "alice");
    let text = reply.body.to_string();
    assert!(!text.contains(&secret) && !text.contains(KeyHash::of(&secret).to_string().trim_start_matches("sha256:")));
}

#[tokio::test]
async fn paths_outside_the_key_api_are_left_to_the_caller() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    for path in ["/api/models", "/api/keysx", "/api/mex", "/metrics", "/api/users"] {
        assert!(handle(&store, &admin(), &Method::GET, path, None, b"").await.is_none(), "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_creates_all_persist_with_distinct_ids() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.create(spec(&format!("user{i}"), "red")).await })
        })
        .collect();
    let mut secrets = BTreeSet::new();
    for t in tasks {
        secrets.insert(t.await.unwrap().unwrap().1);
    }
    let ids: BTreeSet<_> = store.list(&KeyFilter::default()).unwrap().into_iter().map(|r| r.id).collect();
    assert_eq!((ids.len(), secrets.len(), store.len()), (50, 50, 50));
    assert!(secrets.iter().all(|s| store.lookup(s).is_some()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_patches_of_one_key_lose_no_update() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (record, _) = store.create(spec("alice", "red")).await.unwrap();
    let patches = [
        KeyPatch { tier: Some(Some("gold".into())), ..KeyPatch::default() },
        KeyPatch { groups: Some(vec!["g".into()]), ..KeyPatch::default() },
        KeyPatch { name: Some(Some("n".into())), ..KeyPatch::default() },
        KeyPatch { department: Some(Some("d".into())), ..KeyPatch::default() },
    ];
    let tasks: Vec<_> = patches
        .into_iter()
        .map(|p| {
            let (store, id) = (store.clone(), record.id.clone());
            tokio::spawn(async move { store.update(&id, p).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let r = store.get(&record.id).unwrap().unwrap();
    assert_eq!((r.tier.as_deref(), r.name.as_deref(), r.department.as_deref()), (Some("gold"), Some("n"), Some("d")));
    assert_eq!(r.groups, ["g"]);
}

#[tokio::test]
async fn t01_hostile_tokens_rejected_by_hash_lookup() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let (_, secret) = store.create(spec("alice", "red")).await.unwrap();
    let long = "x".repeat(64 << 10);
    let with_nul = format!("{secret}\0");
    let hostile = ["' OR '1'='1", "' OR (SELECT pg_sleep(10)) IS NULL --", "a\0b", &with_nul, &long, "", "sf-"];
    for token in hostile {
        let started = Instant::now();
        let err = store.authenticate(&Credentials::bearer(token)).await.err().unwrap();
        assert_eq!(err.status_code(), 401, "{token:.40}");
        assert_eq!(err.to_openai_json(), smartflow_core::auth::unauthenticated().to_openai_json());
        assert!(started.elapsed().as_millis() < 50);
    }
    assert!(store.authenticate(&Credentials::default()).await.is_err());
    assert!(store.authenticate(&Credentials::bearer(secret)).await.is_ok());
}

/// `cargo test -p smartflow-policy --release --lib identity::keystore::tests::timing -- --ignored --nocapture`
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "timing report, run in release"]
async fn timing_lookup_and_revoke() {
    let (_dir, db) = temp_db();
    let store = KeyStore::open(&db).unwrap();
    let mut secrets = Vec::new();
    for i in 0..1000 {
        secrets.push(store.create(spec(&format!("u{i}"), "t")).await.unwrap().1);
    }
    let started = Instant::now();
    let create_ms = {
        let t = Instant::now();
        for _ in 0..20 {
            store.create(spec("x", "t")).await.unwrap();
        }
        t.elapsed().as_secs_f64() * 1e3 / 20.0
    };
    let rounds = 1_000_000;
    let t = Instant::now();
    let mut hits = 0usize;
    for i in 0..rounds {
        hits += usize::from(store.lookup(&secrets[i % secrets.len()]).is_some());
    }
    let hit_ns = t.elapsed().as_nanos() as f64 / rounds as f64;
    let t = Instant::now();
    for i in 0..rounds {
        hits += usize::from(store.lookup(if i % 2 == 0 { "sf-nope" } else { "' OR '1'='1" }).is_some());
    }
    let miss_ns = t.elapsed().as_nanos() as f64 / rounds as f64;
    assert_eq!(hits, rounds);
    let ids: Vec<_> = store.list(&KeyFilter::default()).unwrap().into_iter().map(|r| r.id).take(50).collect();
    let t = Instant::now();
    for id in &ids {
        store.revoke(id).await.unwrap();
    }
    let revoke_ms = t.elapsed().as_secs_f64() * 1e3 / ids.len() as f64;
    eprintln!(
        "lookup hit {hit_ns:.0} ns, miss {miss_ns:.0} ns; create {create_ms:.2} ms; revoke {revoke_ms:.2} ms; total {:?}",
        started.elapsed()
    );
}
