//! The Google Gemini API dialect (`generateContent`, `streamGenerateContent?alt=sse`, v1beta) ⇄
//! the canonical OpenAI chat shape, in the direction a gateway calling a Gemini upstream needs.
//!
//! For calling a Gemini upstream (there is no inbound half yet):
//!
//! | Direction | Function | Module |
//! |---|---|---|
//! | canonical request → Gemini | [`to_gemini_request`], [`build_gemini_request`] | `request`, `contents`, `tools` |
//! | Gemini response → canonical | [`from_gemini_response`] | `response` |
//! | Gemini SSE events → chunks | [`GeminiStreamDecoder`] | `stream` |
//! | Gemini error body → gateway error | [`error_from_gemini`] | `errors` |
//!
//! Usage is normalised once by [`usage_from_gemini`]: `prompt_tokens` is `promptTokenCount`
//! (cached content included, as OpenAI counts it), `completion_tokens` includes thinking tokens.
//!
//! Where the dialects differ, the translation is lossy in documented ways:
//! - Gemini function calls carry no ids; the gateway names them `call_0`, `call_1`... per
//!   response, and a tool result is matched to the nearest earlier call with its id to recover
//!   the function name Gemini wants.
//! - Gemini 3 models sign their function calls (`thoughtSignature`) and refuse history without
//!   the signature. The signature rides on the OpenAI tool call as
//!   `extra_content.google.thought_signature` (the field Google's own OpenAI-compatible endpoint
//!   uses) and is restored from there; a turn whose first call has none (history written by
//!   another model, or a client that dropped the field) is sent with
//!   [`THOUGHT_SIGNATURE_FALLBACK`], which Google documents for exactly that case. Signatures on
//!   text parts are optional and dropped.
//! - JSON Schemas (tool parameters, `response_format.json_schema`) are sent in the fields that
//!   take JSON Schema (`parametersJsonSchema`, `responseJsonSchema`) rather than the
//!   OpenAPI-subset `parameters`/`responseSchema`, which refuse the `additionalProperties` that
//!   strict OpenAI schemas always carry.
//! - A blocked prompt is a 400 `content_filter` error, a filtered answer a normal response with
//!   finish reason `content_filter`.

mod contents;
mod errors;
mod mapping;
mod request;
mod response;
mod stream;
mod tools;
pub mod types;

#[cfg(test)]
mod tests;

pub use errors::error_from_gemini;
pub use mapping::{finish_reason_from_gemini, usage_from_gemini};
pub use request::{build_gemini_request, to_gemini_request};
pub use response::from_gemini_response;
pub use stream::GeminiStreamDecoder;

/// The `thoughtSignature` sent on the first function call of a model turn that has none of its
/// own; Google documents it as the value that skips signature validation for history Gemini did
/// not write.
pub const THOUGHT_SIGNATURE_FALLBACK: &str = "skip_thought_signature_validator";
