//! The Anthropic Messages dialect ⇄ the canonical OpenAI chat shape, in both directions.
//!
//! File names say the direction: `*_in` translates Anthropic → canonical, `*_out` canonical →
//! Anthropic.
//!
//! | Calling an Anthropic upstream | Serving an Anthropic-SDK client (`POST /v1/messages`) |
//! |---|---|
//! | [`to_anthropic_request`] (`request_out`) | [`from_anthropic_request`] (`request_in`) |
//! | [`from_anthropic_response`] (`response_in`) | [`to_anthropic_response`] (`response_out`) |
//! | [`AnthropicStreamDecoder`] (`stream_in`) | [`AnthropicStreamEncoder`] (`stream_out`) |
//! | [`error_from_anthropic`] (`errors`) | [`anthropic_error_body`], [`error_event`] (`errors`) |
//!
//! Usage is normalised once: the canonical [`Usage`](crate::types::Usage) follows OpenAI
//! (`prompt_tokens` includes cached and cache-write tokens), Anthropic's `input_tokens` excludes
//! them; [`usage_from_anthropic`] and [`usage_to_anthropic`] convert.
//!
//! JSON mode (`response_format` `json_object`/`json_schema`) has no Anthropic equivalent and is
//! emulated with a tool named [`JSON_TOOL_NAME`] that the model is forced to call; its input is
//! turned back into the message content on the way in (also when streamed). The name is
//! therefore reserved: a caller's tool of that name is refused.

mod errors;
mod mapping;
mod request_in;
mod request_out;
mod response_in;
mod response_out;
mod stream_in;
mod stream_out;
mod tools_out;
pub mod types;

#[cfg(test)]
mod tests;

pub use errors::{anthropic_error_body, anthropic_error_type, error_event, error_from_anthropic};
pub use mapping::{
    finish_reason_from_stop_reason, stop_reason_from_finish_reason, usage_from_anthropic, usage_to_anthropic,
};
pub use request_in::{InboundOptions, from_anthropic_request};
pub use request_out::{build_anthropic_request, to_anthropic_request};
pub use response_in::from_anthropic_response;
pub use response_out::to_anthropic_response;
pub use stream_in::AnthropicStreamDecoder;
pub use stream_out::AnthropicStreamEncoder;

/// The name of the tool that emulates OpenAI JSON mode on Anthropic models.
pub const JSON_TOOL_NAME: &str = "json_response";
