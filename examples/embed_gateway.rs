//! Embeds the Smartflow gateway in a tokio program: no daemon, no network hop.
//!
//! Run with:
//!
//! ```sh
//! cargo run -p smartflow-examples --example embed_gateway
//! ```
//!
//! It builds a gateway over the built-in mock provider, then makes a plain call and a streamed
//! call through the same pipeline `smartflowd` serves over HTTP (policies, routing, audit).

#![expect(clippy::print_stdout, reason = "an example prints what it did")]

use std::sync::Arc;

use futures_util::StreamExt;
use smartflow_core::providers::{MockBehavior, MockConfig, MockProvider};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::{ChatRequest, Endpoint, Gateway, ModelKind, Principal, RequestContext, Target};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // A provider is configuration; the mock one answers in-process and echoes the prompt.
    let echo =
        Arc::new(MockProvider::new("mock", MockConfig { behavior: MockBehavior::Echo, ..MockConfig::default() }));

    // A virtual model: the name your code uses, and the targets behind it in failover order.
    let mut models = ModelTable::new("example-org");
    models.insert(VirtualModel::new("assistant", ModelKind::Chat, vec![Arc::new(Target::new(echo, "echo-1"))]))?;
    let gateway = Gateway::builder().router(models).build()?;

    // The embedding service knows who is calling; it builds the principal itself.
    let who = Arc::new(Principal::new("billing-service"));

    let request = ChatRequest::from_slice(
        br#"{"model":"assistant","messages":[{"role":"user","content":"What is a virtual model?"}]}"#,
    )?;
    let answer = gateway.chat(RequestContext::new("req-1", who.clone(), Endpoint::ChatCompletions), request).await?;
    println!("served by {:?}: {:?}", answer.meta.target, answer.value.choices[0].message.text());

    let request = ChatRequest::from_slice(
        br#"{"model":"assistant","stream":true,"messages":[{"role":"user","content":"Stream this back, please."}]}"#,
    )?;
    let mut stream =
        gateway.chat_stream(RequestContext::new("req-2", who, Endpoint::ChatCompletions), request).await?.value;
    let mut text = String::new();
    while let Some(chunk) = stream.next().await {
        for choice in chunk?.choices {
            text.push_str(choice.delta.content.as_deref().unwrap_or(""));
        }
    }
    println!("streamed: {text}");
    Ok(())
}
