//! `ChatRequest`, `Message` and `ChatResponse`: the canonical chat-completions shape.

use serde::{Deserialize, Serialize};

use super::{Extra, Usage};
use crate::error::Error;

/// An OpenAI `POST /v1/chat/completions` request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The model name the client asked for (a virtual or branded name).
    pub model: String,
    /// The conversation.
    pub messages: Vec<Message>,
    /// Whether the client wants a server-sent-event stream.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Streaming options (`include_usage`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Legacy output-token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// Current output-token limit.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_completion_tokens: Option<u64>,
    /// Every other field, passed through untouched.
    #[serde(flatten)]
    pub rest: Extra,
}

impl ChatRequest {
    /// Parses a request body, naming the offending parameter on error (`messages[0].role`).
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        let req: Self = super::validate::parse_json(body)?;
        req.validate()?;
        Ok(req)
    }

    /// Checks what serde cannot: a non-empty model, a non-empty conversation, sane limits.
    pub fn validate(&self) -> Result<(), Error> {
        if self.model.trim().is_empty() {
            return Err(Error::invalid_request("you must provide a model parameter").with_param("model"));
        }
        if self.messages.is_empty() {
            return Err(Error::invalid_request("messages must contain at least one message").with_param("messages"));
        }
        if self.messages.len() > super::validate::MAX_MESSAGES {
            return Err(Error::invalid_request(format!(
                "messages may contain at most {} messages",
                super::validate::MAX_MESSAGES
            ))
            .with_param("messages"));
        }
        for (name, v) in [("max_tokens", self.max_tokens), ("max_completion_tokens", self.max_completion_tokens)] {
            if v == Some(0) {
                return Err(Error::invalid_request(format!("{name} must be at least 1")).with_param(name));
            }
        }
        super::validate::reject_client_upstream_overrides(&self.rest)
    }

    /// Whether the client asked for a stream.
    pub fn is_stream(&self) -> bool {
        self.stream.unwrap_or(false)
    }

    /// Whether the client asked for the final usage chunk of a stream.
    pub fn wants_stream_usage(&self) -> bool {
        self.stream_options.as_ref().and_then(|o| o.include_usage).unwrap_or(false)
    }

    /// The output-token limit the client set, preferring `max_completion_tokens`.
    pub fn output_limit(&self) -> Option<u64> {
        self.max_completion_tokens.or(self.max_tokens)
    }

    /// The text of the last user message, if it has any text.
    pub fn last_user_text(&self) -> Option<String> {
        self.messages.iter().rev().find(|m| m.role == Role::User).and_then(|m| m.text())
    }
}

/// `stream_options`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct StreamOptions {
    /// Ask for a final chunk carrying `usage`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub include_usage: Option<bool>,
    /// Other options, passed through.
    #[serde(flatten)]
    pub rest: Extra,
}

/// The author of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// `developer` (the newer name for system instructions).
    Developer,
    /// `system`.
    System,
    /// `user`.
    User,
    /// `assistant`.
    Assistant,
    /// `tool` (a tool result).
    Tool,
    /// `function` (legacy function result).
    Function,
}

/// One message of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Who wrote it.
    pub role: Role,
    /// The content: a string, an array of parts, or null (assistant tool calls).
    #[serde(default)]
    pub content: Option<MessageContent>,
    /// Every other field (`name`, `tool_calls`, `tool_call_id`, `refusal`...).
    #[serde(flatten)]
    pub rest: Extra,
}

impl Message {
    /// A message with plain text content.
    pub fn text_message(role: Role, text: impl Into<String>) -> Self {
        Self { role, content: Some(MessageContent::Text(text.into())), rest: Extra::new() }
    }

    /// Bytes of text in the message, without copying it.
    pub fn text_len(&self) -> usize {
        match &self.content {
            None => 0,
            Some(MessageContent::Text(s)) => s.len(),
            Some(MessageContent::Parts(parts)) => parts.iter().filter_map(|p| p.text.as_ref()).map(String::len).sum(),
        }
    }

    /// The text of the message: the string, or its text parts joined with newlines.
    pub fn text(&self) -> Option<String> {
        match self.content.as_ref()? {
            MessageContent::Text(s) => Some(s.clone()),
            MessageContent::Parts(parts) => {
                let texts: Vec<&str> = parts.iter().filter_map(|p| p.text.as_deref()).collect();
                if texts.is_empty() { None } else { Some(texts.join("\n")) }
            }
        }
    }
}

/// Message content: a string or an array of typed parts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MessageContent {
    /// Plain text.
    Text(String),
    /// Typed parts (`text`, `image_url`, `input_audio`, `file`).
    Parts(Vec<ContentPart>),
}

/// One content part; only `text` is read, the rest is passed through.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ContentPart {
    /// The part type (`text`, `image_url`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// The text of a `text` part.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Every other field.
    #[serde(flatten)]
    pub rest: Extra,
}

/// An OpenAI `chat.completion` response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// `chatcmpl-...`.
    pub id: String,
    /// `chat.completion`.
    #[serde(default = "chat_completion_object")]
    pub object: String,
    /// Unix seconds.
    #[serde(default)]
    pub created: u64,
    /// The model that answered (rewritten to the name the client asked for).
    #[serde(default)]
    pub model: String,
    /// The choices.
    pub choices: Vec<Choice>,
    /// Token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<Usage>,
    /// Every other field (`system_fingerprint`, `service_tier`...).
    #[serde(flatten)]
    pub rest: Extra,
}

fn chat_completion_object() -> String {
    "chat.completion".to_owned()
}

/// One choice of a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    /// Its index.
    #[serde(default)]
    pub index: u32,
    /// The assistant message.
    pub message: Message,
    /// Why generation stopped.
    #[serde(default)]
    pub finish_reason: Option<String>,
    /// Every other field (`logprobs`...).
    #[serde(flatten)]
    pub rest: Extra,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_a_round_trip() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi","name":"bob"}],
            "temperature":0.3,"tools":[{"type":"function","function":{"name":"f"}}],"seed":7}"#;
        let req = ChatRequest::from_slice(body).unwrap_or_else(|e| panic!("{e}"));
        let back: serde_json::Value = serde_json::to_value(&req).unwrap_or_default();
        let orig: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
        assert_eq!(back, orig);
    }

    #[test]
    fn errors_name_the_parameter() {
        let e = ChatRequest::from_slice(br#"{"model":"m","messages":[{"role":"wizard","content":"x"}]}"#).err();
        assert_eq!(e.as_ref().and_then(|e| e.param()), Some("messages[0].role"));
        let e = ChatRequest::from_slice(br#"{"model":5,"messages":[]}"#).err();
        assert_eq!(e.as_ref().and_then(|e| e.param()), Some("model"));
    }

    #[test]
    fn semantic_checks() {
        let cases: [(&[u8], &str); 4] = [
            (br#"{"model":"","messages":[{"role":"user","content":"x"}]}"#, "model"),
            (br#"{"model":"m","messages":[]}"#, "messages"),
            (br#"{"messages":[{"role":"user","content":"x"}]}"#, "model"),
            (br#"{"model":"m","messages":[{"role":"user","content":"x"}],"max_tokens":0}"#, "max_tokens"),
        ];
        for (body, param) in cases {
            let e = ChatRequest::from_slice(body).err();
            assert!(e.is_some(), "{}", String::from_utf8_lossy(body));
            let msg = e.as_ref().map(|e| e.message().to_owned()).unwrap_or_default();
            assert!(e.as_ref().and_then(|e| e.param()) == Some(param) || msg.contains(param), "{param}: {msg}");
        }
    }

    #[test]
    fn parts_text_is_joined() {
        let m: Message = serde_json::from_str(
            r#"{"role":"user","content":[{"type":"text","text":"a"},{"type":"image_url","image_url":{"url":"x"}},{"type":"text","text":"b"}]}"#,
        )
        .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(m.text().as_deref(), Some("a\nb"));
    }
}
