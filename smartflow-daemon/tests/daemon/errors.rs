//! Upstream failures become the right client-visible errors.

use serde_json::Value;

use crate::support::*;
use crate::upstream::Upstream;

#[tokio::test]
async fn upstream_4xx_passes_through_as_an_openai_error() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let v = post(&d, "/v1/chat/completions", &chat_body("err400", false)).await.assert_error(400);
    assert_eq!(v["error"]["code"], "context_length_exceeded");
    assert_eq!(v["error"]["type"], "invalid_request_error");
    assert!(v["error"]["message"].as_str().unwrap().contains("maximum context length"));
    let r = post(&d, "/v1/chat/completions", &chat_body("err429", false)).await;
    r.assert_error(429);
    assert_eq!(r.header("retry-after"), Some("2"));
}

#[tokio::test]
async fn upstream_credential_errors_leak_nothing() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("err401", false)).await;
    r.assert_error(502);
    assert!(!r.text().contains("sk-upstr"));
}

#[tokio::test]
async fn upstream_5xx_and_garbage_are_502() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    post(&d, "/v1/chat/completions", &chat_body("err500", false)).await.assert_error(502);
    let v = post(&d, "/v1/chat/completions", &chat_body("badjson", false)).await.assert_error(502);
    assert_eq!(v["error"]["code"], "invalid_upstream_response");
    post(&d, "/v1/chat/completions", &chat_body("unreachable", false)).await.assert_error(502);
}

#[tokio::test]
async fn upstream_timeout_is_504() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let started = tokio::time::Instant::now();
    post(&d, "/v1/chat/completions", &chat_body("slow", false)).await.assert_error(504);
    post(&d, "/v1/chat/completions", &chat_body("slow", true)).await.assert_error(504);
    assert!(started.elapsed() < std::time::Duration::from_secs(5), "first-byte timeout is 500ms");
}

#[tokio::test]
async fn failover_happens_before_the_first_byte() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("failover", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"));
    let r = post(&d, "/v1/chat/completions", &chat_body("failover", true)).await;
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"));
    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"));
}

#[tokio::test]
async fn midstream_reset_ends_with_an_error_event_never_done() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    for model in ["reset", "nodone"] {
        let r = post(&d, "/v1/chat/completions", &chat_body(model, true)).await;
        assert_eq!(r.status, 200, "headers were sent before the failure");
        let events = r.events();
        assert!(!events.iter().any(|e| e == "[DONE]"), "{model}: fake [DONE] in {events:?}");
        let last: Value = serde_json::from_str(events.last().unwrap()).unwrap();
        assert!(last["error"]["message"].is_string(), "{model}: {last}");
        assert_eq!(last["error"]["type"], "server_error");
    }
    let audit = crate::chat::wait_for_audit(&d, 2).await;
    assert!(audit.iter().all(|r| r["outcome"] == "failed"), "{audit:?}");
}
