//! Partitions: which entries a request may read. An entry belongs to the partition that wrote
//! it — the configured scope (key, user, team or department; a missing attribute falls back to
//! the key), the caller's information-barrier segments, and the virtual model — and no lookup
//! ever reads another partition, except the shared (L4) partition a sharing policy opens.

use smartflow_core::{DataLabels, RequestContext};

use crate::config::{ScopeBy, ShareWithin, SharingPolicy};

/// The partitions one request reads and writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Partitions {
    /// `team:payments`: what flushes and analytics name.
    pub(crate) scope: String,
    /// The request's own partition.
    pub(crate) own: String,
    /// The shared partition, when sharing applies to this request's principal and model (the
    /// prompt's sensitivity is decided separately).
    pub(crate) shared: Option<String>,
}

fn segments(labels: Option<&DataLabels>) -> String {
    labels.map(|l| l.segments.iter().map(String::as_str).collect::<Vec<_>>().join(",")).unwrap_or_default()
}

/// The scope string of a principal (`key:..`, `user:..`, `team:..`, `department:..`).
pub(crate) fn scope_of(ctx: &RequestContext, by: ScopeBy) -> String {
    let p = &ctx.principal;
    let attr = match by {
        ScopeBy::Key => None,
        ScopeBy::User => p.user.as_deref().map(|v| ("user", v)),
        ScopeBy::Team => p.team.as_deref().map(|v| ("team", v)),
        ScopeBy::Department => p.department.as_deref().map(|v| ("department", v)),
    };
    match attr {
        Some((name, value)) if !value.is_empty() => format!("{name}:{value}"),
        _ => format!("key:{}", p.key_id),
    }
}

impl Partitions {
    /// The partitions of `ctx` for `model`.
    pub(crate) fn of(ctx: &RequestContext, model: &str, by: ScopeBy, sharing: &SharingPolicy) -> Self {
        let labels = ctx.extensions.get::<DataLabels>();
        let seg = segments(labels);
        let scope = scope_of(ctx, by);
        let own = format!("{scope}\u{1f}seg={seg}\u{1f}m={model}");
        let shared = (sharing.enabled && sharing.models.as_ref().is_none_or(|m| m.contains(model)))
            .then(|| {
                let p = &ctx.principal;
                let within = match sharing.within {
                    ShareWithin::Segment => (!seg.is_empty()).then(|| format!("segment={seg}")),
                    ShareWithin::Department => p.department.as_deref().map(|d| format!("department={d}")),
                    ShareWithin::Team => p.team.as_deref().map(|t| format!("team={t}")),
                }?;
                Some(format!("shared:{within}\u{1f}seg={seg}\u{1f}m={model}"))
            })
            .flatten();
        Self { scope, own, shared }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smartflow_core::{Endpoint, Principal};

    use super::*;

    fn ctx(key: &str, team: Option<&str>, dept: Option<&str>, segs: &[&str]) -> RequestContext {
        let mut p = Principal::new(key);
        p.team = team.map(str::to_owned);
        p.department = dept.map(str::to_owned);
        let mut c = RequestContext::new("r", Arc::new(p), Endpoint::ChatCompletions);
        DataLabels::of(&mut c.extensions).segments = segs.iter().map(|s| (*s).to_owned()).collect();
        c
    }

    #[test]
    fn scopes_fall_back_to_the_key_and_segments_split_partitions() {
        let none = SharingPolicy::default();
        let a = Partitions::of(&ctx("k1", Some("t"), None, &["a"]), "m", ScopeBy::Team, &none);
        let b = Partitions::of(&ctx("k2", Some("t"), None, &["b"]), "m", ScopeBy::Team, &none);
        assert_eq!(a.scope, "team:t");
        assert_ne!(a.own, b.own, "other segment, other partition");
        let c = Partitions::of(&ctx("k3", None, None, &["a"]), "m", ScopeBy::Team, &none);
        assert_eq!(c.scope, "key:k3");
        assert!(a.shared.is_none());
    }

    #[test]
    fn sharing_needs_a_segment_and_an_allowed_model() {
        let mut sharing = SharingPolicy { enabled: true, ..SharingPolicy::default() };
        let a = Partitions::of(&ctx("k1", None, None, &["a"]), "m", ScopeBy::Key, &sharing);
        let b = Partitions::of(&ctx("k2", None, None, &["a"]), "m", ScopeBy::Key, &sharing);
        assert!(a.shared.is_some() && a.shared == b.shared && a.own != b.own);
        let none = Partitions::of(&ctx("k1", None, None, &[]), "m", ScopeBy::Key, &sharing);
        assert!(none.shared.is_none());
        sharing.models = Some(["other".to_owned()].into());
        assert!(Partitions::of(&ctx("k1", None, None, &["a"]), "m", ScopeBy::Key, &sharing).shared.is_none());
    }
}
