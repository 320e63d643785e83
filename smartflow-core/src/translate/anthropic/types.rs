//! The Anthropic Messages wire structs (`POST /v1/messages` requests, responses, stream events and
//! error bodies), typed only as far as the translator reads or writes them.
//!
//! Deserialising ignores unknown fields (`cache_control` where it is not modelled, `citations`,
//! `container`...), and unknown content-block, source, delta and event types land in an
//! `Unknown`/`Unsupported` variant instead of failing, as the Anthropic protocol asks of clients.

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize};

/// A Messages API request body.
///
/// `model` and `messages` default to empty so that a missing field is reported by validation with
/// the parameter named, not by serde with a bare "missing field".
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessagesRequest {
    /// The model to run.
    #[serde(default)]
    pub model: String,
    /// Output-token limit; required by the API (optional here only to name it when missing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u64>,
    /// The conversation, strictly alternating user and assistant turns.
    #[serde(default)]
    pub messages: Vec<InputMessage>,
    /// The system prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub system: Option<SystemPrompt>,
    /// Sampling temperature, 0 to 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    /// Nucleus sampling.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    /// Top-k sampling (no OpenAI equivalent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_k: Option<u64>,
    /// Custom stop sequences.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stop_sequences: Option<Vec<String>>,
    /// Whether to stream server-sent events.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    /// Request metadata (`user_id`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    /// Tool definitions.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tools: Option<Vec<ToolDefinition>>,
    /// How the model may use the tools.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
}

/// `metadata`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metadata {
    /// An opaque end-user identifier.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// The top-level `system` prompt: a string or text blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SystemPrompt {
    /// Plain text.
    Text(String),
    /// Text blocks (which may carry `cache_control`).
    Blocks(Vec<ContentBlock>),
}

/// The author of an input message; the API knows no other roles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AnthropicRole {
    /// `user` (tool results are user content).
    User,
    /// `assistant` (tool calls are assistant content).
    Assistant,
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InputMessage {
    /// Who wrote it.
    pub role: AnthropicRole,
    /// What it says.
    pub content: MessageBody,
}

/// Message content: a string or an array of content blocks.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum MessageBody {
    /// Plain text.
    Text(String),
    /// Typed blocks.
    Blocks(Vec<ContentBlock>),
}

/// One content block, in a request or a response.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    /// Text.
    Text {
        /// The text.
        text: String,
        /// A prompt-cache breakpoint, passed through as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    /// An image.
    Image {
        /// Where the image comes from.
        source: MediaSource,
        /// A prompt-cache breakpoint, passed through as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    /// A document (PDF or plain text).
    Document {
        /// Where the document comes from.
        source: MediaSource,
        /// An optional title.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        /// A prompt-cache breakpoint, passed through as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    /// A tool call made by the assistant.
    ToolUse {
        /// `toolu_…`, echoed by the matching `tool_result`.
        id: String,
        /// The tool name.
        name: String,
        /// The arguments, a JSON object.
        #[serde(default)]
        input: serde_json::Value,
        /// A prompt-cache breakpoint, passed through as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    /// The result of a tool call, sent in a user turn.
    ToolResult {
        /// The `id` of the `tool_use` block it answers.
        tool_use_id: String,
        /// The result: text or text/image blocks.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        content: Option<ToolResultBody>,
        /// Whether the tool failed.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        is_error: Option<bool>,
        /// A prompt-cache breakpoint, passed through as given.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        cache_control: Option<serde_json::Value>,
    },
    /// Extended-thinking output.
    Thinking {
        /// The reasoning text.
        #[serde(default)]
        thinking: String,
        /// The signature that lets the block be sent back.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signature: Option<String>,
    },
    /// Encrypted extended-thinking output.
    RedactedThinking {
        /// The opaque payload.
        #[serde(default)]
        data: String,
    },
    /// Any other block type (server tools, search results...); ignored.
    #[serde(other)]
    Unknown,
}

impl ContentBlock {
    /// A text block without a cache breakpoint.
    pub fn text(text: impl Into<String>) -> Self {
        Self::Text { text: text.into(), cache_control: None }
    }
}

/// The content of a `tool_result` block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ToolResultBody {
    /// Plain text.
    Text(String),
    /// Text and image blocks.
    Blocks(Vec<ContentBlock>),
}

/// The `source` of an image or document block.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum MediaSource {
    /// Inline base64 data.
    Base64 {
        /// `image/png`, `application/pdf`...
        media_type: String,
        /// The base64 payload.
        data: String,
    },
    /// A URL the provider fetches.
    Url {
        /// The URL.
        url: String,
    },
    /// Inline plain text (documents only).
    Text {
        /// `text/plain`.
        #[serde(default)]
        media_type: String,
        /// The text.
        data: String,
    },
    /// Any other source (`file`, `content`...).
    #[serde(other)]
    Unsupported,
}

/// A tool definition. Server tools (web search, code execution...) carry a `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolDefinition {
    /// The tool name.
    pub name: String,
    /// What the tool does.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// The JSON Schema of the input (required for client tools).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_schema: Option<serde_json::Value>,
    /// `custom` or absent for client tools; a versioned name for server tools.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// A prompt-cache breakpoint, passed through as given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_control: Option<serde_json::Value>,
}

/// `tool_choice`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides.
    Auto {
        /// At most one tool call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call some tool.
    Any {
        /// At most one tool call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model must call the named tool.
    Tool {
        /// The tool to call.
        name: String,
        /// At most one tool call per turn.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        disable_parallel_tool_use: Option<bool>,
    },
    /// The model may not call tools.
    #[serde(rename = "none")]
    NoTools,
}

/// A non-streamed Messages API response (also the `message` of `message_start`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessagesResponse {
    /// `msg_…`.
    #[serde(default)]
    pub id: String,
    /// `message`.
    #[serde(rename = "type", default = "message_type")]
    pub kind: String,
    /// `assistant`.
    #[serde(default = "assistant_role")]
    pub role: String,
    /// The model that answered.
    #[serde(default)]
    pub model: String,
    /// The content blocks.
    pub content: Vec<ContentBlock>,
    /// `end_turn`, `max_tokens`, `stop_sequence`, `tool_use`, `pause_turn`, `refusal`...
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence that matched, if any.
    #[serde(default)]
    pub stop_sequence: Option<String>,
    /// Token usage.
    #[serde(default)]
    pub usage: AnthropicUsage,
}

fn message_type() -> String {
    "message".to_owned()
}

fn assistant_role() -> String {
    "assistant".to_owned()
}

/// Anthropic usage: `input_tokens` excludes the cache reads and writes.
///
/// Every field is optional because `message_delta` only carries the ones that changed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AnthropicUsage {
    /// Uncached input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub input_tokens: Option<u64>,
    /// Output tokens (cumulative in `message_delta`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_creation_input_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
}

impl AnthropicUsage {
    /// Overwrites the fields `newer` carries, keeps the others.
    pub fn update(&mut self, newer: &AnthropicUsage) {
        let fields = [
            (&mut self.input_tokens, newer.input_tokens),
            (&mut self.output_tokens, newer.output_tokens),
            (&mut self.cache_creation_input_tokens, newer.cache_creation_input_tokens),
            (&mut self.cache_read_input_tokens, newer.cache_read_input_tokens),
        ];
        for (mine, theirs) in fields {
            if theirs.is_some() {
                *mine = theirs;
            }
        }
    }
}

/// One server-sent event of a streamed response; the SSE `event:` name equals `type`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The message shell, with the input usage.
    MessageStart {
        /// The message so far (empty content).
        message: MessagesResponse,
    },
    /// A content block opens.
    ContentBlockStart {
        /// The block's position in `content`.
        index: u32,
        /// The block, empty (`text: ""`, `input: {}`).
        content_block: ContentBlock,
    },
    /// A fragment of an open block.
    ContentBlockDelta {
        /// The block's position in `content`.
        index: u32,
        /// The fragment.
        delta: BlockDelta,
    },
    /// A content block closes.
    ContentBlockStop {
        /// The block's position in `content`.
        index: u32,
    },
    /// Top-level changes: the stop reason and the cumulative output usage.
    MessageDelta {
        /// The stop reason and sequence.
        delta: MessageDeltaBody,
        /// Usage fields that changed.
        #[serde(default)]
        usage: AnthropicUsage,
    },
    /// The end of the stream.
    MessageStop,
    /// A keep-alive.
    Ping,
    /// An error after the stream began (also the shape of non-2xx bodies).
    Error {
        /// What went wrong.
        error: ErrorDetail,
    },
    /// An event type this translator does not know; ignored.
    #[serde(other)]
    Unknown,
}

/// The fragment carried by `content_block_delta`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum BlockDelta {
    /// More text.
    TextDelta {
        /// The text fragment.
        text: String,
    },
    /// More of a tool's input JSON (not valid JSON on its own).
    InputJsonDelta {
        /// The JSON fragment.
        partial_json: String,
    },
    /// More reasoning.
    ThinkingDelta {
        /// The reasoning fragment.
        thinking: String,
    },
    /// The signature of a thinking block.
    SignatureDelta {
        /// The signature.
        signature: String,
    },
    /// Any other delta (`citations_delta`...); ignored.
    #[serde(other)]
    Unknown,
}

/// The `delta` of `message_delta`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MessageDeltaBody {
    /// Why generation stopped.
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// The stop sequence that matched, if any.
    #[serde(default)]
    pub stop_sequence: Option<String>,
}

/// The `error` object of an error body or event.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// `invalid_request_error`, `overloaded_error`...
    #[serde(rename = "type", default)]
    pub kind: String,
    /// A human-readable message.
    #[serde(default)]
    pub message: String,
}

/// Deserialises "a string or an array of content blocks", reporting what is wrong inside the
/// blocks (`missing field `text``) rather than serde's untagged "did not match any variant".
fn text_or_blocks<'de, D: Deserializer<'de>>(d: D) -> Result<Result<String, Vec<ContentBlock>>, D::Error> {
    match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Ok(Ok(s)),
        blocks @ serde_json::Value::Array(_) => serde_json::from_value(blocks).map(Err).map_err(D::Error::custom),
        _ => Err(D::Error::custom("expected a string or an array of content blocks")),
    }
}

impl<'de> Deserialize<'de> for SystemPrompt {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(text_or_blocks(d)?.map_or_else(Self::Blocks, Self::Text))
    }
}

impl<'de> Deserialize<'de> for MessageBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(text_or_blocks(d)?.map_or_else(Self::Blocks, Self::Text))
    }
}

impl<'de> Deserialize<'de> for ToolResultBody {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Ok(text_or_blocks(d)?.map_or_else(Self::Blocks, Self::Text))
    }
}
