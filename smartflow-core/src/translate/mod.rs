//! Dialect translation: pure functions and small state machines that convert other providers'
//! wire formats to and from the canonical OpenAI chat shape ([`ChatRequest`](crate::ChatRequest),
//! [`ChatResponse`](crate::ChatResponse), [`ChatChunk`](crate::ChatChunk), [`Usage`](crate::Usage)).
//!
//! Nothing here does I/O: a provider adapter uses the outbound half to call a foreign upstream,
//! and a front door uses the inbound half to serve clients that speak the foreign dialect.
//! Translation is lossy where the dialects differ; each function's documentation says where.
//!
//! - [`anthropic`]: the Anthropic Messages API (`POST /v1/messages`), both directions, including
//!   streams and errors.
//! - [`gemini`]: the Google Gemini API (`generateContent`, `streamGenerateContent?alt=sse`),
//!   outbound, including streams and errors.

pub mod anthropic;
pub mod bedrock;
mod canonical;
pub mod gemini;

pub use anthropic::{
    AnthropicStreamDecoder, AnthropicStreamEncoder, InboundOptions, anthropic_error_body, error_event,
    error_from_anthropic, from_anthropic_request, from_anthropic_response, to_anthropic_request, to_anthropic_response,
};
pub use gemini::{
    GeminiStreamDecoder, build_gemini_request, error_from_gemini, from_gemini_response, to_gemini_request,
};
