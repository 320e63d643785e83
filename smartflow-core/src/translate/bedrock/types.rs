//! The Bedrock Converse wire structs Smartflow reads: the `Converse` response body and the JSON
//! payloads of `ConverseStream` events, typed only as far as the translator reads them.
//!
//! Converse unions (content blocks, deltas, block starts) are JSON objects with exactly one
//! member; they are modelled as structs of optional members, so an unknown member (`citation`,
//! `image`, `guardContent`...) deserialises to an all-`None` value that the translator skips
//! instead of failing. Unknown fields are ignored throughout.

use serde::Deserialize;

/// A `Converse` response body.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse {
    /// The result (`{"message": …}`).
    #[serde(default)]
    pub output: Option<ConverseOutput>,
    /// Why generation stopped (`end_turn`, `tool_use`, `max_tokens`...).
    #[serde(default)]
    pub stop_reason: Option<String>,
    /// Token usage.
    #[serde(default)]
    pub usage: Option<ConverseUsage>,
}

/// The `output` union of a `Converse` response.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ConverseOutput {
    /// The assistant message.
    #[serde(default)]
    pub message: Option<OutputMessage>,
}

/// The generated message.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct OutputMessage {
    /// `assistant`.
    #[serde(default)]
    pub role: String,
    /// The content blocks.
    #[serde(default)]
    pub content: Vec<ContentBlock>,
}

/// One output content block (a union: one member is set).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlock {
    /// Text.
    #[serde(default)]
    pub text: Option<String>,
    /// A tool call.
    #[serde(default)]
    pub tool_use: Option<ToolUseBlock>,
    /// Model reasoning.
    #[serde(default)]
    pub reasoning_content: Option<ReasoningContentBlock>,
}

/// A `toolUse` block: the model asks for a tool call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseBlock {
    /// The call id, echoed by the matching `toolResult`.
    #[serde(default)]
    pub tool_use_id: String,
    /// The tool name.
    #[serde(default)]
    pub name: String,
    /// The arguments, a JSON document.
    #[serde(default)]
    pub input: serde_json::Value,
}

/// A `reasoningContent` block (a union: text with a signature, or redacted bytes).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningContentBlock {
    /// Readable reasoning.
    #[serde(default)]
    pub reasoning_text: Option<ReasoningText>,
}

/// Readable reasoning text.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReasoningText {
    /// The reasoning.
    #[serde(default)]
    pub text: String,
}

/// Converse token usage: `inputTokens` excludes the cache reads and writes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseUsage {
    /// Uncached input tokens.
    #[serde(default)]
    pub input_tokens: Option<u64>,
    /// Output tokens.
    #[serde(default)]
    pub output_tokens: Option<u64>,
    /// Bedrock's total (not used: recomputed from the parts).
    #[serde(default)]
    pub total_tokens: Option<u64>,
    /// Input tokens read from the prompt cache.
    #[serde(default)]
    pub cache_read_input_tokens: Option<u64>,
    /// Input tokens written to the prompt cache.
    #[serde(default)]
    pub cache_write_input_tokens: Option<u64>,
}

/// `contentBlockStart` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockStartEvent {
    /// The block's position in the message.
    #[serde(default)]
    pub content_block_index: u32,
    /// What kind of block opens.
    #[serde(default)]
    pub start: BlockStart,
}

/// The `start` union of `contentBlockStart`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockStart {
    /// A tool call opens (its input follows as deltas).
    #[serde(default)]
    pub tool_use: Option<ToolUseStart>,
}

/// The id and name of a streamed tool call.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseStart {
    /// The call id.
    #[serde(default)]
    pub tool_use_id: String,
    /// The tool name.
    #[serde(default)]
    pub name: String,
}

/// `contentBlockDelta` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockDeltaEvent {
    /// The block's position in the message.
    #[serde(default)]
    pub content_block_index: u32,
    /// The fragment.
    #[serde(default)]
    pub delta: BlockDelta,
}

/// The `delta` union of `contentBlockDelta`.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BlockDelta {
    /// More text.
    #[serde(default)]
    pub text: Option<String>,
    /// More of a tool's input JSON (not valid JSON on its own).
    #[serde(default)]
    pub tool_use: Option<ToolUseDelta>,
    /// More reasoning.
    #[serde(default)]
    pub reasoning_content: Option<ReasoningDelta>,
}

/// A fragment of a tool call's input.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToolUseDelta {
    /// The JSON fragment.
    #[serde(default)]
    pub input: String,
}

/// A fragment of reasoning (a union: `text`, `signature` or `redactedContent`).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ReasoningDelta {
    /// The reasoning text fragment.
    #[serde(default)]
    pub text: Option<String>,
}

/// `messageStop` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStopEvent {
    /// Why generation stopped.
    #[serde(default)]
    pub stop_reason: Option<String>,
}

/// `metadata` payload.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct MetadataEvent {
    /// Token usage of the whole stream.
    #[serde(default)]
    pub usage: Option<ConverseUsage>,
}
