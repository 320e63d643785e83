//! `PolicyStack`: policies run in declared order; the first enforced denial stops the request.

use std::sync::Arc;

use async_trait::async_trait;

use super::{Action, Completion, Decision, Enforcement, Policy, PolicyDecision};
use crate::types::{ChatChunk, ChatRequest, ChatResponse, EmbeddingRequest, RequestContext, ToolCall, ToolResult};

/// An ordered list of policies that is itself a [`Policy`].
///
/// Each hook runs the policies in order. A `Deny` from an enforcing policy is recorded and
/// returned at once; from an auditing policy it is recorded as `would_deny` and the next policy
/// runs. A `Respond` is recorded and returned. `on_complete` runs on every policy.
#[derive(Clone, Default)]
pub struct PolicyStack {
    policies: Vec<Arc<dyn Policy>>,
}

impl std::fmt::Debug for PolicyStack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.policies.iter().map(|p| p.name())).finish()
    }
}

impl PolicyStack {
    /// An empty stack.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a policy; it runs after those already added.
    pub fn push(&mut self, policy: Arc<dyn Policy>) {
        self.policies.push(policy);
    }

    /// Whether the stack has no policies.
    pub fn is_empty(&self) -> bool {
        self.policies.is_empty()
    }

    /// The policies' names, in order.
    pub fn names(&self) -> Vec<&str> {
        self.policies.iter().map(|p| p.name()).collect()
    }
}

/// Records `decision` from `policy` in `ctx` and says whether the stack must stop with it.
fn settle(policy: &dyn Policy, ctx: &mut RequestContext, phase: &'static str, decision: Decision) -> Option<Decision> {
    match decision {
        Decision::Continue => None,
        Decision::Deny(denial) => {
            let audit_only = policy.enforcement() == Enforcement::Audit;
            ctx.decisions.push(PolicyDecision {
                policy: policy.name().to_owned(),
                rule: denial.rule.clone(),
                action: if audit_only { Action::WouldDeny } else { Action::Deny },
                phase,
            });
            if audit_only { None } else { Some(Decision::Deny(denial)) }
        }
        Decision::Respond(resp) => {
            ctx.decisions.push(PolicyDecision {
                policy: policy.name().to_owned(),
                rule: String::new(),
                action: Action::Respond,
                phase,
            });
            Some(Decision::Respond(resp))
        }
    }
}

macro_rules! run_async_phase {
    ($self:ident, $ctx:ident, $phase:literal, |$p:ident| $call:expr) => {{
        for $p in &$self.policies {
            let decision = $call.await;
            if let Some(stop) = settle($p.as_ref(), $ctx, $phase, decision) {
                return stop;
            }
        }
        Decision::Continue
    }};
}

#[async_trait]
impl Policy for PolicyStack {
    fn name(&self) -> &str {
        "stack"
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        run_async_phase!(self, ctx, "request", |p| p.on_request(ctx, req))
    }

    async fn on_embedding_request(&self, ctx: &mut RequestContext, req: &mut EmbeddingRequest) -> Decision {
        run_async_phase!(self, ctx, "request", |p| p.on_embedding_request(ctx, req))
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        run_async_phase!(self, ctx, "response", |p| p.on_response(ctx, resp))
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        for p in &self.policies {
            let decision = p.on_chunk(ctx, chunk);
            if let Some(stop) = settle(p.as_ref(), ctx, "chunk", decision) {
                return stop;
            }
        }
        Decision::Continue
    }

    async fn on_tool_call(&self, ctx: &mut RequestContext, call: &mut ToolCall) -> Decision {
        run_async_phase!(self, ctx, "tool_call", |p| p.on_tool_call(ctx, call))
    }

    async fn on_tool_result(&self, ctx: &mut RequestContext, result: &mut ToolResult) -> Decision {
        run_async_phase!(self, ctx, "tool_result", |p| p.on_tool_result(ctx, result))
    }

    fn on_complete(&self, ctx: &RequestContext, completion: &Completion<'_>) {
        for p in &self.policies {
            p.on_complete(ctx, completion);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;
    use crate::policy::Denial;
    use crate::types::{Endpoint, Message, Principal, Role};

    struct Deny(&'static str, Enforcement, AtomicUsize);

    #[async_trait]
    impl Policy for Deny {
        fn name(&self) -> &str {
            self.0
        }
        fn enforcement(&self) -> Enforcement {
            self.1
        }
        async fn on_request(&self, _ctx: &mut RequestContext, _req: &mut ChatRequest) -> Decision {
            self.2.fetch_add(1, Ordering::SeqCst);
            Decision::Deny(Denial::new(format!("{}.rule", self.0), "no"))
        }
    }

    fn req() -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::text_message(Role::User, "hi")],
            stream: None,
            stream_options: None,
            max_tokens: None,
            max_completion_tokens: None,
            rest: Default::default(),
        }
    }

    #[tokio::test]
    async fn audit_denials_are_recorded_and_enforced_ones_stop() {
        let audit = Arc::new(Deny("audit", Enforcement::Audit, AtomicUsize::new(0)));
        let enforce = Arc::new(Deny("enforce", Enforcement::Enforce, AtomicUsize::new(0)));
        let never = Arc::new(Deny("never", Enforcement::Enforce, AtomicUsize::new(0)));
        let mut stack = PolicyStack::new();
        stack.push(audit.clone());
        stack.push(enforce.clone());
        stack.push(never.clone());
        let mut ctx = RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ChatCompletions);
        let d = stack.on_request(&mut ctx, &mut req()).await;
        assert!(matches!(d, Decision::Deny(ref x) if x.rule == "enforce.rule"));
        assert_eq!(never.2.load(Ordering::SeqCst), 0, "stack stops at the first enforced denial");
        let actions: Vec<_> = ctx.decisions.iter().map(|d| (d.policy.as_str(), d.action.clone())).collect();
        assert_eq!(actions, vec![("audit", Action::WouldDeny), ("enforce", Action::Deny)]);
    }
}
