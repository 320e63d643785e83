//! Canonical tools, `tool_choice` and JSON mode (`response_format`) → the Converse `toolConfig`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::JSON_TOOL_NAME;
use super::mapping::{field, invalid, unsupported};
use crate::error::Error;
use crate::types::ChatRequest;

#[derive(Deserialize)]
struct OpenAiTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    function: Option<OpenAiFunction>,
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

/// The `toolConfig` for `req`, the JSON-mode tool included; `None` when no tool is offered.
///
/// `tool_choice`: `auto` (or absent) sends no `toolChoice` (Converse's default is auto, and not
/// every model accepts an explicit one), `required` → `{"any": {}}`, a named function →
/// `{"tool": {"name"}}`. Converse has no `none`: the tools are withheld, unless the conversation
/// already holds `toolUse`/`toolResult` blocks (`has_tool_blocks`), which Converse only accepts
/// beside a `toolConfig`; the tools are then offered without a `toolChoice`, and the model may
/// still call one. `parallel_tool_calls` has no Converse equivalent and is only type-checked.
pub(super) fn tool_config(req: &ChatRequest, has_tool_blocks: bool) -> Result<Option<Value>, Error> {
    let mut tools = Vec::new();
    match field(req, "tools") {
        None => {}
        Some(Value::Array(list)) => {
            for (i, tool) in list.iter().enumerate() {
                tools.push(tool_spec(tool, &format!("tools[{i}]"))?);
            }
        }
        Some(_) => return Err(invalid("tools", "tools must be an array")),
    }
    let has_user_tools = !tools.is_empty();
    let choice = parse_choice(req)?;
    if field(req, "parallel_tool_calls").is_some_and(|v| !v.is_boolean()) {
        return Err(invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean"));
    }
    let forced_json = || Some(json!({ "tool": { "name": JSON_TOOL_NAME } }));
    let mapped = |choice: Option<Choice>| match choice {
        Some(Choice::Required) => Some(json!({ "any": {} })),
        Some(Choice::Named(name)) => Some(json!({ "tool": { "name": name } })),
        Some(Choice::Auto | Choice::NoTools) | None => None,
    };
    let tool_choice = match json_mode_tool(req)? {
        Some(json_tool) => {
            tools.push(json_tool);
            match choice {
                // Without other usable tools the answer must be the JSON tool.
                _ if !has_user_tools => forced_json(),
                Some(Choice::NoTools) => forced_json(),
                // With the caller's tools in play the model may call them or answer in JSON.
                other => mapped(other),
            }
        }
        None if !has_user_tools => return Ok(None),
        None if matches!(choice, Some(Choice::NoTools)) && !has_tool_blocks => return Ok(None),
        None => mapped(choice),
    };
    let mut config = json!({ "tools": tools });
    if let (Some(choice), Some(obj)) = (tool_choice, config.as_object_mut()) {
        obj.insert("toolChoice".to_owned(), choice);
    }
    Ok(Some(config))
}

fn parse_choice(req: &ChatRequest) -> Result<Option<Choice>, Error> {
    Ok(match field(req, "tool_choice") {
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
    })
}

/// An OpenAI function tool → `{"toolSpec": {"name", "description", "inputSchema": {"json"}}}`.
fn tool_spec(tool: &Value, path: &str) -> Result<Value, Error> {
    let parsed = OpenAiTool::deserialize(tool)
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
    let schema = function.parameters.unwrap_or_else(|| json!({"type": "object", "properties": {}}));
    Ok(spec(function.name, function.description, schema))
}

fn spec(name: String, description: Option<String>, schema: Value) -> Value {
    let mut spec = json!({ "name": name, "inputSchema": { "json": schema } });
    if let (Some(description), Some(obj)) = (description, spec.as_object_mut()) {
        obj.insert("description".to_owned(), Value::String(description));
    }
    json!({ "toolSpec": spec })
}

/// The forced tool that emulates `response_format` JSON modes, if one is asked for.
fn json_mode_tool(req: &ChatRequest) -> Result<Option<Value>, Error> {
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
    let description =
        description.unwrap_or_else(|| "Give the final answer as a JSON object matching the input schema.".to_owned());
    Ok(Some(spec(JSON_TOOL_NAME.to_owned(), Some(description), schema.unwrap_or_else(|| json!({"type": "object"})))))
}
