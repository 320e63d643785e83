//! Canonical (OpenAI chat) request → Gemini `GenerateContentRequest`, for calling a Gemini
//! upstream.

use serde_json::Value;

use super::contents::contents;
use super::mapping::{field, invalid, unsupported};
use super::tools::tools_and_config;
use super::types::{GenerateContentRequest, GenerationConfig};
use crate::error::Error;
use crate::translate::canonical::{number_field, reject_legacy_functions, stop_sequences};
use crate::types::ChatRequest;

/// Translates `req` into a Gemini `generateContent` request body.
///
/// See [`build_gemini_request`] for the mapping; this only serialises its result. The body is the
/// same for both endpoints: `stream` does not change it, since Gemini selects streaming by URL
/// (`:streamGenerateContent?alt=sse`) and has no stream options (usage comes on every event).
///
/// # Errors
/// As [`build_gemini_request`].
pub fn to_gemini_request(req: &ChatRequest, stream: bool) -> Result<Value, Error> {
    let _ = stream;
    let built = build_gemini_request(req)?;
    serde_json::to_value(&built).map_err(|_| Error::internal("failed to serialise the upstream request"))
}

/// Translates `req` into a typed Gemini request (the model goes in the URL, not the body).
///
/// - System and developer messages, wherever they sit, become `systemInstruction` text parts.
/// - `user` stays `user`, `assistant` becomes `model`; same-role neighbours merge into one turn.
/// - Assistant `tool_calls` become `functionCall` parts (arguments parsed to an object); a
///   `thoughtSignature` is restored from the call's `extra_content.google.thought_signature`
///   (where [`from_gemini_response`](super::from_gemini_response) puts it), and the first call of
///   a turn without one gets [`THOUGHT_SIGNATURE_FALLBACK`](super::THOUGHT_SIGNATURE_FALLBACK).
/// - `tool` messages become `functionResponse` parts in a user turn, named after the nearest
///   earlier tool call with that id; a JSON-object result is sent as is, anything else as
///   `{"content": text}`.
/// - Images: data: URIs → `inlineData`, http(s) URLs → `fileData`; `input_audio` → `inlineData`
///   (`audio/<format>`); `file` parts with `file_data` → `inlineData`.
/// - `tools` → one `functionDeclarations` list (parameters as `parametersJsonSchema`);
///   `tool_choice` → `toolConfig.functionCallingConfig` (`NONE`/`AUTO`/`ANY`, named → `ANY` with
///   `allowedFunctionNames`).
/// - `max_completion_tokens` (else `max_tokens`) → `maxOutputTokens`; `stop` → `stopSequences`;
///   `temperature`, `top_p`, `top_k`, `seed`, `presence_penalty`, `frequency_penalty` carry over;
///   `n > 1` → `candidateCount`; `response_format` `json_object`/`json_schema` →
///   `responseMimeType: application/json` (+ `responseJsonSchema` with the schema).
/// - Dropped: `user`, `metadata`, `logprobs`, `top_logprobs`, `logit_bias`, `reasoning_effort`,
///   `parallel_tool_calls`, `stream_options`, `store`, `service_tier` and tool-call ids.
///
/// # Errors
/// A 400 `invalid_request_error` naming the parameter for what is malformed or what Gemini
/// cannot express: tool-call arguments that are not a JSON object, a tool message whose
/// `tool_call_id` matches no earlier call, content parts other than text, images, audio and
/// inline files, uploaded file ids, non-function tools, legacy `functions`/`function_call`,
/// `function` messages, a `tool_choice` naming an unknown function, ill-typed sampling
/// parameters, and a conversation with no user or assistant message.
pub fn build_gemini_request(req: &ChatRequest) -> Result<GenerateContentRequest, Error> {
    reject_legacy_functions(req)?;
    let (system_instruction, contents) = contents(req)?;
    if contents.is_empty() {
        return Err(invalid("messages", "messages must contain at least one user or assistant message"));
    }
    let (tools, tool_config) = tools_and_config(req)?;
    Ok(GenerateContentRequest {
        contents,
        system_instruction,
        tools,
        tool_config,
        generation_config: generation_config(req)?,
    })
}

fn generation_config(req: &ChatRequest) -> Result<Option<GenerationConfig>, Error> {
    let (response_mime_type, response_json_schema) = response_format(req)?;
    let config = GenerationConfig {
        stop_sequences: stop_sequences(req)?,
        response_mime_type,
        response_json_schema,
        candidate_count: candidate_count(req)?,
        max_output_tokens: req.output_limit(),
        temperature: number_field(req, "temperature")?,
        top_p: number_field(req, "top_p")?,
        // Not OpenAI, but some OpenAI-style clients send it; Gemini understands it.
        top_k: match field(req, "top_k") {
            None => None,
            Some(v) => Some(v.as_u64().ok_or_else(|| invalid("top_k", "top_k must be a non-negative integer"))?),
        },
        seed: match field(req, "seed") {
            None => None,
            Some(v) => Some(v.as_i64().ok_or_else(|| invalid("seed", "seed must be an integer"))?),
        },
        presence_penalty: number_field(req, "presence_penalty")?,
        frequency_penalty: number_field(req, "frequency_penalty")?,
    };
    Ok((config != GenerationConfig::default()).then_some(config))
}

/// `n` → `candidateCount`; 1 is Gemini's default and is not sent.
fn candidate_count(req: &ChatRequest) -> Result<Option<u64>, Error> {
    match field(req, "n") {
        None => Ok(None),
        Some(v) => match v.as_u64() {
            Some(1) => Ok(None),
            Some(n) if n > 1 => Ok(Some(n)),
            _ => Err(invalid("n", "n must be a positive integer")),
        },
    }
}

/// `response_format` → (`responseMimeType`, `responseJsonSchema`).
fn response_format(req: &ChatRequest) -> Result<(Option<String>, Option<Value>), Error> {
    let Some(format) = field(req, "response_format") else { return Ok((None, None)) };
    if !format.is_object() {
        return Err(invalid("response_format", "response_format must be an object"));
    }
    let json = || Some("application/json".to_owned());
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok((None, None)),
        Some("json_object") => Ok((json(), None)),
        Some("json_schema") => {
            let schema = format.get("json_schema").and_then(|s| s.get("schema")).filter(|s| !s.is_null());
            match schema {
                None => Ok((json(), None)),
                Some(schema @ Value::Object(_)) => Ok((json(), Some(schema.clone()))),
                Some(_) => Err(invalid("response_format.json_schema.schema", "the schema must be a JSON object")),
            }
        }
        _ => Err(unsupported("response_format.type", "response_format.type must be text, json_object or json_schema")),
    }
}
