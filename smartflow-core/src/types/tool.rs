//! `ToolCall` and `ToolResult`: MCP tool invocations as the pre-tool and post-tool hooks see them.

use serde::{Deserialize, Serialize};

/// An MCP `tools/call` about to be sent to a tool server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolCall {
    /// The MCP server id from configuration.
    pub server: String,
    /// The tool name on that server.
    pub tool: String,
    /// The call's arguments.
    pub arguments: serde_json::Value,
}

/// What a tool server answered.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolResult {
    /// The MCP server id.
    pub server: String,
    /// The tool name.
    pub tool: String,
    /// The result content.
    pub content: serde_json::Value,
    /// Whether the tool reported an error.
    pub is_error: bool,
}
