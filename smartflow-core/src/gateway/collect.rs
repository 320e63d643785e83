//! `Collector`: rebuilds a complete `ChatResponse` from the chunks a client was sent, so a
//! streamed answer can be cached once — and only once — it has ended cleanly.

use std::collections::BTreeMap;

use crate::types::{ChatChunk, ChatResponse, Choice, Extra, Message, MessageContent, Role, Usage};

/// Larger answers are not cached from a stream (the bound also caps the memory it holds).
const MAX_COLLECTED_BYTES: usize = 4 << 20;

#[derive(Default)]
struct Partial {
    role: Option<Role>,
    text: String,
    finish_reason: Option<String>,
}

/// The answer so far. It gives up (and stores nothing) on anything it cannot rebuild exactly:
/// tool-call deltas, refusals, logprobs, or an answer past the size bound.
#[derive(Default)]
pub(crate) struct Collector {
    id: String,
    created: u64,
    rest: Extra,
    choices: BTreeMap<u32, Partial>,
    usage: Option<Usage>,
    bytes: usize,
    gave_up: bool,
}

impl Collector {
    /// The upstream's usage for the whole stream (which the client may not have been sent).
    pub(crate) fn set_usage(&mut self, usage: &Usage) {
        self.usage = Some(usage.clone());
    }

    /// Adds a chunk as the client received it.
    pub(crate) fn push(&mut self, chunk: &ChatChunk) {
        if self.gave_up {
            return;
        }
        if self.id.is_empty() {
            self.id.clone_from(&chunk.id);
            self.created = chunk.created;
            self.rest = chunk.rest.clone();
        }
        for c in &chunk.choices {
            if !c.delta.rest.is_empty() || !c.rest.is_empty() {
                self.give_up();
                return;
            }
            let p = self.choices.entry(c.index).or_default();
            if let Some(role) = c.delta.role {
                p.role = Some(role);
            }
            if let Some(text) = &c.delta.content {
                self.bytes += text.len();
                p.text.push_str(text);
            }
            if let Some(reason) = &c.finish_reason {
                p.finish_reason = Some(reason.clone());
            }
        }
        if self.bytes > MAX_COLLECTED_BYTES {
            self.give_up();
        }
    }

    fn give_up(&mut self) {
        self.gave_up = true;
        self.choices.clear();
    }

    /// The complete response, if every choice finished.
    pub(crate) fn finish(self, model: &str) -> Option<ChatResponse> {
        if self.gave_up || self.choices.is_empty() || self.choices.values().any(|p| p.finish_reason.is_none()) {
            return None;
        }
        let choices = self
            .choices
            .into_iter()
            .map(|(index, p)| Choice {
                index,
                message: Message {
                    role: p.role.unwrap_or(Role::Assistant),
                    content: Some(MessageContent::Text(p.text)),
                    rest: Extra::new(),
                },
                finish_reason: p.finish_reason,
                rest: Extra::new(),
            })
            .collect();
        Some(ChatResponse {
            id: self.id,
            object: "chat.completion".to_owned(),
            created: self.created,
            model: model.to_owned(),
            choices,
            usage: self.usage,
            rest: self.rest,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::types::Delta;

    fn chunk(text: Option<&str>, finish: Option<&str>) -> ChatChunk {
        let delta = Delta { role: None, content: text.map(str::to_owned), rest: Extra::new() };
        ChatChunk::single("c1", 7, "m", delta, finish.map(str::to_owned))
    }

    #[test]
    fn rebuilds_a_finished_answer_and_refuses_an_unfinished_one() {
        let mut c = Collector::default();
        c.push(&chunk(Some("Hel"), None));
        c.push(&chunk(Some("lo"), Some("stop")));
        let resp = c.finish("m");
        assert_eq!(resp.as_ref().and_then(|r| r.choices[0].message.text()).as_deref(), Some("Hello"));
        let mut c = Collector::default();
        c.push(&chunk(Some("Hel"), None));
        assert!(c.finish("m").is_none());
    }

    #[test]
    fn tool_call_deltas_are_not_collected() {
        let mut c = Collector::default();
        c.push(&ChatChunk::tool_call("c1", 7, "m", serde_json::json!({"index": 0})));
        c.push(&chunk(None, Some("tool_calls")));
        assert!(c.finish("m").is_none());
    }
}
