//! Unit tests: PRI and severity mapping, structured-data and CEF escaping, truncation, framing,
//! and that no credential reaches a message.

use std::sync::Arc;
use std::time::Duration;

use smartflow_core::policy::Action;
use smartflow_core::{AdminChange, AuditRecord, ChangeAction, Outcome, PolicyDecision, Principal, TokenUsage};

use super::rfc5424::{escape_param_value, param_name_ok, push_frame, split_frames, structured_data, timestamp, usd};
use super::*;

fn record() -> AuditRecord {
    let mut principal = Principal::new("key-1");
    principal.user = Some("alice".to_owned());
    principal.team = Some("risk".to_owned());
    principal.tags.insert("api_key".to_owned(), "sk-live-SECRET".to_owned());
    AuditRecord {
        timestamp_ms: 1_795_290_318_123,
        request_id: "req-1".to_owned(),
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
        latency_ms: 123.4,
        ttfb_ms: None,
        prompt: None,
        completion: None,
        admin: None,
    }
}

/// An admin who created virtual key `k_abc` (`POST /api/keys`).
fn admin_created() -> AuditRecord {
    let mut r = crate::audit::admin_fixtures::admin_created(record(), "key-admin", Some("root"));
    r.ttfb_ms = record().ttfb_ms;
    r
}

/// A caller without admin rights (`key-1`, alice) refused when changing key `k_abc`.
fn admin_denied() -> AuditRecord {
    let mut r = crate::audit::admin_fixtures::admin_denied(admin_created(), record().principal);
    r.latency_ms = 2.0;
    r
}

fn decision(action: Action) -> PolicyDecision {
    PolicyDecision { policy: "pii".to_owned(), rule: "pii.block_cards".to_owned(), action, phase: "request" }
}

fn sink(format: SyslogFormat, transport: SyslogTransport) -> Syslog {
    let mut config = SyslogConfig::new("127.0.0.1:514", transport);
    config.format = format;
    config.hostname = "gw-01".to_owned();
    Syslog::new(config).unwrap()
}

fn udp() -> Syslog {
    sink(SyslogFormat::Rfc5424, SyslogTransport::Udp)
}

/// PRI, MSGID and the rest of the header.
fn header(message: &str) -> Vec<&str> {
    message.splitn(7, ' ').take(6).collect()
}

#[test]
fn pri_follows_outcome_severity_and_facility() {
    let s = udp();
    let pri = |r: &AuditRecord| header(&s.message(r))[0].to_owned();
    let mut r = record();
    assert_eq!(pri(&r), "<134>1", "local0.info");
    r.decisions = vec![decision(Action::WouldDeny)];
    assert_eq!(pri(&r), "<133>1", "would-deny only: notice");
    r.outcome = Outcome::Denied;
    r.status = 403;
    r.decisions = vec![decision(Action::WouldDeny), decision(Action::Deny)];
    assert_eq!(pri(&r), "<132>1", "denied: warning");
    r.decisions.clear();
    r.status = 401;
    assert_eq!(pri(&r), "<132>1", "authentication failure: warning");
    r.outcome = Outcome::Failed;
    r.status = 504;
    r.error = Some("upstream_timeout");
    assert_eq!(pri(&r), "<131>1", "failed: error");
    r.outcome = Outcome::Cancelled;
    r.status = 499;
    assert_eq!(pri(&r), "<134>1", "cancelled: informational");

    let mut config = SyslogConfig::new("127.0.0.1:514", SyslogTransport::Udp);
    config.facility = "AUTHPRIV".parse().unwrap();
    let s = Syslog::new(config).unwrap();
    let mut r = record();
    r.outcome = Outcome::Denied;
    r.status = 403;
    assert_eq!(header(&s.message(&r))[0], "<84>1", "authpriv.warning");
}

#[test]
fn facilities_by_name() {
    let codes: Vec<u8> = ["user", "daemon", "auth", "authpriv", "local0", "local7"]
        .iter()
        .map(|n| Facility::from_name(n).unwrap().code())
        .collect();
    assert_eq!(codes, [1, 3, 4, 10, 16, 23]);
    assert_eq!(Facility::default(), Facility::LOCAL0);
    assert_eq!(Facility::from_name("Local5").map(Facility::code), Some(21));
    assert!(Facility::from_name("local+1").is_none() && Facility::from_name("local").is_none());
    assert!("kern".parse::<Facility>().is_err());
    assert!(Facility::from_name("local8").is_none());
}

#[test]
fn header_fields_and_msgid() {
    let s = udp();
    let mut r = record();
    let m = s.message(&r);
    let h = header(&m);
    assert_eq!(h[1], "2026-11-21T19:45:18.123Z");
    assert_eq!(h[2], "gw-01");
    assert_eq!(h[3], "smartflowd");
    assert_eq!(h[4], std::process::id().to_string());
    assert_eq!(h[5], "chat");
    r.decisions = vec![decision(Action::WouldDeny)];
    assert_eq!(header(&s.message(&r))[5], "policy");
    r.outcome = Outcome::Denied;
    r.status = 401;
    r.decisions.clear();
    assert_eq!(header(&s.message(&r))[5], "auth");

    let mut config = SyslogConfig::new("127.0.0.1:514", SyslogTransport::Udp);
    config.hostname = "my host\n".to_owned();
    config.app_name = "a".repeat(60);
    let m = Syslog::new(config).unwrap().message(&record());
    let h = header(&m);
    assert_eq!(h[2], "my_host_");
    assert_eq!(h[3].len(), 48);
}

#[test]
fn structured_data_carries_the_record_and_escapes_values() {
    let s = udp();
    let mut r = record();
    let mut p = (*r.principal).clone();
    p.user = Some(r#"ev"il] \user"#.to_owned());
    r.principal = Arc::new(p);
    let m = s.message(&r);
    assert!(
        m.contains(r#"[smartflow@32473 request_id="req-1" key_id="key-1" user="ev\"il\] \\user" team="risk""#),
        "{m}"
    );
    assert!(
        m.contains(r#"model="gpt-4o" target="openai/gpt-4o" outcome="allowed" status="200" tokens_in="812" tokens_out="240" cost_usd="0.00123""#),
        "{m}"
    );
    assert!(m.contains(r#"trace_id="0af7651916cd43dd8448eb211c80319c"]"#), "{m}");
    assert!(!m.contains("department="), "absent values are left out");
    assert!(m.ends_with("] chat request allowed: status 200, model gpt-4o via openai/gpt-4o, 123 ms"), "{m}");

    r.outcome = Outcome::Denied;
    r.status = 403;
    r.decisions = vec![decision(Action::Deny)];
    let m = s.message(&r);
    assert!(m.contains(r#"policy="pii" rule="pii.block_cards"]"#), "{m}");
    assert!(m.ends_with(
        "chat request denied by policy pii (rule pii.block_cards): status 403, model gpt-4o via openai/gpt-4o, 123 ms"
    ));

    let mut out = String::new();
    escape_param_value(r#"a"b\c]d=e"#, &mut out);
    assert_eq!(out, r#"a\"b\\c\]d=e"#);
    assert_eq!(structured_data(&[], false), "-");
    assert_eq!(
        structured_data(&[("bad name", "x".to_owned()), ("ok", "y".to_owned())], false),
        r#"[smartflow@32473 ok="y"]"#
    );
    for bad in ["", "a=b", "a b", "a]", "a\"", "é", &"n".repeat(33)] {
        assert!(!param_name_ok(bad), "{bad:?}");
    }
    assert!(param_name_ok("tokens_in"));
}

#[test]
fn admin_records_have_msgid_admin_change_params_and_summary() {
    let s = udp();
    let m = s.message(&admin_created());
    let h = header(&m);
    assert_eq!((h[0], h[5]), ("<133>1", "admin"), "a change made: local0.notice");
    assert!(
        m.contains(
            r#" admin [smartflow@32473 request_id="req-1" key_id="key-admin" user="root" operation="POST /api/keys" action="created" object_category="virtual_key" object="k_abc" outcome="allowed" status="200" latency_ms="3" trace_id="0af7651916cd43dd8448eb211c80319c"] "#
        ),
        "{m}"
    );
    assert!(m.ends_with("] admin POST /api/keys (created virtual_key k_abc) allowed: status 200, 3 ms"), "{m}");

    let m = s.message(&admin_denied());
    let h = header(&m);
    assert_eq!((h[0], h[5]), ("<132>1", "admin"), "refused: warning");
    assert!(
        m.contains(r#" team="risk" operation="PATCH /api/keys/{id}" action="modified" object_category="virtual_key" object="k_abc" outcome="denied" status="403" latency_ms="2" error="permission_denied" "#),
        "{m}"
    );
    assert!(
        m.ends_with(
            "] admin PATCH /api/keys/{id} (modified virtual_key k_abc) denied (permission_denied): status 403, 2 ms"
        ),
        "{m}"
    );

    let mut read = admin_created();
    read.admin = Some(AdminChange {
        operation: "GET /api/status".to_owned(),
        action: ChangeAction::Read,
        object_category: "gateway",
        object: None,
    });
    let m = s.message(&read);
    assert_eq!(header(&m)[0], "<134>1", "a read: informational");
    assert!(!m.contains("object="), "{m}");
    assert!(m.ends_with("] admin GET /api/status (read gateway) allowed: status 200, 3 ms"), "{m}");

    let mut refused = admin_created();
    refused.admin = None;
    refused.outcome = Outcome::Denied;
    refused.status = 401;
    refused.error = Some("authentication");
    let m = s.message(&refused);
    assert_eq!(header(&m)[5], "auth", "a refused credential stays an authentication event");
    assert!(m.ends_with("] admin request refused: authentication failed: status 401, 3 ms"), "{m}");
}

#[test]
fn cef_admin_change_mapping() {
    let s = sink(SyslogFormat::Cef, SyslogTransport::Tcp);
    let version = env!("CARGO_PKG_VERSION");
    let m = s.message(&admin_created());
    let (frame, cef) = m.split_once(" CEF:").unwrap();
    assert!(frame.starts_with("<133>1 ") && frame.ends_with(" admin -"), "{frame}");
    assert_eq!(
        cef,
        format!(
            "0|Smartflow|smartflowd|{version}|admin.created|Admin change made|5|rt=1795290318123 dvchost=gw-01 \
             externalId=req-1 suid=key-admin suser=root act=created outcome=success request=/api/keys \
             requestMethod=POST cs1Label=object_category cs1=virtual_key cs2Label=object cs2=k_abc \
             cs5Label=trace_id cs5=0af7651916cd43dd8448eb211c80319c cn3Label=status cn3=200"
        )
    );

    let m = s.message(&admin_denied());
    let (frame, cef) = m.split_once(" CEF:").unwrap();
    assert!(frame.starts_with("<132>1 ") && frame.ends_with(" admin -"), "{frame}");
    assert_eq!(
        cef,
        format!(
            "0|Smartflow|smartflowd|{version}|admin.modified|Admin change denied|8|rt=1795290318123 dvchost=gw-01 \
             externalId=req-1 suid=key-1 suser=alice act=modified outcome=failure request=/api/keys/{{id}} \
             requestMethod=PATCH reason=permission_denied cs1Label=object_category cs1=virtual_key \
             cs2Label=object cs2=k_abc cs3Label=team cs3=risk cs5Label=trace_id \
             cs5=0af7651916cd43dd8448eb211c80319c cn3Label=status cn3=403"
        )
    );

    // Severity: a denied or failed change rates above any read.
    let mut read = admin_denied();
    read.admin = Some(AdminChange {
        operation: "GET /api/keys/{id}".to_owned(),
        action: ChangeAction::Read,
        object_category: "virtual_key",
        object: Some("k_abc".to_owned()),
    });
    assert!(s.message(&read).contains("|admin.read|Admin API read denied|6|"));
    read.outcome = Outcome::Allowed;
    read.status = 200;
    read.error = None;
    assert!(s.message(&read).contains("|admin.read|Admin API read|3|"));
    let mut failed = admin_created();
    failed.outcome = Outcome::Failed;
    failed.status = 500;
    failed.error = Some("internal");
    let m = s.message(&failed);
    assert!(m.contains("|admin.created|Admin change failed|7|") && m.contains(" reason=internal "), "{m}");
}

#[test]
fn chat_record_messages_are_unchanged() {
    let version = env!("CARGO_PKG_VERSION");
    let m = udp().message(&record());
    let (head, rest) = m.split_once(" chat [").unwrap();
    assert!(head.starts_with("<134>1 2026-11-21T19:45:18.123Z gw-01 smartflowd "), "{head}");
    assert_eq!(
        rest,
        r#"smartflow@32473 request_id="req-1" key_id="key-1" user="alice" team="risk" model="gpt-4o" target="openai/gpt-4o" outcome="allowed" status="200" tokens_in="812" tokens_out="240" cost_usd="0.00123" latency_ms="123" trace_id="0af7651916cd43dd8448eb211c80319c"] chat request allowed: status 200, model gpt-4o via openai/gpt-4o, 123 ms"#
    );
    let m = sink(SyslogFormat::Cef, SyslogTransport::Tcp).message(&record());
    let cef = m.split_once(" CEF:").unwrap().1;
    assert_eq!(
        cef,
        format!(
            "0|Smartflow|smartflowd|{version}|request.allowed|Request allowed|3|rt=1795290318123 dvchost=gw-01 \
             externalId=req-1 suid=key-1 suser=alice act=allowed outcome=success request=/v1/chat/completions \
             requestMethod=POST cs1Label=model cs1=gpt-4o cs2Label=target cs2=openai/gpt-4o cs3Label=team cs3=risk \
             cs5Label=trace_id cs5=0af7651916cd43dd8448eb211c80319c cn1Label=tokens_in cn1=812 \
             cn2Label=tokens_out cn2=240 cn3Label=status cn3=200 cfp1Label=cost_usd cfp1=0.00123"
        )
    );
}

#[test]
fn timestamps_and_costs() {
    assert_eq!(timestamp(0), "1970-01-01T00:00:00.000Z");
    assert_eq!(timestamp(1_795_290_318_007), "2026-11-21T19:45:18.007Z");
    assert_eq!(timestamp(u64::MAX), "-", "out of RFC 3339's range: NILVALUE, no panic");
    assert_eq!(usd(1_230_000), "0.00123");
    assert_eq!(usd(2_000_000_000), "2");
    assert_eq!(usd(1), "0.000000001");
}

#[test]
fn cef_header_extension_and_escaping() {
    let s = sink(SyslogFormat::Cef, SyslogTransport::Tcp);
    let mut r = record();
    let mut p = (*r.principal).clone();
    p.user = Some("a=b\\c\nd|e".to_owned());
    r.principal = Arc::new(p);
    r.outcome = Outcome::Denied;
    r.status = 403;
    r.decisions = vec![decision(Action::Deny)];
    let m = s.message(&r);
    let (frame, cef) = m.split_once(" CEF:").unwrap();
    assert!(frame.starts_with("<132>1 ") && frame.ends_with(" policy -"), "{frame}");
    let version = env!("CARGO_PKG_VERSION");
    assert!(cef.starts_with(&format!("0|Smartflow|smartflowd|{version}|policy.deny|Request denied by policy|7|rt=1795290318123 dvchost=gw-01 externalId=req-1 suid=key-1 ")), "{cef}");
    assert!(cef.contains(r"suser=a\=b\\c\nd|e act=denied outcome=failure request=/v1/chat/completions requestMethod=POST reason=pii.block_cards cs1Label=model cs1=gpt-4o"), "{cef}");
    assert!(cef.contains("cn3Label=status cn3=403 cfp1Label=cost_usd cfp1=0.00123"), "{cef}");

    let mut out = String::new();
    super::cef::escape_header("a|b\\c\nd", &mut out);
    assert_eq!(out, r"a\|b\\c d");
    out.clear();
    super::cef::escape_extension("x=1\\2\r\n|", &mut out);
    assert_eq!(out, r"x\=1\\2\r\n|");

    r.outcome = Outcome::Allowed;
    r.status = 200;
    r.decisions = vec![decision(Action::WouldDeny)];
    let m = s.message(&r);
    assert!(m.contains("|policy.would_deny|Policy would have denied the request|5|"), "{m}");
    assert!(m.contains(" act=would_deny outcome=success "), "{m}");
}

#[test]
fn udp_truncates_at_a_char_boundary_and_marks_it() {
    let s = udp();
    assert_eq!(s.config().max_message_bytes, 2048);
    let mut r = record();
    r.prompt = Some("é".repeat(3000));
    let m = s.message(&r);
    assert!(m.len() <= 2048 && m.len() > 2030, "{}", m.len());
    assert!(m.ends_with("é [truncated]"), "cut between characters, then marked");
    assert!(m.contains(r#" truncated="true"] chat request allowed"#), "{m}");

    // Structured data too long on its own: it is reduced to the marker.
    let mut r = record();
    let mut p = (*r.principal).clone();
    p.user = Some("ü".repeat(2000));
    r.principal = Arc::new(p);
    let m = s.message(&r);
    assert!(m.len() <= 2048);
    assert!(m.contains(r#" chat [smartflow@32473 truncated="true"] chat request allowed"#), "{m}");

    let tcp = sink(SyslogFormat::Rfc5424, SyslogTransport::Tcp);
    assert_eq!(tcp.config().max_message_bytes, 64 * 1024);
    let mut r = record();
    r.prompt = Some("é".repeat(3000));
    assert!(!tcp.message(&r).contains("truncated"));
}

#[test]
fn no_key_or_token_reaches_a_message() {
    for format in [SyslogFormat::Rfc5424, SyslogFormat::Cef] {
        let s = sink(format, SyslogTransport::Udp);
        let r = record();
        let m = s.message(&r);
        assert!(!m.contains("sk-live-SECRET") && !m.contains("api_key"), "tags never leave: {m}");
        assert!(!m.contains("prompt") && !m.contains("completion:") && !m.contains("flexString"), "{m}");
        assert!(m.contains("key-1"), "the key id identifies the caller");
    }
    let s = udp();
    let mut r = record();
    r.prompt = Some("hello".to_owned());
    r.completion = Some("world".to_owned());
    assert!(s.message(&r).ends_with(" | prompt: hello | completion: world"), "recorded text only when configured");
    let m = sink(SyslogFormat::Cef, SyslogTransport::Udp).message(&r);
    assert!(
        m.ends_with(" flexString1Label=prompt flexString1=hello flexString2Label=completion flexString2=world"),
        "{m}"
    );
}

#[test]
fn batches_are_octet_counted_and_split_back() {
    let s = udp();
    let batch: Vec<_> = (0..3).map(|_| Arc::new(record())).collect();
    let payload = s.encode(&batch).unwrap();
    let one = s.message(&batch[0]);
    assert!(payload.starts_with(format!("{} <134>1 ", one.len()).as_bytes()));
    let frames = split_frames(&payload).unwrap();
    assert_eq!(frames.len(), 3);
    assert!(frames.iter().all(|f| *f == one.as_bytes()));

    let mut out = Vec::new();
    push_frame(&mut out, "é\n".as_bytes());
    assert_eq!(out, "3 é\n".as_bytes());
    assert_eq!(split_frames(b"").unwrap().len(), 0);
    assert_eq!(split_frames(b"3 abc4 de"), Err(5), "short frame");
    assert_eq!(split_frames(b"03 abc"), Err(0), "leading zero");
    assert_eq!(split_frames(b"abc"), Err(0));
}

#[test]
fn config_validation() {
    let ok = SyslogConfig::new("syslog.example:6514", SyslogTransport::Tcp);
    assert!(ok.validate().is_ok());
    for address in ["syslog.example", ":514", "host:0", "host:99999"] {
        assert!(SyslogConfig::new(address, SyslogTransport::Udp).validate().is_err(), "{address}");
    }
    let mut c = ok.clone();
    c.timeout = Duration::ZERO;
    assert!(c.validate().is_err());
    let mut c = SyslogConfig::new("h:514", SyslogTransport::Udp);
    c.max_message_bytes = 70_000;
    assert!(c.validate().is_err());
    c.max_message_bytes = 100;
    assert!(c.validate().is_err());
    let tls = |name: &str| SyslogTransport::Tls {
        root_certificates: Arc::new(rustls::RootCertStore::empty()),
        server_name: name.to_owned(),
    };
    assert!(Syslog::new(SyslogConfig::new("h:6514", tls("siem.example"))).is_ok());
    assert!(Syslog::new(SyslogConfig::new("h:6514", tls("not a name!"))).is_err());
    assert!(!ok.hostname.is_empty());
}

#[tokio::test]
async fn send_to_nothing_is_retryable_and_garbage_is_permanent() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut config = SyslogConfig::new(format!("127.0.0.1:{port}"), SyslogTransport::Tcp);
    config.timeout = Duration::from_secs(2);
    let s = Syslog::new(config).unwrap();
    let payload = s.encode(&[Arc::new(record())]).unwrap();
    let e = s.send(&payload).await.unwrap_err();
    assert!(e.retryable, "{e}");
    assert!(e.message.contains(&format!("syslog tcp 127.0.0.1:{port}")), "{e}");

    for s in [udp(), s] {
        let e = s.send(&bytes::Bytes::from_static(b"5 abc")).await.unwrap_err();
        assert!(!e.retryable, "a corrupt (spooled) payload is never sent: {e}");
    }
}
