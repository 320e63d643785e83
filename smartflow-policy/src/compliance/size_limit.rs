//! `SizeLimit`: a guardrail bounding the prompt (`llm_input`: the number of messages and the
//! characters of their text summed) and the answer (`llm_output`: the characters of a
//! non-streamed answer, or of a streamed one counted cumulatively, the stream ending with an
//! error event at the chunk that crosses the limit), and MCP tool calls (`mcp_pre_tool`: the
//! characters of the arguments as compact JSON; `mcp_post_tool`: those of the result content).
//!
//! Prompt and tool-argument limits refuse with 413 (`ErrorKind::PayloadTooLarge`, code
//! `policy_violation`): the caller can shrink its request. Answer and tool-result limits refuse
//! with 403 (`ErrorKind::PolicyDenied`): the caller sent nothing too large, the answer was.

use async_trait::async_trait;
use smartflow_core::types::{MessageContent, ToolCall, ToolResult};
use smartflow_core::{
    ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, ErrorKind, Policy, RequestContext,
};

use crate::governance::rules::Subjects;

/// The size-limit guardrail. A limit left `None` is not checked.
#[derive(Debug, Clone)]
pub struct SizeLimit {
    id: String,
    max_prompt_chars: Option<usize>,
    max_messages: Option<usize>,
    max_output_chars: Option<usize>,
    max_tool_argument_chars: Option<usize>,
    max_tool_result_chars: Option<usize>,
    enforcement: Enforcement,
    subjects: Subjects,
}

/// The request was in scope (so the answer is checked).
#[derive(Debug, Clone, Copy)]
struct Applies;

/// Characters of a streamed answer so far.
#[derive(Debug, Clone, Copy, Default)]
struct Streamed(usize);

impl SizeLimit {
    /// A size limit `id`: prompt characters and message count (checked on the request) and
    /// answer characters (checked on the answer).
    pub fn new(
        id: impl Into<String>,
        max_prompt_chars: Option<usize>,
        max_messages: Option<usize>,
        max_output_chars: Option<usize>,
    ) -> Self {
        Self {
            id: id.into(),
            max_prompt_chars,
            max_messages,
            max_output_chars,
            max_tool_argument_chars: None,
            max_tool_result_chars: None,
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        }
    }

    /// Limits on MCP tool calls: the characters of the arguments (checked on `mcp_pre_tool`) and
    /// of the result content (checked on `mcp_post_tool`), as compact JSON.
    pub fn with_tool_limits(mut self, max_argument_chars: Option<usize>, max_result_chars: Option<usize>) -> Self {
        self.max_tool_argument_chars = max_argument_chars;
        self.max_tool_result_chars = max_result_chars;
        self
    }

    /// Audit enforcement: oversize requests are recorded as `would_deny`.
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

    fn too_large(&self, message: String) -> Decision {
        let mut d = Denial::new(self.id.clone(), message);
        d.kind = ErrorKind::PayloadTooLarge;
        Decision::Deny(d)
    }

    fn answer_too_long(&self, max: usize) -> Decision {
        Decision::Deny(Denial::new(self.id.clone(), format!("the answer is longer than {max} characters")))
    }
}

/// Whether `value`, as compact JSON, is longer than `max` characters. Stops counting at the
/// limit.
fn json_longer_than(value: &serde_json::Value, max: usize) -> bool {
    /// Counts characters written; fails once past the limit.
    struct Count {
        chars: usize,
        max: usize,
    }
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            // UTF-8: every byte that does not continue a character starts one.
            self.chars += buf.iter().filter(|b| (**b & 0xC0) != 0x80).count();
            if self.chars > self.max { Err(std::io::Error::other("over the limit")) } else { Ok(buf.len()) }
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    serde_json::to_writer(&mut Count { chars: 0, max }, value).is_err()
}

fn chars(content: &MessageContent) -> usize {
    match content {
        MessageContent::Text(s) => s.chars().count(),
        MessageContent::Parts(parts) => parts.iter().filter_map(|p| p.text.as_deref()).map(|t| t.chars().count()).sum(),
    }
}

#[async_trait]
impl Policy for SizeLimit {
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
        if let Some(max) = self.max_messages
            && req.messages.len() > max
        {
            return self.too_large(format!("the request has more than {max} messages"));
        }
        if let Some(max) = self.max_prompt_chars {
            let total: usize = req.messages.iter().filter_map(|m| m.content.as_ref()).map(chars).sum();
            if total > max {
                return self.too_large(format!("the prompt is longer than {max} characters"));
            }
        }
        Decision::Continue
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        let Some(max) = self.max_output_chars else { return Decision::Continue };
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let total: usize = resp.choices.iter().filter_map(|c| c.message.content.as_ref()).map(chars).sum();
        if total > max { self.answer_too_long(max) } else { Decision::Continue }
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        let Some(max) = self.max_output_chars else { return Decision::Continue };
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let added: usize =
            chunk.choices.iter().filter_map(|c| c.delta.content.as_deref()).map(|t| t.chars().count()).sum();
        let total = ctx.extensions.get::<Streamed>().map_or(0, |s| s.0).saturating_add(added);
        ctx.extensions.insert(Streamed(total));
        if total > max { self.answer_too_long(max) } else { Decision::Continue }
    }

    async fn on_tool_call(&self, ctx: &mut RequestContext, call: &mut ToolCall) -> Decision {
        let Some(max) = self.max_tool_argument_chars else { return Decision::Continue };
        if !self.subjects.matches_tool(&ctx.principal, &call.server, &call.tool) {
            return Decision::Continue;
        }
        if json_longer_than(&call.arguments, max) {
            self.too_large(format!("the tool arguments are longer than {max} characters"))
        } else {
            Decision::Continue
        }
    }

    async fn on_tool_result(&self, ctx: &mut RequestContext, result: &mut ToolResult) -> Decision {
        let Some(max) = self.max_tool_result_chars else { return Decision::Continue };
        if !self.subjects.matches_tool(&ctx.principal, &result.server, &result.tool) {
            return Decision::Continue;
        }
        if json_longer_than(&result.content, max) {
            Decision::Deny(Denial::new(self.id.clone(), format!("the tool result is longer than {max} characters")))
        } else {
            Decision::Continue
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smartflow_core::types::{ChunkChoice, Delta, Endpoint, Message, Principal, Role};

    use super::*;

    fn ctx() -> RequestContext {
        RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ChatCompletions)
    }

    fn req(texts: &[&str]) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: texts.iter().map(|t| Message::text_message(Role::User, *t)).collect(),
            stream: None,
            stream_options: None,
            max_tokens: None,
            max_completion_tokens: None,
            rest: Default::default(),
        }
    }

    fn chunk(text: &str) -> ChatChunk {
        ChatChunk {
            id: "c".into(),
            object: "chat.completion.chunk".into(),
            created: 0,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta { role: None, content: Some(text.into()), rest: Default::default() },
                finish_reason: None,
                rest: Default::default(),
            }],
            usage: None,
            rest: Default::default(),
        }
    }

    #[tokio::test]
    async fn prompt_limits_refuse_with_413() {
        let p = SizeLimit::new("size", Some(10), Some(2), None);
        assert!(matches!(p.on_request(&mut ctx(), &mut req(&["héllo", "wörld"])).await, Decision::Continue));
        let Decision::Deny(d) = p.on_request(&mut ctx(), &mut req(&["hello", "world!"])).await else {
            panic!("over the character limit")
        };
        assert_eq!(d.kind, ErrorKind::PayloadTooLarge);
        assert_eq!(d.to_error().status_code(), 413);
        assert!(matches!(p.on_request(&mut ctx(), &mut req(&["a", "b", "c"])).await, Decision::Deny(_)));
    }

    #[tokio::test]
    async fn streamed_answers_are_counted_cumulatively() {
        let p = SizeLimit::new("size", None, None, Some(8));
        let mut c = ctx();
        assert!(matches!(p.on_request(&mut c, &mut req(&["hi"])).await, Decision::Continue));
        assert!(matches!(p.on_chunk(&mut c, &mut chunk("hello")), Decision::Continue));
        let Decision::Deny(d) = p.on_chunk(&mut c, &mut chunk("world")) else { panic!("over the answer limit") };
        assert_eq!(d.kind, ErrorKind::PolicyDenied);
    }

    #[tokio::test]
    async fn tool_arguments_and_results_are_bounded_by_tool_subject() {
        let subjects = Subjects { tools: ["files/*".to_owned()].into(), ..Subjects::default() };
        let p = SizeLimit::new("size", None, None, None).with_tool_limits(Some(12), Some(10)).for_subjects(subjects);
        let mut c = RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ToolCall);
        // {"p":"é/a"} is 11 characters (13 bytes).
        let mut call =
            ToolCall { server: "files".into(), tool: "read".into(), arguments: serde_json::json!({"p": "é/a"}) };
        assert!(matches!(p.on_tool_call(&mut c, &mut call).await, Decision::Continue));
        call.arguments = serde_json::json!({"path": "/etc/passwd"});
        let Decision::Deny(d) = p.on_tool_call(&mut c, &mut call).await else { panic!("over the argument limit") };
        assert_eq!(d.kind, ErrorKind::PayloadTooLarge);
        let mut result = ToolResult {
            server: "files".into(),
            tool: "read".into(),
            content: serde_json::json!("0123456789"),
            is_error: false,
        };
        let Decision::Deny(d) = p.on_tool_result(&mut c, &mut result).await else { panic!("over the result limit") };
        assert_eq!(d.kind, ErrorKind::PolicyDenied);
        result.server = "web".into();
        assert!(matches!(p.on_tool_result(&mut c, &mut result).await, Decision::Continue), "not a subject");
    }

    #[tokio::test]
    async fn out_of_scope_requests_are_not_checked() {
        let p = SizeLimit::new("size", Some(1), None, Some(1))
            .for_subjects(Subjects { models: ["other".to_owned()].into(), ..Subjects::default() });
        let mut c = ctx();
        assert!(matches!(p.on_request(&mut c, &mut req(&["long enough"])).await, Decision::Continue));
        assert!(matches!(p.on_chunk(&mut c, &mut chunk("long enough")), Decision::Continue));
    }
}
