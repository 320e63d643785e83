//! The request and response vocabulary: the OpenAI chat shape, typed only where Smartflow reads
//! or rewrites a field; everything else rides along in a flattened `rest` map so pass-through
//! never loses a field.

mod chat;
mod chunk;
mod context;
mod embedding;
mod labels;
mod model;
mod principal;
mod tool;
mod trace;
mod usage;
pub mod validate;

pub use chat::{ChatRequest, ChatResponse, Choice, ContentPart, Message, MessageContent, Role, StreamOptions};
pub use chunk::{ChatChunk, ChunkChoice, Delta};
pub use context::{Endpoint, RequestContext};
pub use embedding::{EmbeddingRequest, EmbeddingResponse, EmbeddingUsage};
pub use labels::{DataLabels, Withheld};
pub use model::{ModelInfo, ModelKind};
pub use principal::Principal;
pub use tool::{ToolCall, ToolResult};
pub use trace::TraceContext;
pub use usage::{TokenUsage, Usage};

/// A JSON object whose fields Smartflow does not model; kept to preserve pass-through.
pub type Extra = serde_json::Map<String, serde_json::Value>;
