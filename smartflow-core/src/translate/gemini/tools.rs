//! Canonical `tools`, `tool_choice` and `parallel_tool_calls` → Gemini `tools` (function
//! declarations) and `toolConfig.functionCallingConfig`.

use serde_json::Value;

use super::types::{FunctionCallingConfig, FunctionDeclaration, Tool, ToolConfig};
use crate::error::Error;
use crate::translate::canonical::{ToolChoiceIn, invalid, parallel_tool_calls, tool_choice, tools};
use crate::types::ChatRequest;

/// The Gemini tools and tool config for `req`.
///
/// All functions go into one `tools[]` entry. `tool_choice` maps `none` → `NONE`, `auto` →
/// `AUTO`, `required` → `ANY`, a named function → `ANY` restricted to that name; without tools a
/// plain `tool_choice` is dropped. `parallel_tool_calls` is checked and dropped (Gemini has no
/// switch for it).
pub(super) fn tools_and_config(req: &ChatRequest) -> Result<(Option<Vec<Tool>>, Option<ToolConfig>), Error> {
    let mut declarations = Vec::new();
    for (i, t) in tools(req, None)?.into_iter().enumerate() {
        let parameters = match t.parameters {
            None | Some(Value::Null) => None,
            Some(schema @ Value::Object(_)) => Some(schema),
            Some(_) => {
                return Err(invalid(
                    format!("tools[{i}].function.parameters"),
                    "function parameters must be a JSON Schema object",
                ));
            }
        };
        declarations.push(FunctionDeclaration {
            name: t.name,
            description: t.description.filter(|d| !d.is_empty()),
            parameters_json_schema: parameters,
        });
    }
    parallel_tool_calls(req)?;
    let config = |mode: &str, names: Option<Vec<String>>| ToolConfig {
        function_calling_config: FunctionCallingConfig { mode: mode.to_owned(), allowed_function_names: names },
    };
    let tool_config = match tool_choice(req)? {
        None => None,
        Some(choice @ (ToolChoiceIn::NoTools | ToolChoiceIn::Auto | ToolChoiceIn::Required)) => {
            let mode = match choice {
                ToolChoiceIn::NoTools => "NONE",
                ToolChoiceIn::Required => "ANY",
                _ => "AUTO",
            };
            (!declarations.is_empty()).then(|| config(mode, None))
        }
        Some(ToolChoiceIn::Named(name)) => {
            if !declarations.iter().any(|d| d.name == name) {
                return Err(invalid("tool_choice", format!("tool_choice names `{name}`, which is not in tools")));
            }
            Some(config("ANY", Some(vec![name])))
        }
    };
    let tools = (!declarations.is_empty()).then(|| vec![Tool { function_declarations: declarations }]);
    Ok((tools, tool_config))
}
