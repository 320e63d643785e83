//! Validation of `[compliance]` and `[[guardrails]]`: each rule names its hooks, mode,
//! enforcement, subjects and its type's settings (`pii` actions, `deny_list` patterns).

use std::collections::{BTreeSet, HashMap};

use secrecy::ExposeSecret as _;
use smartflow_core::Enforcement;
use smartflow_policy::compliance::pii::EntityKind;
use smartflow_policy::compliance::redact::PiiAction;
use smartflow_policy::governance::rules::Subjects;

use super::raw::{RawConfig, RawGuardrail};
use super::validate::Ctx;
use super::{ConfigError, secret};

/// Actions per kind and the default, for one hook.
pub type Actions = (HashMap<EntityKind, PiiAction>, PiiAction);

/// One validated guardrail.
#[derive(Debug, Clone)]
pub enum Guardrail {
    /// PII and secret detection.
    Pii {
        /// Rule id.
        id: String,
        /// `llm_input` actions.
        input: Option<Actions>,
        /// `llm_output` actions.
        output: Option<Actions>,
        /// Lowest detection score acted on.
        min_score: f32,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
    /// Regex and keyword deny list.
    DenyList {
        /// Rule id.
        id: String,
        /// Regexes (keywords already turned into whole-word, case-insensitive regexes).
        patterns: Vec<String>,
        /// On `llm_input`.
        input: bool,
        /// On `llm_output`.
        output: bool,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
}

/// `[compliance]` and `[[guardrails]]`.
#[derive(Debug, Clone, Default)]
pub struct GuardrailsConfig {
    /// The key of the `hash` action (`None`: a random key per process).
    pub hash_key: Option<Vec<u8>>,
    /// The rules, in order.
    pub rules: Vec<Guardrail>,
}

pub(super) fn guardrails(c: &Ctx<'_>, raw: &RawConfig) -> Result<GuardrailsConfig, ConfigError> {
    let hash_key = match &raw.compliance.hash_key {
        None => None,
        Some(k) => {
            let s = secret::resolve(c.path, k.get_ref()).or_else(|e| c.err(k.span(), "compliance.hash_key", e))?;
            Some(super::audit::key_bytes(s.expose_secret()))
        }
    };
    let mut ids = BTreeSet::new();
    let mut rules = Vec::new();
    for (i, g) in raw.guardrails.iter().enumerate() {
        let key = format!("guardrails[{i}]");
        if g.id.get_ref().is_empty() || !ids.insert(g.id.get_ref().clone()) {
            return c.err(g.id.span(), &format!("{key}.id"), "guardrail ids must be unique and non-empty");
        }
        rules.push(rule(c, g, &key)?);
    }
    Ok(GuardrailsConfig { hash_key, rules })
}

fn rule(c: &Ctx<'_>, g: &RawGuardrail, key: &str) -> Result<Guardrail, ConfigError> {
    let mut input = false;
    let mut output = false;
    for hook in g.hooks.get_ref() {
        match hook.as_str() {
            "llm_input" => input = true,
            "llm_output" => output = true,
            "mcp_pre_tool" | "mcp_post_tool" => {
                return c.err(
                    g.hooks.span(),
                    &format!("{key}.hooks"),
                    "the MCP gateway is not available yet; use llm_input or llm_output",
                );
            }
            _ => return c.err(g.hooks.span(), &format!("{key}.hooks"), "each of \"llm_input\", \"llm_output\""),
        }
    }
    if !input && !output {
        return c.err(g.hooks.span(), &format!("{key}.hooks"), "name at least one hook");
    }
    let enforcement = match g.enforcement.as_ref().map(|e| e.get_ref().as_str()) {
        None | Some("enforce") => Enforcement::Enforce,
        Some("audit") => Enforcement::Audit,
        Some(_) => {
            let span = g.enforcement.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.enforcement"), "must be \"enforce\" or \"audit\"");
        }
    };
    let mutate = match g.mode.as_ref().map(|m| m.get_ref().as_str()) {
        None | Some("mutate") => true,
        Some("validate") => false,
        Some(_) => {
            let span = g.mode.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.mode"), "must be \"validate\" or \"mutate\"");
        }
    };
    let set = |v: &Vec<String>| v.iter().cloned().collect::<BTreeSet<_>>();
    let subjects = Subjects {
        keys: set(&g.keys),
        users: set(&g.users),
        teams: set(&g.teams),
        departments: set(&g.departments),
        tiers: BTreeSet::new(),
        models: set(&g.models),
    };
    let id = g.id.get_ref().clone();
    match g.kind.get_ref().as_str() {
        "pii" => {
            let actions = |table: &std::collections::BTreeMap<String, toml::Spanned<String>>,
                           field: &str|
             -> Result<Actions, ConfigError> {
                let mut map = HashMap::new();
                let mut default = if mutate { PiiAction::Redact } else { PiiAction::Block };
                for (name, action) in table {
                    let a = match action.get_ref().as_str() {
                        "block" => PiiAction::Block,
                        "redact" => PiiAction::Redact,
                        "hash" => PiiAction::Hash,
                        "tokenize" => PiiAction::Tokenize,
                        "audit" => PiiAction::Audit,
                        _ => {
                            return c.err(
                                action.span(),
                                &format!("{key}.{field}.{name}"),
                                "block, redact, hash, tokenize or audit",
                            );
                        }
                    };
                    if !mutate && !matches!(a, PiiAction::Block | PiiAction::Audit) {
                        return c.err(
                            action.span(),
                            &format!("{key}.{field}.{name}"),
                            "mode = \"validate\" allows only block and audit",
                        );
                    }
                    if name == "default" {
                        default = a;
                    } else {
                        let Some(kind) = EntityKind::parse(name) else {
                            return c.err(action.span(), &format!("{key}.{field}.{name}"), "not an entity kind (EMAIL, PHONE, CREDIT_CARD, IBAN, US_SSN, IP_ADDRESS, API_KEY, PRIVATE_KEY, JWT, URL_CREDENTIALS, DATE_OF_BIRTH, PASSPORT, PERSON, ADDRESS)");
                        };
                        map.insert(kind, a);
                    }
                }
                Ok((map, default))
            };
            let min_score = match &g.min_score {
                None => 0.5,
                Some(s) if (0.0..=1.0).contains(s.get_ref()) => *s.get_ref() as f32,
                Some(s) => return c.err(s.span(), &format!("{key}.min_score"), "between 0 and 1"),
            };
            Ok(Guardrail::Pii {
                id,
                input: input.then(|| actions(&g.input_actions, "input_actions")).transpose()?,
                output: output.then(|| actions(&g.output_actions, "output_actions")).transpose()?,
                min_score,
                enforcement,
                subjects,
            })
        }
        "deny_list" => {
            let mut patterns: Vec<String> = Vec::new();
            for p in &g.patterns {
                regex::Regex::new(p.get_ref()).or_else(|e| c.err(p.span(), &format!("{key}.patterns"), e))?;
                patterns.push(p.get_ref().clone());
            }
            patterns.extend(g.keywords.iter().map(|k| format!(r"(?i)\b{}\b", regex::escape(k))));
            if patterns.is_empty() {
                return c.err(g.id.span(), key, "a deny_list needs patterns or keywords");
            }
            Ok(Guardrail::DenyList { id, patterns, input, output, enforcement, subjects })
        }
        _ => c.err(g.kind.span(), &format!("{key}.type"), "must be \"pii\" or \"deny_list\""),
    }
}
