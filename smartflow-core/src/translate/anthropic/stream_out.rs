//! `AnthropicStreamEncoder`: canonical `ChatChunk`s → Anthropic stream events for clients of
//! `POST /v1/messages`.

use std::collections::HashMap;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};

use super::mapping::{message_id, stop_reason_from_finish_reason, usage_to_anthropic};
use super::types::{AnthropicUsage, BlockDelta, ContentBlock, MessageDeltaBody, MessagesResponse, StreamEvent};
use crate::types::{ChatChunk, Usage};

/// The content block currently open in the Anthropic stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Open {
    /// A text block at this content index.
    Text(u32),
    /// A `tool_use` block at this content index.
    Tool(u32),
}

/// Turns the chunks of one choice-0 chat stream into Anthropic server-sent events.
///
/// The first chunk opens the message (`message_start`, input usage 0 until known); text opens a
/// text block lazily; a tool call closes the open block and opens a `tool_use` block, its
/// argument fragments become `input_json_delta`s; a finish reason closes the open block. Usage
/// (from the usage-only chunk or any chunk carrying it) and the finish reason are remembered, and
/// [`finish`](Self::finish) emits the one `message_delta` (stop reason and usage) and
/// `message_stop`. Chunks of other choices are ignored.
#[derive(Debug)]
pub struct AnthropicStreamEncoder {
    model: String,
    started: bool,
    finished: bool,
    open: Option<Open>,
    next_block: u32,
    /// OpenAI tool index → content index of its `tool_use` block.
    tools: HashMap<u64, u32>,
    finish_reason: Option<String>,
    usage: Option<Usage>,
}

impl AnthropicStreamEncoder {
    /// An encoder whose `message_start` names `model` (the model the client asked for).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            model: model.into(),
            started: false,
            finished: false,
            open: None,
            next_block: 0,
            tools: HashMap::new(),
            finish_reason: None,
            usage: None,
        }
    }

    /// The events for one chunk (possibly none); empty once [`finish`](Self::finish) was called.
    pub fn encode(&mut self, chunk: &ChatChunk) -> Bytes {
        let mut out = BytesMut::new();
        if self.finished {
            return out.freeze();
        }
        self.start(&chunk.id, &mut out);
        if let Some(usage) = chunk.usage() {
            self.usage = Some(usage.clone());
        }
        for choice in chunk.choices.iter().filter(|c| c.index == 0) {
            let delta = &choice.delta;
            let refusal = delta.rest.get("refusal").and_then(Value::as_str);
            for text in [delta.content.as_deref(), refusal].into_iter().flatten().filter(|t| !t.is_empty()) {
                let index = self.text_block(&mut out);
                let delta = BlockDelta::TextDelta { text: text.to_owned() };
                put(&mut out, &StreamEvent::ContentBlockDelta { index, delta });
            }
            if let Some(Value::Array(calls)) = delta.rest.get("tool_calls") {
                for (position, call) in calls.iter().enumerate() {
                    self.tool_fragment(call, position, &mut out);
                }
            }
            if let Some(reason) = &choice.finish_reason {
                self.finish_reason = Some(reason.clone());
                self.close(&mut out);
            }
        }
        out.freeze()
    }

    /// Ends the stream: closes any open block, then `message_delta` (the last finish reason,
    /// `end_turn` if none came, and the usage) and `message_stop`. Empty when called again.
    pub fn finish(&mut self) -> Bytes {
        let mut out = BytesMut::new();
        if std::mem::replace(&mut self.finished, true) {
            return out.freeze();
        }
        self.start("", &mut out);
        self.close(&mut out);
        let stop_reason = self.finish_reason.as_deref().map_or("end_turn", stop_reason_from_finish_reason);
        let usage = self
            .usage
            .as_ref()
            .map(usage_to_anthropic)
            .unwrap_or(AnthropicUsage { output_tokens: Some(0), ..AnthropicUsage::default() });
        let delta = MessageDeltaBody { stop_reason: Some(stop_reason.to_owned()), stop_sequence: None };
        put(&mut out, &StreamEvent::MessageDelta { delta, usage });
        put(&mut out, &StreamEvent::MessageStop);
        out.freeze()
    }

    /// A `ping` event, for keeping an idle connection open.
    pub fn ping() -> Bytes {
        sse_event(&StreamEvent::Ping)
    }

    fn start(&mut self, chat_id: &str, out: &mut BytesMut) {
        if std::mem::replace(&mut self.started, true) {
            return;
        }
        let message = MessagesResponse {
            id: message_id(chat_id),
            kind: "message".to_owned(),
            role: "assistant".to_owned(),
            model: self.model.clone(),
            content: Vec::new(),
            stop_reason: None,
            stop_sequence: None,
            usage: AnthropicUsage { input_tokens: Some(0), output_tokens: Some(0), ..AnthropicUsage::default() },
        };
        put(out, &StreamEvent::MessageStart { message });
    }

    /// The index of the open text block, opening one (and closing a tool block) if needed.
    fn text_block(&mut self, out: &mut BytesMut) -> u32 {
        if let Some(Open::Text(index)) = self.open {
            return index;
        }
        self.close(out);
        let index = self.open_block(ContentBlock::text(""), out);
        self.open = Some(Open::Text(index));
        index
    }

    fn tool_fragment(&mut self, call: &Value, position: usize, out: &mut BytesMut) {
        let tool = call.get("index").and_then(Value::as_u64).unwrap_or(position as u64);
        let function = call.get("function");
        let index = match self.tools.get(&tool) {
            Some(&index) => index,
            None => {
                self.close(out);
                let text = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_owned();
                let id = text(call.get("id"));
                let block = ContentBlock::ToolUse {
                    id: if id.is_empty() { format!("toolu_{tool}") } else { id },
                    name: text(function.and_then(|f| f.get("name"))),
                    input: json!({}),
                    cache_control: None,
                };
                let index = self.open_block(block, out);
                self.tools.insert(tool, index);
                self.open = Some(Open::Tool(index));
                index
            }
        };
        // Fragments of an earlier, already closed tool block (interleaved calls) still carry its
        // index; Anthropic clients accumulate by index.
        let arguments = function.and_then(|f| f.get("arguments")).and_then(Value::as_str).unwrap_or("");
        if !arguments.is_empty() {
            let delta = BlockDelta::InputJsonDelta { partial_json: arguments.to_owned() };
            put(out, &StreamEvent::ContentBlockDelta { index, delta });
        }
    }

    fn open_block(&mut self, content_block: ContentBlock, out: &mut BytesMut) -> u32 {
        let index = self.next_block;
        self.next_block += 1;
        put(out, &StreamEvent::ContentBlockStart { index, content_block });
        index
    }

    fn close(&mut self, out: &mut BytesMut) {
        if let Some(Open::Text(index) | Open::Tool(index)) = self.open.take() {
            put(out, &StreamEvent::ContentBlockStop { index });
        }
    }
}

fn put(out: &mut BytesMut, event: &StreamEvent) {
    out.extend_from_slice(&sse_event(event));
}

/// `event: <type>\ndata: <json>\n\n` for one stream event.
pub(crate) fn sse_event(event: &StreamEvent) -> Bytes {
    let name = match event {
        StreamEvent::MessageStart { .. } => "message_start",
        StreamEvent::ContentBlockStart { .. } => "content_block_start",
        StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
        StreamEvent::ContentBlockStop { .. } => "content_block_stop",
        StreamEvent::MessageDelta { .. } => "message_delta",
        StreamEvent::MessageStop => "message_stop",
        StreamEvent::Ping => "ping",
        StreamEvent::Error { .. } => "error",
        StreamEvent::Unknown => "unknown",
    };
    // Serialising these plain structs cannot fail; JSON never contains a raw newline.
    let data = serde_json::to_vec(event).unwrap_or_else(|_| format!("{{\"type\":\"{name}\"}}").into_bytes());
    let mut out = BytesMut::with_capacity(name.len() + data.len() + 16);
    out.put_slice(b"event: ");
    out.put_slice(name.as_bytes());
    out.put_slice(b"\ndata: ");
    out.put_slice(&data);
    out.put_slice(b"\n\n");
    out.freeze()
}
