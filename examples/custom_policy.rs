//! A custom `Policy`: a Rust type that plugs into the same phases as the built-in ones.
//!
//! Run with:
//!
//! ```sh
//! cargo run -p smartflow-examples --example custom_policy
//! ```
//!
//! `ProjectCodeGuard` blocks prompts that mention an internal project code name, rewrites a
//! second one to a neutral label (mutate mode: the echo provider shows the rewrite), and counts
//! completed requests in `on_complete`, which runs for every outcome.

#![expect(clippy::print_stdout, reason = "an example prints what it did")]

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use async_trait::async_trait;
use smartflow_core::providers::{MockBehavior, MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::types::MessageContent;
use smartflow_core::{
    ChatRequest, Completion, Decision, Denial, Endpoint, Gateway, ModelKind, Policy, Principal, RequestContext, Target,
};

/// Blocks one code name, rewrites another, counts outcomes.
#[derive(Default)]
struct ProjectCodeGuard {
    completed: AtomicU64,
}

#[async_trait]
impl Policy for ProjectCodeGuard {
    fn name(&self) -> &str {
        "project-code-guard"
    }

    async fn on_request(&self, _ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        for message in &mut req.messages {
            if let Some(MessageContent::Text(text)) = &mut message.content {
                if text.contains("BLUEBIRD") {
                    // The denial names the rule, never the offending text.
                    return Decision::Deny(Denial::new(
                        "project-code-guard.bluebird",
                        "this prompt mentions a restricted project",
                    ));
                }
                if text.contains("REDWOOD") {
                    *text = text.replace("REDWOOD", "[PROJECT]");
                }
            }
        }
        Decision::Continue
    }

    fn on_complete(&self, _ctx: &RequestContext, completion: &Completion<'_>) {
        self.completed.fetch_add(1, Ordering::Relaxed);
        println!("  on_complete: outcome={:?}", completion.outcome);
    }
}

fn ask(text: &str) -> Result<ChatRequest, smartflow_core::Error> {
    let body = serde_json::json!({"model": "assistant", "messages": [{"role": "user", "content": text}]});
    ChatRequest::from_slice(body.to_string().as_bytes())
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let echo =
        Arc::new(MockProvider::new("mock", MockConfig { behavior: MockBehavior::Echo, ..MockConfig::default() }));
    let mut models = ModelTable::new("example-org");
    models.insert(VirtualModel::new("assistant", ModelKind::Chat, vec![Arc::new(Target::new(echo, "echo-1"))]))?;
    let guard = Arc::new(ProjectCodeGuard::default());
    let gateway = Gateway::builder().router(models).shared_policy(guard.clone()).build()?;
    let who = Arc::new(Principal::new("analyst"));

    for (i, prompt) in ["Summarise REDWOOD's status.", "What is BLUEBIRD?"].into_iter().enumerate() {
        let ctx = RequestContext::new(format!("req-{i}"), who.clone(), Endpoint::ChatCompletions);
        match gateway.chat(ctx, ask(prompt)?).await {
            Ok(answer) => println!("{prompt:?} -> upstream saw {:?}", answer.value.choices[0].message.text()),
            Err(e) => println!("{prompt:?} -> refused: {} ({})", e.message(), e.status_code()),
        }
    }
    println!("completed requests: {}", guard.completed.load(Ordering::Relaxed));
    Ok(())
}
