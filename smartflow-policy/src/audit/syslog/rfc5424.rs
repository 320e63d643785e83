//! RFC 5424 messages (header, `[smartflow@32473 ...]` structured data, a one-line summary),
//! size limits with truncation at a UTF-8 boundary, and RFC 6587 / 5425 octet-counting frames.

use std::fmt::Write as _;
use std::time::{Duration, UNIX_EPOCH};

use smartflow_core::{AdminChange, AuditRecord};

use super::{Event, admin_change, decisive};

/// The SD-ID of Smartflow's structured-data element (32473 is the documentation PEN).
pub(super) const SD_ID: &str = "smartflow@32473";
/// Appended to a cut MSG (the element also gets `truncated="true"`).
pub(super) const TRUNCATED_MARK: &str = " [truncated]";

/// The header fields fixed for the life of a sink, already restricted to printable US-ASCII.
#[derive(Debug)]
pub(super) struct Header {
    /// HOSTNAME (≤ 255).
    pub(super) hostname: String,
    /// APP-NAME (≤ 48).
    pub(super) app_name: String,
    /// PROCID (this process's id).
    pub(super) procid: String,
}

impl Header {
    pub(super) fn new(hostname: &str, app_name: &str) -> Self {
        Self {
            hostname: header_field(hostname, 255),
            app_name: header_field(app_name, 48),
            procid: std::process::id().to_string(),
        }
    }
}

/// One message before it is rendered.
#[derive(Debug)]
pub(super) struct Message {
    /// facility × 8 + severity.
    pub(super) pri: u8,
    /// The record's Unix milliseconds.
    pub(super) timestamp_ms: u64,
    /// MSGID (sanitised when rendered).
    pub(super) msgid: String,
    /// Structured-data parameters; none renders `-`.
    pub(super) params: Vec<(&'static str, String)>,
    /// MSG (never empty).
    pub(super) msg: String,
}

impl Message {
    /// `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID SD MSG`, at most `max` bytes: a longer
    /// message has its MSG cut at a character boundary, ` [truncated]` appended and
    /// `truncated="true"` added to its structured data (which is dropped if even that is too
    /// long; a header alone over `max`, impossible with validated sizes, is cut as it is).
    pub(super) fn render(&self, header: &Header, max: usize) -> String {
        let head = format!(
            "<{}>1 {} {} {} {} {}",
            self.pri,
            timestamp(self.timestamp_ms),
            header.hostname,
            header.app_name,
            header.procid,
            header_field(&self.msgid, 32)
        );
        let full = format!("{head} {} {}", structured_data(&self.params, false), self.msg);
        if full.len() <= max {
            return full;
        }
        for params in [&self.params[..], &[]] {
            let sd = structured_data(params, true);
            let fixed = head.len() + sd.len() + 2 + TRUNCATED_MARK.len();
            if let Some(room) = max.checked_sub(fixed) {
                let msg = &self.msg[..floor_char_boundary(&self.msg, room)];
                return format!("{head} {sd} {msg}{TRUNCATED_MARK}");
            }
        }
        let mut cut = full;
        cut.truncate(floor_char_boundary(&cut, max));
        cut
    }
}

/// The syslog severity of an event: allowed and cancelled → informational (6), allowed with
/// audit-mode denials only, or an admin change made → notice (5), denied (policy or
/// authentication) → warning (4), failed → error (3).
pub(super) fn severity(record: &AuditRecord, event: Event) -> u8 {
    match event {
        Event::Allowed if admin_change(record, event).is_some_and(|c| c.action.mutates()) => 5,
        Event::Allowed | Event::Cancelled => 6,
        Event::WouldDeny => 5,
        Event::Denied | Event::AuthFailure => 4,
        Event::Failed => 3,
    }
}

/// MSGID: `auth` for a refused credential, `admin` for an admin API request, `policy` for a
/// policy decision (deny or would-deny), else the endpoint (`chat`, `embeddings`...).
pub(super) fn msgid(record: &AuditRecord, event: Event) -> &'static str {
    match event {
        Event::AuthFailure => "auth",
        _ if admin_change(record, event).is_some() => "admin",
        _ if decisive(record).is_some() => "policy",
        _ => record.endpoint,
    }
}

/// The structured-data parameters of a record, in a fixed order, absent values left out.
pub(super) fn params(record: &AuditRecord) -> Vec<(&'static str, String)> {
    let p = &record.principal;
    let mut out = vec![("request_id", record.request_id.clone()), ("key_id", p.key_id.clone())];
    let optional = [("user", &p.user), ("team", &p.team), ("department", &p.department)];
    out.extend(optional.into_iter().filter_map(|(k, v)| v.clone().map(|v| (k, v))));
    out.extend(record.model.clone().map(|v| ("model", v)));
    out.extend(record.target.clone().map(|v| ("target", v)));
    if let Some(change) = &record.admin {
        out.push(("operation", change.operation.clone()));
        out.push(("action", change.action.label().to_owned()));
        out.push(("object_category", change.object_category.to_owned()));
        out.extend(change.object.clone().map(|v| ("object", v)));
    }
    out.push(("outcome", record.outcome.label().to_owned()));
    out.push(("status", record.status.to_string()));
    if let Some(usage) = record.usage {
        out.push(("tokens_in", usage.input.to_string()));
        out.push(("tokens_out", usage.output.to_string()));
    }
    out.extend(record.cost_nano_usd.map(|n| ("cost_usd", usd(n))));
    out.push(("latency_ms", format!("{:.0}", record.latency_ms)));
    out.extend(record.error.map(|e| ("error", e.to_owned())));
    if !record.trace_id.is_empty() {
        out.push(("trace_id", record.trace_id.clone()));
    }
    if let Some(d) = decisive(record) {
        out.push(("policy", d.policy.clone()));
        out.push(("rule", d.rule.clone()));
    }
    out
}

/// A one-line human summary; the prompt and completion follow only when the record has them.
pub(super) fn summary(record: &AuditRecord, event: Event) -> String {
    let what = match (event, decisive(record)) {
        (Event::WouldDeny, Some(d)) => format!("allowed; policy {} would have denied it (rule {})", d.policy, d.rule),
        (Event::Denied, Some(d)) => format!("denied by policy {} (rule {})", d.policy, d.rule),
        (Event::Allowed | Event::WouldDeny, _) => "allowed".to_owned(),
        (Event::Denied, None) => "denied".to_owned(),
        (Event::AuthFailure, _) => "refused: authentication failed".to_owned(),
        (Event::Failed, _) => format!("failed ({})", record.error.unwrap_or("error")),
        (Event::Cancelled, _) => "cancelled by the client".to_owned(),
    };
    if let Some(change) = admin_change(record, event) {
        return admin_summary(record, change, event, &what);
    }
    let mut s = format!("{} request {what}: status {}", record.endpoint, record.status);
    if let Some(model) = &record.model {
        let _ = write!(s, ", model {model}");
    }
    if let Some(target) = &record.target {
        let _ = write!(s, " via {target}");
    }
    let _ = write!(s, ", {:.0} ms", record.latency_ms);
    if let Some(prompt) = &record.prompt {
        let _ = write!(s, " | prompt: {prompt}");
    }
    if let Some(completion) = &record.completion {
        let _ = write!(s, " | completion: {completion}");
    }
    s
}

/// The summary of an admin API request: `admin POST /api/keys/{id}/rotate (modified
/// virtual_key k_123) allowed: status 200, 3 ms`; a refusal names its error label.
fn admin_summary(record: &AuditRecord, change: &AdminChange, event: Event, what: &str) -> String {
    let mut s = format!("admin {} ({} {}", change.operation, change.action.label(), change.object_category);
    if let Some(object) = &change.object {
        let _ = write!(s, " {object}");
    }
    let _ = write!(s, ") {what}");
    if let (Event::Denied, None, Some(error)) = (event, decisive(record), record.error) {
        let _ = write!(s, " ({error})");
    }
    let _ = write!(s, ": status {}, {:.0} ms", record.status, record.latency_ms);
    s
}

/// `-`, or `[smartflow@32473 name="value" ...]` with values escaped (RFC 5424 §6.3.3) and
/// invalid names left out.
pub(super) fn structured_data(params: &[(&str, String)], truncated: bool) -> String {
    if params.is_empty() && !truncated {
        return "-".to_owned();
    }
    let mut sd = format!("[{SD_ID}");
    let marker = truncated.then_some(("truncated", "true"));
    for (name, value) in params.iter().map(|(n, v)| (*n, v.as_str())).chain(marker) {
        if param_name_ok(name) {
            sd.push(' ');
            sd.push_str(name);
            sd.push_str("=\"");
            escape_param_value(value, &mut sd);
            sd.push('"');
        }
    }
    sd.push(']');
    sd
}

/// Whether `name` is a valid SD-NAME: 1–32 printable US-ASCII characters except `=`, space,
/// `]` and `"`.
pub(super) fn param_name_ok(name: &str) -> bool {
    (1..=32).contains(&name.len()) && name.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'=' | b']' | b'"'))
}

/// Appends `value` with `"`, `\` and `]` backslash-escaped.
pub(super) fn escape_param_value(value: &str, out: &mut String) {
    for c in value.chars() {
        if matches!(c, '"' | '\\' | ']') {
            out.push('\\');
        }
        out.push(c);
    }
}

/// A header field: printable US-ASCII only (others become `_`), at most `max` characters, `-`
/// when empty.
pub(super) fn header_field(value: &str, max: usize) -> String {
    let field: String = value.chars().take(max).map(|c| if c.is_ascii_graphic() { c } else { '_' }).collect();
    if field.is_empty() { "-".to_owned() } else { field }
}

/// RFC 3339 UTC with milliseconds (`2026-11-21T19:45:18.123Z`), or `-` past year 9999.
pub(super) fn timestamp(ms: u64) -> String {
    const YEAR_10000_MS: u64 = 253_402_300_800_000;
    let time = if ms < YEAR_10000_MS { UNIX_EPOCH.checked_add(Duration::from_millis(ms)) } else { None };
    let mut out = String::with_capacity(24);
    match time {
        Some(t) if write!(out, "{}", humantime::format_rfc3339_millis(t)).is_ok() => out,
        _ => "-".to_owned(),
    }
}

/// Nano-dollars as dollars without trailing zeros (`1230000` → `0.00123`).
pub(super) fn usd(nano: u64) -> String {
    let fraction = format!("{:09}", nano % 1_000_000_000);
    let fraction = fraction.trim_end_matches('0');
    if fraction.is_empty() {
        (nano / 1_000_000_000).to_string()
    } else {
        format!("{}.{fraction}", nano / 1_000_000_000)
    }
}

/// The largest character boundary of `s` at or below `index`.
pub(super) fn floor_char_boundary(s: &str, index: usize) -> usize {
    let mut i = index.min(s.len());
    while !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// Appends `MSG-LEN SP SYSLOG-MSG` (RFC 6587 octet counting, required by RFC 5425).
pub(super) fn push_frame(out: &mut Vec<u8>, msg: &[u8]) {
    out.extend_from_slice(msg.len().to_string().as_bytes());
    out.push(b' ');
    out.extend_from_slice(msg);
}

/// Splits a payload of octet-counted frames back into messages; `Err` names the first bad byte
/// offset (a corrupt spool file, not a network condition).
pub(super) fn split_frames(mut payload: &[u8]) -> Result<Vec<&[u8]>, usize> {
    let total = payload.len();
    let mut messages = Vec::new();
    while !payload.is_empty() {
        let at = total - payload.len();
        let digits = payload.iter().take_while(|b| b.is_ascii_digit()).count();
        if digits == 0 || digits > 9 || payload[0] == b'0' || payload.get(digits) != Some(&b' ') {
            return Err(at);
        }
        let len: usize = std::str::from_utf8(&payload[..digits]).ok().and_then(|d| d.parse().ok()).ok_or(at)?;
        let rest = &payload[digits + 1..];
        if rest.len() < len {
            return Err(at);
        }
        messages.push(&rest[..len]);
        payload = &rest[len..];
    }
    Ok(messages)
}
