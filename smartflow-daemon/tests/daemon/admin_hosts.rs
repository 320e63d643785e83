//! T21: the admin listener on loopback answers only to loopback names and the configured
//! `server.admin_hosts`, so a DNS-rebinding page (its own name in `Host`) or a cross-origin page
//! (its origin in `Origin`) gets 403 before authentication, and the refusal is audited.

use crate::support::*;
use crate::upstream::Upstream;

/// `GET path` on the admin listener with exactly these extra header lines.
async fn admin_get(d: &Daemon, path: &str, lines: &[String]) -> (u16, String) {
    let mut head = format!("GET {path} HTTP/1.1");
    for l in lines {
        head.push_str("\r\n");
        head.push_str(l);
    }
    let (status, raw) = raw_request(d.admin, head.as_bytes(), b"").await;
    (status, String::from_utf8_lossy(&raw).into_owned())
}

#[tokio::test]
async fn t21_rebound_and_cross_origin_requests_are_refused() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), "");
    let d = Daemon::start_with(dir, &text).await;
    let port = d.admin.port();
    let auth = format!("authorization: Bearer {ADMIN_KEY}");

    // Loopback names are answered, with and without credentials where the route needs none.
    for host in [format!("127.0.0.1:{port}"), format!("localhost:{port}"), format!("[::1]:{port}")] {
        assert_eq!(admin_get(&d, "/healthz", &[format!("host: {host}")]).await.0, 200, "{host}");
    }
    let (status, _) = admin_get(&d, "/api/keys", &[format!("host: localhost:{port}"), auth.clone()]).await;
    assert_eq!(status, 200);

    // A rebound name is refused on every route, even with the admin key; so is a foreign origin.
    for path in ["/healthz", "/metrics", "/api/keys"] {
        let (status, raw) = admin_get(&d, path, &[format!("host: evil.example:{port}"), auth.clone()]).await;
        assert_eq!(status, 403, "{path}: {raw}");
        assert!(raw.contains("\"code\":\"host_not_allowed\""), "{raw}");
    }
    let cross = [format!("host: 127.0.0.1:{port}"), "origin: https://evil.example".to_owned(), auth.clone()];
    let (status, raw) = admin_get(&d, "/api/keys", &cross).await;
    assert_eq!(status, 403, "{raw}");
    let same = [format!("host: 127.0.0.1:{port}"), format!("origin: http://127.0.0.1:{port}"), auth.clone()];
    assert_eq!(admin_get(&d, "/api/keys", &same).await.0, 200);

    // The refusals are in the audit, by no principal.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let refused = loop {
        let refused: Vec<_> = d
            .audit_lines()
            .await
            .into_iter()
            .filter(|r| r["endpoint"] == "admin" && r["status"] == 403 && r["principal"]["key_id"] == "-")
            .collect();
        if refused.len() >= 4 || tokio::time::Instant::now() > deadline {
            break refused;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    };
    assert_eq!(refused.len(), 4, "{refused:?}");
    assert!(refused.iter().all(|r| r["outcome"] == "denied"), "{refused:?}");
}

#[tokio::test]
async fn t21_configured_admin_hosts_are_answered() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), "")
        .replace("[server]\n", "[server]\nadmin_hosts = [\"smartflow-admin.platform.svc\"]\n");
    assert!(text.contains("admin_hosts"), "the test config has no [server] table");
    let d = Daemon::start_with(dir, &text).await;
    let port = d.admin.port();
    let named = format!("host: smartflow-admin.platform.svc:{port}");
    assert_eq!(admin_get(&d, "/healthz", &[named]).await.0, 200);
    assert_eq!(admin_get(&d, "/healthz", &[format!("host: localhost:{port}")]).await.0, 200);
    assert_eq!(admin_get(&d, "/healthz", &["host: other.platform.svc".to_owned()]).await.0, 403);
}
