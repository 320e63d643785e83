//! Validation of `[compliance]` and `[[guardrails]]`: each rule names its hooks, mode,
//! enforcement, subjects and its type's settings (`pii` actions, `deny_list` patterns,
//! `prompt_injection` threshold, `size_limit` limits, `json_schema` schema).

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
    /// Prompt-injection heuristics on `llm_input`.
    PromptInjection {
        /// Rule id.
        id: String,
        /// Lowest score refused.
        threshold: f32,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
    /// Prompt and answer size limits.
    SizeLimit {
        /// Rule id.
        id: String,
        /// Most characters of message text in a request (`llm_input`).
        max_prompt_chars: Option<usize>,
        /// Most messages in a request (`llm_input`).
        max_messages: Option<usize>,
        /// Most characters in an answer (`llm_output`).
        max_output_chars: Option<usize>,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
    /// Answers must be JSON valid against a schema (`llm_output`).
    JsonSchema {
        /// Rule id.
        id: String,
        /// The schema document (already checked to compile).
        schema: serde_json::Value,
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
    foreign_settings(c, g, key)?;
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
        "prompt_injection" => {
            only_hooks(c, g, key, input && !output, "llm_input")?;
            not_mutate(c, g, key)?;
            let threshold = match &g.threshold {
                None => smartflow_policy::compliance::INJECTION_THRESHOLD,
                Some(t) if (0.0..=1.0).contains(t.get_ref()) => *t.get_ref() as f32,
                Some(t) => return c.err(t.span(), &format!("{key}.threshold"), "between 0 and 1"),
            };
            Ok(Guardrail::PromptInjection { id, threshold, enforcement, subjects })
        }
        "size_limit" => {
            not_mutate(c, g, key)?;
            let limit =
                |v: &Option<toml::Spanned<i64>>, field: &str, hook: bool| -> Result<Option<usize>, ConfigError> {
                    let Some(v) = v else { return Ok(None) };
                    let k = format!("{key}.{field}");
                    if !hook {
                        let needs = if field == "max_output_chars" { "llm_output" } else { "llm_input" };
                        return c.err(v.span(), &k, format!("needs the {needs} hook"));
                    }
                    match usize::try_from(*v.get_ref()) {
                        Ok(n) if n > 0 => Ok(Some(n)),
                        _ => c.err(v.span(), &k, "a positive integer"),
                    }
                };
            let max_prompt_chars = limit(&g.max_prompt_chars, "max_prompt_chars", input)?;
            let max_messages = limit(&g.max_messages, "max_messages", input)?;
            let max_output_chars = limit(&g.max_output_chars, "max_output_chars", output)?;
            if max_prompt_chars.is_none() && max_messages.is_none() && max_output_chars.is_none() {
                return c.err(
                    g.id.span(),
                    key,
                    "a size_limit needs max_prompt_chars, max_messages or max_output_chars",
                );
            }
            Ok(Guardrail::SizeLimit { id, max_prompt_chars, max_messages, max_output_chars, enforcement, subjects })
        }
        "json_schema" => {
            only_hooks(c, g, key, output && !input, "llm_output")?;
            not_mutate(c, g, key)?;
            let (schema, span, field) = match (&g.schema, &g.schema_file) {
                (Some(table), None) => {
                    let v = serde_json::to_value(table.get_ref())
                        .or_else(|e| c.err(table.span(), &format!("{key}.schema"), e))?;
                    (v, table.span(), "schema")
                }
                (None, Some(file)) => {
                    let path = std::path::Path::new(file.get_ref());
                    let path = if path.is_absolute() {
                        path.to_path_buf()
                    } else {
                        c.path.parent().unwrap_or_else(|| std::path::Path::new(".")).join(path)
                    };
                    let k = format!("{key}.schema_file");
                    let text = std::fs::read_to_string(&path)
                        .or_else(|e| c.err(file.span(), &k, format!("{}: {e}", path.display())))?;
                    let v = serde_json::from_str(&text)
                        .or_else(|e| c.err(file.span(), &k, format!("{}: not JSON: {e}", path.display())))?;
                    (v, file.span(), "schema_file")
                }
                _ => return c.err(g.id.span(), key, "a json_schema needs exactly one of schema or schema_file"),
            };
            smartflow_policy::compliance::JsonSchema::new(id.clone(), schema.clone())
                .or_else(|e| c.err(span, &format!("{key}.{field}"), e))?;
            Ok(Guardrail::JsonSchema { id, schema, enforcement, subjects })
        }
        _ => c.err(
            g.kind.span(),
            &format!("{key}.type"),
            "must be \"pii\", \"deny_list\", \"prompt_injection\", \"size_limit\" or \"json_schema\"",
        ),
    }
}

/// The hooks of a type that runs on one hook only.
fn only_hooks(c: &Ctx<'_>, g: &RawGuardrail, key: &str, ok: bool, hook: &str) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        c.err(g.hooks.span(), &format!("{key}.hooks"), format!("a {} runs on [\"{hook}\"] only", g.kind.get_ref()))
    }
}

/// Types that only validate refuse an explicit `mode = "mutate"`.
fn not_mutate(c: &Ctx<'_>, g: &RawGuardrail, key: &str) -> Result<(), ConfigError> {
    match &g.mode {
        Some(m) if m.get_ref() == "mutate" => {
            c.err(m.span(), &format!("{key}.mode"), format!("a {} only validates", g.kind.get_ref()))
        }
        _ => Ok(()),
    }
}

/// Settings of one type given to another are mistakes, not silently ignored.
fn foreign_settings(c: &Ctx<'_>, g: &RawGuardrail, key: &str) -> Result<(), ConfigError> {
    let kind = g.kind.get_ref().as_str();
    let spans: [(&str, &str, Option<std::ops::Range<usize>>); 6] = [
        ("threshold", "prompt_injection", g.threshold.as_ref().map(toml::Spanned::span)),
        ("max_prompt_chars", "size_limit", g.max_prompt_chars.as_ref().map(toml::Spanned::span)),
        ("max_messages", "size_limit", g.max_messages.as_ref().map(toml::Spanned::span)),
        ("max_output_chars", "size_limit", g.max_output_chars.as_ref().map(toml::Spanned::span)),
        ("schema", "json_schema", g.schema.as_ref().map(toml::Spanned::span)),
        ("schema_file", "json_schema", g.schema_file.as_ref().map(toml::Spanned::span)),
    ];
    for (field, owner, span) in spans {
        if let Some(span) = span
            && owner != kind
        {
            return c.err(span, &format!("{key}.{field}"), format!("only for type = \"{owner}\""));
        }
    }
    Ok(())
}
