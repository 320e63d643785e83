//! Resilience, counted at the mock: retry-after honoured within the attempt budget, circuit
//! breakers, connect-timeout failover, and chains that cannot loop.

use std::time::Duration;

use tokio::time::Instant;

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn a_429_storm_honours_retry_after_within_the_budget() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let started = Instant::now();
    let r = post(&d, "/v1/chat/completions", &chat_body("storm429", false)).await;
    let elapsed = started.elapsed();
    r.assert_error(429);
    assert_eq!(r.header("retry-after"), Some("2"), "the client learns how long to wait");
    assert_eq!(up.requests(), 3, "max_attempts = 3 upstream attempts, no more");
    assert!(elapsed >= Duration::from_secs(4), "two waits of retry-after: 2 s each, took {elapsed:?}");
    assert!(elapsed < Duration::from_secs(8), "took {elapsed:?}");
}

#[tokio::test]
async fn a_5xx_storm_opens_the_breaker_then_a_probe_goes_after_the_trip_time() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    for _ in 0..3 {
        post(&d, "/v1/chat/completions", &chat_body("breaker", false)).await.assert_error(502);
    }
    assert_eq!(up.requests(), 3);
    let r = post(&d, "/v1/chat/completions", &chat_body("breaker", false)).await;
    let v = r.assert_error(503);
    assert_eq!(v["error"]["code"], "targets_unavailable");
    assert!(r.header("retry-after").is_some());
    assert_eq!(up.requests(), 3, "an open breaker sends nothing upstream");
    let metrics = request("GET", &d.url("/metrics"), None, "").await.text();
    assert!(metrics.contains(r#"smartflow_target_circuit_state{target="brk/err500",state="open"} 1"#), "{metrics}");
    // Other targets are unaffected.
    assert_eq!(post(&d, "/v1/chat/completions", &chat_body("ok", false)).await.status, 200);
    assert_eq!(up.requests(), 4);
    // After the trip time (1 s) one probe goes; it fails, so the breaker opens again.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    post(&d, "/v1/chat/completions", &chat_body("breaker", false)).await.assert_error(502);
    assert_eq!(up.requests(), 5, "exactly one probe");
    post(&d, "/v1/chat/completions", &chat_body("breaker", false)).await.assert_error(503);
    assert_eq!(up.requests(), 5);
}

#[tokio::test]
async fn a_blackholed_target_fails_over_after_the_connect_timeout() {
    // A listener whose accept queue is full: further SYNs are dropped, so connects hang.
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let hole = socket.listen(1).unwrap();
    let hole_addr = hole.local_addr().unwrap();
    let mut fillers = Vec::new();
    for _ in 0..4 {
        if let Ok(Ok(s)) =
            tokio::time::timeout(Duration::from_millis(200), tokio::net::TcpStream::connect(hole_addr)).await
        {
            fillers.push(s);
        }
    }
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = config_with(up.addr, hole_addr, dir.path());
    let d = Daemon::start_with(dir, &text).await;
    let started = Instant::now();
    let r = post(&d, "/v1/chat/completions", &chat_body("blackhole", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"));
    assert!(started.elapsed() < Duration::from_secs(3), "took {:?} (connect timeout is 300 ms)", started.elapsed());
    drop(fillers);
}

#[tokio::test]
async fn a_failover_chain_cannot_loop() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let started = Instant::now();
    post(&d, "/v1/chat/completions", &chat_body("loop", false)).await.assert_error(502);
    // Targets alternate [up/err500, closed/x] for at most max_attempts = 5 attempts: the mock
    // sees the err500 target on attempts 1, 3 and 5.
    assert_eq!(up.requests(), 3);
    assert!(started.elapsed() < Duration::from_secs(5));
}
