//! `PiiPolicy`: PII and secret detection as a [`Policy`] on the LLM input and output hooks. On
//! input (pre-flight, before the cache and routing) every message's text is scanned and the
//! configured action applied per kind — a blocked kind refuses the request, redacted and hashed
//! values never leave the gateway, tokenized ones are restored in the answer returned to the
//! same caller. On a complete answer, tokens are restored, then the output actions apply.
//! Every kind found is recorded as a decision (`pii.<action>.<KIND>`), never the value.

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use smartflow_core::policy::Action;
use smartflow_core::types::MessageContent;
use smartflow_core::{
    ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, PolicyDecision, RequestContext,
};

use super::pii::{Detector, EntityKind};
use super::redact::{Applied, PiiAction, Redactor, TokenVault};
use crate::governance::rules::Subjects;

/// The PII policy.
#[derive(Debug, Clone)]
pub struct PiiPolicy {
    name: String,
    detector: Arc<Detector>,
    input: Option<Redactor>,
    output: Option<Redactor>,
    enforcement: Enforcement,
    subjects: Subjects,
}

/// Set on requests this policy applies to (its subjects matched), for the output hooks.
#[derive(Debug, Clone, Copy)]
struct Applies;

/// The request's reversible tokens, kept between input and output.
#[derive(Debug, Clone)]
struct Vault(Arc<TokenVault>);

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
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        }
    }

    /// Applies only to requests whose principal and model match `subjects`.
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
    let kinds: Vec<&str> = blocked.iter().map(EntityKind::label).collect();
    let rule = format!("pii.block.{}", kinds.first().copied().unwrap_or("PII"));
    Decision::Deny(Denial::new(
        rule,
        format!("the request contains data that policy forbids sending: {}", kinds.join(", ")),
    ))
}

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
        if !vault.is_empty() {
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
        if found.blocked.is_empty() { Decision::Continue } else { denial(&found.blocked) }
    }
}
