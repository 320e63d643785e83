//! `DenyList`: a guardrail refusing requests whose prompt (the `llm_input` hook) or answer (the
//! `llm_output` hook, non-streamed and streamed) matches any of its regexes or keywords. It only
//! validates: it never rewrites. Streamed answers are checked over a rolling tail, so a keyword
//! split across chunks is still seen. On the MCP hooks it checks every string leaf of a tool
//! call's arguments (`mcp_pre_tool`) or of its result (`mcp_post_tool`).

use async_trait::async_trait;
use regex::RegexSet;
use smartflow_core::types::{MessageContent, ToolCall, ToolResult};
use smartflow_core::{ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, RequestContext};

use super::{ToolSide, check_tool_json, too_large, tool_leaves};
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
    pre_tool: bool,
    post_tool: bool,
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
            pre_tool: false,
            post_tool: false,
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        })
    }

    /// Audit enforcement: matches are recorded as `would_deny`.
    pub fn audit_only(mut self) -> Self {
        self.enforcement = Enforcement::Audit;
        self
    }

    /// Applies only to requests whose principal and model (LLM hooks) or tool (MCP hooks) match
    /// `subjects`.
    pub fn for_subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// Also checks MCP tool calls: their arguments (`pre`, the `mcp_pre_tool` hook) and/or their
    /// results (`post`, the `mcp_post_tool` hook).
    pub fn on_tools(mut self, pre: bool, post: bool) -> Self {
        self.pre_tool = pre;
        self.post_tool = post;
        self
    }

    fn deny(&self, what: &str) -> Decision {
        Decision::Deny(Denial::new(self.id.clone(), format!("the {what} matches a deny rule of this gateway")))
    }

    /// Checks one side of a tool call.
    fn check_tool(&self, value: &serde_json::Value, side: ToolSide) -> Decision {
        if let Err(why) = check_tool_json(value) {
            return too_large(format!("{}.too_large", self.id), side, why);
        }
        if tool_leaves(value).into_iter().any(|t| self.set.is_match(t)) {
            self.deny(side.what())
        } else {
            Decision::Continue
        }
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

    async fn on_tool_call(&self, ctx: &mut RequestContext, call: &mut ToolCall) -> Decision {
        if !self.pre_tool || !self.subjects.matches_tool(&ctx.principal, &call.server, &call.tool) {
            return Decision::Continue;
        }
        self.check_tool(&call.arguments, ToolSide::Arguments)
    }

    async fn on_tool_result(&self, ctx: &mut RequestContext, result: &mut ToolResult) -> Decision {
        if !self.post_tool || !self.subjects.matches_tool(&ctx.principal, &result.server, &result.tool) {
            return Decision::Continue;
        }
        self.check_tool(&result.content, ToolSide::Result)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use serde_json::json;
    use smartflow_core::{Endpoint, Principal};

    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ToolCall)
    }

    fn list() -> DenyList {
        DenyList::new("no-project-x", &[r"(?i)\bproject x\b".to_owned()], false, false).unwrap()
    }

    fn call(tool: &str, arguments: serde_json::Value) -> ToolCall {
        ToolCall { server: "docs".into(), tool: tool.into(), arguments }
    }

    #[tokio::test]
    async fn a_deny_listed_keyword_in_arguments_denies() {
        let d = list().on_tools(true, false);
        let mut tc = call("search", json!({"query": {"text": ["status of Project X"]}}));
        let Decision::Deny(x) = d.on_tool_call(&mut ctx(), &mut tc).await else { panic!("a keyword in arguments") };
        assert_eq!(x.rule, "no-project-x");
        assert!(x.message.contains("tool arguments"), "{}", x.message);
        let mut ok = call("search", json!({"project x": "keys are not checked"}));
        assert!(matches!(d.on_tool_call(&mut ctx(), &mut ok).await, Decision::Continue));
        let mut r =
            ToolResult { server: "docs".into(), tool: "search".into(), content: json!("project x"), is_error: false };
        assert!(matches!(d.on_tool_result(&mut ctx(), &mut r).await, Decision::Continue), "not on mcp_post_tool");
    }

    #[tokio::test]
    async fn results_are_checked_by_tool_subject() {
        let subjects = Subjects { tools: ["docs/read".to_owned()].into(), ..Subjects::default() };
        let d = list().on_tools(false, true).for_subjects(subjects);
        let mut r = ToolResult {
            server: "docs".into(),
            tool: "read".into(),
            content: json!(["Project X plan"]),
            is_error: false,
        };
        assert!(matches!(d.on_tool_result(&mut ctx(), &mut r).await, Decision::Deny(_)));
        r.tool = "list".into();
        assert!(matches!(d.on_tool_result(&mut ctx(), &mut r).await, Decision::Continue), "not a subject");
        r.tool = "read".into();
        r.content = json!("x".repeat(crate::compliance::MAX_TOOL_TEXT_BYTES + 1));
        let Decision::Deny(x) = d.on_tool_result(&mut ctx(), &mut r).await else { panic!("too large to inspect") };
        assert_eq!(x.rule, "no-project-x.too_large");
    }
}
