//! `ChatChunk`: one `chat.completion.chunk` of a stream.

use serde::{Deserialize, Deserializer, Serialize};

use super::{Extra, Usage};

/// One streamed `chat.completion.chunk`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatChunk {
    /// Same for every chunk of a stream.
    #[serde(default)]
    pub id: String,
    /// `chat.completion.chunk`.
    #[serde(default = "chunk_object")]
    pub object: String,
    /// Unix seconds, same for every chunk.
    #[serde(default)]
    pub created: u64,
    /// The model (rewritten to the name the client asked for).
    #[serde(default)]
    pub model: String,
    /// The choice deltas; empty in the final usage chunk.
    #[serde(default)]
    pub choices: Vec<ChunkChoice>,
    /// Absent (`None`), `null` (`Some(None)`), or the usage of the whole stream.
    #[serde(default, deserialize_with = "present_or_null", skip_serializing_if = "Option::is_none")]
    pub usage: Option<Option<Usage>>,
    /// Every other field (`system_fingerprint`, `service_tier`, `obfuscation`...).
    #[serde(flatten)]
    pub rest: Extra,
}

fn chunk_object() -> String {
    "chat.completion.chunk".to_owned()
}

fn present_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<Usage>>, D::Error> {
    Option::<Usage>::deserialize(d).map(Some)
}

impl ChatChunk {
    /// A chunk with one choice (index 0) carrying `delta`, and no usage.
    pub fn single(id: &str, created: u64, model: &str, delta: Delta, finish_reason: Option<String>) -> Self {
        Self {
            id: id.to_owned(),
            object: chunk_object(),
            created,
            model: model.to_owned(),
            choices: vec![ChunkChoice { index: 0, delta, finish_reason, rest: Extra::new() }],
            usage: None,
            rest: Extra::new(),
        }
    }

    /// A chunk whose delta carries `tool_calls: [call]`.
    pub fn tool_call(id: &str, created: u64, model: &str, call: serde_json::Value) -> Self {
        let mut delta = Delta::default();
        delta.rest.insert("tool_calls".to_owned(), serde_json::Value::Array(vec![call]));
        Self::single(id, created, model, delta, None)
    }

    /// The usage this chunk carries, if any.
    pub fn usage(&self) -> Option<&Usage> {
        self.usage.as_ref().and_then(Option::as_ref)
    }

    /// Whether this is the extra final chunk that only carries usage (`choices: []`).
    pub fn is_usage_only(&self) -> bool {
        self.choices.is_empty() && self.usage().is_some()
    }

    /// The chunks of a stream that says what `resp` says: a role chunk, one content chunk per
    /// choice, a finish chunk per choice, and a final usage chunk when `resp` has usage. Used for
    /// cache hits and policy answers to streaming requests, and for upstreams that ignore `stream`.
    pub fn from_response(resp: &super::ChatResponse) -> Vec<ChatChunk> {
        let base = |choices: Vec<ChunkChoice>| ChatChunk {
            id: resp.id.clone(),
            object: chunk_object(),
            created: resp.created,
            model: resp.model.clone(),
            choices,
            usage: None,
            rest: Extra::new(),
        };
        let mut out = Vec::with_capacity(resp.choices.len() * 2 + 1);
        for choice in &resp.choices {
            let mut delta_rest = choice.message.rest.clone();
            if let Some(serde_json::Value::Array(calls)) = delta_rest.get_mut("tool_calls") {
                for (i, call) in calls.iter_mut().enumerate() {
                    if let Some(obj) = call.as_object_mut() {
                        obj.entry("index").or_insert(i.into());
                    }
                }
            }
            out.push(base(vec![ChunkChoice {
                index: choice.index,
                delta: Delta {
                    role: Some(choice.message.role),
                    content: Some(choice.message.text().unwrap_or_default()),
                    rest: delta_rest,
                },
                finish_reason: None,
                rest: Extra::new(),
            }]));
            out.push(base(vec![ChunkChoice {
                index: choice.index,
                delta: Delta::default(),
                finish_reason: choice.finish_reason.clone(),
                rest: Extra::new(),
            }]));
        }
        if let Some(usage) = &resp.usage {
            let mut last = base(Vec::new());
            last.usage = Some(Some(usage.clone()));
            out.push(last);
        }
        out
    }

    /// The content text of all deltas in this chunk.
    pub fn content_len(&self) -> usize {
        self.choices.iter().filter_map(|c| c.delta.content.as_ref()).map(String::len).sum()
    }
}

/// One choice delta of a chunk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChunkChoice {
    /// The choice index.
    #[serde(default)]
    pub index: u32,
    /// What this chunk adds.
    #[serde(default)]
    pub delta: Delta,
    /// Set on the last chunk of the choice.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Every other field (`logprobs`...).
    #[serde(flatten)]
    pub rest: Extra,
}

/// The delta of a chunk choice.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Delta {
    /// Present on the first delta.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<super::Role>,
    /// A fragment of the answer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub content: Option<String>,
    /// Every other field (`tool_calls`, `refusal`...).
    #[serde(flatten)]
    pub rest: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_absent_null_and_present_are_distinguished() {
        let absent: ChatChunk = serde_json::from_str(r#"{"id":"a","choices":[]}"#).unwrap();
        assert_eq!(absent.usage, None);
        let null: ChatChunk = serde_json::from_str(r#"{"id":"a","choices":[],"usage":null}"#).unwrap();
        assert_eq!(null.usage, Some(None));
        assert!(serde_json::to_string(&null).unwrap().contains("\"usage\":null"));
        let full: ChatChunk = serde_json::from_str(
            r#"{"id":"a","choices":[],"usage":{"prompt_tokens":3,"completion_tokens":2,"total_tokens":5}}"#,
        )
        .unwrap();
        assert!(full.is_usage_only());
        assert_eq!(full.usage().map(|u| u.total_tokens), Some(5));
    }
}
