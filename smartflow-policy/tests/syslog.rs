//! The syslog audit transport against a real `rsyslogd`, started per test on ephemeral loopback
//! ports (UDP, TCP, and TLS through rsyslog's GnuTLS driver) with the configuration in
//! tests/syslog/rsyslog.conf.in; every received message is checked both as received and as
//! rsyslog's RFC 5424 parser split it.
//!
//! Needs `/usr/sbin/rsyslogd` with `rsyslog-gnutls`, and `openssl` (scripts/rsyslog-test-deps.sh
//! installs rsyslog). Without rsyslogd each test prints a skip note and passes, unless
//! `SMARTFLOW_REQUIRE_RSYSLOG=1` makes it fail.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test support code: a failed set-up step is a failed test")]

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use smartflow_core::policy::Action;
use smartflow_core::{AuditRecord, Outcome, PolicyDecision, Principal, TokenUsage};
use smartflow_policy::audit::delivery::Transport;
use smartflow_policy::audit::syslog::{Syslog, SyslogConfig, SyslogFormat, SyslogTransport};

#[path = "syslog/rsyslogd.rs"]
mod rsyslogd;

use rsyslogd::Rsyslogd;

/// Request `i` by `user`, allowed.
fn record(i: usize, user: &str) -> Arc<AuditRecord> {
    let mut principal = Principal::new(format!("key-{i}"));
    principal.user = Some(user.to_owned());
    principal.team = Some("risk".to_owned());
    principal.department = Some("markets".to_owned());
    Arc::new(AuditRecord {
        timestamp_ms: 1_795_290_318_123 + i as u64,
        request_id: format!("req-{i:03}"),
        trace_id: "0af7651916cd43dd8448eb211c80319c".to_owned(),
        span_id: "b7ad6b7169203331".to_owned(),
        parent_span_id: None,
        endpoint: "chat",
        principal: Arc::new(principal),
        model: Some("gpt-4o".to_owned()),
        target: Some("openai/gpt-4o".to_owned()),
        stream: false,
        outcome: Outcome::Allowed,
        status: 200,
        error: None,
        decisions: Vec::new(),
        cache: None,
        usage: Some(TokenUsage { input: 812, output: 240, ..Default::default() }),
        cost_nano_usd: Some(1_230_000),
        latency_ms: 42.0,
        ttfb_ms: None,
        prompt: None,
        completion: None,
        admin: None,
    })
}

fn sink(address: String, transport: SyslogTransport, format: SyslogFormat) -> Syslog {
    let mut config = SyslogConfig::new(address, transport);
    config.format = format;
    config.hostname = "gw-test".to_owned();
    config.timeout = Duration::from_secs(3);
    Syslog::new(config).unwrap()
}

/// TLS trusting only the test CA, expecting the certificate of `localhost`.
fn tls_to_localhost(rsyslogd: &Rsyslogd) -> SyslogTransport {
    let certs = CertificateDer::pem_file_iter(rsyslogd.ca_pem()).unwrap().collect::<Result<Vec<_>, _>>().unwrap();
    let mut roots = rustls::RootCertStore::empty();
    assert_eq!(roots.add_parsable_certificates(certs), (1, 0));
    SyslogTransport::Tls { root_certificates: Arc::new(roots), server_name: "localhost".to_owned() }
}

fn expected_sd(i: usize, escaped_user: &str) -> String {
    format!(
        "[smartflow@32473 request_id=\"req-{i:03}\" key_id=\"key-{i}\" user=\"{escaped_user}\" team=\"risk\" \
         department=\"markets\" model=\"gpt-4o\" target=\"openai/gpt-4o\" outcome=\"allowed\" status=\"200\" \
         tokens_in=\"812\" tokens_out=\"240\" cost_usd=\"0.00123\" latency_ms=\"42\" \
         trace_id=\"0af7651916cd43dd8448eb211c80319c\"]"
    )
}

/// Checks rsyslog's parse of an allowed `chat` record from [`record`].
fn assert_parsed(fields: &[String], i: usize, escaped_user: &str) {
    assert_eq!(fields.len(), 8, "{fields:?}");
    assert_eq!(fields[0], "134", "local0.info");
    assert!(fields[1].starts_with("2026-11-21T19:45:18."), "{fields:?}");
    assert_eq!(fields[2..6], ["gw-test", "smartflowd", &std::process::id().to_string(), "chat"]);
    assert_eq!(fields[6], expected_sd(i, escaped_user));
    assert_eq!(fields[7], "chat request allowed: status 200, model gpt-4o via openai/gpt-4o, 42 ms");
}

#[tokio::test]
async fn rfc5424_over_udp_reaches_rsyslog() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let syslog = sink(format!("127.0.0.1:{}", rsyslogd.udp), SyslogTransport::Udp, SyslogFormat::Rfc5424);
    let batch: Vec<_> = (0..3).map(|i| record(i, "alice")).collect();
    syslog.send(&syslog.encode(&batch).unwrap()).await.unwrap();

    let raw = rsyslogd.raw(3);
    for (line, r) in raw.iter().zip(&batch) {
        assert_eq!(*line, syslog.message(r), "one datagram per message, without the octet count");
        assert!(line.starts_with("<134>1 2026-11-21T19:45:18.12"), "{line}");
    }
    for (i, fields) in rsyslogd.parsed(3).iter().enumerate() {
        assert_parsed(fields, i, "alice");
    }
}

#[tokio::test]
async fn rfc5424_over_tcp_octet_counted_batch_reaches_rsyslog() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let syslog = sink(format!("127.0.0.1:{}", rsyslogd.tcp), SyslogTransport::Tcp, SyslogFormat::Rfc5424);
    let batch: Vec<_> = (0..100).map(|i| record(i, &format!("o\"brien] \\{i}"))).collect();
    let payload = syslog.encode(&batch).unwrap();
    assert!(payload.starts_with(format!("{} <134>1 ", syslog.message(&batch[0]).len()).as_bytes()));
    syslog.send(&payload).await.unwrap();

    let raw = rsyslogd.raw(100);
    for (line, r) in raw.iter().zip(&batch) {
        assert_eq!(*line, syslog.message(r), "in order, as sent");
    }
    let parsed = rsyslogd.parsed(100);
    for (i, fields) in parsed.iter().enumerate() {
        assert_parsed(fields, i, &format!("o\\\"brien\\] \\\\{i}"));
    }
}

#[tokio::test]
async fn tls_delivery_reaches_rsyslog() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let address = format!("127.0.0.1:{}", rsyslogd.tls);
    let SyslogTransport::Tls { root_certificates, .. } = tls_to_localhost(&rsyslogd) else { unreachable!() };
    let other = SyslogTransport::Tls { root_certificates, server_name: "other.example".to_owned() };
    let wrong = sink(address.clone(), other, SyslogFormat::Rfc5424);
    let e = wrong.send(&wrong.encode(&[record(9, "mallory")]).unwrap()).await.unwrap_err();
    assert!(e.message.contains("syslog tls"), "the certificate does not name other.example: {e}");

    let syslog = sink(address, tls_to_localhost(&rsyslogd), SyslogFormat::Rfc5424);
    let batch: Vec<_> = (0..5).map(|i| record(i, "alice")).collect();
    syslog.send(&syslog.encode(&batch[..2]).unwrap()).await.unwrap();
    syslog.send(&syslog.encode(&batch[2..]).unwrap()).await.unwrap();
    let raw = rsyslogd.raw(5);
    for (line, r) in raw.iter().zip(&batch) {
        assert_eq!(*line, syslog.message(r));
    }
    for (i, fields) in rsyslogd.parsed(5).iter().enumerate() {
        assert_parsed(fields, i, "alice");
    }
}

#[tokio::test]
async fn cef_format_parses() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let syslog = sink(format!("127.0.0.1:{}", rsyslogd.tcp), SyslogTransport::Tcp, SyslogFormat::Cef);
    let user = "eve=admin\\x\nnext|line";
    let mut denied = (*record(7, user)).clone();
    denied.outcome = Outcome::Denied;
    denied.status = 403;
    denied.usage = None;
    denied.decisions = vec![PolicyDecision {
        policy: "pii".to_owned(),
        rule: "pii.block_cards".to_owned(),
        action: Action::Deny,
        phase: "request",
    }];
    syslog.send(&syslog.encode(&[Arc::new(denied)]).unwrap()).await.unwrap();

    let fields = rsyslogd.parsed(1).remove(0);
    assert_eq!(fields[0], "132", "local0.warning");
    assert_eq!(fields[5], "policy");
    assert_eq!(fields[6], "-", "CEF carries no RFC 5424 structured data");
    let (header, extension) = parse_cef(&fields[7]);
    let version = env!("CARGO_PKG_VERSION");
    assert_eq!(
        header,
        ["CEF:0", "Smartflow", "smartflowd", version, "policy.deny", "Request denied by policy", "7"],
        "{}",
        fields[7]
    );
    let expect = [
        ("rt", "1795290318130"),
        ("dvchost", "gw-test"),
        ("externalId", "req-007"),
        ("suid", "key-7"),
        ("suser", user),
        ("act", "denied"),
        ("outcome", "failure"),
        ("request", "/v1/chat/completions"),
        ("requestMethod", "POST"),
        ("reason", "pii.block_cards"),
        ("cs1Label", "model"),
        ("cs1", "gpt-4o"),
        ("cs2", "openai/gpt-4o"),
        ("cs3", "risk"),
        ("cs4", "markets"),
        ("cs6Label", "policy"),
        ("cs6", "pii"),
        ("cn3", "403"),
        ("cfp1", "0.00123"),
    ];
    for (key, value) in expect {
        assert_eq!(extension.get(key).map(String::as_str), Some(value), "{key} in {}", fields[7]);
    }
    assert!(!extension.contains_key("cn1"), "no usage, no token counts");
}

/// On the multi-threaded runtime the daemon uses.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tcp_reconnects_after_the_receiver_restarts() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let address = format!("127.0.0.1:{}", rsyslogd.tcp);
    reconnects(rsyslogd, sink(address, SyslogTransport::Tcp, SyslogFormat::Rfc5424)).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_reconnects_after_the_receiver_restarts() {
    let Some(rsyslogd) = Rsyslogd::start() else { return };
    let address = format!("127.0.0.1:{}", rsyslogd.tls);
    let transport = tls_to_localhost(&rsyslogd);
    reconnects(rsyslogd, sink(address, transport, SyslogFormat::Rfc5424)).await;
}

/// Sends, kills the receiver (the next send fails, retryably), starts it again on the same
/// port, and sends twice more: the records before and after arrive, on a new connection.
async fn reconnects(mut rsyslogd: Rsyslogd, syslog: Syslog) {
    let send = |i: usize| syslog.encode(&[record(i, "alice")]).unwrap();
    syslog.send(&send(0)).await.unwrap();
    assert_eq!(rsyslogd.raw(1).len(), 1);

    rsyslogd.stop();
    let e = syslog.send(&send(1)).await.unwrap_err();
    assert!(e.retryable, "the receiver is down: {e}");

    rsyslogd.restart();
    syslog.send(&send(2)).await.unwrap();
    syslog.send(&send(3)).await.unwrap();
    let raw = rsyslogd.raw(3);
    assert_eq!(raw, [0, 2, 3].map(|i| syslog.message(&record(i, "alice"))), "same port, new connection");
}

/// Splits `CEF:0|vendor|...|severity|extension` into its seven unescaped header fields and the
/// extension's unescaped `key=value` pairs (a value runs to the next ` key=`).
fn parse_cef(line: &str) -> (Vec<String>, BTreeMap<String, String>) {
    let mut header = Vec::new();
    let mut field = String::new();
    let mut chars = line.chars();
    while header.len() < 7 {
        match chars.next() {
            Some('\\') => field.extend(chars.next()),
            Some('|') => header.push(std::mem::take(&mut field)),
            Some(c) => field.push(c),
            None => panic!("short CEF header: {line}"),
        }
    }
    let rest: Vec<char> = chars.collect();
    // Key starts: after a space (or at 0), [A-Za-z0-9]+ then an unescaped '='.
    let key_at = |i: usize| -> Option<usize> {
        let len = rest[i..].iter().take_while(|c| c.is_ascii_alphanumeric()).count();
        (len > 0 && rest.get(i + len) == Some(&'=')).then_some(len)
    };
    let mut extension = BTreeMap::new();
    let mut i = 0;
    while i < rest.len() {
        let len = key_at(i).unwrap_or_else(|| panic!("no key at {i}: {line}"));
        let key: String = rest[i..i + len].iter().collect();
        let mut j = i + len + 1;
        let mut value = String::new();
        while j < rest.len() && !(rest[j] == ' ' && key_at(j + 1).is_some()) {
            if rest[j] == '\\' && j + 1 < rest.len() {
                j += 1;
                value.push(match rest[j] {
                    'n' => '\n',
                    'r' => '\r',
                    c => c,
                });
            } else {
                value.push(rest[j]);
            }
            j += 1;
        }
        extension.insert(key, value);
        i = j + 1;
    }
    (header, extension)
}
