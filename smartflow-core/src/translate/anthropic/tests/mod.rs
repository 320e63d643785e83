//! Tests of the Anthropic translator, data-driven where possible: requests, responses, streams
//! and errors in both directions.

mod errors;
mod requests;
mod responses;
mod streams;

use serde_json::Value;

use crate::sse::SseDecoder;
use crate::types::{ChatChunk, ChatRequest};

use super::AnthropicStreamDecoder;

/// A canonical request from JSON (validated like a client's body).
fn chat(body: &Value) -> ChatRequest {
    ChatRequest::from_slice(body.to_string().as_bytes()).unwrap()
}

/// Feeds Anthropic SSE bytes, `piece` bytes at a time, through `SseDecoder` and the stream
/// decoder; returns the chunks and whether the decoder saw `message_stop`.
fn decode_anthropic_sse(bytes: &[u8], piece: usize) -> (Vec<ChatChunk>, bool) {
    let mut sse = SseDecoder::new(1 << 20);
    let mut decoder = AnthropicStreamDecoder::new("gw-model");
    let mut events = Vec::new();
    for part in bytes.chunks(piece.max(1)) {
        sse.feed(part, &mut events).unwrap();
    }
    events.extend(sse.finish());
    let mut chunks = Vec::new();
    for ev in &events {
        decoder.decode_event(ev, &mut chunks).unwrap();
    }
    (chunks, decoder.is_done())
}

/// The concatenated content and the per-index (id, name, arguments) of tool calls in `chunks`.
fn collect(chunks: &[ChatChunk]) -> (String, Vec<(String, String, String)>) {
    let mut text = String::new();
    let mut tools: Vec<(String, String, String)> = Vec::new();
    for choice in chunks.iter().flat_map(|c| &c.choices) {
        text.push_str(choice.delta.content.as_deref().unwrap_or(""));
        for call in choice.delta.rest.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
            let index = call["index"].as_u64().unwrap() as usize;
            if tools.len() <= index {
                tools.resize(index + 1, Default::default());
            }
            let entry = &mut tools[index];
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_owned();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                entry.1 = name.to_owned();
            }
            entry.2.push_str(call["function"]["arguments"].as_str().unwrap_or(""));
        }
    }
    (text, tools)
}
