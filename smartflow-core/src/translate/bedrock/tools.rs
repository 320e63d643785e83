//! Canonical tools, `tool_choice` and JSON mode (`response_format`) → the Converse `toolConfig`.

use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use crate::error::Error;
use crate::translate::canonical::{
    JSON_TOOL_DESCRIPTION, ToolChoiceIn, json_mode, parallel_tool_calls, tool_choice, tools,
};
use crate::types::ChatRequest;

/// The `toolConfig` for `req`, the JSON-mode tool included; `None` when no tool is offered.
///
/// `tool_choice`: `auto` (or absent) sends no `toolChoice` (Converse's default is auto, and not
/// every model accepts an explicit one), `required` → `{"any": {}}`, a named function →
/// `{"tool": {"name"}}`. Converse has no `none`: the tools are withheld, unless the conversation
/// already holds `toolUse`/`toolResult` blocks (`has_tool_blocks`), which Converse only accepts
/// beside a `toolConfig`; the tools are then offered without a `toolChoice`, and the model may
/// still call one. `parallel_tool_calls` has no Converse equivalent and is only type-checked.
pub(super) fn tool_config(req: &ChatRequest, has_tool_blocks: bool) -> Result<Option<Value>, Error> {
    let mut specs: Vec<Value> = tools(req, Some(JSON_TOOL_NAME))?
        .into_iter()
        .map(|t| {
            spec(t.name, t.description, t.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}})))
        })
        .collect();
    let has_user_tools = !specs.is_empty();
    let choice = tool_choice(req)?;
    parallel_tool_calls(req)?;
    let forced_json = || Some(json!({ "tool": { "name": JSON_TOOL_NAME } }));
    let mapped = |choice: Option<ToolChoiceIn>| match choice {
        Some(ToolChoiceIn::Required) => Some(json!({ "any": {} })),
        Some(ToolChoiceIn::Named(name)) => Some(json!({ "tool": { "name": name } })),
        Some(ToolChoiceIn::Auto | ToolChoiceIn::NoTools) | None => None,
    };
    let tool_choice = match json_mode(req)? {
        Some(mode) => {
            let description = mode.description.unwrap_or_else(|| JSON_TOOL_DESCRIPTION.to_owned());
            specs.push(spec(
                JSON_TOOL_NAME.to_owned(),
                Some(description),
                mode.schema.unwrap_or_else(|| json!({"type": "object"})),
            ));
            match choice {
                // Without other usable tools the answer must be the JSON tool.
                _ if !has_user_tools => forced_json(),
                Some(ToolChoiceIn::NoTools) => forced_json(),
                // With the caller's tools in play the model may call them or answer in JSON.
                other => mapped(other),
            }
        }
        None if !has_user_tools => return Ok(None),
        None if matches!(choice, Some(ToolChoiceIn::NoTools)) && !has_tool_blocks => return Ok(None),
        None => mapped(choice),
    };
    let mut config = json!({ "tools": specs });
    if let (Some(choice), Some(obj)) = (tool_choice, config.as_object_mut()) {
        obj.insert("toolChoice".to_owned(), choice);
    }
    Ok(Some(config))
}

fn spec(name: String, description: Option<String>, schema: Value) -> Value {
    let mut spec = json!({ "name": name, "inputSchema": { "json": schema } });
    if let (Some(description), Some(obj)) = (description, spec.as_object_mut()) {
        obj.insert("description".to_owned(), Value::String(description));
    }
    json!({ "toolSpec": spec })
}
