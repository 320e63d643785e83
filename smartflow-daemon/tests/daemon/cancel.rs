//! A client that goes away cancels the upstream request within a second.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::*;
use crate::upstream::Upstream;

async fn send_raw(d: &Daemon, body: &str) -> TcpStream {
    let mut s = TcpStream::connect(d.addr).await.unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    s
}

async fn wait_abandoned(up: &Upstream) -> Option<tokio::time::Instant> {
    for _ in 0..300 {
        if let Some(at) = up.record.abandoned.lock().await.first().copied() {
            return Some(at);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    None
}

#[tokio::test]
async fn client_disconnect_mid_stream_cancels_the_upstream() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let mut s = send_raw(&d, &chat_body("drip", true)).await;
    // Read until at least two content chunks arrived.
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while String::from_utf8_lossy(&seen).matches("\"t").count() < 2 {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0);
        seen.extend_from_slice(&buf[..n]);
    }
    let closed_at = tokio::time::Instant::now();
    drop(s);
    let at = wait_abandoned(&up).await.expect("the upstream stream was never cancelled");
    assert!(
        at.duration_since(closed_at) < Duration::from_secs(1),
        "cancelled after {:?}",
        at.duration_since(closed_at)
    );
    let audit = crate::chat::wait_for_audit(&d, 1).await;
    assert_eq!(audit[0]["outcome"], "cancelled");
    assert!(audit[0]["usage"]["output"].as_u64().unwrap() > 0, "partial output is billed, never zero");
}

#[tokio::test]
async fn client_disconnect_while_waiting_cancels_the_upstream() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    // The upstream holds its answer 30 s and this provider waits 60 s for it: only the client
    // going away can end the upstream request early.
    let s = send_raw(&d, &chat_body("slow-patient", false)).await;
    for _ in 0..100 {
        if up.requests() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let closed_at = tokio::time::Instant::now();
    drop(s);
    let at = wait_abandoned(&up).await.expect("the upstream request was never cancelled");
    assert!(
        at.duration_since(closed_at) < Duration::from_secs(1),
        "cancelled after {:?}",
        at.duration_since(closed_at)
    );
}
