//! Canonical tools, `tool_choice`, `parallel_tool_calls` and JSON mode (`response_format`) →
//! Anthropic tools and `tool_choice`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::mapping::{field, invalid, unsupported};
use super::types::{ToolChoice, ToolDefinition};
use crate::error::Error;
use crate::types::ChatRequest;

#[derive(Deserialize)]
struct OpenAiTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    function: Option<OpenAiFunction>,
    #[serde(default)]
    cache_control: Option<Value>,
}

#[derive(Deserialize)]
struct OpenAiFunction {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
}

/// The caller's `tool_choice`, parsed.
enum Choice {
    NoTools,
    Auto,
    Required,
    Named(String),
}

/// The Anthropic tools and `tool_choice` for `req`, the JSON-mode tool included.
pub(super) fn tools_and_choice(req: &ChatRequest) -> Result<(Vec<ToolDefinition>, Option<ToolChoice>), Error> {
    let mut tools = Vec::new();
    match field(req, "tools") {
        None => {}
        Some(Value::Array(list)) => {
            for (i, tool) in list.iter().enumerate() {
                tools.push(tool_definition(tool, &format!("tools[{i}]"))?);
            }
        }
        Some(_) => return Err(invalid("tools", "tools must be an array")),
    }
    let has_user_tools = !tools.is_empty();
    let choice = match field(req, "tool_choice") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "none" => Choice::NoTools,
            "auto" => Choice::Auto,
            "required" => Choice::Required,
            _ => return Err(invalid("tool_choice", "tool_choice must be none, auto, required or a named function")),
        }),
        Some(v) => {
            let name = v.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            match (v.get("type").and_then(Value::as_str), name) {
                (Some("function"), Some(name)) => Some(Choice::Named(name.to_owned())),
                _ => {
                    return Err(unsupported(
                        "tool_choice",
                        "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}",
                    ));
                }
            }
        }
    };
    let parallel = match field(req, "parallel_tool_calls") {
        None => None,
        Some(Value::Bool(b)) => Some(*b),
        Some(_) => return Err(invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean")),
    };
    let disable = (parallel == Some(false)).then_some(true);
    let mapped = |choice: Option<Choice>| match choice {
        Some(Choice::NoTools) => Some(ToolChoice::NoTools),
        Some(Choice::Auto) => Some(ToolChoice::Auto { disable_parallel_tool_use: disable }),
        Some(Choice::Required) => Some(ToolChoice::Any { disable_parallel_tool_use: disable }),
        Some(Choice::Named(name)) => Some(ToolChoice::Tool { name, disable_parallel_tool_use: disable }),
        None => disable.map(|d| ToolChoice::Auto { disable_parallel_tool_use: Some(d) }),
    };
    let forced_json = || ToolChoice::Tool { name: JSON_TOOL_NAME.to_owned(), disable_parallel_tool_use: None };
    let tool_choice = match json_mode_tool(req)? {
        Some(json_tool) => {
            tools.push(json_tool);
            match choice {
                // Without other usable tools the answer must be the JSON tool.
                _ if !has_user_tools => Some(forced_json()),
                Some(Choice::NoTools) => Some(forced_json()),
                // With the caller's tools in play the model may call them or answer in JSON.
                other => mapped(other),
            }
        }
        None if has_user_tools => mapped(choice),
        None => None,
    };
    Ok((tools, tool_choice))
}

fn tool_definition(tool: &Value, path: &str) -> Result<ToolDefinition, Error> {
    let parsed: OpenAiTool = serde_json::from_value(tool.clone())
        .map_err(|_| invalid(path.to_owned(), "tools need a type and a function with a name"))?;
    if parsed.kind.as_deref() != Some("function") {
        return Err(unsupported(format!("{path}.type"), "only function tools are supported for this model"));
    }
    let function =
        parsed.function.ok_or_else(|| invalid(format!("{path}.function"), "function tools need a function"))?;
    if function.name == JSON_TOOL_NAME {
        return Err(invalid(
            format!("{path}.function.name"),
            format!("the tool name `{JSON_TOOL_NAME}` is reserved by the gateway for JSON mode"),
        ));
    }
    Ok(ToolDefinition {
        name: function.name,
        description: function.description,
        input_schema: Some(function.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}))),
        kind: None,
        cache_control: parsed.cache_control,
    })
}

/// The forced tool that emulates `response_format` JSON modes, if one is asked for.
fn json_mode_tool(req: &ChatRequest) -> Result<Option<ToolDefinition>, Error> {
    let Some(format) = field(req, "response_format") else { return Ok(None) };
    let (schema, description) = match format.get("type").and_then(Value::as_str) {
        Some("text") => return Ok(None),
        Some("json_object") => (None, None),
        Some("json_schema") => {
            let spec = format.get("json_schema");
            let schema = spec.and_then(|s| s.get("schema")).filter(|s| !s.is_null()).cloned();
            let description = spec.and_then(|s| s.get("description")).and_then(Value::as_str).map(str::to_owned);
            (schema, description)
        }
        _ => {
            return Err(unsupported(
                "response_format.type",
                "response_format.type must be text, json_object or json_schema",
            ));
        }
    };
    Ok(Some(ToolDefinition {
        name: JSON_TOOL_NAME.to_owned(),
        description: Some(
            description
                .unwrap_or_else(|| "Give the final answer as a JSON object matching the input schema.".to_owned()),
        ),
        input_schema: Some(schema.unwrap_or_else(|| json!({"type": "object"}))),
        kind: None,
        cache_control: None,
    }))
}
