//! Tests of the Gemini translator, data-driven where possible: requests, responses, streams and
//! errors.

mod errors;
mod requests;
mod responses;
mod streams;

use serde_json::Value;

use crate::sse::SseDecoder;
use crate::types::{ChatChunk, ChatRequest};

use super::GeminiStreamDecoder;

/// A canonical request from JSON (validated like a client's body).
fn chat(body: &Value) -> ChatRequest {
    ChatRequest::from_slice(body.to_string().as_bytes()).unwrap()
}

/// Feeds Gemini SSE bytes, `piece` bytes at a time, through `SseDecoder` and the stream decoder,
/// then ends the body; returns the chunks and whether the decoder saw the stream complete.
fn decode_gemini_sse(bytes: &[u8], piece: usize) -> (Vec<ChatChunk>, bool) {
    let mut sse = SseDecoder::new(1 << 20);
    let mut decoder = GeminiStreamDecoder::new("gw-model");
    let mut events = Vec::new();
    for part in bytes.chunks(piece.max(1)) {
        sse.feed(part, &mut events).unwrap();
    }
    events.extend(sse.finish());
    let mut chunks = Vec::new();
    for ev in &events {
        decoder.decode_event(ev, &mut chunks).unwrap();
    }
    decoder.finish(&mut chunks);
    (chunks, decoder.is_done())
}

/// Per choice index: the concatenated content and the (id, name, arguments) of its tool calls,
/// keyed by their `index`.
fn collect(chunks: &[ChatChunk], choice: u32) -> (String, Vec<(String, String, String)>) {
    let mut text = String::new();
    let mut tools: Vec<(String, String, String)> = Vec::new();
    for c in chunks.iter().flat_map(|c| &c.choices).filter(|c| c.index == choice) {
        text.push_str(c.delta.content.as_deref().unwrap_or(""));
        for call in c.delta.rest.get("tool_calls").and_then(Value::as_array).into_iter().flatten() {
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

/// The finish reasons of `chunks`, in order.
fn finishes(chunks: &[ChatChunk]) -> Vec<(u32, String)> {
    chunks.iter().flat_map(|c| &c.choices).filter_map(|c| Some((c.index, c.finish_reason.clone()?))).collect()
}
