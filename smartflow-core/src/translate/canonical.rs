//! Reading the canonical (OpenAI chat) shape, once for every dialect: request fields, the
//! 400 errors that name a parameter, data URIs, assistant text parts and tool calls. Each
//! dialect's translator maps what these return into its own wire types.

use std::borrow::Cow;

use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::Error;
use crate::types::{ChatRequest, Message, MessageContent};

/// A request field kept in `rest`, treating `null` as absent.
pub(crate) fn field<'a>(req: &'a ChatRequest, name: &str) -> Option<&'a Value> {
    req.rest.get(name).filter(|v| !v.is_null())
}

/// A 400 `invalid_request_error` naming `param`.
pub(crate) fn invalid(param: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Error {
    Error::invalid_request(message).with_param(param)
}

/// A 400 for a parameter the target dialect cannot express (code `unsupported_parameter`).
pub(crate) fn unsupported(param: impl Into<String>, message: impl Into<Cow<'static, str>>) -> Error {
    invalid(param, message).with_code("unsupported_parameter")
}

/// `data:<media type>[;params];base64,<payload>` → (media type, payload); `None` for anything
/// else, including an empty type or payload.
pub(crate) fn parse_base64_data_uri(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("data:")?;
    let (meta, payload) = rest.split_once(',')?;
    let media_type = meta.strip_suffix(";base64")?;
    // Parameters such as `;charset=utf-8` may sit between the type and `;base64`.
    let media_type = media_type.split(';').next().unwrap_or(media_type).trim();
    if media_type.is_empty() || payload.is_empty() { None } else { Some((media_type, payload)) }
}

/// One assistant tool call, its arguments parsed.
#[derive(Debug)]
pub(crate) struct ToolCallIn {
    /// The call id.
    pub(crate) id: String,
    /// The function name.
    pub(crate) name: String,
    /// The arguments, always a JSON object.
    pub(crate) input: Value,
    /// Provider extras carried on the call (`extra_content`).
    pub(crate) extra_content: Option<Value>,
}

#[derive(Deserialize)]
struct WireToolCall {
    #[serde(default)]
    id: String,
    #[serde(rename = "type", default)]
    kind: Option<String>,
    function: WireFunctionCall,
    #[serde(default)]
    extra_content: Option<Value>,
}

#[derive(Deserialize)]
struct WireFunctionCall {
    name: String,
    #[serde(default)]
    arguments: Option<String>,
}

/// Refuses the legacy `function_call` on an assistant message.
pub(crate) fn reject_function_call(msg: &Message, path: &str) -> Result<(), Error> {
    if msg.rest.get("function_call").is_some_and(|v| !v.is_null()) {
        return Err(unsupported(
            format!("{path}.function_call"),
            "legacy function_call is not supported; use tool_calls",
        ));
    }
    Ok(())
}

/// The text of an assistant message, part by part, with each part's `cache_control`.
/// Refusal parts count as text; any other part type is refused.
pub(crate) fn assistant_texts<'a>(msg: &'a Message, path: &str) -> Result<Vec<(&'a str, Option<&'a Value>)>, Error> {
    match &msg.content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(s)) => Ok(vec![(s.as_str(), None)]),
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| {
                let text = match part.kind.as_str() {
                    "text" => part.text.as_deref(),
                    "refusal" => part.rest.get("refusal").and_then(Value::as_str),
                    other => {
                        return Err(unsupported(
                            format!("{path}.content[{j}].type"),
                            format!("assistant content parts of type `{other}` are not supported for this model"),
                        ));
                    }
                };
                Ok((text.unwrap_or(""), part.rest.get("cache_control")))
            })
            .collect(),
    }
}

/// The tool calls of an assistant message, arguments parsed (an absent list is empty).
/// `require_id`: whether a call without an id is refused.
pub(crate) fn tool_calls(msg: &Message, path: &str, require_id: bool) -> Result<Vec<ToolCallIn>, Error> {
    let calls = match msg.rest.get("tool_calls") {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::Array(calls)) => calls,
        Some(_) => return Err(invalid(format!("{path}.tool_calls"), "tool_calls must be an array")),
    };
    calls
        .iter()
        .enumerate()
        .map(|(j, call)| parse_tool_call(call, &format!("{path}.tool_calls[{j}]"), require_id))
        .collect()
}

fn parse_tool_call(call: &Value, path: &str, require_id: bool) -> Result<ToolCallIn, Error> {
    let call = WireToolCall::deserialize(call)
        .ok()
        .filter(|c| !require_id || !c.id.is_empty())
        .ok_or_else(|| invalid(path.to_owned(), "tool calls need an id and a function with a name"))?;
    if call.kind.as_deref().is_some_and(|k| k != "function") {
        return Err(unsupported(format!("{path}.type"), "only function tool calls are supported for this model"));
    }
    let args = call.function.arguments.as_deref().unwrap_or("").trim();
    let input = if args.is_empty() {
        json!({})
    } else {
        match serde_json::from_str::<Value>(args) {
            Ok(v @ Value::Object(_)) => v,
            _ => {
                return Err(invalid(
                    format!("{path}.function.arguments"),
                    "tool call arguments must be a JSON object serialised as a string",
                ));
            }
        }
    };
    Ok(ToolCallIn { id: call.id, name: call.function.name, input, extra_content: call.extra_content })
}

/// `n`: 1 or absent; more choices per request are refused (no dialect here can fan out).
pub(crate) fn check_n(req: &ChatRequest) -> Result<(), Error> {
    match field(req, "n") {
        None => Ok(()),
        Some(v) => match v.as_u64() {
            Some(1) => Ok(()),
            Some(n) if n > 1 => Err(unsupported("n", "n > 1 is not supported for this model; send separate requests")),
            _ => Err(invalid("n", "n must be a positive integer")),
        },
    }
}

/// `stop` as a list of strings (`None` when absent or empty).
pub(crate) fn stop_sequences(req: &ChatRequest) -> Result<Option<Vec<String>>, Error> {
    let stops = match field(req, "stop") {
        None => return Ok(None),
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(list)) => {
            let strings: Option<Vec<String>> = list.iter().map(|v| v.as_str().map(str::to_owned)).collect();
            strings.ok_or_else(|| invalid("stop", "stop must be a string or an array of strings"))?
        }
        Some(_) => return Err(invalid("stop", "stop must be a string or an array of strings")),
    };
    Ok((!stops.is_empty()).then_some(stops))
}

/// A numeric request field, or a 400 naming it.
pub(crate) fn number_field(req: &ChatRequest, name: &'static str) -> Result<Option<f64>, Error> {
    match field(req, name) {
        None => Ok(None),
        Some(v) => v.as_f64().map(Some).ok_or_else(|| invalid(name, format!("{name} must be a number"))),
    }
}

/// A string request field, or a 400 naming it.
pub(crate) fn string_field(req: &ChatRequest, name: &'static str) -> Result<Option<String>, Error> {
    match field(req, name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid(name, format!("{name} must be a string"))),
    }
}

/// Refuses the legacy `functions` / `function_call` fields (use `tools`).
pub(crate) fn reject_legacy_functions(req: &ChatRequest) -> Result<(), Error> {
    for legacy in ["functions", "function_call"] {
        if field(req, legacy).is_some() {
            return Err(unsupported(legacy, format!("`{legacy}` is not supported for this model; use `tools`")));
        }
    }
    Ok(())
}

/// The error for a legacy `function` role message at `path`.
pub(crate) fn function_role(path: &str) -> Error {
    unsupported(format!("{path}.role"), "`function` messages are not supported for this model; use `tool` messages")
}

/// The text of a system or developer message, part by part with each part's `cache_control`;
/// only text parts are allowed.
pub(crate) fn system_texts<'a>(msg: &'a Message, path: &str) -> Result<Vec<(&'a str, Option<&'a Value>)>, Error> {
    match &msg.content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(s)) => Ok(vec![(s.as_str(), None)]),
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .enumerate()
            .map(|(j, part)| {
                if part.kind != "text" {
                    return Err(unsupported(
                        format!("{path}.content[{j}].type"),
                        "system messages may only contain text parts",
                    ));
                }
                Ok((part.text.as_deref().unwrap_or(""), part.rest.get("cache_control")))
            })
            .collect(),
    }
}

/// One function tool the caller offers.
#[derive(Debug)]
pub(crate) struct ToolIn {
    /// The function name.
    pub(crate) name: String,
    /// Its description.
    pub(crate) description: Option<String>,
    /// Its JSON Schema parameters, if given.
    pub(crate) parameters: Option<Value>,
    /// A `cache_control` marker on the tool (prompt caching dialects).
    pub(crate) cache_control: Option<Value>,
}

#[derive(Deserialize)]
struct WireTool {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    #[serde(default)]
    function: Option<WireFunction>,
    #[serde(default)]
    cache_control: Option<Value>,
}

#[derive(Deserialize)]
struct WireFunction {
    name: String,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<Value>,
}

/// The caller's `tools` (function tools only). `reserved` is a name the gateway uses itself
/// (the JSON-mode tool) and refuses from callers.
pub(crate) fn tools(req: &ChatRequest, reserved: Option<&str>) -> Result<Vec<ToolIn>, Error> {
    let list = match field(req, "tools") {
        None => return Ok(Vec::new()),
        Some(Value::Array(list)) => list,
        Some(_) => return Err(invalid("tools", "tools must be an array")),
    };
    list.iter()
        .enumerate()
        .map(|(i, tool)| {
            let path = format!("tools[{i}]");
            let parsed = WireTool::deserialize(tool)
                .map_err(|_| invalid(path.clone(), "tools need a type and a function with a name"))?;
            if parsed.kind.as_deref() != Some("function") {
                return Err(unsupported(format!("{path}.type"), "only function tools are supported for this model"));
            }
            let function =
                parsed.function.ok_or_else(|| invalid(format!("{path}.function"), "function tools need a function"))?;
            if function.name.is_empty() {
                return Err(invalid(format!("{path}.function.name"), "function names may not be empty"));
            }
            if reserved == Some(function.name.as_str()) {
                return Err(invalid(
                    format!("{path}.function.name"),
                    format!("the tool name `{}` is reserved by the gateway for JSON mode", function.name),
                ));
            }
            Ok(ToolIn {
                name: function.name,
                description: function.description,
                parameters: function.parameters,
                cache_control: parsed.cache_control,
            })
        })
        .collect()
}

/// The caller's `tool_choice`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum ToolChoiceIn {
    /// `none`.
    NoTools,
    /// `auto`.
    Auto,
    /// `required`.
    Required,
    /// `{"type": "function", "function": {"name"}}`.
    Named(String),
}

/// Parses `tool_choice`.
pub(crate) fn tool_choice(req: &ChatRequest) -> Result<Option<ToolChoiceIn>, Error> {
    Ok(match field(req, "tool_choice") {
        None => None,
        Some(Value::String(s)) => Some(match s.as_str() {
            "none" => ToolChoiceIn::NoTools,
            "auto" => ToolChoiceIn::Auto,
            "required" => ToolChoiceIn::Required,
            _ => return Err(invalid("tool_choice", "tool_choice must be none, auto, required or a named function")),
        }),
        Some(v) => {
            let name = v.get("function").and_then(|f| f.get("name")).and_then(Value::as_str);
            match (v.get("type").and_then(Value::as_str), name) {
                (Some("function"), Some(name)) => Some(ToolChoiceIn::Named(name.to_owned())),
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

/// `parallel_tool_calls`, type-checked.
pub(crate) fn parallel_tool_calls(req: &ChatRequest) -> Result<Option<bool>, Error> {
    match field(req, "parallel_tool_calls") {
        None => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(_) => Err(invalid("parallel_tool_calls", "parallel_tool_calls must be a boolean")),
    }
}

/// A JSON-mode `response_format`: the schema (for `json_schema`) and its description.
#[derive(Debug, Default)]
pub(crate) struct JsonModeIn {
    /// The schema, when `json_schema` gave one.
    pub(crate) schema: Option<Value>,
    /// The schema's description.
    pub(crate) description: Option<String>,
}

/// `response_format`: `None` for text or absent, the JSON mode otherwise.
pub(crate) fn json_mode(req: &ChatRequest) -> Result<Option<JsonModeIn>, Error> {
    let Some(format) = field(req, "response_format") else { return Ok(None) };
    match format.get("type").and_then(Value::as_str) {
        Some("text") => Ok(None),
        Some("json_object") => Ok(Some(JsonModeIn::default())),
        Some("json_schema") => {
            let spec = format.get("json_schema");
            Ok(Some(JsonModeIn {
                schema: spec.and_then(|s| s.get("schema")).filter(|s| !s.is_null()).cloned(),
                description: spec.and_then(|s| s.get("description")).and_then(Value::as_str).map(str::to_owned),
            }))
        }
        _ => Err(unsupported("response_format.type", "response_format.type must be text, json_object or json_schema")),
    }
}

/// The description of the forced JSON-mode tool when the schema gave none.
pub(crate) const JSON_TOOL_DESCRIPTION: &str = "Give the final answer as a JSON object matching the input schema.";
