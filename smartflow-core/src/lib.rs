//! # smartflow-core — the API boundary
//!
//! The vocabulary and the pipeline of the Smartflow AI gateway: the OpenAI-shaped request and
//! response types, the traits every part implements ([`Router`], [`Provider`], [`Cache`],
//! [`Policy`], [`Audit`], [`Embedder`], [`Authenticator`]), the provider adapters, and
//! [`Gateway`], the one place the request flow lives.
//!
//! This crate runs no server, opens no storage and reads no files or environment: a Rust service
//! links it and gets the same pipeline the `smartflowd` daemon serves over HTTP.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use smartflow_core::providers::{MockConfig, MockProvider};
//! use smartflow_core::routing::{ModelTable, VirtualModel};
//! use smartflow_core::{ChatRequest, Endpoint, Gateway, ModelKind, Principal, RequestContext, Target};
//!
//! let provider = Arc::new(MockProvider::new("mock", MockConfig::default()));
//! let mut table = ModelTable::new("my-org");
//! table.insert(VirtualModel::new("assistant", ModelKind::Chat, vec![Arc::new(Target::new(provider, "echo"))]))?;
//! let gateway = Gateway::builder().router(table).build()?;
//! let ctx = RequestContext::new("req-1", Arc::new(Principal::new("svc")), Endpoint::ChatCompletions);
//! let req = ChatRequest::from_slice(br#"{"model":"assistant","messages":[{"role":"user","content":"hi"}]}"#)?;
//! let answer = gateway.chat(ctx, req).await?;
//! println!("{:?}", answer.value.choices[0].message.text());
//! # Ok(()) }
//! ```

pub mod audit;
pub mod auth;
pub mod cache;
pub mod embedder;
pub mod error;
pub mod gateway;
pub mod policy;
pub mod provider;
pub mod providers;
pub mod router;
pub mod routing;
pub mod sse;
pub mod translate;
pub mod types;

pub use audit::{AdminChange, Audit, AuditRecord, ChangeAction};
pub use auth::{Authenticator, BasicCredentials, Credentials};
pub use cache::{Cache, CacheCounters, CacheDirectives, CacheHit, CacheLayer, CacheLookup, CacheScope, CacheStats};
pub use embedder::Embedder;
pub use error::{Error, ErrorKind, ErrorSource};
pub use gateway::{ChatStream, Gateway, GatewayBuilder, GatewayOptions, ResponseMeta, Served};
pub use policy::{Completion, Decision, Denial, Enforcement, Outcome, Policy, PolicyDecision, PolicyStack};
pub use provider::{ChunkStream, EmbedCall, Provider, ProviderCall};
pub use router::{AttemptReport, RoutePlan, Router, Target};
pub use types::{
    ChatChunk, ChatRequest, ChatResponse, DataLabels, EmbeddingRequest, EmbeddingResponse, Endpoint, Message,
    ModelInfo, ModelKind, Principal, RequestContext, Role, TokenUsage, TraceContext, Usage, Withheld,
};
