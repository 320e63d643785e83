//! Canonical `tools`, `tool_choice` and `parallel_tool_calls` → Gemini `tools` (function
//! declarations) and `toolConfig.functionCallingConfig`.

use serde::Deserialize;
use serde_json::Value;

use super::mapping::{field, invalid, unsupported};
use super::types::{FunctionCallingConfig, FunctionDeclaration, Tool, ToolConfig};
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

/// The Gemini tools and tool config for `req`.
///
/// All functions go into one `tools[]` entry. `tool_choice` maps `none` → `NONE`, `auto` →
/// `AUTO`, `required` → `ANY`, a named function → `ANY` restricted to that name; without tools a
/// plain `tool_choice` is dropped. `parallel_tool_calls` is checked and dropped (Gemini has no
/// switch for it).
pub(super) fn tools_and_config(req: &ChatRequest) -> Result<(Option<Vec<Tool>>, Option<ToolConfig>), Error> {
    let mut declarations = Vec::new();
    match field(req, "tools") {
        None => {}
        Some(Value::Array(list)) => {
            for (i, tool) in list.iter().enumerate() {
                declarations.push(declaration(tool, &format!("tools[{i}]"))?);
            }
        }
        Some(_) => return Err(invalid("tools", "tools must be an array")),
    }
    match field(req, "parallel_tool_calls") {
        None | Some(Value::Bool(_)) => {}
        Some(_) => return Err(invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean")),
    }
    let config = |mode: &str, names: Option<Vec<String>>| ToolConfig {
        function_calling_config: FunctionCallingConfig { mode: mode.to_owned(), allowed_function_names: names },
    };
    let tool_config = match field(req, "tool_choice") {
        None => None,
        Some(Value::String(s)) => {
            let mode = match s.as_str() {
                "none" => "NONE",
                "auto" => "AUTO",
                "required" => "ANY",
                _ => {
                    return Err(invalid("tool_choice", "tool_choice must be none, auto, required or a named function"));
                }
            };
            (!declarations.is_empty()).then(|| config(mode, None))
        }
        Some(v) => {
            let name = v.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            let name = match (v.get("type").and_then(Value::as_str), name) {
                (Some("function"), Some(name)) => name,
                _ => {
                    return Err(unsupported(
                        "tool_choice",
                        "tool_choice must be none, auto, required or {\"type\":\"function\",\"function\":{\"name\":…}}",
                    ));
                }
            };
            if !declarations.iter().any(|d| d.name == name) {
                return Err(invalid("tool_choice", format!("tool_choice names `{name}`, which is not in tools")));
            }
            Some(config("ANY", Some(vec![name.to_owned()])))
        }
    };
    let tools = (!declarations.is_empty()).then(|| vec![Tool { function_declarations: declarations }]);
    Ok((tools, tool_config))
}

fn declaration(tool: &Value, path: &str) -> Result<FunctionDeclaration, Error> {
    let parsed: OpenAiTool = serde_json::from_value(tool.clone())
        .map_err(|_| invalid(path.to_owned(), "tools need a type and a function with a name"))?;
    if parsed.kind.as_deref() != Some("function") {
        return Err(unsupported(format!("{path}.type"), "only function tools are supported for this model"));
    }
    let function =
        parsed.function.ok_or_else(|| invalid(format!("{path}.function"), "function tools need a function"))?;
    if function.name.is_empty() {
        return Err(invalid(format!("{path}.function.name"), "function names may not be empty"));
    }
    let parameters = match function.parameters {
        None | Some(Value::Null) => None,
        Some(schema @ Value::Object(_)) => Some(schema),
        Some(_) => {
            return Err(invalid(
                format!("{path}.function.parameters"),
                "function parameters must be a JSON Schema object",
            ));
        }
    };
    Ok(FunctionDeclaration {
        name: function.name,
        description: function.description.filter(|d| !d.is_empty()),
        parameters_json_schema: parameters,
    })
}
