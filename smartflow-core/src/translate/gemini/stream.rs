//! `GeminiStreamDecoder`: the events of a `streamGenerateContent?alt=sse` stream → canonical
//! `ChatChunk`s.

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

use super::errors::{error_from_status, status_of};
use super::mapping::{
    call_id, chat_id, finish_reason_from_gemini, now_unix, prompt_blocked, protocol, usage_from_gemini,
};
use super::response::tool_call;
use super::types::{Candidate, GenerateContentResponse};
use crate::error::Error;
use crate::sse::SseEvent;
use crate::types::{ChatChunk, ChunkChoice, Delta, Extra, Role, Usage};

/// What the decoder knows of one candidate (one OpenAI choice).
#[derive(Debug, Default, Clone, Copy)]
struct CandidateState {
    /// Function calls emitted so far: the next OpenAI `tool_calls[].index`.
    tools: u32,
    /// Its finish reason has been emitted.
    finished: bool,
}

/// Turns the events of a Gemini stream into `chat.completion.chunk`s.
///
/// Every event is a whole `GenerateContentResponse` ([`decode`](Self::decode) its `data:`). For
/// each candidate the decoder yields a role chunk when the candidate first appears, a content
/// chunk per text part (thought parts as `reasoning_content`), one complete `tool_calls` delta
/// per `functionCall` part (Gemini never splits a call; ids `call_0`, `call_1`... across the
/// stream, OpenAI `index` counted per candidate, thought signature under `extra_content`), and a
/// finish chunk when the candidate carries a `finishReason` (`tool_calls` when it made calls and
/// stopped normally).
///
/// Gemini has no end marker: the stream is complete when the body ends after every candidate
/// has finished (all [`expecting`](Self::expecting) of them), which [`is_done`](Self::is_done)
/// reports. `usageMetadata` is cumulative; the
/// latest is kept, and [`finish`](Self::finish), called when the body ends, yields the final
/// usage-only chunk (`choices: []`). Events after `is_done` only update the usage. A stream
/// that ends before `is_done` is truncated: the caller decides what to do, and
/// [`usage`](Self::usage) reports what was counted so far.
#[derive(Debug)]
pub struct GeminiStreamDecoder {
    id: Option<String>,
    model: String,
    created: u64,
    usage: Option<Usage>,
    candidates: BTreeMap<u32, CandidateState>,
    expected: usize,
    next_call: u32,
    done: bool,
    usage_sent: bool,
}

impl GeminiStreamDecoder {
    /// A decoder whose chunks name `model` (the upstream's `modelVersion` when `model` is empty).
    pub fn new(model: impl Into<String>) -> Self {
        Self {
            id: None,
            model: model.into(),
            created: now_unix(),
            usage: None,
            candidates: BTreeMap::new(),
            expected: 1,
            next_call: 0,
            done: false,
            usage_sent: false,
        }
    }

    /// Expects `candidates` candidates (the request's `n`; 1 by default): the stream is not done
    /// until that many have finished, so one that finishes early does not end it.
    pub fn expecting(mut self, candidates: u32) -> Self {
        self.expected = usize::try_from(candidates.max(1)).unwrap_or(usize::MAX);
        self
    }

    /// Whether the expected number of candidates have appeared and every one has carried a
    /// `finishReason`: a body that ends now ended cleanly.
    pub fn is_done(&self) -> bool {
        self.done
    }

    /// The latest usage the upstream reported (OpenAI semantics), if any.
    pub fn usage(&self) -> Option<Usage> {
        self.usage.clone()
    }

    /// Decodes one event decoded by [`SseDecoder`](crate::sse::SseDecoder).
    ///
    /// # Errors
    /// As [`decode`](Self::decode).
    pub fn decode_event(&mut self, event: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        self.decode(&event.data, out)
    }

    /// Decodes one event's `data:` and appends the chunks it yields.
    ///
    /// # Errors
    /// The mapped upstream error for an `{"error":…}` event; a 400 `content_filter` error for a
    /// prompt the upstream blocked (`promptFeedback.blockReason` without candidates);
    /// [`ErrorKind::UpstreamProtocol`](crate::error::ErrorKind::UpstreamProtocol) for data that is
    /// not a `GenerateContentResponse`.
    pub fn decode(&mut self, data: &str, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        let data = data.trim();
        if data.is_empty() || data == "[DONE]" {
            return Ok(());
        }
        let value: Value = serde_json::from_str(data).map_err(|_| invalid_event())?;
        if let Some(status) = status_of(&value) {
            return Err(error_from_status(&status));
        }
        if !value.is_object() {
            return Err(invalid_event());
        }
        let event = GenerateContentResponse::deserialize(&value).map_err(|_| invalid_event())?;
        if let Some(u) = &event.usage_metadata {
            self.usage = Some(usage_from_gemini(u));
        }
        if self.done {
            return Ok(());
        }
        if event.candidates.is_empty()
            && let Some(reason) = event.prompt_feedback.as_ref().and_then(|f| f.block_reason.as_deref())
        {
            return Err(prompt_blocked(reason));
        }
        if self.id.is_none() {
            self.id = Some(chat_id(event.response_id.as_deref()));
        }
        if self.model.is_empty()
            && let Some(version) = &event.model_version
        {
            self.model.clone_from(version);
        }
        for (position, candidate) in event.candidates.iter().enumerate() {
            let index = candidate.index.unwrap_or_else(|| u32::try_from(position).unwrap_or(u32::MAX));
            self.candidate(index, candidate, out);
        }
        self.done = self.candidates.len() >= self.expected && self.candidates.values().all(|c| c.finished);
        Ok(())
    }

    /// Ends the stream: once [`is_done`](Self::is_done), appends the final usage-only chunk
    /// (`choices: []`, the latest usage) if the upstream reported usage. Idempotent; does nothing
    /// for a truncated stream.
    pub fn finish(&mut self, out: &mut Vec<ChatChunk>) {
        if !self.done || self.usage_sent {
            return;
        }
        if let Some(usage) = &self.usage {
            let mut last = self.chunk(Vec::new());
            last.usage = Some(Some(usage.clone()));
            out.push(last);
            self.usage_sent = true;
        }
    }

    fn candidate(&mut self, index: u32, candidate: &Candidate, out: &mut Vec<ChatChunk>) {
        let mut state = match self.candidates.get(&index) {
            Some(state) => *state,
            None => {
                let delta = Delta { role: Some(Role::Assistant), content: Some(String::new()), rest: Extra::new() };
                out.push(self.choice_chunk(index, delta, None));
                CandidateState::default()
            }
        };
        if !state.finished {
            for part in candidate.content.iter().flat_map(|c| &c.parts) {
                if let Some(call) = &part.function_call {
                    let mut value = tool_call(call, part, call_id(self.next_call));
                    self.next_call += 1;
                    if let Some(obj) = value.as_object_mut() {
                        obj.insert("index".to_owned(), state.tools.into());
                    }
                    state.tools += 1;
                    let mut rest = Extra::new();
                    rest.insert("tool_calls".to_owned(), Value::Array(vec![value]));
                    out.push(self.choice_chunk(index, Delta { role: None, content: None, rest }, None));
                } else if let Some(text) = part.text.as_ref().filter(|t| !t.is_empty()) {
                    let delta = if part.thought == Some(true) {
                        let mut rest = Extra::new();
                        rest.insert("reasoning_content".to_owned(), Value::String(text.clone()));
                        Delta { role: None, content: None, rest }
                    } else {
                        Delta { role: None, content: Some(text.clone()), rest: Extra::new() }
                    };
                    out.push(self.choice_chunk(index, delta, None));
                }
            }
            if let Some(reason) = candidate.finish_reason.as_deref().filter(|r| !r.is_empty()) {
                let mut finish = finish_reason_from_gemini(reason);
                if state.tools > 0 && finish == "stop" {
                    finish = "tool_calls";
                }
                out.push(self.choice_chunk(index, Delta::default(), Some(finish.to_owned())));
                state.finished = true;
            }
        }
        self.candidates.insert(index, state);
    }

    fn choice_chunk(&self, index: u32, delta: Delta, finish_reason: Option<String>) -> ChatChunk {
        self.chunk(vec![ChunkChoice { index, delta, finish_reason, rest: Extra::new() }])
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatChunk {
        ChatChunk {
            id: self.id.clone().unwrap_or_default(),
            object: "chat.completion.chunk".to_owned(),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: None,
            rest: Extra::new(),
        }
    }
}

fn invalid_event() -> Error {
    protocol("upstream sent an invalid stream event")
}
