//! Limits, quotas and budgets through the real daemon: exact admission under a burst, the
//! rate-limit headers, 403 for exhausted quotas and budgets, audit-only rules, counters that
//! survive a restart, settlement of cancelled streams, and model tiers.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

/// A daemon on the test configuration plus the admin key and `extra`.
async fn start(up: &Upstream, extra: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let text = admin_config(up.addr, dir.path(), extra);
    Daemon::start_with(dir, &text).await
}

/// `GET /api/usage?{query}` with the admin key.
async fn usage(d: &Daemon, query: &str) -> Value {
    let r = request("GET", &d.admin_url(&format!("/api/usage?{query}")), Some(ADMIN_KEY), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

/// A chat request that reserves little: its prompt (about 10 tokens) and `max_tokens` 5.
const SMALL_CHAT: &str = r#"{"model":"ok","max_tokens":5,"messages":[{"role":"user","content":"hi"}]}"#;

/// Sends chat requests with `max_tokens` 5 until one is refused (at most `max`); returns how
/// many were served and the refusal.
async fn until_refused(d: &Daemon, max: usize) -> (usize, Reply) {
    for served in 0..max {
        let r = post(d, "/v1/chat/completions", SMALL_CHAT).await;
        if r.status != 200 {
            return (served, r);
        }
    }
    panic!("no request was refused in {max}");
}

#[tokio::test]
async fn rpm_10_with_200_simultaneous_http_requests_admits_exactly_10() {
    const N: usize = 200;
    let up = Upstream::start().await;
    let d = start(&up, "[[limits]]\nid = \"rpm\"\nscope = [\"key\"]\nrequests_per_minute = 10\n").await;
    // The whole burst must land in one UTC minute.
    avoid_window_end(60, 10).await;
    let barrier = Arc::new(tokio::sync::Barrier::new(N));
    let mut tasks = Vec::new();
    for _ in 0..N {
        let (barrier, url, health) = (barrier.clone(), d.url("/v1/chat/completions"), d.url("/healthz"));
        tasks.push(tokio::spawn(async move {
            // One keep-alive connection per task, opened before the start line.
            let c = client();
            assert_eq!(request_on(&c, "GET", &health, None, "").await.status, 200);
            barrier.wait().await;
            request_on(&c, "POST", &url, Some(DEMO_KEY), chat_body("ok", false)).await
        }));
    }
    let mut replies = Vec::new();
    for t in tasks {
        replies.push(t.await.unwrap());
    }
    let ok = replies.iter().filter(|r| r.status == 200).count();
    let limited: Vec<&Reply> = replies.iter().filter(|r| r.status == 429).collect();
    assert_eq!(ok, 10, "statuses: {:?}", replies.iter().map(|r| r.status).collect::<Vec<_>>());
    assert_eq!(limited.len(), N - 10);
    for r in limited {
        let v = r.assert_error(429);
        assert_eq!(v["error"]["code"], "rate_limit_exceeded", "{v}");
        let after: u64 = r.header("retry-after").expect("429 without retry-after").parse().unwrap();
        assert!((1..=60).contains(&after), "retry-after {after}");
    }
    assert_eq!(up.requests(), 10, "only admitted requests reach the upstream");
}

#[tokio::test]
async fn admitted_responses_carry_x_ratelimit_headers() {
    let up = Upstream::start().await;
    let rule = "[[limits]]\nid = \"rates\"\nscope = [\"key\"]\nrequests_per_minute = 100\ntokens_per_minute = 100000\n";
    let d = start(&up, rule).await;
    avoid_window_end(60, 5).await;
    let plain = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    let streamed = post(&d, "/v1/chat/completions", &chat_body("ok", true)).await;
    assert_eq!(streamed.events().last().map(String::as_str), Some("[DONE]"), "{}", streamed.text());
    for (r, remaining) in [(&plain, "99"), (&streamed, "98")] {
        assert_eq!(r.status, 200, "{}", r.text());
        assert_eq!(r.header("x-ratelimit-limit-requests"), Some("100"), "{:?}", r.headers);
        assert_eq!(r.header("x-ratelimit-remaining-requests"), Some(remaining), "{:?}", r.headers);
        assert_eq!(r.header("x-ratelimit-limit-tokens"), Some("100000"), "{:?}", r.headers);
        let tokens: u64 = r.header("x-ratelimit-remaining-tokens").unwrap().parse().unwrap();
        assert!(tokens < 100_000, "the admitted request's tokens are counted: {tokens}");
        for name in ["x-ratelimit-reset-requests", "x-ratelimit-reset-tokens"] {
            let reset = r.header(name).unwrap_or_else(|| panic!("no {name}"));
            let secs: u64 = reset.strip_suffix('s').unwrap().parse().unwrap();
            assert!(secs <= 60, "{name}: {reset}");
        }
    }
}

#[tokio::test]
async fn token_quota_exhausted_is_403_insufficient_quota() {
    let up = Upstream::start().await;
    // Each request reserves its prompt plus max_tokens (5) and is charged the 10 tokens the
    // mock reports, so a quota of 40 serves a few requests and then refuses.
    let d = start(&up, "[[limits]]\nid = \"tq\"\nscope = [\"key\"]\ntoken_quota = 40\nquota_period = \"day\"\n").await;
    avoid_window_end(86_400, 10).await;
    let (served, r) = until_refused(&d, 10).await;
    // Each reserves 15 (a 10-token prompt estimate plus 5) and is charged 10: after three,
    // 30 used + 15 > 40.
    assert_eq!(served, 3, "served under a 40-token quota");
    let v = r.assert_error(403);
    assert_eq!(v["error"]["code"], "insufficient_quota", "{v}");
    assert!(r.header("retry-after").is_none(), "a quota is not a rate: no retry-after");
    assert_eq!(r.header("x-should-retry"), Some("false"));
    // It stays refused, and nothing refused reached the upstream.
    post(&d, "/v1/chat/completions", &chat_body("ok", false)).await.assert_error(403);
    assert_eq!(up.requests(), served);
    let u = usage(&d, "key=demo").await;
    let used: u64 = u["counters"].as_array().unwrap().iter().map(|c| c["used"].as_u64().unwrap()).sum();
    assert!(used <= 40 && used == 10 * served as u64, "{u}");
}

#[tokio::test]
async fn budget_exhausted_is_403_and_usage_api_reports_spend() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let base = admin_config(up.addr, dir.path(), "");
    // $1000 per million tokens: a mock answer (7 in, 3 out) costs about a cent.
    let text = format!(
        "{base}\n[[limits]]\nid = \"budget\"\nscope = [\"key\"]\nbudget_usd = 0.03\nbudget_period = \"day\"\n\n{}",
        prices_for_chat_models(&base, 1000.0, 1000.0)
    );
    let d = Daemon::start_with(dir, &text).await;
    avoid_window_end(86_400, 10).await;
    // Another key's traffic, which the demo key must not see in its own report.
    let (other, other_id) = create_key(&d, &json!({"user": "zoe"})).await;
    let r = request("POST", &d.url("/v1/chat/completions"), Some(&other), SMALL_CHAT).await;
    assert_eq!(r.status, 200, "{}", r.text());

    let (served, r) = until_refused(&d, 10).await;
    // Each reserves $0.015 (15 tokens) and is charged $0.010: after two, $0.020 + $0.015 > $0.03.
    assert_eq!(served, 2, "served under a $0.03 budget");
    let v = r.assert_error(403);
    assert_eq!(v["error"]["code"], "insufficient_quota", "{v}");
    assert!(v["error"]["message"].as_str().unwrap().contains("budget"), "{v}");

    let u = usage(&d, "key=demo").await;
    assert_eq!(u["subject"], json!({"key": "demo"}));
    assert_eq!(u["totals"]["requests"], served as u64, "{u}");
    let spend = u["spend_usd"].as_f64().unwrap();
    assert!(spend > 0.0 && spend <= 0.03, "spend {spend} against a $0.03 budget: {u}");
    let counter = u["counters"].as_array().unwrap().iter().find(|c| c["rule"] == "budget").expect("budget counter");
    assert_eq!(counter["reserved"], 0, "{u}");
    assert!(counter["used"].as_u64().unwrap() <= 30_000_000, "nano-dollars: {u}");

    // `/api/me/usage` with the demo key: its own key only, and no way to name another.
    let me = request("GET", &d.admin_url("/api/me/usage"), Some(DEMO_KEY), "").await;
    assert_eq!(me.status, 200, "{}", me.text());
    let me = me.json();
    assert_eq!(me["subject"], json!({"key": "demo"}));
    assert_eq!(me["totals"], u["totals"], "the same numbers as the admin sees for key=demo");
    assert!(!me.to_string().contains(&other_id), "{me}");
    for c in me["counters"].as_array().unwrap() {
        assert!(c["scope"].as_str().unwrap().split(',').any(|s| s == "key=demo"), "{me}");
    }
    for query in [format!("key={other_id}"), "user=zoe".to_owned()] {
        let r = request("GET", &d.admin_url(&format!("/api/me/usage?{query}")), Some(DEMO_KEY), "").await;
        r.assert_error(400);
    }
    let theirs = usage(&d, &format!("key={other_id}")).await;
    assert_eq!(theirs["totals"]["requests"], 1, "{theirs}");
}

#[tokio::test]
async fn audit_enforcement_lets_requests_through_and_records_would_deny_in_the_audit_log() {
    let up = Upstream::start().await;
    let rule = "[[limits]]\nid = \"audit-rpm\"\nscope = [\"key\"]\nenforcement = \"audit\"\nrequests_per_minute = 1\n";
    let d = start(&up, rule).await;
    avoid_window_end(60, 5).await;
    for _ in 0..3 {
        let r = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
        assert_eq!(r.status, 200, "{}", r.text());
    }
    assert_eq!(up.requests(), 3);
    let audit = crate::chat::wait_for_audit(&d, 3).await;
    let would_deny = |r: &Value| {
        r["decisions"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d["policy"] == "limits" && d["rule"] == "audit-rpm" && d["action"] == "would_deny")
    };
    assert!(!would_deny(&audit[0]), "the first request is within the limit: {}", audit[0]);
    for r in &audit[1..3] {
        assert_eq!(r["outcome"], "allowed", "{r}");
        assert!(would_deny(r), "no would_deny decision: {r}");
    }
}

#[tokio::test]
async fn limits_and_usage_survive_a_daemon_restart() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let extra = format!(
        "[storage]\npath = \"{}\"\n\n[[limits]]\nid = \"daily\"\nscope = [\"key\"]\nrequests_per_day = 3\n",
        dir.path().join("store").display()
    );
    let text = admin_config(up.addr, dir.path(), &extra);
    avoid_window_end(86_400, 30).await;
    let d = Daemon::start_with(dir, &text).await;
    for _ in 0..2 {
        assert_eq!(post(&d, "/v1/chat/completions", &chat_body("ok", false)).await.status, 200);
    }
    let dir = d.stop().await;
    let d = Daemon::start_with(dir, &text).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("x-ratelimit-remaining-requests"), Some("0"), "the third of three today");
    let r = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    let v = r.assert_error(429);
    assert_eq!(v["error"]["code"], "rate_limit_exceeded", "{v}");
    assert!(r.header("retry-after").is_some());
    assert_eq!(up.requests(), 3);
    let u = usage(&d, "key=demo").await;
    assert_eq!(u["totals"]["requests"], 3, "usage totals continued across the restart: {u}");
    assert_eq!(u["totals"]["output_tokens"], 9, "{u}");
}

#[tokio::test]
async fn client_disconnect_mid_stream_settles_once_never_zero() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let up = Upstream::start().await;
    let d = start(&up, "[[limits]]\nid = \"tpm\"\nscope = [\"key\"]\ntokens_per_minute = 100000\n").await;
    avoid_window_end(60, 10).await;
    let body = chat_body("drip", true);
    let mut s = tokio::net::TcpStream::connect(d.addr).await.unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\nauthorization: Bearer {DEMO_KEY}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("\"t0 ") {
        let n = tokio::time::timeout(Duration::from_secs(5), s.read(&mut buf)).await.unwrap().unwrap();
        assert!(n > 0, "closed before the first chunk");
        seen.extend_from_slice(&buf[..n]);
    }
    drop(s);

    let mut report = Value::Null;
    for _ in 0..300 {
        report = usage(&d, "key=demo").await;
        if report["totals"]["requests"] == 1 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let totals = &report["totals"];
    assert_eq!(totals["requests"], 1, "the cancelled stream was never settled: {report}");
    let tokens = totals["input_tokens"].as_u64().unwrap() + totals["output_tokens"].as_u64().unwrap();
    assert!(tokens > 0, "a cancelled stream is billed, never zero: {report}");
    let tpm = |r: &Value| {
        r["counters"].as_array().unwrap().iter().find(|c| c["rule"] == "tpm" && c["period"] == "minute").cloned()
    };
    let counter = tpm(&report).expect("tokens_per_minute counter");
    assert_eq!(counter["reserved"], 0, "the reservation was given back: {report}");
    let used = counter["used"].as_u64().unwrap();
    assert!(used > 0 && used == tokens, "the counter took the billed tokens: {report}");
    // Settled once: nothing changes later, when the upstream side winds down.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let later = usage(&d, "key=demo").await;
    assert_eq!(later["totals"], report["totals"], "{later}");
    assert_eq!(tpm(&later), Some(counter));
}

/// T07 (model allow-list, all sources): a `basic` tier allows `ok` only; `echo` (which would
/// answer if dispatched) is refused through every door and never dispatched, whatever the query
/// string or headers say.
mod t07_model_allowlist_all_sources {
    use super::*;

    #[tokio::test]
    async fn a_model_outside_the_tier_is_403_and_hidden_from_models() {
        let up = Upstream::start().await;
        let secret = "sf-basic-tier-key-0001";
        let extra = format!(
            "[tiers.basic]\nmodels = [\"ok\"]\n\n[[keys]]\nid = \"basic\"\nhash = \"{}\"\ntier = \"basic\"\n",
            key_hash(secret)
        );
        let d = start(&up, &extra).await;
        let chat = d.url("/v1/chat/completions");
        let key = Some(secret);

        let r = request("POST", &chat, key, chat_body("ok", false)).await;
        assert_eq!((r.status, r.header("x-smartflow-target")), (200, Some("up/ok")), "{}", r.text());
        let r = request("POST", &chat, key, chat_body("echo", false)).await;
        r.assert_error(403);
        let r = request("POST", &chat, key, chat_body("echo", true)).await;
        r.assert_error(403);

        // Query or header attempts to name another model: ignored or refused, never dispatched.
        let attempts: [(String, Vec<(&str, String)>); 4] = [
            (format!("{chat}?model=echo"), vec![]),
            (chat.clone(), vec![("x-model", "echo".to_owned())]),
            (chat.clone(), vec![("x-smartflow-model", "echo".to_owned())]),
            (format!("{chat}?model=echo&deployment=echo"), vec![("x-model", "echo".to_owned())]),
        ];
        for (url, extra_headers) in &attempts {
            let auth = format!("Bearer {secret}");
            let mut headers = vec![("authorization", auth.as_str())];
            headers.extend(extra_headers.iter().map(|(n, v)| (*n, v.as_str())));
            let r = request_with("POST", url, &headers, chat_body("ok", false)).await;
            match r.status {
                200 => {
                    assert_eq!(r.header("x-smartflow-target"), Some("up/ok"), "{url} {extra_headers:?}");
                    assert_eq!(r.json()["model"], "ok", "{url} {extra_headers:?}");
                }
                400 | 403 => {
                    r.assert_error(r.status);
                }
                other => panic!("{url} {extra_headers:?}: unexpected {other}: {}", r.text()),
            }
        }

        // /v1/models lists only the tier's models; another model does not exist for this key.
        let r = request("GET", &d.url("/v1/models"), key, "").await;
        let listed = r.json();
        let ids: Vec<&str> = listed["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
        assert_eq!(ids, ["ok"], "{}", r.text());
        assert_eq!(request("GET", &d.url("/v1/models/ok"), key, "").await.status, 200);
        let v = request("GET", &d.url("/v1/models/echo"), key, "").await.assert_error(404);
        assert_eq!(v["error"]["code"], "model_not_found");

        // The Anthropic front door and embeddings.
        let messages = r#"{"model":"echo","max_tokens":16,"messages":[{"role":"user","content":"hi"}]}"#;
        let r = request("POST", &d.url("/v1/messages"), key, messages).await;
        assert_eq!(r.status, 403, "{}", r.text());
        assert_eq!(r.json()["type"], "error", "an Anthropic-shaped error: {}", r.text());
        let r = request("POST", &d.url("/v1/embeddings"), key, r#"{"model":"embed","input":"hi"}"#).await;
        r.assert_error(403);

        // The mock upstream only ever saw the allowed model, and never an embeddings call.
        let bodies = up.record.bodies.lock().await;
        assert!(!bodies.is_empty());
        assert!(bodies.iter().all(|b| b["model"] == "ok"), "dispatched: {bodies:?}");
        assert!(up.record.paths.lock().await.iter().all(|p| !p.contains("embeddings")));
        let audit = crate::chat::wait_for_audit(&d, 1).await;
        assert!(audit.iter().all(|r| r["target"] != "mock/echo"), "the echo target was used");
    }
}
