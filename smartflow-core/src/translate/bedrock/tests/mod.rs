//! Tests of the Bedrock Converse translator, data-driven where possible: requests, responses,
//! the event-stream framing (with a small encoder written here), streams and errors.

mod errors;
mod eventstream;
mod requests;
mod responses;
mod streams;

use serde_json::Value;

use super::{ConverseStreamDecoder, EventStreamDecoder};
use crate::types::{ChatChunk, ChatRequest};

/// A canonical request from JSON (validated like a client's body).
fn chat(body: &Value) -> ChatRequest {
    ChatRequest::from_slice(body.to_string().as_bytes()).unwrap()
}

/// A header value of the event-stream encoding, one variant per wire type.
#[derive(Debug, Clone, Copy)]
enum HeaderValue<'a> {
    Bool(bool),
    Byte(i8),
    Short(i16),
    Int(i32),
    Long(i64),
    Bytes(&'a [u8]),
    Str(&'a str),
    Timestamp(i64),
    Uuid([u8; 16]),
}

/// Encodes one event-stream message: prelude, prelude CRC, headers, payload, message CRC.
fn encode_frame(headers: &[(&str, HeaderValue<'_>)], payload: &[u8]) -> Vec<u8> {
    let mut h = Vec::new();
    for (name, value) in headers {
        h.push(name.len() as u8);
        h.extend_from_slice(name.as_bytes());
        match value {
            HeaderValue::Bool(true) => h.push(0),
            HeaderValue::Bool(false) => h.push(1),
            HeaderValue::Byte(b) => {
                h.push(2);
                h.extend_from_slice(&b.to_be_bytes());
            }
            HeaderValue::Short(v) => {
                h.push(3);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Int(v) => {
                h.push(4);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Long(v) => {
                h.push(5);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Bytes(b) => {
                h.push(6);
                h.extend_from_slice(&(b.len() as u16).to_be_bytes());
                h.extend_from_slice(b);
            }
            HeaderValue::Str(s) => {
                h.push(7);
                h.extend_from_slice(&(s.len() as u16).to_be_bytes());
                h.extend_from_slice(s.as_bytes());
            }
            HeaderValue::Timestamp(v) => {
                h.push(8);
                h.extend_from_slice(&v.to_be_bytes());
            }
            HeaderValue::Uuid(u) => {
                h.push(9);
                h.extend_from_slice(u);
            }
        }
    }
    let total = 16 + h.len() + payload.len();
    let mut out = Vec::with_capacity(total);
    out.extend_from_slice(&(total as u32).to_be_bytes());
    out.extend_from_slice(&(h.len() as u32).to_be_bytes());
    let prelude_crc = crc32fast::hash(&out);
    out.extend_from_slice(&prelude_crc.to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(payload);
    let message_crc = crc32fast::hash(&out);
    out.extend_from_slice(&message_crc.to_be_bytes());
    out
}

/// A Bedrock event frame as Bedrock sends it (`:event-type`, `:content-type`, `:message-type`).
fn event(event_type: &str, payload: &Value) -> Vec<u8> {
    encode_frame(
        &[
            (":event-type", HeaderValue::Str(event_type)),
            (":content-type", HeaderValue::Str("application/json")),
            (":message-type", HeaderValue::Str("event")),
        ],
        payload.to_string().as_bytes(),
    )
}

/// A Bedrock exception frame (`:message-type` `exception`).
fn exception(exception_type: &str, message: &str) -> Vec<u8> {
    encode_frame(
        &[
            (":exception-type", HeaderValue::Str(exception_type)),
            (":content-type", HeaderValue::Str("application/json")),
            (":message-type", HeaderValue::Str("exception")),
        ],
        serde_json::json!({ "message": message }).to_string().as_bytes(),
    )
}

/// Feeds event-stream bytes, `piece` bytes at a time, through both decoders; returns the
/// chunks, the first error, and whether the stream was complete (after `finish` at body end).
fn decode_stream(bytes: &[u8], piece: usize) -> (Vec<ChatChunk>, Option<crate::Error>, bool) {
    let mut frames = EventStreamDecoder::default();
    let mut decoder = ConverseStreamDecoder::new("gw-model");
    let mut chunks = Vec::new();
    for part in bytes.chunks(piece.max(1)) {
        let mut out = Vec::new();
        let fed = frames.feed(part, &mut out);
        for frame in &out {
            if let Err(e) = decoder.decode(frame, &mut chunks) {
                return (chunks, Some(e), false);
            }
        }
        if let Err(e) = fed {
            return (chunks, Some(e), false);
        }
    }
    if !frames.is_empty() {
        return (chunks, None, false);
    }
    match decoder.finish() {
        Ok(()) => (chunks, None, decoder.is_done()),
        Err(e) => (chunks, Some(e), false),
    }
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
