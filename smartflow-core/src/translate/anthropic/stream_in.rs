//! `AnthropicStreamDecoder`: Anthropic stream events from an upstream → canonical `ChatChunk`s.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::errors::error_from_detail;
use super::mapping::{finish_reason_from_stop_reason, now_unix, usage_from_anthropic};
use super::types::{AnthropicUsage, BlockDelta, ContentBlock, StreamEvent};
use crate::error::{Error, ErrorKind};
use crate::sse::SseEvent;
use crate::types::{ChatChunk, Delta, Extra, Role, Usage};

/// What an open Anthropic content block turns into.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// Text: `text_delta` → `delta.content`.
    Text,
    /// A tool call, with its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// The JSON-mode emulation tool: `input_json_delta` → `delta.content`.
    JsonAnswer,
    /// Thinking: `thinking_delta` → `delta.reasoning_content`.
    Thinking,
    /// Anything else; its deltas are dropped.
    Other,
}

/// Turns the events of an Anthropic Messages stream into `chat.completion.chunk`s.
///
/// Feed it every SSE event in order ([`decode`](Self::decode) or
/// [`decode_event`](Self::decode_event)). It yields a role chunk for `message_start`, content
/// chunks for text deltas, `tool_calls` chunks keyed by OpenAI tool index (tool blocks are
/// counted, not content blocks), a finish chunk for `message_delta` and a usage-only chunk
/// (`choices: []`) for `message_stop`, after which [`is_done`](Self::is_done) is true and further
/// events are ignored. A stream that ends before `message_stop` is truncated: the caller decides
/// what to do, and [`usage`](Self::usage) reports what was counted so far.
#[derive(Debug)]
pub struct AnthropicStreamDecoder {
    id: String,
    model: String,
    created: u64,
    usage: AnthropicUsage,
    blocks: HashMap<u32, Block>,
    next_tool: u32,
    started: bool,
    finished: bool,
    done: bool,
}

impl AnthropicStreamDecoder {
    /// A decoder whose chunks name `model` (the upstream's model name when `model` is empty).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            id: String::new(),
            model: model.into(),
            created: now_unix(),
            usage: AnthropicUsage::default(),
            blocks: HashMap::new(),
            next_tool: 0,
            started: false,
            finished: false,
            done: false,
        }
    }

    /// Whether `message_stop` has been seen.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The usage counted so far (OpenAI semantics), once `message_start` has been seen.
    pub fn usage(&self) -> Option<Usage> {
        self.started.then(|| usage_from_anthropic(&self.usage))
    }

    /// Decodes one event decoded by [`SseDecoder`](crate::sse::SseDecoder).
    pub fn decode_event(&mut self, event: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.decode(event.event.as_deref(), &event.data, out)
    }

    /// Decodes one event (its SSE `event:` name and `data:`) and appends the chunks it yields.
    ///
    /// # Errors
    /// The mapped upstream error for an `error` event (`overloaded_error` → a retryable
    /// [`ErrorKind::UpstreamServerError`]); [`ErrorKind::UpstreamProtocol`] for data that is not
    /// a valid event.
    pub fn decode(&mut self, event: Option<&str>, data: &str, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        let data = data.trim();
        if data.is_empty() {
            return Ok(());
        }
        let mut value: Value = serde_json::from_str(data).map_err(|_| protocol())?;
        if let (Some(obj), Some(name)) = (value.as_object_mut(), event) {
            obj.entry("type").or_insert_with(|| Value::String(name.to_owned()));
        }
        match StreamEvent::deserialize(&value).map_err(|_| protocol())? {
            StreamEvent::MessageStart { message } => {
                self.id = message.id;
                if self.model.is_empty() {
                    self.model = message.model;
                }
                self.usage.update(&message.usage);
                self.started = true;
                let delta = Delta { role: Some(Role::Assistant), content: Some(String::new()), rest: Extra::new() };
                out.push(self.chunk(delta, None));
            }
            StreamEvent::ContentBlockStart { index, content_block } => self.block_start(index, content_block, out),
            StreamEvent::ContentBlockDelta { index, delta } => self.block_delta(index, delta, out),
            StreamEvent::MessageDelta { delta, usage } => {
                self.usage.update(&usage);
                if let Some(reason) = delta.stop_reason.as_deref() {
                    self.finish(finish_reason_from_stop_reason(reason), out);
                }
            }
            StreamEvent::MessageStop => {
                self.finish("stop", out);
                let mut last = self.chunk(Delta::default(), None);
                last.choices.clear();
                last.usage = Some(Some(usage_from_anthropic(&self.usage)));
                out.push(last);
                self.done = true;
            }
            StreamEvent::Error { error } => return Err(error_from_detail(&error, None)),
            StreamEvent::ContentBlockStop { .. } | StreamEvent::Ping | StreamEvent::Unknown => {}
        }
        Ok(())
    }

    fn block_start(&mut self, index: u32, block: ContentBlock, out: &mut Vec<ChatChunk>) {
        let kind = match block {
            ContentBlock::Text { text, .. } => {
                if !text.is_empty() {
                    out.push(self.content_chunk(text));
                }
                Block::Text
            }
            ContentBlock::ToolUse { name, .. } if name == JSON_TOOL_NAME => Block::JsonAnswer,
            ContentBlock::ToolUse { id, name, input, .. } => {
                let tool = self.next_tool;
                self.next_tool += 1;
                // The input normally arrives as deltas; a start block that already has it keeps it.
                let arguments = match &input {
                    Value::Object(o) if !o.is_empty() => input.to_string(),
                    _ => String::new(),
                };
                let call = json!({
                    "index": tool,
                    "id": id,
                    "type": "function",
                    "function": { "name": name, "arguments": arguments },
                });
                out.push(self.tool_chunk(call));
                Block::Tool(tool)
            }
            ContentBlock::Thinking { thinking, .. } => {
                if !thinking.is_empty() {
                    out.push(self.reasoning_chunk(thinking));
                }
                Block::Thinking
            }
            _ => Block::Other,
        };
        self.blocks.insert(index, kind);
    }

    fn block_delta(&mut self, index: u32, delta: BlockDelta, out: &mut Vec<ChatChunk>) {
        let block = self.blocks.get(&index).copied();
        match (block, delta) {
            (_, BlockDelta::TextDelta { text }) if !text.is_empty() => out.push(self.content_chunk(text)),
            (Some(Block::JsonAnswer), BlockDelta::InputJsonDelta { partial_json }) if !partial_json.is_empty() => {
                out.push(self.content_chunk(partial_json));
            }
            (Some(Block::Tool(tool)), BlockDelta::InputJsonDelta { partial_json }) if !partial_json.is_empty() => {
                out.push(self.tool_chunk(json!({ "index": tool, "function": { "arguments": partial_json } })));
            }
            (_, BlockDelta::ThinkingDelta { thinking }) if !thinking.is_empty() => {
                out.push(self.reasoning_chunk(thinking));
            }
            _ => {}
        }
    }

    /// Emits the finish chunk once; `tool_use` with only the JSON-mode tool is a plain `stop`.
    fn finish(&mut self, reason: &str, out: &mut Vec<ChatChunk>) {
        if std::mem::replace(&mut self.finished, true) {
            return;
        }
        let reason = if reason == "tool_calls" && self.next_tool == 0 { "stop" } else { reason };
        out.push(self.chunk(Delta::default(), Some(reason.to_owned())));
    }

    fn content_chunk(&self, text: String) -> ChatChunk {
        self.chunk(Delta { role: None, content: Some(text), rest: Extra::new() }, None)
    }

    fn reasoning_chunk(&self, text: String) -> ChatChunk {
        let mut rest = Extra::new();
        rest.insert("reasoning_content".to_owned(), Value::String(text));
        self.chunk(Delta { role: None, content: None, rest }, None)
    }

    fn tool_chunk(&self, call: Value) -> ChatChunk {
        ChatChunk::tool_call(&self.id, self.created, &self.model, call)
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        ChatChunk::single(&self.id, self.created, &self.model, delta, finish_reason)
    }
}

fn protocol() -> Error {
    Error::new(ErrorKind::UpstreamProtocol, "upstream sent an invalid stream event")
        .with_code("invalid_upstream_response")
}
