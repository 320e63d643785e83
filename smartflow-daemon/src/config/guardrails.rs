//! Validation of `[compliance]` and `[[guardrails]]`: each rule names its hooks (`llm_input`,
//! `llm_output`, `mcp_pre_tool`, `mcp_post_tool`), mode, enforcement, subjects (`models` filter
//! the LLM hooks, `tools` the MCP hooks) and its type's settings (`pii` actions, `deny_list`
//! patterns, `prompt_injection` threshold, `size_limit` limits, `json_schema` schema).

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

/// A `*_actions` table as written.
type RawActions = std::collections::BTreeMap<String, toml::Spanned<String>>;

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
        /// `mcp_pre_tool` actions (tool arguments).
        pre_tool: Option<Actions>,
        /// `mcp_post_tool` actions (tool results).
        post_tool: Option<Actions>,
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
        /// On `mcp_pre_tool` (tool arguments).
        pre_tool: bool,
        /// On `mcp_post_tool` (tool results).
        post_tool: bool,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
    /// Prompt-injection heuristics on `llm_input` and/or `mcp_post_tool`.
    PromptInjection {
        /// Rule id.
        id: String,
        /// Lowest score refused.
        threshold: f32,
        /// On `llm_input` (the caller's messages).
        input: bool,
        /// On `mcp_post_tool` (tool results).
        post_tool: bool,
        /// Enforce or audit.
        enforcement: Enforcement,
        /// Which requests.
        subjects: Subjects,
    },
    /// Prompt, answer and tool-call size limits.
    SizeLimit {
        /// Rule id.
        id: String,
        /// Most characters of message text in a request (`llm_input`).
        max_prompt_chars: Option<usize>,
        /// Most messages in a request (`llm_input`).
        max_messages: Option<usize>,
        /// Most characters in an answer (`llm_output`).
        max_output_chars: Option<usize>,
        /// Most characters of a tool call's arguments as compact JSON (`mcp_pre_tool`).
        max_tool_argument_chars: Option<usize>,
        /// Most characters of a tool's result content as compact JSON (`mcp_post_tool`).
        max_tool_result_chars: Option<usize>,
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

/// Checks one MCP tool subject (`server/tool` or `server/*`) and returns it.
pub(super) fn tool_entry(c: &Ctx<'_>, entry: &toml::Spanned<String>, key: &str) -> Result<String, ConfigError> {
    let text = entry.get_ref();
    let ok = text.split_once('/').is_some_and(|(server, tool)| {
        let clean = |s: &str| !s.is_empty() && !s.contains('*') && !s.chars().any(char::is_whitespace);
        clean(server) && (tool == "*" || clean(tool))
    });
    if ok {
        Ok(text.clone())
    } else {
        c.err(entry.span(), key, "a tool is `server/tool` or `server/*` (every tool of that MCP server)")
    }
}

fn rule(c: &Ctx<'_>, g: &RawGuardrail, key: &str) -> Result<Guardrail, ConfigError> {
    let mut input = false;
    let mut output = false;
    let mut pre_tool = false;
    let mut post_tool = false;
    for hook in g.hooks.get_ref() {
        match hook.as_str() {
            "llm_input" => input = true,
            "llm_output" => output = true,
            "mcp_pre_tool" => pre_tool = true,
            "mcp_post_tool" => post_tool = true,
            _ => {
                return c.err(
                    g.hooks.span(),
                    &format!("{key}.hooks"),
                    "each of \"llm_input\", \"llm_output\", \"mcp_pre_tool\", \"mcp_post_tool\"",
                );
            }
        }
    }
    if !input && !output && !pre_tool && !post_tool {
        return c.err(g.hooks.span(), &format!("{key}.hooks"), "name at least one hook");
    }
    let llm = input || output;
    let mcp = pre_tool || post_tool;
    let mut tools = BTreeSet::new();
    for t in &g.tools {
        tools.insert(tool_entry(c, t, &format!("{key}.tools"))?);
    }
    if let Some(t) = g.tools.first()
        && !mcp
    {
        return c.err(t.span(), &format!("{key}.tools"), "tools only filter the mcp_pre_tool and mcp_post_tool hooks");
    }
    if !g.models.is_empty() && !llm {
        return c.err(
            g.hooks.span(),
            &format!("{key}.models"),
            "models only filter the llm_input and llm_output hooks",
        );
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
        tools,
    };
    let id = g.id.get_ref().clone();
    foreign_settings(c, g, key)?;
    match g.kind.get_ref().as_str() {
        "pii" => {
            let actions = |table: &RawActions, field: &str| -> Result<Actions, ConfigError> {
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
            // The tool actions default to the LLM ones: arguments like prompts, results like answers.
            let tool_actions = |hook: bool,
                                own: &Option<toml::Spanned<RawActions>>,
                                field: &str,
                                hook_name: &str,
                                fallback: (&RawActions, &str)|
             -> Result<Option<Actions>, ConfigError> {
                match (own, hook) {
                    (Some(t), false) => {
                        c.err(t.span(), &format!("{key}.{field}"), format!("needs the {hook_name} hook"))
                    }
                    (_, false) => Ok(None),
                    (Some(t), true) => actions(t.get_ref(), field).map(Some),
                    (None, true) => actions(fallback.0, fallback.1).map(Some),
                }
            };
            let pre_tool = tool_actions(
                pre_tool,
                &g.pre_tool_actions,
                "pre_tool_actions",
                "mcp_pre_tool",
                (&g.input_actions, "input_actions"),
            )?;
            let post_tool = tool_actions(
                post_tool,
                &g.post_tool_actions,
                "post_tool_actions",
                "mcp_post_tool",
                (&g.output_actions, "output_actions"),
            )?;
            Ok(Guardrail::Pii {
                id,
                input: input.then(|| actions(&g.input_actions, "input_actions")).transpose()?,
                output: output.then(|| actions(&g.output_actions, "output_actions")).transpose()?,
                pre_tool,
                post_tool,
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
            Ok(Guardrail::DenyList { id, patterns, input, output, pre_tool, post_tool, enforcement, subjects })
        }
        "prompt_injection" => {
            only_hooks(c, g, key, !output && !pre_tool, &["llm_input", "mcp_post_tool"])?;
            not_mutate(c, g, key)?;
            let threshold = match &g.threshold {
                None => smartflow_policy::compliance::INJECTION_THRESHOLD,
                Some(t) if (0.0..=1.0).contains(t.get_ref()) => *t.get_ref() as f32,
                Some(t) => return c.err(t.span(), &format!("{key}.threshold"), "between 0 and 1"),
            };
            Ok(Guardrail::PromptInjection { id, threshold, input, post_tool, enforcement, subjects })
        }
        "size_limit" => {
            not_mutate(c, g, key)?;
            let limit = |v: &Option<toml::Spanned<i64>>,
                         field: &str,
                         hook: bool,
                         needs: &str|
             -> Result<Option<usize>, ConfigError> {
                let Some(v) = v else { return Ok(None) };
                let k = format!("{key}.{field}");
                if !hook {
                    return c.err(v.span(), &k, format!("needs the {needs} hook"));
                }
                match usize::try_from(*v.get_ref()) {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => c.err(v.span(), &k, "a positive integer"),
                }
            };
            let max_prompt_chars = limit(&g.max_prompt_chars, "max_prompt_chars", input, "llm_input")?;
            let max_messages = limit(&g.max_messages, "max_messages", input, "llm_input")?;
            let max_output_chars = limit(&g.max_output_chars, "max_output_chars", output, "llm_output")?;
            let max_tool_argument_chars =
                limit(&g.max_tool_argument_chars, "max_tool_argument_chars", pre_tool, "mcp_pre_tool")?;
            let max_tool_result_chars =
                limit(&g.max_tool_result_chars, "max_tool_result_chars", post_tool, "mcp_post_tool")?;
            if [max_prompt_chars, max_messages, max_output_chars, max_tool_argument_chars, max_tool_result_chars]
                .iter()
                .all(Option::is_none)
            {
                return c.err(
                    g.id.span(),
                    key,
                    "a size_limit needs max_prompt_chars, max_messages, max_output_chars, \
                     max_tool_argument_chars or max_tool_result_chars",
                );
            }
            Ok(Guardrail::SizeLimit {
                id,
                max_prompt_chars,
                max_messages,
                max_output_chars,
                max_tool_argument_chars,
                max_tool_result_chars,
                enforcement,
                subjects,
            })
        }
        "json_schema" => {
            only_hooks(c, g, key, output && !input && !mcp, &["llm_output"])?;
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

/// The hooks of a type that runs on some hooks only.
fn only_hooks(c: &Ctx<'_>, g: &RawGuardrail, key: &str, ok: bool, hooks: &[&str]) -> Result<(), ConfigError> {
    if ok {
        Ok(())
    } else {
        let list: Vec<String> = hooks.iter().map(|h| format!("\"{h}\"")).collect();
        c.err(
            g.hooks.span(),
            &format!("{key}.hooks"),
            format!("a {} runs on [{}] only", g.kind.get_ref(), list.join(", ")),
        )
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
    let spans: [(&str, &str, Option<std::ops::Range<usize>>); 10] = [
        ("threshold", "prompt_injection", g.threshold.as_ref().map(toml::Spanned::span)),
        ("max_prompt_chars", "size_limit", g.max_prompt_chars.as_ref().map(toml::Spanned::span)),
        ("max_messages", "size_limit", g.max_messages.as_ref().map(toml::Spanned::span)),
        ("max_output_chars", "size_limit", g.max_output_chars.as_ref().map(toml::Spanned::span)),
        ("max_tool_argument_chars", "size_limit", g.max_tool_argument_chars.as_ref().map(toml::Spanned::span)),
        ("max_tool_result_chars", "size_limit", g.max_tool_result_chars.as_ref().map(toml::Spanned::span)),
        ("pre_tool_actions", "pii", g.pre_tool_actions.as_ref().map(toml::Spanned::span)),
        ("post_tool_actions", "pii", g.post_tool_actions.as_ref().map(toml::Spanned::span)),
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

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::Config;
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("g.toml"), text)
    }

    const MCP: &str = r#"
[[guardrails]]
id = "pii"
type = "pii"
hooks = ["llm_input", "mcp_pre_tool", "mcp_post_tool"]
tools = ["crm/*", "hr-db/query"]
input_actions = { EMAIL = "tokenize" }
post_tool_actions = { CREDIT_CARD = "block", default = "audit" }

[[guardrails]]
id = "deny"
type = "deny_list"
hooks = ["mcp_pre_tool"]
keywords = ["project x"]

[[guardrails]]
id = "inj"
type = "prompt_injection"
hooks = ["mcp_post_tool"]

[[guardrails]]
id = "size"
type = "size_limit"
hooks = ["llm_input", "mcp_pre_tool", "mcp_post_tool"]
max_prompt_chars = 1000
max_tool_argument_chars = 200
max_tool_result_chars = 5000

[[barriers.segments]]
name = "hr"
departments = ["hr"]
tools = ["hr-db/*"]
"#;

    #[test]
    fn mcp_hooks_and_tool_keys_are_accepted() {
        let c = parse(MCP).unwrap();
        let Guardrail::Pii { input, output, pre_tool, post_tool, subjects, .. } = &c.guardrails.rules[0] else {
            panic!("a pii rule")
        };
        assert!(output.is_none());
        assert_eq!(pre_tool, input, "pre_tool_actions default to input_actions");
        let (post, default) = post_tool.as_ref().unwrap();
        assert_eq!((post.get(&EntityKind::CreditCard), *default), (Some(&PiiAction::Block), PiiAction::Audit));
        assert_eq!(subjects.tools, BTreeSet::from(["crm/*".to_owned(), "hr-db/query".to_owned()]));
        assert!(matches!(
            c.guardrails.rules[1],
            Guardrail::DenyList { input: false, output: false, pre_tool: true, post_tool: false, .. }
        ));
        assert!(matches!(c.guardrails.rules[2], Guardrail::PromptInjection { input: false, post_tool: true, .. }));
        assert!(matches!(
            c.guardrails.rules[3],
            Guardrail::SizeLimit {
                max_prompt_chars: Some(1000),
                max_tool_argument_chars: Some(200),
                max_tool_result_chars: Some(5000),
                ..
            }
        ));
        assert_eq!(c.barriers.segments[0].tools, BTreeSet::from(["hr-db/*".to_owned()]));
    }

    #[test]
    fn post_tool_actions_default_to_output_actions() {
        let c = parse(
            "[[guardrails]]\nid = \"p\"\ntype = \"pii\"\nhooks = [\"llm_output\", \"mcp_post_tool\"]\n\
             output_actions = { EMAIL = \"hash\" }\n",
        )
        .unwrap();
        let Guardrail::Pii { output, post_tool, pre_tool, .. } = &c.guardrails.rules[0] else { panic!("a pii rule") };
        assert!(pre_tool.is_none() && output.is_some());
        assert_eq!(post_tool, output);
    }

    #[test]
    fn mistakes_name_the_line_and_the_key() {
        let rule = |kind: &str, hooks: &str, extra: &str| {
            format!("[[guardrails]]\nid = \"g\"\ntype = \"{kind}\"\nhooks = {hooks}\n{extra}\n")
        };
        let cases = [
            (rule("pii", "[\"mcp_tool\"]", ""), "g.toml:4:9: guardrails[0].hooks: each of"),
            (
                rule("prompt_injection", "[\"mcp_pre_tool\"]", ""),
                "guardrails[0].hooks: a prompt_injection runs on [\"llm_input\", \"mcp_post_tool\"] only",
            ),
            (
                rule("json_schema", "[\"llm_output\", \"mcp_post_tool\"]", "schema = { type = \"object\" }"),
                "guardrails[0].hooks: a json_schema runs on [\"llm_output\"] only",
            ),
            (
                rule("deny_list", "[\"mcp_pre_tool\"]", "keywords = [\"x\"]\ntools = [\"crm\"]"),
                "g.toml:6:10: guardrails[0].tools: a tool is `server/tool`",
            ),
            (
                rule("deny_list", "[\"mcp_pre_tool\"]", "keywords = [\"x\"]\ntools = [\"*/x\"]"),
                "guardrails[0].tools: a tool is",
            ),
            (
                rule("deny_list", "[\"llm_input\"]", "keywords = [\"x\"]\ntools = [\"crm/*\"]"),
                "guardrails[0].tools: tools only filter the mcp_pre_tool and mcp_post_tool hooks",
            ),
            (
                rule("deny_list", "[\"mcp_pre_tool\"]", "keywords = [\"x\"]\nmodels = [\"m\"]"),
                "guardrails[0].models: models only filter the llm_input and llm_output hooks",
            ),
            (
                rule("pii", "[\"llm_input\"]", "pre_tool_actions = { EMAIL = \"redact\" }"),
                "g.toml:5:20: guardrails[0].pre_tool_actions: needs the mcp_pre_tool hook",
            ),
            (
                rule("pii", "[\"mcp_pre_tool\"]", "mode = \"validate\"\npre_tool_actions = { EMAIL = \"redact\" }"),
                "guardrails[0].pre_tool_actions.EMAIL: mode = \"validate\" allows only block and audit",
            ),
            (
                rule("size_limit", "[\"mcp_pre_tool\"]", "max_tool_result_chars = 10"),
                "guardrails[0].max_tool_result_chars: needs the mcp_post_tool hook",
            ),
            (rule("size_limit", "[\"mcp_post_tool\"]", "max_tool_result_chars = 0"), "a positive integer"),
            (rule("size_limit", "[\"mcp_post_tool\"]", ""), "max_tool_argument_chars or max_tool_result_chars"),
            (
                rule("deny_list", "[\"mcp_pre_tool\"]", "keywords = [\"x\"]\nmax_tool_argument_chars = 10"),
                "guardrails[0].max_tool_argument_chars: only for type = \"size_limit\"",
            ),
            (
                rule("deny_list", "[\"mcp_post_tool\"]", "keywords = [\"x\"]\npost_tool_actions = {}"),
                "guardrails[0].post_tool_actions: only for type = \"pii\"",
            ),
            (
                "[[barriers.segments]]\nname = \"hr\"\ndepartments = [\"hr\"]\ntools = [\"hr-db/\"]\n".to_owned(),
                "g.toml:4:10: barriers.segments[0].tools: a tool is",
            ),
        ];
        for (text, needle) in cases {
            let e = parse(&text).map(|_| ()).unwrap_err().to_string();
            assert!(e.contains(needle), "{text}\n=> {e}");
        }
    }
}
