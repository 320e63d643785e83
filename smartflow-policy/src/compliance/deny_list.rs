//! `DenyList`: a guardrail refusing requests whose prompt (the `llm_input` hook) or answer (the
//! `llm_output` hook, non-streamed and streamed) matches any of its regexes or keywords. It only
//! validates: it never rewrites. Streamed answers are checked over a rolling tail, so a keyword
//! split across chunks is still seen.

use async_trait::async_trait;
use regex::RegexSet;
use smartflow_core::types::MessageContent;
use smartflow_core::{ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, RequestContext};

use crate::governance::rules::Subjects;

/// How much of a streamed answer is kept to match across chunk boundaries.
const TAIL: usize = 256;

/// The deny-list guardrail.
#[derive(Debug, Clone)]
pub struct DenyList {
    id: String,
    set: RegexSet,
    input: bool,
    output: bool,
    enforcement: Enforcement,
    subjects: Subjects,
}

#[derive(Debug, Clone, Default)]
struct Tail(String);

#[derive(Debug, Clone, Copy)]
struct Applies;

impl DenyList {
    /// A deny list `id` over `patterns` (regex syntax), on the input and/or output hook.
    pub fn new(id: impl Into<String>, patterns: &[String], input: bool, output: bool) -> Result<Self, regex::Error> {
        Ok(Self {
            id: id.into(),
            set: RegexSet::new(patterns)?,
            input,
            output,
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        })
    }

    /// Audit enforcement: matches are recorded as `would_deny`.
    pub fn audit_only(mut self) -> Self {
        self.enforcement = Enforcement::Audit;
        self
    }

    /// Applies only to requests whose principal and model match `subjects`.
    pub fn for_subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    fn deny(&self, what: &str) -> Decision {
        Decision::Deny(Denial::new(self.id.clone(), format!("the {what} matches a deny rule of this gateway")))
    }
}

#[async_trait]
impl Policy for DenyList {
    fn name(&self) -> &str {
        &self.id
    }

    fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        if !self.subjects.matches(&ctx.principal, &req.model) {
            return Decision::Continue;
        }
        ctx.extensions.insert(Applies);
        if self.input && req.messages.iter().filter_map(|m| m.text()).any(|t| self.set.is_match(&t)) {
            return self.deny("request");
        }
        Decision::Continue
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        if !self.output || ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let hit = resp.choices.iter().any(|c| match &c.message.content {
            Some(MessageContent::Text(t)) => self.set.is_match(t),
            _ => c.message.text().is_some_and(|t| self.set.is_match(&t)),
        });
        if hit { self.deny("answer") } else { Decision::Continue }
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        if !self.output || ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let mut tail = ctx.extensions.remove::<Tail>().unwrap_or_default();
        super::push_chunk_text(&mut tail.0, chunk);
        let hit = self.set.is_match(&tail.0);
        super::trim_tail(&mut tail.0, TAIL);
        ctx.extensions.insert(tail);
        if hit { self.deny("answer") } else { Decision::Continue }
    }
}
