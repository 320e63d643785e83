//! Bad input and listener limits: every case gets the right 4xx JSON error and nothing reaches
//! the upstream.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn bad_bodies_are_400_and_never_forwarded() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let deep = format!(
        r#"{{"model":"ok","messages":[{{"role":"user","content":"x"}}],"x":{}{}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let cases: Vec<(&str, String, Option<&str>)> = vec![
        ("invalid json", "{not json".into(), None),
        ("truncated json", r#"{"model":"ok","messages":[{"role":"user","#.into(), None),
        ("wrong type", r#"{"model":"ok","messages":"hello"}"#.into(), Some("messages")),
        (
            "wrong role",
            r#"{"model":"ok","messages":[{"role":"wizard","content":"x"}]}"#.into(),
            Some("messages[0].role"),
        ),
        ("missing model", r#"{"messages":[{"role":"user","content":"x"}]}"#.into(), None),
        ("empty model", r#"{"model":"","messages":[{"role":"user","content":"x"}]}"#.into(), Some("model")),
        ("empty messages", r#"{"model":"ok","messages":[]}"#.into(), Some("messages")),
        ("deep nesting", deep, None),
        ("empty body", String::new(), None),
        ("not an object", "[1,2,3]".into(), None),
        (
            "client api_base",
            r#"{"model":"ok","messages":[{"role":"user","content":"x"}],"api_base":"http://evil"}"#.into(),
            Some("api_base"),
        ),
        (
            "nested api_base",
            r#"{"model":"ok","messages":[{"role":"user","content":"x"}],"extra_config":{"base_url":"http://evil"}}"#
                .into(),
            Some("extra_config.base_url"),
        ),
    ];
    for (name, body, param) in cases {
        let r = post(&d, "/v1/chat/completions", &body).await;
        let v = r.assert_error(400);
        assert_eq!(v["error"]["type"], "invalid_request_error", "{name}");
        if let Some(p) = param {
            assert_eq!(v["error"]["param"], p, "{name}: {v}");
        }
        assert!(!r.text().contains("evil"), "{name}: the error echoes request content");
    }
    // Nor in the query string or the headers.
    let r =
        request("POST", &d.url("/v1/chat/completions?api_base=http://evil"), Some(DEMO_KEY), chat_body("ok", false))
            .await;
    assert_eq!(r.assert_error(400)["error"]["code"], "upstream_override_not_allowed");
    let req = http::Request::post(d.url("/v1/chat/completions"))
        .header("authorization", format!("Bearer {DEMO_KEY}"))
        .header("x-portkey-custom-host", "http://evil")
        .body(http_body_util::Full::new(bytes::Bytes::from(chat_body("ok", false))))
        .unwrap();
    let resp = client().request(req).await.unwrap();
    assert_eq!(resp.status(), 400);
    for body in [r#"{"model":"embed","input":[]}"#, r#"{"model":"embed","input":{"a":1}}"#, r#"{"model":"embed"}"#] {
        post(&d, "/v1/embeddings", body).await.assert_error(400);
    }
    assert_eq!(up.requests(), 0, "nothing was forwarded upstream");
}

#[tokio::test]
async fn every_v1_route_needs_a_key() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let tokens = [
        None,
        Some(""),
        Some("wrong"),
        Some("' OR '1'='1"),
        Some("sf-demo-key-0002"),
        Some("sf-demo-key-000"),
        Some(&*"k".repeat(60_000)),
    ];
    for (method, path, guarded) in smartflow_daemon::server::data::ROUTES {
        let path = path.replace("{model}", "ok");
        for token in tokens {
            let r = request(method, &d.url(&path), token, chat_body("ok", false)).await;
            if *guarded {
                assert!(
                    r.status == 401 || r.status == 431,
                    "{method} {path} with {:?}: {}",
                    token.map(|t| &t[..t.len().min(20)]),
                    r.status
                );
                if r.status == 401 && path == "/v1/messages" {
                    assert_eq!(r.json()["error"]["type"], "authentication_error", "Anthropic-shaped error");
                    assert_eq!(r.json()["type"], "error");
                } else if r.status == 401 {
                    r.assert_error(401);
                }
            } else if token.is_none_or(|t| t.len() < 100) {
                assert_eq!(r.status, 200, "{method} {path} is meant to be open");
            }
        }
    }
    assert_eq!(up.requests(), 0);
}

#[tokio::test]
async fn unknown_routes_and_methods() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    request("GET", &d.url("/v1/nope"), Some(DEMO_KEY), "").await.assert_error(404);
    let r = request("GET", &d.url("/v1/chat/completions"), Some(DEMO_KEY), "").await;
    r.assert_error(405);
    assert_eq!(r.header("allow"), Some("POST"));
}

async fn raw(addr: std::net::SocketAddr, bytes: &[u8]) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let _ = s.write_all(bytes).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test]
async fn oversized_bodies_are_413_while_reading() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let big = format!(r#"{{"model":"ok","messages":[{{"role":"user","content":"{}"}}]}}"#, "x".repeat(70_000));
    let r = post(&d, "/v1/chat/completions", &big).await;
    r.assert_error(413);
    // Declared small, sent large: still refused, by counting.
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ntransfer-encoding: chunked\r\n\r\n"
    );
    let mut req = head.into_bytes();
    for _ in 0..40 {
        req.extend_from_slice(format!("{:x}\r\n{}\r\n", 2000, "y".repeat(2000)).as_bytes());
    }
    req.extend_from_slice(b"0\r\n\r\n");
    let resp = raw(d.addr, &req).await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    // A declared length over the limit is refused before the body is read.
    let resp = raw(
        d.addr,
        format!("POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ncontent-length: 99999999\r\n\r\n{{").as_bytes(),
    )
    .await;
    assert!(resp.starts_with("HTTP/1.1 413"), "{resp}");
    assert_eq!(up.requests(), 0);
}

#[tokio::test]
async fn oversized_and_too_many_headers_are_431() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let big = format!("GET /healthz HTTP/1.1\r\nhost: x\r\nx-big: {}\r\n\r\n", "a".repeat(20_000));
    let resp = raw(d.addr, big.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    let mut many = String::from("GET /healthz HTTP/1.1\r\nhost: x\r\n");
    for i in 0..60 {
        many.push_str(&format!("x-h{i}: v\r\n"));
    }
    many.push_str("\r\n");
    let resp = raw(d.addr, many.as_bytes()).await;
    assert!(resp.starts_with("HTTP/1.1 431"), "{resp}");
    // The daemon still serves.
    assert_eq!(request("GET", &d.url("/healthz"), None, "").await.status, 200);
}

#[tokio::test]
async fn slow_headers_are_cut_at_the_header_read_timeout() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let mut s = TcpStream::connect(d.addr).await.unwrap();
    s.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n").await.unwrap();
    let started = tokio::time::Instant::now();
    // Meanwhile, a normal client is served.
    assert_eq!(request("GET", &d.url("/healthz"), None, "").await.status, 200);
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), s.read_to_end(&mut buf)).await;
    assert!(read.is_ok(), "the slow connection was not closed");
    assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
}

#[tokio::test]
async fn slow_bodies_are_408() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let mut s = TcpStream::connect(d.addr).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ncontent-length: 100\r\n\r\n{{\"mo"
    );
    s.write_all(head.as_bytes()).await.unwrap();
    let mut buf = vec![0u8; 4096];
    let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
    let text = String::from_utf8_lossy(&buf[..n]);
    assert!(text.starts_with("HTTP/1.1 408"), "{text}");
    assert_eq!(up.requests(), 0);
}

#[tokio::test]
async fn connections_over_the_limit_wait_for_a_free_slot() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = config(up.addr, dir.path()).replace("max_headers = 50", "max_headers = 50\nmax_connections = 1");
    let d = Daemon::start_with(dir, &text).await;
    // The first connection takes the only slot and stays open (keep-alive, idle).
    let mut first = TcpStream::connect(d.addr).await.unwrap();
    first.write_all(b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n").await.unwrap();
    let mut buf = vec![0u8; 1024];
    let n = first.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // A second connection is not served until the first is closed by its idle timeout (1 s).
    let started = tokio::time::Instant::now();
    let r = request("GET", &d.url("/healthz"), None, "").await;
    assert_eq!(r.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(500), "served after {:?} despite the limit", started.elapsed());
}

#[tokio::test]
async fn a_key_uses_and_lists_only_its_models() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let key = Some("sf-limited-key");
    let r = request("GET", &d.url("/v1/models"), key, "").await;
    let ids: Vec<String> =
        r.json()["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect();
    assert_eq!(ids, ["ok", "claude"]);
    request("GET", &d.url("/v1/models/echo"), key, "").await.assert_error(404);
    assert_eq!(request("POST", &d.url("/v1/chat/completions"), key, chat_body("ok", false)).await.status, 200);
    let v = request("POST", &d.url("/v1/chat/completions"), key, chat_body("failover", true)).await.assert_error(403);
    assert_eq!(v["error"]["code"], "model_not_allowed");
    request("POST", &d.url("/v1/embeddings"), key, r#"{"model":"embed","input":"x"}"#).await.assert_error(403);
    let r = request(
        "POST",
        &d.url("/v1/messages"),
        key,
        r#"{"model":"echo","max_tokens":5,"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(r.status, 403);
    assert_eq!(up.requests(), 1, "only the allowed request reached an upstream");
}
