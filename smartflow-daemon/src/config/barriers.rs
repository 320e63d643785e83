//! Validation of `[barriers]`: segments (membership, classifiers and the MCP tools they own)
//! and the barriers between them.

use std::collections::BTreeSet;

use smartflow_core::Enforcement;
use smartflow_policy::compliance::barrier::Barrier;

use super::ConfigError;
use super::raw::RawConfig;
use super::validate::Ctx;

/// One segment as configured.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SegmentConfig {
    /// Name.
    pub name: String,
    /// Member departments.
    pub departments: BTreeSet<String>,
    /// Member groups.
    pub groups: BTreeSet<String>,
    /// Classifier regexes.
    pub patterns: Vec<String>,
    /// Classifier keywords.
    pub keywords: Vec<String>,
    /// MCP tools the segment owns (`server/tool` or `server/*`).
    pub tools: BTreeSet<String>,
}

/// `[barriers]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BarriersConfig {
    /// Segments.
    pub segments: Vec<SegmentConfig>,
    /// Barriers (pairs; a rule naming three segments makes three pairs).
    pub barriers: Vec<Barrier>,
}

pub(super) fn barriers(c: &Ctx<'_>, raw: &RawConfig) -> Result<BarriersConfig, ConfigError> {
    let mut segments = Vec::new();
    let mut names = BTreeSet::new();
    for (i, s) in raw.barriers.segments.iter().enumerate() {
        let key = format!("barriers.segments[{i}]");
        if s.name.get_ref().is_empty() || !names.insert(s.name.get_ref().clone()) {
            return c.err(s.name.span(), &format!("{key}.name"), "segment names must be unique and non-empty");
        }
        if s.departments.is_empty() && s.groups.is_empty() {
            return c.err(s.name.span(), &key, "a segment needs departments or groups (its members)");
        }
        for p in &s.patterns {
            regex::Regex::new(p.get_ref()).or_else(|e| c.err(p.span(), &format!("{key}.patterns"), e))?;
        }
        let mut tools = BTreeSet::new();
        for t in &s.tools {
            tools.insert(super::guardrails::tool_entry(c, t, &format!("{key}.tools"))?);
        }
        segments.push(SegmentConfig {
            name: s.name.get_ref().clone(),
            departments: s.departments.iter().cloned().collect(),
            groups: s.groups.iter().cloned().collect(),
            patterns: s.patterns.iter().map(|p| p.get_ref().clone()).collect(),
            keywords: s.keywords.clone(),
            tools,
        });
    }
    let mut barriers = Vec::new();
    for (i, r) in raw.barriers.rules.iter().enumerate() {
        let key = format!("barriers.rules[{i}]");
        let list = r.segments.get_ref();
        if list.len() < 2 || list.iter().any(|n| !names.contains(n)) {
            return c.err(r.segments.span(), &format!("{key}.segments"), "name two or more configured segments");
        }
        let enforcement = match r.enforcement.as_ref().map(|e| e.get_ref().as_str()) {
            None | Some("enforce") => Enforcement::Enforce,
            Some("audit") => Enforcement::Audit,
            Some(_) => {
                let span = r.enforcement.as_ref().map_or(0..0, toml::Spanned::span);
                return c.err(span, &format!("{key}.enforcement"), "must be \"enforce\" or \"audit\"");
            }
        };
        for (x, a) in list.iter().enumerate() {
            for b in list.iter().skip(x + 1) {
                barriers.push(Barrier { id: r.id.get_ref().clone(), a: a.clone(), b: b.clone(), enforcement });
            }
        }
    }
    Ok(BarriersConfig { segments, barriers })
}
