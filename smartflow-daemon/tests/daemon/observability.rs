//! Audit records for every outcome, metrics, and the admin plane.

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn every_outcome_is_audited_without_prompt_text() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let secret_prompt = "my-card-4111111111111111";
    let body = format!(r#"{{"model":"ok","messages":[{{"role":"user","content":"{secret_prompt}"}}]}}"#);
    assert_eq!(post(&d, "/v1/chat/completions", &body).await.status, 200);
    assert_eq!(request("POST", &d.url("/v1/chat/completions"), Some("bad-key"), body.clone()).await.status, 401);
    assert_eq!(post(&d, "/v1/chat/completions", "{oops").await.status, 400);
    assert_eq!(post(&d, "/v1/chat/completions", &chat_body("err500", false)).await.status, 502);
    let audit = crate::chat::wait_for_audit(&d, 4).await;
    let outcomes: Vec<&str> = audit.iter().map(|r| r["outcome"].as_str().unwrap()).collect();
    assert_eq!(outcomes, ["allowed", "denied", "failed", "failed"]);
    assert_eq!(audit[0]["principal"]["key_id"], "demo");
    assert_eq!(audit[0]["target"], "up/ok");
    assert_eq!(audit[0]["usage"]["input"], 7);
    assert_eq!(audit[1]["principal"]["key_id"], "-");
    assert_eq!(audit[3]["error"], "upstream_server_error");
    let raw = std::fs::read_to_string(d.dir.path().join("audit.jsonl")).unwrap();
    assert!(!raw.contains(secret_prompt), "prompt text in the audit log");
    assert!(!raw.contains(DEMO_KEY) && !raw.contains("bad-key"), "a key in the audit log");
    assert!(audit.iter().all(|r| r["request_id"].as_str().is_some_and(|id| id.starts_with("req_"))));
}

#[tokio::test]
async fn metrics_count_requests_by_model_target_and_outcome() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    post(&d, "/v1/chat/completions", &chat_body("ok", true)).await;
    post(&d, "/v1/chat/completions", &chat_body("no-such-model", false)).await;
    let mut text = String::new();
    for _ in 0..100 {
        text = request("GET", &d.url("/metrics"), None, "").await.text();
        if text.contains(
            r#"smartflow_requests_total{endpoint="chat",model="ok",target="up/ok",outcome="allowed",error=""} 2"#,
        ) {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert!(
        text.contains(
            r#"smartflow_requests_total{endpoint="chat",model="ok",target="up/ok",outcome="allowed",error=""} 2"#
        ),
        "{text}"
    );
    assert!(text.contains(r#"smartflow_tokens_total{model="ok",target="up/ok",direction="output"} 6"#), "{text}");
    assert!(text.contains("smartflow_time_to_first_byte_seconds_bucket"), "{text}");
    assert!(text.contains("smartflow_request_duration_seconds_bucket"));
    assert!(!text.contains("no-such-model"), "client-chosen names never become label values");
}

#[tokio::test]
async fn admin_api_is_closed_to_missing_unknown_and_non_admin_keys() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let admin = |p: &str| format!("http://{}{p}", d.admin);
    assert_eq!(request("GET", &admin("/healthz"), None, "").await.status, 200);
    for (method, path, guarded) in smartflow_daemon::server::admin::ROUTES {
        if *guarded {
            request(method, &admin(path), None, "").await.assert_error(401);
            request(method, &admin(path), Some("not-a-key"), "").await.assert_error(401);
            // A data-plane key authenticates, but reaches only its own `/api/me`.
            let r = request(method, &admin(path), Some(DEMO_KEY), "").await;
            if path.starts_with("/api/me") {
                assert_eq!(r.status, 200, "{path}: {}", r.text());
            } else {
                r.assert_error(403);
            }
        }
    }
}

#[tokio::test]
async fn admin_api_works_with_the_admin_key() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let admin_hash = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; // "abc"
    let text = format!("{}\n[admin]\nkey_hash = \"{admin_hash}\"\n", config(up.addr, dir.path()));
    let d = Daemon::start_with(dir, &text).await;
    let r = request("GET", &format!("http://{}/api/status", d.admin), Some("abc"), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["generation"], 1);
    let r = request("POST", &format!("http://{}/api/config/reload", d.admin), Some("abc"), "").await;
    assert_eq!(r.json()["generation"], 2, "{}", r.text());
}
