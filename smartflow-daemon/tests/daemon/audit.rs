//! The audit trail through the real daemon: the verified (hash-chained) stream survives SIGKILL
//! with every acknowledged request in it, `smartflowd audit verify` and `POST /api/audit/verify`
//! name a tampered line, an unwritable stream refuses requests (or degrades with an alert),
//! segments rotate into one verifiable chain, secrets never reach any sink, log or metric, and
//! the Splunk HEC sink spools through an outage and delivers everything in order afterwards.

use std::ffi::OsStr;
use std::io::{Seek as _, SeekFrom, Write as _};
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::*;
use crate::upstream::Upstream;

/// The test configuration with the admin key and a verified stream in `stream/` (a fresh HMAC
/// key in a file next to it) with `settings` added to `[audit.verified]`.
fn stream_config(up: &Upstream, dir: &Path, settings: &str) -> String {
    let key = dir.join("audit-hmac.key");
    std::fs::write(&key, random_hex(32)).unwrap();
    format!(
        "{}\n[audit.verified]\ndir = \"stream\"\nhmac_key = \"file:{}\"\n{settings}\n",
        admin_config(up.addr, dir, ""),
        key.display()
    )
}

/// The value of `series` in the `/metrics` text `m`; fails naming what is there when absent.
fn value(m: &str, series: &str) -> f64 {
    metric(m, series).unwrap_or_else(|| panic!("no {series} in /metrics:\n{m}"))
}

/// `smartflowd audit verify --config DIR/smartflow.toml`.
async fn verify_cli(dir: &Path) -> VerifyRun {
    let config = dir.join("smartflow.toml");
    audit_verify_cli(&[OsStr::new("--config"), config.as_os_str()], &[]).await
}

/// Asserts a clean report (exit 0, no findings); returns the report.
fn assert_clean(run: &VerifyRun) -> &Value {
    assert_eq!(run.code, 0, "report: {:#}\nstderr: {}", run.report, run.stderr);
    assert_eq!(run.report["findings"], json!([]), "{:#}", run.report);
    &run.report
}

/// A chat request that must succeed; returns its request id.
async fn chat_ok(d: &Daemon) -> String {
    let r = post(d, "/v1/chat/completions", &chat_body("ok", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.header("x-request-id").expect("no x-request-id").to_owned()
}

/// `n` successful chat requests, `parallel` at a time; their request ids in completion order.
async fn chats(d: &Daemon, n: usize, parallel: usize) -> Vec<String> {
    let url = d.url("/v1/chat/completions");
    let mut ids = Vec::with_capacity(n);
    while ids.len() < n {
        let wave: Vec<_> = (0..parallel.min(n - ids.len()))
            .map(|_| {
                let url = url.clone();
                tokio::spawn(async move { request("POST", &url, Some(DEMO_KEY), chat_body("ok", false)).await })
            })
            .collect();
        for t in wave {
            let r = t.await.unwrap();
            assert_eq!(r.status, 200, "{}", r.text());
            ids.push(r.header("x-request-id").unwrap().to_owned());
        }
    }
    ids
}

/// The request ids of the records in a stream directory.
fn stream_ids(stream: &Path) -> Vec<String> {
    stream_records(stream).iter().map(|r| r["request_id"].as_str().unwrap().to_owned()).collect()
}

#[tokio::test]
async fn t54_sigkill_after_200_keeps_every_acknowledged_record() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = stream_config(&up, dir.path(), "fsync = \"every_record\"\n");
    let d = Daemon::start_with(dir, &text).await;
    let acked = Arc::new(Mutex::new(Vec::new()));
    for _ in 0..50 {
        let id = chat_ok(&d).await;
        acked.lock().unwrap().push(id);
    }
    // Then 8 concurrent senders, still sending when the daemon is killed: a request whose 200
    // arrived is acknowledged; one cut off by the kill is not.
    let url = d.url("/v1/chat/completions");
    let senders: Vec<_> = (0..8)
        .map(|_| {
            let (url, acked) = (url.clone(), acked.clone());
            tokio::spawn(async move {
                let c = client();
                loop {
                    let req = http::Request::post(&url)
                        .header("authorization", format!("Bearer {DEMO_KEY}"))
                        .header("content-type", "application/json")
                        .body(http_body_util::Full::new(bytes::Bytes::from(chat_body("ok", false))))
                        .unwrap();
                    let Ok(resp) = c.request(req).await else { return };
                    let status = resp.status();
                    let id = resp.headers().get("x-request-id").map(|v| v.to_str().unwrap().to_owned());
                    // A 200 counts once its whole body arrived.
                    if http_body_util::BodyExt::collect(resp.into_body()).await.is_err() {
                        return;
                    }
                    assert_eq!(status, 200);
                    acked.lock().unwrap().push(id.unwrap());
                }
            })
        })
        .collect();
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while acked.lock().unwrap().len() < 90 {
        assert!(tokio::time::Instant::now() < until, "only {} requests were answered", acked.lock().unwrap().len());
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    let dir = d.kill().await;
    for s in senders {
        tokio::time::timeout(Duration::from_secs(5), s).await.expect("a sender hung after the kill").unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 90, "{}", acked.len());

    let run = verify_cli(dir.path()).await;
    let report = assert_clean(&run);
    assert!(report["unsealed_records"].as_u64().unwrap() > 0, "no checkpoint was written at a kill: {report:#}");
    let stream = dir.path().join("stream");
    let recorded = stream_ids(&stream);
    assert!(report["records"].as_u64().unwrap() >= acked.len() as u64, "{report:#}");
    let missing: Vec<&String> = acked.iter().filter(|id| !recorded.contains(id)).collect();
    assert!(missing.is_empty(), "acknowledged but not in the stream: {missing:?}");
    let last_seq = report["last_seq"].as_u64().unwrap();

    // A restart on the same directory continues the chain.
    let d = Daemon::start_with(dir, &text).await;
    let more = chats(&d, 5, 1).await;
    let dir = d.stop().await;
    let run = verify_cli(dir.path()).await;
    let report = assert_clean(&run);
    assert_eq!(report["unsealed_records"], 0, "a graceful stop seals the stream: {report:#}");
    assert!(report["last_seq"].as_u64().unwrap() > last_seq + 5, "{report:#}");
    assert_eq!(report["records"].as_u64().unwrap(), recorded.len() as u64 + 5, "{report:#}");
    let recorded = stream_ids(&stream);
    assert_eq!(recorded[recorded.len() - 5..], more[..], "the new records follow the old ones");
}

/// The segment, 1-based line number and sequence number of the record of request `id`, and
/// the byte offset of a hex digit inside its request id.
fn locate(stream: &Path, id: &str) -> (std::path::PathBuf, usize, u64, usize) {
    for file in segment_files(stream) {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut offset = 0;
        for (i, line) in text.split_inclusive('\n').enumerate() {
            let needle = format!("\"request_id\":\"{id}\"");
            if let Some(at) = line.find(&needle) {
                let v: Value = serde_json::from_str(line).unwrap();
                assert_eq!(v["kind"], "record");
                // `"request_id":"req_` and three digits into the random prefix.
                let digit = offset + at + "\"request_id\":\"req_".len() + 3;
                return (file, i + 1, v["seq"].as_u64().unwrap(), digit);
            }
            offset += line.len();
        }
    }
    panic!("{id} is not in the stream");
}

/// Overwrites one byte of `file` in place (the daemon may hold it open for appending).
fn poke(file: &Path, at: usize, byte: u8) {
    let mut f = std::fs::OpenOptions::new().write(true).open(file).unwrap();
    f.seek(SeekFrom::Start(at as u64)).unwrap();
    f.write_all(&[byte]).unwrap();
}

/// A different hex digit.
fn other_digit(b: u8) -> u8 {
    if b == b'0' { b'1' } else { b'0' }
}

async fn admin_verify(d: &Daemon) -> Value {
    let r = request("POST", &d.admin_url("/api/audit/verify"), Some(ADMIN_KEY), "").await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()
}

#[tokio::test]
async fn t52_tampering_is_reported_by_the_cli_and_the_admin_api() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = stream_config(&up, dir.path(), "");
    let d = Daemon::start_with(dir, &text).await;
    let ids = chats(&d, 200, 8).await;
    let dir = d.stop().await;
    let stream = dir.path().join("stream");
    assert_eq!(assert_clean(&verify_cli(dir.path()).await)["records"], 200);

    let (file, line, seq, digit) = locate(&stream, &ids[120]);
    let segment = file.file_name().unwrap().to_str().unwrap().to_owned();
    let original = std::fs::read(&file).unwrap();

    // One byte of a request id changed.
    poke(&file, digit, other_digit(original[digit]));
    let run = verify_cli(dir.path()).await;
    assert_eq!(run.code, 1, "{:#}", run.report);
    assert_eq!(
        run.report["findings"],
        json!([{"segment": segment, "line": line, "seq": seq, "problem": "bad_mac"}]),
        "{:#}",
        run.report
    );
    std::fs::write(&file, &original).unwrap();
    assert_clean(&verify_cli(dir.path()).await);

    // One line removed.
    let mut cut: Vec<&[u8]> = original.split_inclusive(|&b| b == b'\n').collect();
    cut.remove(line - 1);
    std::fs::write(&file, cut.concat()).unwrap();
    let run = verify_cli(dir.path()).await;
    assert_eq!(run.code, 1, "{:#}", run.report);
    assert_eq!(
        run.report["findings"],
        json!([{"segment": segment, "line": line, "seq": seq + 1, "problem": "sequence_gap", "expected": seq, "found": seq + 1}]),
        "{:#}",
        run.report
    );
    std::fs::write(&file, &original).unwrap();
    assert_clean(&verify_cli(dir.path()).await);

    // The admin API on a running daemon: clean, then the same changed byte, then clean again.
    let d = Daemon::start_with(dir, &text).await;
    let v = admin_verify(&d).await;
    assert_eq!(v["ok"], true, "{v:#}");
    assert_eq!(v["report"]["records"], 200, "{v:#}");
    assert_eq!(v["report"]["findings"], json!([]), "{v:#}");
    poke(&file, digit, other_digit(original[digit]));
    let v = admin_verify(&d).await;
    assert_eq!(v["ok"], false, "{v:#}");
    assert_eq!(v["report"]["findings"], json!([{"segment": segment, "line": line, "seq": seq, "problem": "bad_mac"}]));
    poke(&file, digit, original[digit]);
    assert_eq!(admin_verify(&d).await["ok"], true);
}

/// Starts a daemon whose stream directory `stream` is a regular file, with `on_failure`.
fn unwritable(up: &Upstream, on_failure: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("stream"), "a file where the stream directory should be\n").unwrap();
    let text = stream_config(up, dir.path(), &format!("on_failure = \"{on_failure}\"\n"));
    (dir, text)
}

#[tokio::test]
async fn t53_unwritable_audit_dir_refuses_requests_when_reject() {
    let up = Upstream::start().await;
    let (dir, text) = unwritable(&up, "reject");
    let blocker = dir.path().join("stream");
    let d = Daemon::start_with(dir, &text).await;

    let ready = request("GET", &d.url("/readyz"), None, "").await;
    assert_eq!((ready.status, ready.json()["status"].clone()), (503, json!("audit_unavailable")), "{}", ready.text());
    let r = post(&d, "/v1/chat/completions", &chat_body("ok", false)).await;
    let v = r.assert_error(503);
    assert_eq!(v["error"]["code"], "audit_unavailable", "{v}");
    assert_eq!(up.requests(), 0, "a request that cannot be audited never reaches the upstream");
    let m = d.metrics().await;
    assert_eq!(value(&m, "smartflow_audit_stream_broken"), 1.0, "{m}");
    assert!(value(&m, "smartflow_audit_stream_write_failures_total") >= 1.0, "{m}");

    // The disk is fixed: the next request reopens the stream.
    std::fs::remove_file(&blocker).unwrap();
    let id = chat_ok(&d).await;
    let ready = request("GET", &d.url("/readyz"), None, "").await;
    assert_eq!(ready.status, 200, "{}", ready.text());
    assert_eq!(value(&d.metrics().await, "smartflow_audit_stream_broken"), 0.0);
    let dir = d.stop().await;
    let run = verify_cli(dir.path()).await;
    assert_eq!(assert_clean(&run)["records"], 1);
    assert_eq!(stream_ids(&dir.path().join("stream")), [id]);
}

#[tokio::test]
async fn t53_unwritable_audit_dir_degrades_with_alert_when_configured() {
    let up = Upstream::start().await;
    let (dir, text) = unwritable(&up, "degrade");
    let (d, logs) = Daemon::start_logged(dir, &text, &[]).await;
    let failures = |m: &str| value(m, "smartflow_audit_stream_write_failures_total");
    let before = failures(&d.metrics().await);
    for _ in 0..3 {
        chat_ok(&d).await;
    }
    let m = d.metrics().await;
    assert_eq!(failures(&m), before + 3.0, "each unrecorded request is counted: {m}");
    assert_eq!(value(&m, "smartflow_audit_stream_broken"), 1.0, "{m}");
    let ready = request("GET", &d.url("/readyz"), None, "").await;
    assert_eq!(ready.status, 200, "a degraded stream keeps the daemon ready: {}", ready.text());
    assert_eq!(up.requests(), 3);
    let out = logs.text();
    assert!(out.contains("ALERT"), "no ALERT in the daemon's output:\n{out}");
    // The other sinks still have every request.
    assert_eq!(crate::chat::wait_for_audit(&d, 3).await.len(), 3);
}

#[tokio::test]
async fn rotation_by_size_keeps_one_verifiable_chain() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = stream_config(&up, dir.path(), "max_segment_bytes = 4096\n");
    let d = Daemon::start_with(dir, &text).await;
    let mut ids = chats(&d, 100, 4).await;
    // Three refused callers are audited too.
    for _ in 0..3 {
        let r = request("POST", &d.url("/v1/chat/completions"), Some("sk-wrong"), chat_body("ok", false)).await;
        r.assert_error(401);
        ids.push(r.header("x-request-id").unwrap().to_owned());
    }
    let dir = d.stop().await;
    let stream = dir.path().join("stream");
    let segments = segment_files(&stream);
    assert!(segments.len() >= 3, "{} segments", segments.len());
    for s in &segments[..segments.len() - 1] {
        assert!(std::fs::metadata(s).unwrap().len() >= 4096, "{} rotated early", s.display());
    }
    let run = verify_cli(dir.path()).await;
    let report = assert_clean(&run);
    assert_eq!(report["segments"], segments.len(), "{report:#}");
    assert_eq!(report["records"], 103, "{report:#}");
    // A checkpoint closes every rotated segment, and the last at the graceful stop.
    assert_eq!(report["checkpoints"], segments.len(), "{report:#}");
    assert_eq!(report["unsealed_records"], 0, "{report:#}");
    let mut recorded = stream_ids(&stream);
    recorded.sort();
    ids.sort();
    assert_eq!(recorded, ids);
}

/// Where each canary may not appear.
fn canary_hits(place: &str, text: &str, canaries: &[(&str, &str)]) -> Vec<String> {
    canaries.iter().filter(|(_, c)| text.contains(c)).map(|(what, _)| format!("{what} in {place}")).collect()
}

#[tokio::test]
async fn t11_canary_secrets_never_reach_audit_sinks_logs_or_metrics() {
    let up = Upstream::start().await;
    let hec = Hec::start().await;
    let provider_key = format!("sk-prov-canary-{}", random_hex(12));
    let virtual_key = format!("sk-vkey-canary-{}", random_hex(12));
    let bad_bearer = format!("sk-bad-canary-{}", random_hex(12));
    let hec_token = format!("hec-canary-{}", random_hex(12));
    let hmac_key = random_hex(32);
    let signing_key = random_hex(32);
    let body_canary = format!("body-canary-{}", random_hex(12));
    let pii = format!("pii-canary-{}", random_hex(12));
    let env = [
        ("SF_T11_PROVIDER_KEY", provider_key.as_str()),
        ("SF_T11_HEC_TOKEN", hec_token.as_str()),
        ("SF_T11_HMAC_KEY", hmac_key.as_str()),
        ("SF_T11_SIGNING_KEY", signing_key.as_str()),
    ];
    let canaries = [
        ("the provider key", provider_key.as_str()),
        ("the virtual key", virtual_key.as_str()),
        ("the refused bearer", bad_bearer.as_str()),
        ("the HEC token", hec_token.as_str()),
        ("the HMAC key", hmac_key.as_str()),
        ("the signing key", signing_key.as_str()),
        ("the bad body", body_canary.as_str()),
        ("the PII prompt", pii.as_str()),
    ];

    let dir = tempfile::tempdir().unwrap();
    let base = config(up.addr, dir.path())
        .replacen("sink = \"file\"", "sink = \"file\"\nrecord_prompts = false", 1)
        .replacen("level = \"warn\"", "level = \"debug\"", 1);
    let text = format!(
        r#"{base}
[[keys]]
id = "canary"
hash = "{vhash}"

[[providers]]
name = "vault"
type = "openai"
base_url = "http://{up}/v1"
api_key = "env:SF_T11_PROVIDER_KEY"

[[models]]
name = "vault-ok"
targets = ["vault/ok"]

[[models]]
name = "vault-500"
targets = ["vault/err500"]
max_attempts = 1

[audit.verified]
dir = "stream"
hmac_key = "env:SF_T11_HMAC_KEY"
signing_key = "env:SF_T11_SIGNING_KEY"
fsync = "every_record"

[audit.splunk]
url = "http://{hec}"
token = "env:SF_T11_HEC_TOKEN"
index = "ai_audit"
sourcetype = "smartflow:t11"

[audit.splunk.delivery]
linger = "10ms"
"#,
        vhash = key_hash(&virtual_key),
        up = up.addr,
        hec = hec.addr,
    );
    let (d, logs) = Daemon::start_logged(dir, &text, &env).await;
    let url = d.url("/v1/chat/completions");
    let chat = |model: &str, content: &str| {
        json!({"model": model, "messages": [{"role": "user", "content": content}]}).to_string()
    };
    let mut sent = Vec::new();
    let mut id = |r: &Reply| sent.push(r.header("x-request-id").expect("no x-request-id").to_owned());

    let ok = request("POST", &url, Some(&virtual_key), chat("vault-ok", "hi")).await;
    assert_eq!(ok.status, 200, "{}", ok.text());
    id(&ok);
    let auth = up.record.headers.lock().await.last().unwrap()["authorization"].to_str().unwrap().to_owned();
    assert_eq!(auth, format!("Bearer {provider_key}"), "the provider key is the canary");
    let unauthorized = request("POST", &url, Some(&bad_bearer), chat("vault-ok", "hi")).await;
    unauthorized.assert_error(401);
    id(&unauthorized);
    let bad =
        request("POST", &url, Some(&virtual_key), json!({"model": "vault-ok", "messages": body_canary}).to_string())
            .await;
    bad.assert_error(400);
    id(&bad);
    let missing = request("POST", &url, Some(&virtual_key), chat("no-such-model", "hi")).await;
    missing.assert_error(404);
    id(&missing);
    let failed = request("POST", &url, Some(&virtual_key), chat("vault-500", "hi")).await;
    assert!(failed.status >= 500, "{} {}", failed.status, failed.text());
    id(&failed);
    let private =
        request("POST", &url, Some(&virtual_key), chat("vault-ok", &format!("my account number is {pii}"))).await;
    assert_eq!(private.status, 200, "{}", private.text());
    id(&private);
    assert!(up.last_body().await.to_string().contains(&pii), "the prompt reached the upstream");

    // One primary event per request, in the configured envelope, with the token in the header only.
    let events = hec
        .wait_for(|events| sent.iter().all(|id| events.iter().any(|e| e["event"]["request_id"] == id.as_str())))
        .await;
    for id in &sent {
        let primary =
            events.iter().filter(|e| e["event"]["request_id"] == id.as_str() && e["event"]["event_class"] != "policy");
        assert_eq!(primary.count(), 1, "{id}: {events:#?}");
    }
    assert!(events.iter().all(|e| e["event"]["request_id"].as_str().is_some_and(|i| sent.iter().any(|s| s == i))));
    for e in &events {
        assert_eq!((e["sourcetype"].as_str(), e["index"].as_str()), (Some("smartflow:t11"), Some("ai_audit")), "{e}");
    }
    let auth_event = events.iter().find(|e| e["event"]["request_id"] == sent[1].as_str()).unwrap();
    assert_eq!(auth_event["event"]["event_class"], "authentication", "{auth_event}");
    for r in hec.requests() {
        assert_eq!(r.path, "/services/collector/event");
        assert_eq!(r.authorization.as_deref(), Some(format!("Splunk {hec_token}").as_str()));
    }

    let mut hits = canary_hits("/metrics", &d.metrics().await, &canaries);
    let admin_metrics = request("GET", &d.admin_url("/metrics"), None, "").await.text();
    hits.extend(canary_hits("admin /metrics", &admin_metrics, &canaries));
    let dir = d.stop().await;

    let run = audit_verify_cli(&[OsStr::new("--config"), dir.path().join("smartflow.toml").as_os_str()], &env).await;
    assert_eq!(assert_clean(&run)["records"], sent.len(), "{:#}", run.report);
    hits.extend(canary_hits("the verify report", &run.report.to_string(), &canaries));
    hits.extend(canary_hits("the verify output", &run.stderr, &canaries));
    hits.extend(canary_hits("the daemon's output", &logs.text(), &canaries));
    let jsonl = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    assert_eq!(jsonl.lines().count(), sent.len(), "{jsonl}");
    hits.extend(canary_hits("audit.jsonl", &jsonl, &canaries));
    for s in segment_files(&dir.path().join("stream")) {
        hits.extend(canary_hits(&s.display().to_string(), &std::fs::read_to_string(&s).unwrap(), &canaries));
    }
    for r in hec.requests() {
        hits.extend(canary_hits("a Splunk HEC payload", &r.body, &canaries));
    }
    assert!(hits.is_empty(), "canaries leaked: {hits:#?}");
}

/// The records waiting in a spool directory (`<seq>-<records>.payload` files).
fn spooled_records(spool: &Path) -> u64 {
    std::fs::read_dir(spool)
        .map(|entries| {
            entries
                .filter_map(|e| {
                    let name = e.ok()?.file_name().into_string().ok()?;
                    name.strip_suffix(".payload")?.split_once('-')?.1.parse::<u64>().ok()
                })
                .sum()
        })
        .unwrap_or(0)
}

#[tokio::test]
async fn splunk_outage_is_spooled_and_delivered_after_recovery() {
    let up = Upstream::start().await;
    let hec = Hec::start().await;
    hec.set_down(true);
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("hec.token");
    std::fs::write(&token, format!("hec-{}\n", random_hex(8))).unwrap();
    let spool = dir.path().join("spool");
    let text = format!(
        "{}\n[audit.splunk]\nurl = \"http://{}\"\ntoken = \"file:{}\"\n\n[audit.splunk.delivery]\nspool_dir = \"spool\"\nlinger = \"10ms\"\nbatch = 5\n",
        config(up.addr, dir.path()),
        hec.addr,
        token.display()
    );
    let d = Daemon::start_with(dir, &text).await;
    let mut ids = Vec::new();
    for _ in 0..20 {
        ids.push(chat_ok(&d).await);
    }

    // While the collector answers 503, everything ends up in the spool on disk.
    let until = tokio::time::Instant::now() + Duration::from_secs(5);
    while spooled_records(&spool) < 20 {
        assert!(tokio::time::Instant::now() < until, "spooled {} of 20", spooled_records(&spool));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let m = d.metrics().await;
    let series = |name: &str| value(&m, &format!("{name}{{sink=\"splunk\"}}"));
    assert!(series("smartflow_audit_spooled_payloads") > 0.0, "{m}");
    assert!(series("smartflow_audit_failed_sends_total") > 0.0, "{m}");
    assert_eq!(series("smartflow_audit_delivered_records_total"), 0.0, "{m}");
    assert_eq!(series("smartflow_audit_dropped_records_total"), 0.0, "{m}");
    assert!(hec.events().is_empty());
    assert!(hec.requests().iter().all(|r| r.status == 503));

    // The collector is back: every record arrives once, in order, and the spool empties.
    hec.set_down(false);
    let events = hec.wait_for(|events| events.len() >= 20).await;
    let received: Vec<&str> = events.iter().map(|e| e["event"]["request_id"].as_str().unwrap()).collect();
    assert_eq!(received, ids, "all 20, in order, once");
    let until = tokio::time::Instant::now() + Duration::from_secs(2);
    loop {
        let m = d.metrics().await;
        let series = |name: &str| value(&m, &format!("{name}{{sink=\"splunk\"}}"));
        if series("smartflow_audit_spooled_payloads") == 0.0 {
            assert_eq!(series("smartflow_audit_delivered_records_total"), 20.0, "{m}");
            assert_eq!(series("smartflow_audit_dropped_records_total"), 0.0, "{m}");
            break;
        }
        assert!(tokio::time::Instant::now() < until, "the spool gauge stays up: {m}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(spooled_records(&spool), 0, "delivered payloads are removed from the spool");
    assert_eq!(hec.events().len(), 20, "nothing is sent twice");
}
