//! Information barriers, on the model of Microsoft Purview's: *segments* of people defined by
//! principal attributes (department, groups), *labels* that mark content as belonging to a
//! segment (keyword and regex classifiers), and *barriers* between segments that may not exchange
//! data. A member of segment A may not send a prompt labelled B, nor receive an answer labelled
//! B, when a barrier stands between A and B. The same segments scope cache entries (no hit across
//! a barrier) and tools: a segment may own MCP tools (`server/tool` or `server/*`), which a
//! member of a segment barred from it may not call (`mcp_pre_tool`), and a tool's result labelled
//! for a barred segment is refused like an answer (`mcp_post_tool`).

use std::collections::BTreeSet;

use async_trait::async_trait;
use regex::RegexSet;
use smartflow_core::policy::Action;
use smartflow_core::types::{MessageContent, ToolCall, ToolResult};
use smartflow_core::{
    ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, PolicyDecision, Principal,
    RequestContext,
};

use super::{ToolSide, check_tool_json, too_large, tool_leaves};
use crate::governance::rules::tool_listed;

/// Output text kept to classify streamed answers across chunk boundaries.
const TAIL: usize = 512;

/// A segment: who is in it, and what content belongs to it.
#[derive(Debug, Clone)]
pub struct Segment {
    /// The segment's name.
    pub name: String,
    /// Members by department.
    pub departments: BTreeSet<String>,
    /// Members by group.
    pub groups: BTreeSet<String>,
    /// Content labelled with this segment (case-insensitive keywords become whole-word regexes).
    pub classifier: Option<RegexSet>,
    /// MCP tools the segment owns: `server/tool` or `server/*`.
    pub tools: BTreeSet<String>,
}

impl Segment {
    /// A segment with its membership and classifier patterns (regexes) and keywords.
    pub fn new(
        name: impl Into<String>,
        departments: BTreeSet<String>,
        groups: BTreeSet<String>,
        patterns: &[String],
        keywords: &[String],
    ) -> Result<Self, regex::Error> {
        let mut all: Vec<String> = patterns.to_vec();
        all.extend(keywords.iter().map(|k| format!(r"(?i)\b{}\b", regex::escape(k))));
        let classifier = if all.is_empty() { None } else { Some(RegexSet::new(&all)?) };
        Ok(Self { name: name.into(), departments, groups, classifier, tools: BTreeSet::new() })
    }

    /// The segment owns these MCP tools (`server/tool` or `server/*`).
    pub fn with_tools(mut self, tools: impl IntoIterator<Item = String>) -> Self {
        self.tools.extend(tools);
        self
    }

    /// Whether the segment owns `tool` on MCP server `server`.
    pub fn owns_tool(&self, server: &str, tool: &str) -> bool {
        tool_listed(&self.tools, server, tool)
    }

    /// Whether `p` is a member.
    pub fn has_member(&self, p: &Principal) -> bool {
        p.department.as_ref().is_some_and(|d| self.departments.contains(d))
            || p.groups.iter().any(|g| self.groups.contains(g))
    }

    /// Whether `text` is labelled with this segment.
    pub fn labels(&self, text: &str) -> bool {
        self.classifier.as_ref().is_some_and(|c| c.is_match(text))
    }
}

/// A barrier between two segments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Barrier {
    /// The rule id recorded in decisions.
    pub id: String,
    /// One side.
    pub a: String,
    /// The other side.
    pub b: String,
    /// Enforce, or record `would_deny` only.
    pub enforcement: Enforcement,
}

/// Segments and barriers, as a [`Policy`].
#[derive(Debug, Clone)]
pub struct InformationBarriers {
    segments: Vec<Segment>,
    barriers: Vec<Barrier>,
}

#[derive(Debug, Clone, Default)]
struct Tail(String);

impl InformationBarriers {
    /// The policy over `segments` and `barriers` (barrier sides must name segments).
    pub fn new(segments: Vec<Segment>, barriers: Vec<Barrier>) -> Self {
        Self { segments, barriers }
    }

    /// The segments `p` belongs to — what cache entries and tools are scoped by.
    pub fn segments_of(&self, p: &Principal) -> BTreeSet<&str> {
        self.segments.iter().filter(|s| s.has_member(p)).map(|s| s.name.as_str()).collect()
    }

    /// The segments `text` is labelled with.
    pub fn labels_of(&self, text: &str) -> BTreeSet<&str> {
        self.segments.iter().filter(|s| s.labels(text)).map(|s| s.name.as_str()).collect()
    }

    /// Whether members of `from` may see data of `to` (no barrier between any of them).
    pub fn may_share(&self, from: &BTreeSet<&str>, to: &BTreeSet<&str>) -> bool {
        self.crossed(from, to).is_empty()
    }

    /// Every barrier standing between a segment in `member` and one in `labels`.
    fn crossed(&self, member: &BTreeSet<&str>, labels: &BTreeSet<&str>) -> Vec<&Barrier> {
        self.barriers
            .iter()
            .filter(|b| {
                (member.contains(b.a.as_str()) && labels.contains(b.b.as_str()))
                    || (member.contains(b.b.as_str()) && labels.contains(b.a.as_str()))
            })
            .collect()
    }

    /// The segments owning `tool` on `server`.
    pub fn owners_of(&self, server: &str, tool: &str) -> BTreeSet<&str> {
        self.segments.iter().filter(|s| s.owns_tool(server, tool)).map(|s| s.name.as_str()).collect()
    }

    /// Checks `text` for principal `p`: enforced barriers deny; audit ones are recorded.
    fn check(&self, ctx: &mut RequestContext, text: &str, what: &str, phase: &'static str) -> Decision {
        if self.barriers.is_empty() {
            return Decision::Continue;
        }
        let labels = self.labels_of(text);
        if labels.is_empty() {
            return Decision::Continue;
        }
        match self.barred(ctx, &labels, phase) {
            Some(b) => Decision::Deny(Denial::new(
                b.id.clone(),
                format!("information barrier: this {what} is restricted from your segment"),
            )),
            None => Decision::Continue,
        }
    }

    /// The first enforced barrier between the caller's segments and `labels`; audit ones
    /// crossed are recorded as `would_deny`.
    fn barred(&self, ctx: &mut RequestContext, labels: &BTreeSet<&str>, phase: &'static str) -> Option<&Barrier> {
        let principal = ctx.principal.clone();
        let member = self.segments_of(&principal);
        let mut deny = None;
        for b in self.crossed(&member, labels) {
            match b.enforcement {
                Enforcement::Enforce => {
                    deny.get_or_insert(b);
                }
                Enforcement::Audit => ctx.decisions.push(PolicyDecision {
                    policy: self.name().to_owned(),
                    rule: b.id.clone(),
                    action: Action::WouldDeny,
                    phase,
                }),
            }
        }
        deny
    }
}

#[async_trait]
impl Policy for InformationBarriers {
    fn name(&self) -> &str {
        "barriers"
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        // The caller's segments scope everything after pre-flight: the cache never serves an
        // entry across them.
        let principal = ctx.principal.clone();
        let segments = self.segments_of(&principal);
        if !segments.is_empty() {
            smartflow_core::DataLabels::of(&mut ctx.extensions).segments =
                segments.iter().map(|s| (*s).to_owned()).collect();
        }
        let text: Vec<String> = req.messages.iter().filter_map(smartflow_core::Message::text).collect();
        self.check(ctx, &text.join("\n"), "request", "request")
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        let text: Vec<String> = resp
            .choices
            .iter()
            .filter_map(|c| match &c.message.content {
                Some(MessageContent::Text(t)) => Some(t.clone()),
                _ => c.message.text(),
            })
            .collect();
        self.check(ctx, &text.join("\n"), "answer", "response")
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        if self.barriers.is_empty() {
            return Decision::Continue;
        }
        let mut tail = ctx.extensions.remove::<Tail>().unwrap_or_default();
        super::push_chunk_text(&mut tail.0, chunk);
        let decision = self.check(ctx, &tail.0, "answer", "chunk");
        super::trim_tail(&mut tail.0, TAIL);
        ctx.extensions.insert(tail);
        decision
    }

    async fn on_tool_call(&self, ctx: &mut RequestContext, call: &mut ToolCall) -> Decision {
        if self.barriers.is_empty() {
            return Decision::Continue;
        }
        let owners = self.owners_of(&call.server, &call.tool);
        if owners.is_empty() {
            return Decision::Continue;
        }
        match self.barred(ctx, &owners, ToolSide::Arguments.phase()) {
            Some(b) => Decision::Deny(Denial::new(
                b.id.clone(),
                "information barrier: this tool belongs to a segment restricted from yours",
            )),
            None => Decision::Continue,
        }
    }

    async fn on_tool_result(&self, ctx: &mut RequestContext, result: &mut ToolResult) -> Decision {
        if self.barriers.is_empty() {
            return Decision::Continue;
        }
        let phase = ToolSide::Result.phase();
        if let Err(why) = check_tool_json(&result.content) {
            // What cannot be classified is treated as labelled for every segment: refused to a
            // caller on either side of a barrier.
            let every: BTreeSet<&str> = self.segments.iter().map(|s| s.name.as_str()).collect();
            return match self.barred(ctx, &every, phase) {
                Some(b) => too_large(b.id.clone(), ToolSide::Result, why),
                None => Decision::Continue,
            };
        }
        let text = tool_leaves(&result.content).join("\n");
        self.check(ctx, &text, "tool result", phase)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smartflow_core::{Endpoint, Role};

    use super::*;

    fn barriers(enforcement: Enforcement) -> InformationBarriers {
        let set = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect::<BTreeSet<_>>();
        let research =
            Segment::new("research", set(&["research"]), set(&[]), &[], &["coverage initiation".into()]).unwrap();
        let trading = Segment::new(
            "trading",
            set(&["trading"]),
            set(&["traders"]),
            &[r"(?i)\bblock trade\b".into()],
            &["order book".into()],
        )
        .unwrap()
        .with_tools(["trading-db/*".to_owned(), "oms/submit".to_owned()]);
        let barrier = Barrier { id: "research-trading".into(), a: "research".into(), b: "trading".into(), enforcement };
        InformationBarriers::new(vec![research, trading], vec![barrier])
    }

    fn ctx(department: &str) -> RequestContext {
        let mut p = Principal::new("k");
        p.department = Some(department.into());
        RequestContext::new("r", Arc::new(p), Endpoint::ChatCompletions)
    }

    fn req(text: &str) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![smartflow_core::Message::text_message(Role::User, text)],
            stream: None,
            stream_options: None,
            max_tokens: None,
            max_completion_tokens: None,
            rest: Default::default(),
        }
    }

    #[tokio::test]
    async fn a_member_of_one_side_cannot_send_content_labelled_for_the_other() {
        let b = barriers(Enforcement::Enforce);
        let d = b.on_request(&mut ctx("research"), &mut req("summarise the Order Book for ACME")).await;
        assert!(matches!(d, Decision::Deny(ref x) if x.rule == "research-trading"));
        let ok = b.on_request(&mut ctx("trading"), &mut req("summarise the order book for ACME")).await;
        assert!(matches!(ok, Decision::Continue), "a segment's own content is fine");
        let neutral = b.on_request(&mut ctx("research"), &mut req("what is the weather")).await;
        assert!(matches!(neutral, Decision::Continue));
    }

    #[tokio::test]
    async fn audit_barriers_record_would_deny_and_let_through() {
        let b = barriers(Enforcement::Audit);
        let mut c = ctx("research");
        let d = b.on_request(&mut c, &mut req("draft a block trade ticket")).await;
        assert!(matches!(d, Decision::Continue));
        assert_eq!(c.decisions[0].rule, "research-trading");
        assert_eq!(c.decisions[0].action, Action::WouldDeny);
    }

    #[test]
    fn labels_split_across_stream_chunks_are_seen() {
        let b = barriers(Enforcement::Enforce);
        let mut c = ctx("research");
        let mut chunk = |t: &str| {
            let mut ch = ChatChunk::single(
                "c",
                0,
                "m",
                smartflow_core::types::Delta { content: Some(t.into()), ..Default::default() },
                None,
            );
            b.on_chunk(&mut c, &mut ch)
        };
        assert!(matches!(chunk("the order "), Decision::Continue));
        assert!(matches!(chunk("book shows"), Decision::Deny(_)));
    }

    fn tool_ctx(department: &str) -> RequestContext {
        let mut p = Principal::new("k");
        p.department = Some(department.into());
        RequestContext::new("r", Arc::new(p), Endpoint::ToolCall)
    }

    fn call(server: &str, tool: &str) -> ToolCall {
        ToolCall { server: server.into(), tool: tool.into(), arguments: serde_json::json!({}) }
    }

    #[tokio::test]
    async fn a_barred_segment_cannot_call_another_segments_tool() {
        let b = barriers(Enforcement::Enforce);
        let d = b.on_tool_call(&mut tool_ctx("research"), &mut call("trading-db", "positions")).await;
        assert!(matches!(d, Decision::Deny(ref x) if x.rule == "research-trading" && x.message.contains("tool")));
        let d = b.on_tool_call(&mut tool_ctx("research"), &mut call("oms", "submit")).await;
        assert!(matches!(d, Decision::Deny(_)));
        for (who, server, tool) in
            [("trading", "trading-db", "positions"), ("research", "oms", "cancel"), ("research", "wiki", "read")]
        {
            let d = b.on_tool_call(&mut tool_ctx(who), &mut call(server, tool)).await;
            assert!(matches!(d, Decision::Continue), "{who} {server}/{tool}");
        }
    }

    #[tokio::test]
    async fn audit_barriers_record_would_deny_on_tool_calls() {
        let b = barriers(Enforcement::Audit);
        let mut c = tool_ctx("research");
        assert!(matches!(b.on_tool_call(&mut c, &mut call("trading-db", "positions")).await, Decision::Continue));
        let recorded: Vec<_> = c.decisions.iter().map(|d| (d.rule.as_str(), d.action.clone(), d.phase)).collect();
        assert_eq!(recorded, vec![("research-trading", Action::WouldDeny, "tool_call")]);
    }

    #[tokio::test]
    async fn a_tool_result_labelled_for_a_barred_segment_is_refused() {
        let b = barriers(Enforcement::Enforce);
        let mut result = ToolResult {
            server: "wiki".into(),
            tool: "read".into(),
            content: serde_json::json!({"content": [{"type": "text", "text": "Today's Order Book: ..."}]}),
            is_error: false,
        };
        let d = b.on_tool_result(&mut tool_ctx("research"), &mut result).await;
        assert!(matches!(d, Decision::Deny(ref x) if x.rule == "research-trading"));
        assert!(matches!(b.on_tool_result(&mut tool_ctx("trading"), &mut result).await, Decision::Continue));
        result.content = serde_json::json!("x".repeat(crate::compliance::MAX_TOOL_TEXT_BYTES + 1));
        let d = b.on_tool_result(&mut tool_ctx("research"), &mut result).await;
        assert!(matches!(d, Decision::Deny(ref x) if x.rule == "research-trading"), "too large to classify");
        assert!(matches!(b.on_tool_result(&mut tool_ctx("legal"), &mut result).await, Decision::Continue));
    }

    #[test]
    fn membership_and_sharing() {
        let b = barriers(Enforcement::Enforce);
        let mut p = Principal::new("k");
        p.groups = vec!["traders".into()];
        assert_eq!(b.segments_of(&p), BTreeSet::from(["trading"]));
        assert!(!b.may_share(&BTreeSet::from(["research"]), &BTreeSet::from(["trading"])));
        assert!(b.may_share(&BTreeSet::from(["research"]), &BTreeSet::from(["research"])));
    }
}
