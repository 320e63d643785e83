//! Canonical tools, `tool_choice`, `parallel_tool_calls` and JSON mode (`response_format`) →
//! Anthropic tools and `tool_choice`.

use serde_json::json;

use super::JSON_TOOL_NAME;
use super::types::{ToolChoice, ToolDefinition};
use crate::error::Error;
use crate::translate::canonical::{
    JSON_TOOL_DESCRIPTION, ToolChoiceIn, json_mode, parallel_tool_calls, tool_choice, tools,
};
use crate::types::ChatRequest;

/// The Anthropic tools and `tool_choice` for `req`, the JSON-mode tool included.
pub(super) fn tools_and_choice(req: &ChatRequest) -> Result<(Vec<ToolDefinition>, Option<ToolChoice>), Error> {
    let mut defs: Vec<ToolDefinition> = tools(req, Some(JSON_TOOL_NAME))?
        .into_iter()
        .map(|t| ToolDefinition {
            name: t.name,
            description: t.description,
            input_schema: Some(t.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}))),
            kind: None,
            cache_control: t.cache_control,
        })
        .collect();
    let has_user_tools = !defs.is_empty();
    let choice = tool_choice(req)?;
    let disable = (parallel_tool_calls(req)? == Some(false)).then_some(true);
    let mapped = |choice: Option<ToolChoiceIn>| match choice {
        Some(ToolChoiceIn::NoTools) => Some(ToolChoice::NoTools),
        Some(ToolChoiceIn::Auto) => Some(ToolChoice::Auto { disable_parallel_tool_use: disable }),
        Some(ToolChoiceIn::Required) => Some(ToolChoice::Any { disable_parallel_tool_use: disable }),
        Some(ToolChoiceIn::Named(name)) => Some(ToolChoice::Tool { name, disable_parallel_tool_use: disable }),
        None => disable.map(|d| ToolChoice::Auto { disable_parallel_tool_use: Some(d) }),
    };
    let forced_json = || ToolChoice::Tool { name: JSON_TOOL_NAME.to_owned(), disable_parallel_tool_use: None };
    let tool_choice = match json_mode(req)? {
        Some(mode) => {
            defs.push(ToolDefinition {
                name: JSON_TOOL_NAME.to_owned(),
                description: Some(mode.description.unwrap_or_else(|| JSON_TOOL_DESCRIPTION.to_owned())),
                input_schema: Some(mode.schema.unwrap_or_else(|| json!({"type": "object"}))),
                kind: None,
                cache_control: None,
            });
            match choice {
                // Without other usable tools the answer must be the JSON tool.
                _ if !has_user_tools => Some(forced_json()),
                Some(ToolChoiceIn::NoTools) => Some(forced_json()),
                // With the caller's tools in play the model may call them or answer in JSON.
                other => mapped(other),
            }
        }
        None if has_user_tools => mapped(choice),
        None => None,
    };
    Ok((defs, tool_choice))
}
