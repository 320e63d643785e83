//! `LimitRule`: which requests a set of limits applies to (its subjects) and how they are
//! counted apart (its scope: per key, per user, per team and model...).

use std::collections::BTreeSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};
use smartflow_core::{Enforcement, Principal};

use super::spec::Limit;

/// An attribute a rule counts separately by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ScopeAttr {
    /// The credential.
    Key,
    /// The end user.
    User,
    /// The team.
    Team,
    /// The department.
    Department,
    /// The model tier.
    Tier,
    /// The virtual model requested.
    Model,
}

impl ScopeAttr {
    /// A stable label.
    pub fn label(self) -> &'static str {
        match self {
            Self::Key => "key",
            Self::User => "user",
            Self::Team => "team",
            Self::Department => "department",
            Self::Tier => "tier",
            Self::Model => "model",
        }
    }

    /// Parses a label.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "key" => Self::Key,
            "user" => Self::User,
            "team" => Self::Team,
            "department" => Self::Department,
            "tier" => Self::Tier,
            "model" => Self::Model,
            _ => return None,
        })
    }

    /// The principal's (or request's) value of this attribute.
    pub fn value<'a>(self, p: &'a Principal, model: &'a str) -> Option<&'a str> {
        match self {
            Self::Key => Some(p.key_id.as_str()),
            Self::User => p.user.as_deref(),
            Self::Team => p.team.as_deref(),
            Self::Department => p.department.as_deref(),
            Self::Tier => p.tier.as_deref(),
            Self::Model => Some(model),
        }
    }
}

/// Which requests a rule applies to; an empty set means "any".
///
/// `models` filters the LLM hooks only ([`Subjects::matches`]) and `tools` the MCP tool hooks
/// only ([`Subjects::matches_tool`]); the principal's sets filter both.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Subjects {
    /// Key ids.
    pub keys: BTreeSet<String>,
    /// Users.
    pub users: BTreeSet<String>,
    /// Teams.
    pub teams: BTreeSet<String>,
    /// Departments.
    pub departments: BTreeSet<String>,
    /// Tiers.
    pub tiers: BTreeSet<String>,
    /// Virtual models (LLM hooks only).
    pub models: BTreeSet<String>,
    /// MCP tools, as `server/tool` or `server/*` (MCP tool hooks only).
    pub tools: BTreeSet<String>,
}

/// Whether `set` is empty or holds `v`.
fn one(set: &BTreeSet<String>, v: Option<&str>) -> bool {
    set.is_empty() || v.is_some_and(|v| set.contains(v))
}

impl Subjects {
    /// Whether a request by `p` for `model` is a subject (`tools` is not consulted).
    pub fn matches(&self, p: &Principal, model: &str) -> bool {
        self.matches_principal(p) && one(&self.models, Some(model))
    }

    /// Whether a call by `p` of `tool` on MCP server `server` is a subject: `tools` holds
    /// `server/tool` or `server/*`, or is empty (`models` is not consulted).
    pub fn matches_tool(&self, p: &Principal, server: &str, tool: &str) -> bool {
        self.matches_principal(p) && (self.tools.is_empty() || tool_listed(&self.tools, server, tool))
    }

    fn matches_principal(&self, p: &Principal) -> bool {
        one(&self.keys, Some(&p.key_id))
            && one(&self.users, p.user.as_deref())
            && one(&self.teams, p.team.as_deref())
            && one(&self.departments, p.department.as_deref())
            && one(&self.tiers, p.tier.as_deref())
    }
}

/// Whether `tools` (entries `server/tool` or `server/*`) lists `tool` on `server`.
pub(crate) fn tool_listed(tools: &BTreeSet<String>, server: &str, tool: &str) -> bool {
    tools.iter().any(|entry| entry.split_once('/').is_some_and(|(s, t)| s == server && (t == "*" || t == tool)))
}

/// A named set of limits, counted per scope, for its subjects.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitRule {
    /// The rule id recorded in decisions and audit (`team-tpm`).
    pub id: String,
    /// Counted separately per these attributes; empty: one counter for all subjects.
    pub scope: Vec<ScopeAttr>,
    /// Which requests it applies to.
    pub subjects: Subjects,
    /// The limits.
    pub limits: Vec<Limit>,
    /// Enforce, or only record "would have blocked".
    pub enforcement: Enforcement,
}

impl LimitRule {
    /// The counter scope for a request by `p` for `model` (`team=red,model=gpt-4o`), or `None`
    /// when `p` is not a subject. A principal without a scoped attribute (no team, say) is
    /// counted by its key (`team=?key:k1`), so a missing attribute never escapes a limit.
    pub fn scope_of(&self, p: &Principal, model: &str) -> Option<String> {
        if !self.subjects.matches(p, model) {
            return None;
        }
        let mut out = String::new();
        for (i, attr) in self.scope.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = match attr.value(p, model) {
                Some(value) => write!(out, "{}={value}", attr.label()),
                None => write!(out, "{}=?key:{}", attr.label(), p.key_id),
            };
        }
        Some(out)
    }

    /// Describes the scope for people (`team red`), for denial messages.
    pub fn describe(&self, p: &Principal, model: &str) -> String {
        if self.scope.is_empty() {
            return "everyone".to_owned();
        }
        let parts: Vec<String> =
            self.scope.iter().filter_map(|a| a.value(p, model).map(|v| format!("{} {v}", a.label()))).collect();
        parts.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::governance::spec::{Metric, Period};

    fn principal() -> Principal {
        let mut p = Principal::new("k1");
        p.team = Some("red".into());
        p
    }

    #[test]
    fn scope_and_subjects_decide_the_counter() {
        let mut rule = LimitRule {
            id: "r".into(),
            scope: vec![ScopeAttr::Team, ScopeAttr::Model],
            subjects: Subjects::default(),
            limits: vec![Limit::rate(Metric::Tokens, Period::Minute, 10)],
            enforcement: Enforcement::Enforce,
        };
        assert_eq!(rule.scope_of(&principal(), "m").as_deref(), Some("team=red,model=m"));
        rule.scope = vec![ScopeAttr::Department];
        let by_key = rule.scope_of(&principal(), "m");
        assert_eq!(by_key.as_deref(), Some("department=?key:k1"), "no department: counted by key");
        rule.scope = vec![];
        rule.subjects.models.insert("other".into());
        assert_eq!(rule.scope_of(&principal(), "m"), None);
        assert_eq!(rule.scope_of(&principal(), "other").as_deref(), Some(""));
    }

    #[test]
    fn models_filter_llm_hooks_and_tools_filter_mcp_hooks() {
        let p = principal();
        let mut s = Subjects { tools: ["hr-db/*".to_owned(), "crm/lookup".to_owned()].into(), ..Subjects::default() };
        assert!(s.matches_tool(&p, "hr-db", "query") && s.matches_tool(&p, "crm", "lookup"));
        assert!(!s.matches_tool(&p, "crm", "delete") && !s.matches_tool(&p, "hr", "query"));
        assert!(s.matches(&p, "any-model"), "tools never filter the LLM hooks");
        s.models.insert("gpt".into());
        assert!(!s.matches(&p, "other") && s.matches_tool(&p, "crm", "lookup"), "models never filter tools");
        s.tools.clear();
        assert!(s.matches_tool(&p, "any", "thing"), "an empty set matches every tool");
        s.teams.insert("blue".into());
        assert!(!s.matches_tool(&p, "any", "thing"), "the principal's sets filter tools too");
    }
}
