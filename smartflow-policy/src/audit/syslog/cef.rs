//! ArcSight Common Event Format: `CEF:0|Smartflow|smartflowd|<version>|<signature>|<name>|<severity>|<extension>`,
//! sent as the MSG of an RFC 5424 frame.

use std::fmt::Write as _;

use smartflow_core::{AuditRecord, ChangeAction};

use super::{Event, admin_change, decisive, rfc5424};

/// The signature id, name and CEF severity (0–10) of an event.
pub(super) fn signature(record: &AuditRecord, event: Event) -> (&'static str, &'static str, u8) {
    if let Some(change) = admin_change(record, event) {
        return admin_signature(change.action, event);
    }
    match event {
        Event::Allowed => ("request.allowed", "Request allowed", 3),
        Event::Cancelled => ("request.cancelled", "Request cancelled by the client", 3),
        Event::WouldDeny => ("policy.would_deny", "Policy would have denied the request", 5),
        Event::Failed => ("request.failed", "Request failed", 6),
        Event::AuthFailure => ("auth.failure", "Authentication failed", 7),
        Event::Denied if decisive(record).is_some() => ("policy.deny", "Request denied by policy", 7),
        Event::Denied => ("request.denied", "Request denied", 7),
    }
}

/// The signature of an admin API request: `admin.<action>` (`admin.modified`), named and rated
/// by whether it changes state and how it ended — a denied or failed change rates above any
/// read, a change made above a read made.
fn admin_signature(action: ChangeAction, event: Event) -> (&'static str, &'static str, u8) {
    let id = match action {
        ChangeAction::Read => "admin.read",
        ChangeAction::Created => "admin.created",
        ChangeAction::Modified => "admin.modified",
        ChangeAction::Deleted => "admin.deleted",
        ChangeAction::Cleared => "admin.cleared",
        ChangeAction::Updated => "admin.updated",
    };
    let (name, severity) = match (action.mutates(), event) {
        (false, Event::Allowed | Event::WouldDeny) => ("Admin API read", 3),
        (false, Event::Cancelled) => ("Admin API read cancelled", 3),
        (false, Event::Failed) => ("Admin API read failed", 5),
        (false, Event::Denied | Event::AuthFailure) => ("Admin API read denied", 6),
        (true, Event::Allowed | Event::WouldDeny) => ("Admin change made", 5),
        (true, Event::Cancelled) => ("Admin change cancelled", 5),
        (true, Event::Failed) => ("Admin change failed", 7),
        (true, Event::Denied | Event::AuthFailure) => ("Admin change denied", 8),
    };
    (id, name, severity)
}

/// The CEF line for a record.
pub(super) fn message(record: &AuditRecord, event: Event, hostname: &str) -> String {
    let (id, name, severity) = signature(record, event);
    let mut out = String::with_capacity(512);
    out.push_str("CEF:0|Smartflow|smartflowd|");
    for field in [env!("CARGO_PKG_VERSION"), id, name] {
        escape_header(field, &mut out);
        out.push('|');
    }
    let _ = write!(out, "{severity}|");

    let p = &record.principal;
    let mut ext = Extension { out: &mut out, first: true };
    ext.add("rt", &record.timestamp_ms.to_string());
    if hostname != "-" {
        ext.add("dvchost", hostname);
    }
    ext.add("externalId", &record.request_id);
    ext.add("suid", &p.key_id);
    ext.add("suser", p.user.as_deref().unwrap_or(&p.key_id));
    let change = admin_change(record, event);
    let act = match change {
        Some(change) => change.action.label(),
        None if event == Event::WouldDeny => "would_deny",
        None => record.outcome.label(),
    };
    ext.add("act", act);
    ext.add("outcome", if matches!(event, Event::Allowed | Event::WouldDeny) { "success" } else { "failure" });
    let (path, method) = match (change, record.endpoint) {
        // `PATCH /api/keys/{id}`: the path template and its method.
        (Some(change), _) => match change.operation.split_once(' ') {
            Some((method, path)) => (path, Some(method)),
            None => (change.operation.as_str(), None),
        },
        (None, "chat") => ("/v1/chat/completions", Some("POST")),
        (None, "embeddings") => ("/v1/embeddings", Some("POST")),
        (None, "messages") => ("/v1/messages", Some("POST")),
        (None, other) => (other, None),
    };
    ext.add("request", path);
    if let Some(method) = method {
        ext.add("requestMethod", method);
    }
    let decision = decisive(record);
    if let Some(reason) = decision.map(|d| d.rule.as_str()).or(record.error) {
        ext.add("reason", reason);
    }
    match change {
        Some(change) => {
            ext.custom("cs1", "object_category", Some(change.object_category));
            ext.custom("cs2", "object", change.object.as_deref());
        }
        None => {
            ext.custom("cs1", "model", record.model.as_deref());
            ext.custom("cs2", "target", record.target.as_deref());
        }
    }
    ext.custom("cs3", "team", p.team.as_deref());
    ext.custom("cs4", "department", p.department.as_deref());
    ext.custom("cs5", "trace_id", Some(record.trace_id.as_str()).filter(|t| !t.is_empty()));
    ext.custom("cs6", "policy", decision.map(|d| d.policy.as_str()));
    let usage = record.usage;
    ext.custom("cn1", "tokens_in", usage.map(|u| u.input.to_string()).as_deref());
    ext.custom("cn2", "tokens_out", usage.map(|u| u.output.to_string()).as_deref());
    ext.custom("cn3", "status", Some(record.status.to_string().as_str()));
    ext.custom("cfp1", "cost_usd", record.cost_nano_usd.map(rfc5424::usd).as_deref());
    ext.custom("flexString1", "prompt", record.prompt.as_deref());
    ext.custom("flexString2", "completion", record.completion.as_deref());
    out
}

/// The extension being written: space-separated `key=value` pairs.
struct Extension<'a> {
    out: &'a mut String,
    first: bool,
}

impl Extension<'_> {
    fn add(&mut self, key: &str, value: &str) {
        if !std::mem::take(&mut self.first) {
            self.out.push(' ');
        }
        self.out.push_str(key);
        self.out.push('=');
        escape_extension(value, self.out);
    }

    /// `<key>Label=<label> <key>=<value>` when there is a value.
    fn custom(&mut self, key: &str, label: &str, value: Option<&str>) {
        if let Some(value) = value {
            self.add(&format!("{key}Label"), label);
            self.add(key, value);
        }
    }
}

/// A header field with `\` and `|` escaped and line breaks turned into spaces.
pub(super) fn escape_header(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' | '|' => {
                out.push('\\');
                out.push(c);
            }
            '\r' | '\n' => out.push(' '),
            c => out.push(c),
        }
    }
}

/// An extension value with `\` and `=` escaped and line breaks written `\n` / `\r`.
pub(super) fn escape_extension(value: &str, out: &mut String) {
    for c in value.chars() {
        match c {
            '\\' | '=' => {
                out.push('\\');
                out.push(c);
            }
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            c => out.push(c),
        }
    }
}
