//! `PiiPolicy`: PII and secret detection as a [`Policy`] on the LLM input and output hooks. On
//! input (pre-flight, before the cache and routing) every message's text is scanned and the
//! configured action applied per kind — a blocked kind refuses the request, redacted and hashed
//! values never leave the gateway, tokenized ones are restored in the answer returned to the
//! same caller. On a complete answer, tokens are restored, then the output actions apply.
//!
//! On the MCP hooks, every string leaf of a tool call's arguments (`mcp_pre_tool`) and of its
//! result (`mcp_post_tool`) is scanned with the pre-tool and post-tool actions; values tokenized
//! in a tool's arguments are restored in that tool's result for the same request (as are the
//! request's own `llm_input` tokens). Tool JSON beyond [`super::MAX_TOOL_DEPTH`] or
//! [`super::MAX_TOOL_TEXT_BYTES`] is refused (`pii.too_large`).
//!
//! Every kind found is recorded as a decision (`pii.<action>.<KIND>`), never the value.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use smartflow_core::policy::Action;
use smartflow_core::types::{MessageContent, ToolCall, ToolResult};
use smartflow_core::{
    ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, PolicyDecision, RequestContext,
};

use super::pii::{Detector, EntityKind};
use super::redact::{Applied, PiiAction, Redactor, TokenVault};
use super::{ToolSide, check_tool_json, each_tool_leaf_mut, too_large};
use crate::governance::rules::Subjects;

/// The PII policy.
#[derive(Debug, Clone)]
pub struct PiiPolicy {
    name: String,
    detector: Arc<Detector>,
    input: Option<Redactor>,
    output: Option<Redactor>,
    pre_tool: Option<Redactor>,
    post_tool: Option<Redactor>,
    enforcement: Enforcement,
    subjects: Subjects,
}

/// Set on requests this policy applies to (its subjects matched), for the output hooks.
#[derive(Debug, Clone, Copy)]
struct Applies;

/// The request's reversible tokens, kept between input and output.
#[derive(Debug, Clone)]
struct Vault(Arc<TokenVault>);

/// Tokens issued in tool arguments, per `(server, tool)`, restored in that tool's result.
#[derive(Debug, Clone, Default)]
struct ToolVaults(HashMap<(String, String), TokenVault>);

/// Streamed text held back per choice, so a value split across chunks is seen whole.
#[derive(Debug, Clone, Default)]
struct Held(std::collections::BTreeMap<u32, String>);

/// Text always held back at the end of a stream's buffer (bytes), so an entity arriving in
/// pieces is scanned whole: ~16 tokens of added delay.
const WINDOW: usize = 64;

/// The most held back while one unbroken run (a key, a token) is still arriving.
const MAX_HOLD: usize = 512;

impl PiiPolicy {
    /// A policy named `name` with `detector`, input actions (the `llm_input` hook) and output
    /// actions (the `llm_output` hook); either may be absent.
    pub fn new(
        name: impl Into<String>,
        detector: Arc<Detector>,
        input: Option<Redactor>,
        output: Option<Redactor>,
    ) -> Self {
        Self {
            name: name.into(),
            detector,
            input,
            output,
            pre_tool: None,
            post_tool: None,
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        }
    }

    /// Actions on MCP tool calls: `pre` on the arguments (the `mcp_pre_tool` hook), `post` on
    /// the results (the `mcp_post_tool` hook); either may be absent.
    pub fn with_tool_actions(mut self, pre: Option<Redactor>, post: Option<Redactor>) -> Self {
        self.pre_tool = pre;
        self.post_tool = post;
        self
    }

    /// Applies only to requests whose principal and model (LLM hooks) or tool (MCP hooks) match
    /// `subjects`.
    pub fn for_subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// Audit enforcement: blocks are recorded as `would_deny` and nothing is rewritten.
    pub fn audit_only(mut self) -> Self {
        self.enforcement = Enforcement::Audit;
        self
    }

    fn scan(&self, redactor: &Redactor, text: &str, vault: &mut TokenVault, found: &mut Found) -> Option<String> {
        let findings = self.detector.detect(text);
        if findings.is_empty() {
            return None;
        }
        let Applied { text: rewritten, blocked, found: kinds, replaced } = redactor.apply(text, &findings, vault);
        found.blocked.extend(blocked);
        for k in kinds {
            found.kinds.insert((redactor.action(&k), k));
        }
        (replaced > 0 && self.enforcement == Enforcement::Enforce).then_some(rewritten)
    }

    fn record(&self, ctx: &mut RequestContext, found: &Found, phase: &'static str) {
        for (action, kind) in &found.kinds {
            if *action == PiiAction::Block {
                continue; // the stack records the denial (or would_deny) itself
            }
            let verb = match action {
                PiiAction::Redact => "redact",
                PiiAction::Hash => "hash",
                PiiAction::Tokenize => "tokenize",
                PiiAction::Audit | PiiAction::Block => "detect",
            };
            ctx.decisions.push(PolicyDecision {
                policy: self.name.clone(),
                rule: format!("pii.{verb}.{}", kind.label()),
                action: if *action == PiiAction::Audit || self.enforcement == Enforcement::Audit {
                    Action::WouldDeny
                } else {
                    Action::Redact
                },
                phase,
            });
        }
    }
}

#[derive(Default)]
struct Found {
    blocked: BTreeSet<EntityKind>,
    kinds: BTreeSet<(PiiAction, EntityKind)>,
}

impl PartialOrd for PiiAction {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for PiiAction {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (*self as u8).cmp(&(*other as u8))
    }
}

/// How much of a stream buffer can be sent now: all but the last [`WINDOW`] bytes, less the
/// unbroken run in progress (up to [`MAX_HOLD`]), an unclosed `[` placeholder, and any finding
/// that crosses the cut (it is held whole until it is complete).
fn safe_cut(buf: &str, findings: &[super::pii::Finding]) -> usize {
    let mut cut = buf.len().saturating_sub(WINDOW);
    // Back off to the start of the whitespace-free run the cut falls in.
    if let Some(run_start) = buf.get(..cut).and_then(|head| head.rfind(char::is_whitespace))
        && cut - run_start <= MAX_HOLD
        && buf.get(cut..).is_some_and(|t| !t.starts_with(char::is_whitespace))
    {
        cut = run_start + 1;
    }
    if let Some(open) = buf.get(..cut).and_then(|head| head.rfind('['))
        && buf.get(open..cut).is_some_and(|p| !p.contains(']') && p.len() <= 40)
    {
        cut = open;
    }
    for f in findings {
        if f.start < cut && cut < f.end {
            cut = f.start;
        }
    }
    while cut > 0 && !buf.is_char_boundary(cut) {
        cut -= 1;
    }
    cut
}

fn denial(blocked: &BTreeSet<EntityKind>) -> Decision {
    denial_of(blocked, "the request contains data that policy forbids sending")
}

fn denial_of(blocked: &BTreeSet<EntityKind>, what: &str) -> Decision {
    let kinds: Vec<&str> = blocked.iter().map(EntityKind::label).collect();
    let rule = format!("pii.block.{}", kinds.first().copied().unwrap_or("PII"));
    Decision::Deny(Denial::new(rule, format!("{what}: {}", kinds.join(", "))))
}

/// The rule refusing tool JSON beyond the inspected bounds.
const TOO_LARGE: &str = "pii.too_large";

#[async_trait]
impl Policy for PiiPolicy {
    fn name(&self) -> &str {
        &self.name
    }

    fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        if !self.subjects.matches(&ctx.principal, &req.model) {
            return Decision::Continue;
        }
        ctx.extensions.insert(Applies);
        let Some(input) = &self.input else { return Decision::Continue };
        let mut vault = TokenVault::default();
        let mut found = Found::default();
        for message in &mut req.messages {
            match message.content.as_mut() {
                Some(MessageContent::Text(text)) => {
                    if let Some(new) = self.scan(input, text, &mut vault, &mut found) {
                        *text = new;
                    }
                }
                Some(MessageContent::Parts(parts)) => {
                    for part in parts.iter_mut() {
                        if let Some(text) = part.text.as_mut()
                            && let Some(new) = self.scan(input, text, &mut vault, &mut found)
                        {
                            *text = new;
                        }
                    }
                }
                None => {}
            }
        }
        self.record(ctx, &found, "request");
        if !found.kinds.is_empty() || !found.blocked.is_empty() {
            // Never shared across users (L4), whatever was done about it.
            smartflow_core::DataLabels::of(&mut ctx.extensions).sensitive = true;
        }
        if !vault.is_empty() {
            // The answer will carry the caller's own values again: never stored, never recorded.
            smartflow_core::DataLabels::of(&mut ctx.extensions).no_store = true;
            vault.withhold(smartflow_core::Withheld::of(&mut ctx.extensions));
            ctx.extensions.insert(Vault(Arc::new(vault)));
        }
        if found.blocked.is_empty() { Decision::Continue } else { denial(&found.blocked) }
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let vault = ctx.extensions.get::<Vault>().map(|v| Arc::clone(&v.0));
        if self.output.is_none() && vault.is_none() {
            return Decision::Continue;
        }
        let mut held = ctx.extensions.remove::<Held>().unwrap_or_default();
        let mut found = Found::default();
        let mut out_vault = TokenVault::default();
        for choice in &mut chunk.choices {
            let buf = held.0.entry(choice.index).or_default();
            if let Some(content) = choice.delta.content.take() {
                buf.push_str(&content);
            }
            let last = choice.finish_reason.is_some();
            let findings = self.output.as_ref().map(|_| self.detector.detect(buf)).unwrap_or_default();
            let cut = if last { buf.len() } else { safe_cut(buf, &findings) };
            let ready: String = buf.drain(..cut).collect();
            let mut text = ready;
            if let Some(output) = &self.output {
                let inside: Vec<_> = findings.into_iter().filter(|f| f.end <= cut).collect();
                if !inside.is_empty() {
                    let applied = output.apply(&text, &inside, &mut out_vault);
                    found.blocked.extend(applied.blocked);
                    for k in applied.found {
                        found.kinds.insert((output.action(&k), k));
                    }
                    if applied.replaced > 0 && self.enforcement == Enforcement::Enforce {
                        text = applied.text;
                    }
                }
            }
            if let Some(v) = &vault {
                text = v.restore(&text);
            }
            if !text.is_empty() || last {
                choice.delta.content = Some(text);
            }
        }
        ctx.extensions.insert(held);
        self.record(ctx, &found, "chunk");
        if !found.kinds.is_empty() || !found.blocked.is_empty() {
            // Personal data in the answer (redacted or not): never stored in the cache.
            smartflow_core::DataLabels::of(&mut ctx.extensions).no_store = true;
        }
        if found.blocked.is_empty() { Decision::Continue } else { denial(&found.blocked) }
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let vault = ctx.extensions.get::<Vault>().map(|v| Arc::clone(&v.0));
        let mut out_vault = TokenVault::default();
        let mut found = Found::default();
        for choice in &mut resp.choices {
            if let Some(MessageContent::Text(text)) = choice.message.content.as_mut() {
                if let Some(output) = &self.output
                    && let Some(new) = self.scan(output, text, &mut out_vault, &mut found)
                {
                    *text = new;
                }
                if let Some(v) = &vault {
                    *text = v.restore(text);
                }
            }
        }
        self.record(ctx, &found, "response");
        if !found.kinds.is_empty() || !found.blocked.is_empty() {
            // Personal data in the answer (redacted or not): never stored in the cache.
            smartflow_core::DataLabels::of(&mut ctx.extensions).no_store = true;
        }
        if found.blocked.is_empty() { Decision::Continue } else { denial(&found.blocked) }
    }

    async fn on_tool_call(&self, ctx: &mut RequestContext, call: &mut ToolCall) -> Decision {
        let Some(pre) = &self.pre_tool else { return Decision::Continue };
        if !self.subjects.matches_tool(&ctx.principal, &call.server, &call.tool) {
            return Decision::Continue;
        }
        if let Err(why) = check_tool_json(&call.arguments) {
            return too_large(TOO_LARGE, ToolSide::Arguments, why);
        }
        let mut vaults = ctx.extensions.remove::<ToolVaults>().unwrap_or_default();
        // Seeded with the request's own tokens, so a placeholder never means two values.
        let vault = vaults
            .0
            .entry((call.server.clone(), call.tool.clone()))
            .or_insert_with(|| ctx.extensions.get::<Vault>().map(|v| v.0.as_ref().clone()).unwrap_or_default());
        let mut found = Found::default();
        each_tool_leaf_mut(&mut call.arguments, |leaf| {
            if let Some(new) = self.scan(pre, leaf, vault, &mut found) {
                *leaf = new;
            }
        });
        // The tool's result gets these values back: no record of it may hold them.
        vault.withhold(smartflow_core::Withheld::of(&mut ctx.extensions));
        ctx.extensions.insert(vaults);
        self.record(ctx, &found, ToolSide::Arguments.phase());
        if !found.kinds.is_empty() || !found.blocked.is_empty() {
            smartflow_core::DataLabels::of(&mut ctx.extensions).sensitive = true;
        }
        if found.blocked.is_empty() {
            Decision::Continue
        } else {
            denial_of(&found.blocked, "the tool arguments contain data that policy forbids sending")
        }
    }

    async fn on_tool_result(&self, ctx: &mut RequestContext, result: &mut ToolResult) -> Decision {
        if !self.subjects.matches_tool(&ctx.principal, &result.server, &result.tool) {
            return Decision::Continue;
        }
        // The tokens issued in this tool's arguments, else the request's own.
        let vaults = ctx.extensions.remove::<ToolVaults>();
        let request_vault = ctx.extensions.get::<Vault>().map(|v| Arc::clone(&v.0));
        let vault = vaults
            .as_ref()
            .and_then(|v| v.0.get(&(result.server.clone(), result.tool.clone())))
            .or(request_vault.as_deref())
            .filter(|v| !v.is_empty());
        let post = self.post_tool.as_ref();
        let mut found = Found::default();
        let checked = if post.is_some() { check_tool_json(&result.content) } else { Ok(()) };
        if checked.is_ok() && (post.is_some() || vault.is_some()) {
            let mut out_vault = TokenVault::default();
            each_tool_leaf_mut(&mut result.content, |leaf| {
                if let Some(post) = post
                    && let Some(new) = self.scan(post, leaf, &mut out_vault, &mut found)
                {
                    *leaf = new;
                }
                if let Some(v) = vault {
                    *leaf = v.restore(leaf);
                }
            });
        }
        if let Some(vaults) = vaults {
            ctx.extensions.insert(vaults);
        }
        if let Err(why) = checked {
            return too_large(TOO_LARGE, ToolSide::Result, why);
        }
        self.record(ctx, &found, ToolSide::Result.phase());
        if !found.kinds.is_empty() || !found.blocked.is_empty() {
            let labels = smartflow_core::DataLabels::of(&mut ctx.extensions);
            labels.sensitive = true;
            labels.no_store = true;
        }
        if found.blocked.is_empty() {
            Decision::Continue
        } else {
            denial_of(&found.blocked, "the tool result contains data that policy forbids returning")
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;
    use smartflow_core::{Endpoint, Principal};

    use super::*;
    use crate::compliance::pii::{Finding, Recognizer};

    /// A minimal e-mail and card recognizer, so these tests do not depend on the built-ins.
    struct Simple;

    impl Recognizer for Simple {
        fn name(&self) -> &'static str {
            "simple"
        }
        fn patterns(&self) -> Vec<String> {
            vec![r"[a-z]+@[a-z]+\.io".to_owned(), r"\b4[0-9]{15}\b".to_owned()]
        }
        fn check(&self, _text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
            let kind = if pattern == 0 { EntityKind::Email } else { EntityKind::CreditCard };
            Some(Finding { kind, start, end, score: 0.9, recognizer: "simple" })
        }
    }

    fn redactor(email: PiiAction, card: PiiAction) -> Redactor {
        Redactor::new(
            std::collections::HashMap::from([(EntityKind::Email, email), (EntityKind::CreditCard, card)]),
            PiiAction::Audit,
            b"key",
        )
    }

    fn policy(pre: Option<Redactor>, post: Option<Redactor>) -> PiiPolicy {
        let detector = Arc::new(Detector::builder().recognizer(Box::new(Simple)).build().unwrap());
        PiiPolicy::new("pii", detector, None, None).with_tool_actions(pre, post)
    }

    fn ctx() -> RequestContext {
        RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ToolCall)
    }

    fn call(server: &str, tool: &str, arguments: serde_json::Value) -> ToolCall {
        ToolCall { server: server.into(), tool: tool.into(), arguments }
    }

    fn result(server: &str, tool: &str, content: serde_json::Value) -> ToolResult {
        ToolResult { server: server.into(), tool: tool.into(), content, is_error: false }
    }

    fn rules(ctx: &RequestContext) -> Vec<(&str, &str)> {
        ctx.decisions.iter().map(|d| (d.rule.as_str(), d.phase)).collect()
    }

    #[tokio::test]
    async fn an_email_in_arguments_is_redacted_before_the_call() {
        let p = policy(Some(redactor(PiiAction::Redact, PiiAction::Redact)), None);
        let mut c = ctx();
        let mut tc = call("crm", "send", json!({"to": ["ann@corp.io", 3, {"cc": "bob@corp.io"}], "ann@corp.io": true}));
        assert!(matches!(p.on_tool_call(&mut c, &mut tc).await, Decision::Continue));
        assert_eq!(
            tc.arguments,
            json!({"to": ["[EMAIL_1]", 3, {"cc": "[EMAIL_2]"}], "ann@corp.io": true}),
            "string values are rewritten, keys left alone"
        );
        assert_eq!(rules(&c), vec![("pii.redact.EMAIL", "tool_call")]);
        assert!(c.extensions.get::<smartflow_core::DataLabels>().is_some_and(|l| l.sensitive));
    }

    #[tokio::test]
    async fn a_tokenized_value_is_restored_in_that_tools_result_only() {
        let p = policy(Some(redactor(PiiAction::Tokenize, PiiAction::Redact)), None);
        let mut c = ctx();
        let mut tc = call("crm", "lookup", json!({"email": "ann@corp.io"}));
        assert!(matches!(p.on_tool_call(&mut c, &mut tc).await, Decision::Continue));
        assert_eq!(tc.arguments, json!({"email": "[EMAIL_1]"}), "the tool never sees the value");
        let mut r = result("crm", "lookup", json!({"content": [{"type": "text", "text": "[EMAIL_1] is a customer"}]}));
        assert!(matches!(p.on_tool_result(&mut c, &mut r).await, Decision::Continue));
        assert_eq!(r.content["content"][0]["text"], "ann@corp.io is a customer");
        let mut other = result("crm", "export", json!("[EMAIL_1]"));
        assert!(matches!(p.on_tool_result(&mut c, &mut other).await, Decision::Continue));
        assert_eq!(other.content, json!("[EMAIL_1]"), "another tool's result gets nothing back");
    }

    #[tokio::test]
    async fn a_card_in_a_result_is_redacted_and_blocked_kinds_deny() {
        let p = policy(
            Some(redactor(PiiAction::Audit, PiiAction::Block)),
            Some(redactor(PiiAction::Audit, PiiAction::Redact)),
        );
        let mut c = ctx();
        let mut r = result("billing", "invoice", json!({"rows": [{"card": "4111111111111111", "by": "ann@corp.io"}]}));
        assert!(matches!(p.on_tool_result(&mut c, &mut r).await, Decision::Continue));
        assert_eq!(r.content, json!({"rows": [{"card": "[CREDIT_CARD_1]", "by": "ann@corp.io"}]}));
        assert_eq!(rules(&c), vec![("pii.redact.CREDIT_CARD", "tool_result"), ("pii.detect.EMAIL", "tool_result")]);
        let labels = c.extensions.get::<smartflow_core::DataLabels>().cloned().unwrap_or_default();
        assert!(labels.sensitive && labels.no_store);

        let mut tc = call("billing", "charge", json!({"card": "4111111111111111"}));
        let Decision::Deny(d) = p.on_tool_call(&mut ctx(), &mut tc).await else { panic!("a blocked kind denies") };
        assert_eq!(d.rule, "pii.block.CREDIT_CARD");
        assert!(d.message.contains("tool arguments") && !d.message.contains("4111"), "{}", d.message);
    }

    #[tokio::test]
    async fn audit_enforcement_records_and_never_rewrites() {
        let p = policy(Some(redactor(PiiAction::Redact, PiiAction::Redact)), None).audit_only();
        let mut c = ctx();
        let mut tc = call("crm", "send", json!({"to": "ann@corp.io"}));
        assert!(matches!(p.on_tool_call(&mut c, &mut tc).await, Decision::Continue));
        assert_eq!(tc.arguments, json!({"to": "ann@corp.io"}));
        assert_eq!(c.decisions[0].action, Action::WouldDeny);
    }

    #[tokio::test]
    async fn tools_out_of_scope_are_untouched_and_oversize_json_is_refused() {
        let subjects = Subjects { tools: ["crm/*".to_owned()].into(), ..Subjects::default() };
        let p = policy(Some(redactor(PiiAction::Redact, PiiAction::Redact)), None).for_subjects(subjects);
        let mut tc = call("hr", "query", json!({"to": "ann@corp.io"}));
        assert!(matches!(p.on_tool_call(&mut ctx(), &mut tc).await, Decision::Continue));
        assert_eq!(tc.arguments, json!({"to": "ann@corp.io"}), "not a subject");
        let mut tc = call("crm", "query", json!({"to": "ann@corp.io"}));
        assert!(matches!(p.on_tool_call(&mut ctx(), &mut tc).await, Decision::Continue));
        assert_eq!(tc.arguments, json!({"to": "[EMAIL_1]"}));

        let mut deep = json!("ann@corp.io");
        for _ in 0..=crate::compliance::MAX_TOOL_DEPTH {
            deep = json!([deep]);
        }
        let mut tc = call("crm", "query", deep);
        let Decision::Deny(d) = p.on_tool_call(&mut ctx(), &mut tc).await else { panic!("too deep to inspect") };
        assert_eq!(d.rule, "pii.too_large");
    }
}
