//! The AWS Bedrock Converse dialect ← → the canonical OpenAI chat shape, for calling a Bedrock
//! upstream (`POST /model/{modelId}/converse` and `/model/{modelId}/converse-stream`).
//!
//! | Piece | Function or type (file) |
//! |---|---|
//! | canonical request → Converse body | [`to_converse_request`] (`request`, `content`, `tools`) |
//! | Converse response → canonical | [`from_converse_response`] (`response`) |
//! | event-stream framing | [`EventStreamDecoder`] → [`Frame`] (`eventstream`) |
//! | stream events → chunks | [`ConverseStreamDecoder`] (`stream`) |
//! | errors | [`error_from_bedrock`], [`error_from_exception`] (`errors`) |
//!
//! Usage is normalised once: the canonical [`Usage`](crate::types::Usage) follows OpenAI
//! (`prompt_tokens` includes cached and cache-write tokens); Converse's `inputTokens` excludes
//! them ([`usage_from_converse`]).
//!
//! JSON mode (`response_format` `json_object`/`json_schema`) has no Converse equivalent and is
//! emulated as for Anthropic: a tool named [`JSON_TOOL_NAME`] that the model is forced to call
//! (`toolChoice: {"tool": …}`, which Bedrock supports for Anthropic, Mistral Large and Nova
//! models); its input becomes the message content on the way back, also when streamed. The name
//! is reserved: a caller's tool of that name is refused.

mod content;
mod errors;
pub mod eventstream;
mod mapping;
mod request;
mod response;
mod stream;
mod tools;
pub mod types;

#[cfg(test)]
mod tests;

pub use crate::translate::anthropic::JSON_TOOL_NAME;
pub use errors::{error_from_bedrock, error_from_exception};
pub use eventstream::{EventStreamDecoder, Frame, MAX_FRAME_BYTES};
pub use mapping::{finish_reason_from_stop_reason, usage_from_converse};
pub use request::to_converse_request;
pub use response::from_converse_response;
pub use stream::ConverseStreamDecoder;
