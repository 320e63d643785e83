//! `ConverseStreamDecoder`: the events of a Bedrock `ConverseStream` → canonical `ChatChunk`s.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::errors::error_from_exception;
use super::eventstream::Frame;
use super::mapping::{finish_reason_from_stop_reason, new_chat_id, now_unix, usage_from_converse};
use super::types::{ContentBlockDeltaEvent, ContentBlockStartEvent, MessageStopEvent, MetadataEvent};
use crate::error::{Error, ErrorKind};
use crate::types::{ChatChunk, Delta, Extra, Role, Usage};

/// What an open Converse content block turns into (text blocks have no start event).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Block {
    /// A tool call, with its OpenAI `tool_calls[].index`.
    Tool(u32),
    /// The JSON-mode emulation tool: input deltas → `delta.content`.
    JsonAnswer,
}

/// Turns the frames of a `ConverseStream` body (decoded by
/// [`EventStreamDecoder`](super::EventStreamDecoder)) into `chat.completion.chunk`s.
///
/// It yields a role chunk for `messageStart`, content chunks for text deltas, reasoning chunks
/// (`delta.reasoning_content`) for reasoning deltas, `tool_calls` chunks keyed by OpenAI tool
/// index (tool blocks are counted, not content blocks) for `toolUse` starts and input deltas, a
/// finish chunk with the mapped reason for `messageStop`, and a usage-only chunk (`choices: []`)
/// for `metadata`, after which [`is_done`](Self::is_done) is true and further frames are ignored.
///
/// Bedrock sends `metadata` after `messageStop`. A body that ends after `messageStop` without
/// `metadata` is accepted by [`finish`](Self::finish) (the stream is complete, but carries no
/// usage); one that ends before `messageStop` is truncated and [`finish`](Self::finish) fails.
/// Exceptions (`:message-type` `exception` or `error`) end the stream with the mapped error.
#[derive(Debug)]
pub struct ConverseStreamDecoder {
    id: String,
    model: String,
    created: u64,
    blocks: HashMap<u32, Block>,
    next_tool: u32,
    usage: Option<Usage>,
    stopped: bool,
    done: bool,
}

impl ConverseStreamDecoder {
    /// A decoder whose chunks name `model`, with a fresh `chatcmpl-…` id.
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            id: new_chat_id(),
            model: model.into(),
            created: now_unix(),
            blocks: HashMap::new(),
            next_tool: 0,
            usage: None,
            stopped: false,
            done: false,
        }
    }

    /// Uses `id` as the chunks' id (for example one derived from Bedrock's request id).
    pub fn with_id(mut self, id: impl Into<String>) -> Self {
        self.id = id.into();
        self
    }

    /// Whether the stream is complete: `metadata` has been seen (or [`finish`](Self::finish)
    /// accepted a body that ended after `messageStop`).
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The usage of the stream (OpenAI semantics), once `metadata` has been seen.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref()
    }

    /// Decodes one frame and appends the chunks it yields.
    ///
    /// # Errors
    /// The mapped upstream error for an exception or error frame (`throttlingException` → 429,
    /// `validationException` → 400, `modelStreamErrorException`, `internalServerException` and
    /// `serviceUnavailableException` → a retryable 502); [`ErrorKind::UpstreamProtocol`] for an
    /// event payload that is not valid JSON of the expected shape.
    pub fn decode(&mut self, frame: &Frame, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        match frame.message_type.as_deref() {
            None | Some("event") => {}
            Some("exception") | Some("error") => {
                let kind = frame.exception_type.as_deref().unwrap_or("");
                return Err(error_from_exception(kind, &frame.payload, frame.error_message.as_deref()));
            }
            // Other message types (none exist today) carry nothing for us.
            Some(_) => return Ok(()),
        }
        self.decode_event(frame.event_type.as_deref().unwrap_or(""), &frame.payload, out)
    }

    /// Decodes one event by its `:event-type` and JSON payload, appending the chunks it yields.
    ///
    /// # Errors
    /// [`ErrorKind::UpstreamProtocol`] for a payload that is not valid JSON of the expected shape.
    pub fn decode_event(&mut self, event_type: &str, payload: &[u8], out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        match event_type {
            "messageStart" => {
                parse::<Value>(payload)?;
                let delta = Delta { role: Some(Role::Assistant), content: Some(String::new()), rest: Extra::new() };
                out.push(self.chunk(delta, None));
            }
            "contentBlockStart" => {
                let event: ContentBlockStartEvent = parse(payload)?;
                if let Some(tool) = event.start.tool_use {
                    let block = if tool.name == JSON_TOOL_NAME {
                        Block::JsonAnswer
                    } else {
                        let index = self.next_tool;
                        self.next_tool += 1;
                        out.push(self.tool_chunk(json!({
                            "index": index,
                            "id": tool.tool_use_id,
                            "type": "function",
                            "function": { "name": tool.name, "arguments": "" },
                        })));
                        Block::Tool(index)
                    };
                    self.blocks.insert(event.content_block_index, block);
                }
            }
            "contentBlockDelta" => {
                let event: ContentBlockDeltaEvent = parse(payload)?;
                self.block_delta(event, out);
            }
            "messageStop" => {
                let event: MessageStopEvent = parse(payload)?;
                if !std::mem::replace(&mut self.stopped, true) {
                    let mut reason = event.stop_reason.as_deref().map_or("stop", finish_reason_from_stop_reason);
                    if reason == "tool_calls" && self.next_tool == 0 {
                        // Only the JSON-mode tool was called: a plain answer.
                        reason = "stop";
                    }
                    out.push(self.chunk(Delta::default(), Some(reason.to_owned())));
                }
            }
            "metadata" => {
                let event: MetadataEvent = parse(payload)?;
                let usage = usage_from_converse(&event.usage.unwrap_or_default());
                let mut last = self.chunk(Delta::default(), None);
                last.choices.clear();
                last.usage = Some(Some(usage.clone()));
                out.push(last);
                self.usage = Some(usage);
                self.done = true;
            }
            // `contentBlockStop` and event types added later carry nothing for us.
            _ => {}
        }
        Ok(())
    }

    /// Called when the body ends: accepts a stream that reached `metadata`, or `messageStop`
    /// without `metadata` (then done, with no usage chunk).
    ///
    /// # Errors
    /// [`ErrorKind::UpstreamProtocol`] when the body ended before `messageStop`.
    pub fn finish(&mut self) -> Result<(), Error> {
        if self.done {
            return Ok(());
        }
        if self.stopped {
            self.done = true;
            return Ok(());
        }
        Err(Error::new(ErrorKind::UpstreamProtocol, "the upstream stream ended before its end marker")
            .with_code("invalid_upstream_response"))
    }

    fn block_delta(&mut self, event: ContentBlockDeltaEvent, out: &mut Vec<ChatChunk>) {
        let block = self.blocks.get(&event.content_block_index).copied();
        let delta = event.delta;
        if let Some(text) = delta.text.filter(|t| !t.is_empty()) {
            out.push(self.content_chunk(text));
        } else if let Some(input) = delta.tool_use.map(|t| t.input).filter(|i| !i.is_empty()) {
            match block {
                Some(Block::Tool(index)) => {
                    out.push(self.tool_chunk(json!({ "index": index, "function": { "arguments": input } })));
                }
                Some(Block::JsonAnswer) => out.push(self.content_chunk(input)),
                // Input for a block that never started as a tool: nothing to attach it to.
                None => {}
            }
        } else if let Some(text) = delta.reasoning_content.and_then(|r| r.text).filter(|t| !t.is_empty()) {
            let mut rest = Extra::new();
            rest.insert("reasoning_content".to_owned(), Value::String(text));
            out.push(self.chunk(Delta { role: None, content: None, rest }, None));
        }
    }

    fn content_chunk(&self, text: String) -> ChatChunk {
        self.chunk(Delta { role: None, content: Some(text), rest: Extra::new() }, None)
    }

    fn tool_chunk(&self, call: Value) -> ChatChunk {
        ChatChunk::tool_call(&self.id, self.created, &self.model, call)
    }

    fn chunk(&self, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        ChatChunk::single(&self.id, self.created, &self.model, delta, finish_reason)
    }
}

fn parse<T: DeserializeOwned>(payload: &[u8]) -> Result<T, Error> {
    serde_json::from_slice(payload).map_err(|_| {
        Error::new(ErrorKind::UpstreamProtocol, "upstream sent an invalid stream event")
            .with_code("invalid_upstream_response")
    })
}
