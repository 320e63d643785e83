//! Inline compliance against leaks, through the real daemon and the in-process echo mock:
//! PII split across stream chunks is redacted in the caller's stream and in the audit copy with
//! the SSE framing intact (reliability.md T15), and canary values that a `pii` guardrail
//! tokenizes, redacts or blocks never reach an audit sink, a log line, a metric or an error body,
//! with every sink on at once and prompts recorded (T11 with compliance on).

use std::ffi::OsStr;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

use crate::compliance::{ECHO3, ask_model, decisions, recorded, records_of, sse_ok};
use crate::support::*;
use crate::upstream::Upstream;

/// `n` random characters of `set`.
fn random_of(set: &[u8], n: usize) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    bytes.iter().map(|b| char::from(set[usize::from(*b) % set.len()])).collect()
}

/// An OpenAI project key: `sk-proj-` and 40 random alphanumerics.
fn api_key() -> String {
    format!("sk-proj-{}", random_of(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40))
}

/// A random Luhn-valid 16-digit Visa number, in groups of four separated by spaces.
fn card_number() -> String {
    let mut digits: Vec<u32> =
        std::iter::once(4).chain(random_of(b"0123456789", 14).chars().map(|c| c.to_digit(10).unwrap())).collect();
    let sum: u32 =
        digits.iter().rev().enumerate().map(|(i, &d)| if i % 2 == 0 { (d * 2) / 10 + (d * 2) % 10 } else { d }).sum();
    digits.push((10 - sum % 10) % 10);
    let text: String = digits.iter().map(|d| char::from_digit(*d, 10).unwrap()).collect();
    (0..4).map(|g| &text[g * 4..g * 4 + 4]).collect::<Vec<_>>().join(" ")
}

/// A random SSN that passes the SSA rules (area 100–665, group 10–99, serial 1000–9999).
fn ssn() -> String {
    let n = |s: &str| s.parse::<u32>().unwrap();
    let area = 100 + n(&random_of(b"0123456789", 4)) % 566;
    let group = 10 + n(&random_of(b"0123456789", 2)) % 90;
    let serial = 1000 + n(&random_of(b"0123456789", 4)) % 9000;
    format!("{area:03}-{group:02}-{serial:04}")
}

// ---- T15: PII split across stream chunks --------------------------------------------------------

const EMAIL: &str = "ann.lee@corp-mail.io";
const CARD: &str = "4111 1111 1111 1111";
const SSN: &str = "536-22-8741";

/// Echo models that stream 1, 3 and 7 characters per chunk, behind an output-only `pii`
/// guardrail: the echo is sent the raw values and streams them back cut across chunk boundaries.
fn output_only_echoes(up: SocketAddr, dir: &std::path::Path) -> String {
    format!(
        r#"{}{ECHO3}
[[providers]]
name = "echo1"
type = "mock"
behavior = "echo"
stream_chunk_chars = 1

[[providers]]
name = "echo7"
type = "mock"
behavior = "echo"
stream_chunk_chars = 7

[[models]]
name = "echo1"
targets = ["echo1/echo"]

[[models]]
name = "echo7"
targets = ["echo7/echo"]

[[guardrails]]
id = "pii-out"
type = "pii"
hooks = ["llm_output"]
output_actions = {{ default = "redact" }}
"#,
        recorded(up, dir)
    )
}

#[tokio::test]
async fn t15_pii_split_across_stream_chunks_is_redacted_with_the_framing_intact() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = output_only_echoes(up.addr, dir.path());
    let d = Daemon::start_with(dir, &text).await;
    let key = api_key();
    let prompt =
        format!("Contact {EMAIL} today. Card {CARD} expires soon; ssn {SSN} on file. Deploy key {key} rotated.");
    let expected = "Contact [EMAIL_1] today. Card [CREDIT_CARD_1] expires soon; ssn [US_SSN_1] on file. \
                    Deploy key [API_KEY_1] rotated.";
    let raw = [EMAIL, CARD, "4111111111111111", SSN, "536228741", key.as_str(), &key["sk-proj-".len()..]];
    let leaked = |text: &str| raw.iter().filter(|v| text.contains(*v)).map(|v| (*v).to_owned()).collect::<Vec<_>>();

    let mut ids = Vec::new();
    for model in ["echo1", "echo3", "echo7"] {
        let r = post(&d, "/v1/chat/completions", &ask_model(model, &prompt, true)).await;
        let s = sse_ok(&r);
        assert_eq!(s.text, expected, "{model}: the reassembled stream");
        assert!(leaked(&r.text()).is_empty(), "{model}: raw values in the stream: {:?}", leaked(&r.text()));
        assert!(s.events.iter().all(|e| e["model"] == model || e["choices"] == serde_json::json!([])), "{model}");
        ids.push(r.header("x-request-id").unwrap().to_owned());
    }
    let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.json()["choices"][0]["message"]["content"], expected);
    assert!(leaked(&r.text()).is_empty(), "raw values in the answer: {:?}", leaked(&r.text()));
    ids.push(r.header("x-request-id").unwrap().to_owned());

    // The audit copy of each answer is the redacted one (the prompt is recorded as sent: no
    // input hook here).
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    for (record, phase) in records_of(&d, &ids).await.iter().zip(["chunk", "chunk", "chunk", "response"]) {
        assert_eq!(record["completion"], expected, "{record:#}");
        let kinds = ["EMAIL", "CREDIT_CARD", "US_SSN", "API_KEY"];
        for kind in kinds {
            let rule = format!("pii.redact.{kind}");
            assert!(
                decisions(record).iter().any(|(r, a, p)| *r == rule && a == "redact" && p == phase),
                "{rule} in {phase}: {record:#}"
            );
        }
    }
}

#[tokio::test]
async fn t15_disguised_values_split_across_stream_chunks_are_redacted_whole() {
    let up = Upstream::start().await;
    let dir = tempfile::tempdir().unwrap();
    let text = output_only_echoes(up.addr, dir.path());
    let d = Daemon::start_with(dir, &text).await;
    // A zero-width space inside the address, full-width digits, en dashes in the SSN.
    let prompt = "Mail ann.lee\u{200B}@corp-mail.io, card ４１１１ １１１１ １１１１ １１１１, ssn 536–22–8741.";
    let expected = "Mail [EMAIL_1], card [CREDIT_CARD_1], ssn [US_SSN_1].";
    for model in ["echo1", "echo3", "echo7"] {
        let r = post(&d, "/v1/chat/completions", &ask_model(model, prompt, true)).await;
        let s = sse_ok(&r);
        assert_eq!(s.text, expected, "{model}: the reassembled stream");
        for raw in ["ann.lee", "corp-mail", "１１１１", "8741", "\u{200B}"] {
            assert!(!r.text().contains(raw), "{model}: {raw:?} in the stream");
        }
    }
}

// ---- T11 with compliance on ----------------------------------------------------------------------

/// A TCP receiver keeping every byte it is sent (the syslog sink's peer).
struct TcpSink {
    addr: SocketAddr,
    data: Arc<Mutex<Vec<u8>>>,
}

impl TcpSink {
    async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let data = Arc::new(Mutex::new(Vec::new()));
        let shared = data.clone();
        tokio::spawn(async move {
            while let Ok((mut stream, _)) = listener.accept().await {
                let shared = shared.clone();
                tokio::spawn(async move {
                    use tokio::io::AsyncReadExt as _;
                    let mut buf = vec![0u8; 8192];
                    while let Ok(n) = stream.read(&mut buf).await {
                        if n == 0 {
                            break;
                        }
                        shared.lock().unwrap().extend_from_slice(&buf[..n]);
                    }
                });
            }
        });
        Self { addr, data }
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.data.lock().unwrap()).into_owned()
    }
}

/// Waits (at most 8 s) until `text()` holds every one of `ids`.
async fn wait_for_ids(what: &str, ids: &[String], text: impl Fn() -> String) {
    let until = tokio::time::Instant::now() + Duration::from_secs(8);
    loop {
        let t = text();
        let missing: Vec<&String> = ids.iter().filter(|id| !t.contains(id.as_str())).collect();
        if missing.is_empty() {
            return;
        }
        assert!(tokio::time::Instant::now() < until, "{what} never got {missing:?}:\n{t}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Where each canary appears in `text`.
fn canary_hits(place: &str, text: &str, canaries: &[(&str, String)]) -> Vec<String> {
    canaries.iter().filter(|(_, c)| text.contains(c.as_str())).map(|(what, _)| format!("{what} in {place}")).collect()
}

#[tokio::test]
async fn t11_values_the_pii_guardrail_tokenizes_redacts_or_blocks_never_reach_sinks_logs_or_metrics() {
    let up = Upstream::start().await;
    let hec = Hec::start().await;
    let otlp = Hec::start().await; // answers 200 to any POST: an OTLP/HTTP collector for this test
    let syslog = TcpSink::start().await;
    let email = format!("t11.{}@corp-mail.io", random_hex(6));
    let card = card_number();
    let key = api_key();
    let ssn = ssn();
    let canaries = [
        ("the tokenized e-mail", email.clone()),
        ("the redacted card", card.clone()),
        ("the redacted card's digits", card.replace(' ', "")),
        ("the blocked API key", key["sk-proj-".len()..].to_owned()),
        ("the blocked SSN", ssn.clone()),
        ("the blocked SSN's digits", ssn.replace('-', "")),
    ];
    let hmac_key = random_hex(32);
    let env = [("SF_T11C_HEC_TOKEN", "hec-token-t11c"), ("SF_T11C_HMAC_KEY", hmac_key.as_str())];

    let dir = tempfile::tempdir().unwrap();
    let base = recorded(up.addr, dir.path()).replacen("level = \"warn\"", "level = \"debug\"", 1);
    assert!(base.contains("level = \"debug\""), "the test configuration's log level moved");
    let text = format!(
        r#"{base}{ECHO3}
[[guardrails]]
id = "pii"
type = "pii"
hooks = ["llm_input", "llm_output"]
input_actions = {{ default = "redact", EMAIL = "tokenize", CREDIT_CARD = "redact", API_KEY = "block", US_SSN = "block" }}
output_actions = {{ default = "redact" }}

[audit.verified]
dir = "stream"
hmac_key = "env:SF_T11C_HMAC_KEY"
fsync = "every_record"

[audit.splunk]
url = "http://{hec}"
token = "env:SF_T11C_HEC_TOKEN"

[audit.splunk.delivery]
linger = "10ms"

[audit.syslog]
address = "{syslog}"
transport = "tcp"

[audit.syslog.delivery]
linger = "10ms"

[audit.otlp]
endpoint = "http://{otlp}"

[audit.otlp.delivery]
linger = "10ms"
"#,
        hec = hec.addr,
        syslog = syslog.addr,
        otlp = otlp.addr,
    );
    let (d, logs) = Daemon::start_logged(dir, &text, &env).await;
    let mut sent = Vec::new();
    let mut hits = Vec::new();

    // Tokenized and redacted: served; the caller (only) gets the e-mail back.
    let prompt = format!("Send the receipt to {email}, paid with card {card}.");
    let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json()["choices"][0]["message"]["content"].as_str().unwrap().to_owned();
    assert_eq!(answer, format!("Send the receipt to {email}, paid with card [CREDIT_CARD_1]."));
    sent.push(r.header("x-request-id").unwrap().to_owned());
    let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, true)).await;
    let s = sse_ok(&r);
    assert_eq!(s.text, answer, "the streamed answer: {}", r.text());
    assert!(!r.text().contains(&card) && !r.text().contains(&card.replace(' ', "")), "{}", r.text());
    sent.push(r.header("x-request-id").unwrap().to_owned());

    // Blocked: refused before any provider call, whole or streamed, and the refusal says which
    // kind without the value.
    for (prompt, kind, stream) in [
        (format!("Store my key {key} in the vault"), "API_KEY", false),
        (format!("Store my key {key} in the vault"), "API_KEY", true),
        (format!("My ssn is {ssn}, update my file"), "US_SSN", false),
        (format!("My ssn is {ssn}, update my file"), "US_SSN", true),
    ] {
        let r = post(&d, "/v1/chat/completions", &ask_model("echo3", &prompt, stream)).await;
        let e = r.assert_error(403);
        assert_eq!(e["error"]["code"], "policy_violation", "{e}");
        assert!(e["error"]["message"].as_str().unwrap().contains(kind), "{e}");
        hits.extend(canary_hits(&format!("the 403 body for {kind}"), &r.text(), &canaries));
        sent.push(r.header("x-request-id").unwrap().to_owned());
    }

    let records = records_of(&d, &sent.iter().map(String::as_str).collect::<Vec<_>>()).await;
    for (record, kind) in records[2..].iter().zip(["API_KEY", "API_KEY", "US_SSN", "US_SSN"]) {
        assert_eq!(record["status"], 403, "{record:#}");
        let rule = format!("pii.block.{kind}");
        assert!(decisions(record).iter().any(|(r, a, _)| *r == rule && a == "deny"), "{record:#}");
    }
    // Every remote sink has every request.
    hec.wait_for(|events| sent.iter().all(|id| events.iter().any(|e| e["event"]["request_id"] == id.as_str()))).await;
    wait_for_ids("the syslog receiver", &sent, || syslog.text()).await;
    let otlp_text = || otlp.requests().iter().map(|r| r.body.clone()).collect::<Vec<_>>().join("\n");
    wait_for_ids("the OTLP collector", &sent, otlp_text).await;
    assert!(otlp.requests().iter().any(|r| r.path == "/v1/traces"), "no OTLP traces were sent");

    hits.extend(canary_hits("/metrics", &d.metrics().await, &canaries));
    let admin_metrics = request("GET", &d.admin_url("/metrics"), None, "").await.text();
    hits.extend(canary_hits("admin /metrics", &admin_metrics, &canaries));
    let dir = d.stop().await;

    let run = audit_verify_cli(&[OsStr::new("--config"), dir.path().join("smartflow.toml").as_os_str()], &env).await;
    assert_eq!(run.code, 0, "{:#}\n{}", run.report, run.stderr);
    assert_eq!(run.report["records"], sent.len(), "{:#}", run.report);
    hits.extend(canary_hits("the verify report", &run.report.to_string(), &canaries));
    hits.extend(canary_hits("the daemon's output", &logs.text(), &canaries));
    let jsonl = std::fs::read_to_string(dir.path().join("audit.jsonl")).unwrap();
    hits.extend(canary_hits("audit.jsonl", &jsonl, &canaries));
    let segments = segment_files(&dir.path().join("stream"));
    assert!(!segments.is_empty());
    for s in &segments {
        hits.extend(canary_hits(&s.display().to_string(), &std::fs::read_to_string(s).unwrap(), &canaries));
    }
    for r in hec.requests() {
        hits.extend(canary_hits("a Splunk HEC payload", &r.body, &canaries));
    }
    for r in otlp.requests() {
        hits.extend(canary_hits(&format!("an OTLP payload to {}", r.path), &r.body, &canaries));
    }
    hits.extend(canary_hits("the syslog stream", &syslog.text(), &canaries));
    // The records hold the placeholders instead (the prompts were recorded).
    let recorded_prompts: Vec<&Value> = records.iter().map(|r| &r["prompt"]).collect();
    assert!(
        recorded_prompts[0].as_str().is_some_and(|p| p.contains("[EMAIL_1]") && p.contains("[CREDIT_CARD_1]")),
        "{recorded_prompts:?}"
    );
    assert!(hits.is_empty(), "canaries leaked: {hits:#?}");
}
