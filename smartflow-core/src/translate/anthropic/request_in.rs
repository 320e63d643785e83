//! Anthropic Messages request → canonical (OpenAI chat) request, for clients of the gateway's
//! `POST /v1/messages`.

use serde_json::{Value, json};

use super::mapping::{base64_data_uri, invalid, unsupported};
use super::types::{
    AnthropicRole, ContentBlock, InputMessage, MediaSource, MessageBody, MessagesRequest, SystemPrompt, ToolChoice,
    ToolDefinition, ToolResultBody,
};
use crate::error::Error;
use crate::types::validate::parse_json;
use crate::types::{ChatRequest, ContentPart, Extra, Message, MessageContent, Role, StreamOptions};

/// What the gateway must remember to answer an inbound Anthropic request in Anthropic form.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InboundOptions {
    /// The model name the client asked for, echoed in the response's `model`.
    pub model: String,
    /// Whether the client asked for a stream of Anthropic events.
    pub stream: bool,
}

/// Parses and validates an Anthropic Messages request body and translates it to a [`ChatRequest`].
///
/// `system` becomes a leading system message; `tool_result` blocks become `tool` messages (in
/// their order, before the rest of their user turn); `tool_use` blocks become assistant
/// `tool_calls`; images and documents become `image_url` and `file` parts. A streamed request
/// asks for the final usage chunk (`stream_options.include_usage`), which the Anthropic stream
/// needs for its `message_delta` usage. Unknown fields are ignored.
///
/// # Errors
/// A 400 `invalid_request_error` naming the parameter: a body that is not the Messages shape, a
/// missing `model`, a missing or zero `max_tokens`, no messages, a role other than user or
/// assistant, server tools, and content blocks the canonical shape cannot carry.
pub fn from_anthropic_request(body: &[u8]) -> Result<(ChatRequest, InboundOptions), Error> {
    let req: MessagesRequest = parse_json(body)?;
    if req.model.trim().is_empty() {
        return Err(invalid("model", "model: field required"));
    }
    let max_tokens = match req.max_tokens {
        None => return Err(invalid("max_tokens", "max_tokens: field required")),
        Some(0) => return Err(invalid("max_tokens", "max_tokens: must be greater than or equal to 1")),
        Some(n) => n,
    };
    if req.messages.is_empty() {
        return Err(invalid("messages", "messages: at least one message is required"));
    }
    let mut messages = Vec::with_capacity(req.messages.len() + 1);
    match &req.system {
        None => {}
        Some(SystemPrompt::Text(s)) => messages.push(Message::text_message(Role::System, s.clone())),
        Some(SystemPrompt::Blocks(blocks)) => {
            let mut parts = Vec::with_capacity(blocks.len());
            for (j, block) in blocks.iter().enumerate() {
                match block {
                    ContentBlock::Text { text, .. } => parts.push(text_part(text)),
                    _ => return Err(invalid(format!("system[{j}].type"), "system blocks must be text blocks")),
                }
            }
            messages.push(Message { role: Role::System, content: Some(collapse(parts)), rest: Extra::new() });
        }
    }
    for (i, msg) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match msg.role {
            AnthropicRole::User => user_turn(msg, &path, &mut messages)?,
            AnthropicRole::Assistant => messages.push(assistant_turn(msg, &path)?),
        }
    }

    let stream = req.stream.unwrap_or(false);
    let mut rest = Extra::new();
    let mut put = |k: &str, v: Value| {
        rest.insert(k.to_owned(), v);
    };
    if let Some(t) = req.temperature {
        put("temperature", json!(t));
    }
    if let Some(p) = req.top_p {
        put("top_p", json!(p));
    }
    if let Some(stops) = req.stop_sequences.filter(|s| !s.is_empty()) {
        put("stop", json!(stops));
    }
    if let Some(user) = req.metadata.and_then(|m| m.user_id) {
        put("user", Value::String(user));
    }
    let tools = req.tools.unwrap_or_default();
    if !tools.is_empty() {
        let mut defs = Vec::with_capacity(tools.len());
        for (i, tool) in tools.iter().enumerate() {
            defs.push(tool_definition(tool, i)?);
        }
        put("tools", Value::Array(defs));
        if let Some(choice) = &req.tool_choice {
            let (choice, disable_parallel) = tool_choice(choice);
            put("tool_choice", choice);
            if disable_parallel == Some(true) {
                put("parallel_tool_calls", Value::Bool(false));
            }
        }
    }

    let chat = ChatRequest {
        model: req.model.clone(),
        messages,
        stream: stream.then_some(true),
        stream_options: stream.then(|| StreamOptions { include_usage: Some(true), rest: Extra::new() }),
        max_tokens: None,
        max_completion_tokens: Some(max_tokens),
        rest,
    };
    chat.validate()?;
    Ok((chat, InboundOptions { model: req.model, stream }))
}

/// A user turn: its tool results become `tool` messages, the rest one user message after them.
fn user_turn(msg: &InputMessage, path: &str, out: &mut Vec<Message>) -> Result<(), Error> {
    let blocks = match &msg.content {
        MessageBody::Text(s) => {
            out.push(Message::text_message(Role::User, s.clone()));
            return Ok(());
        }
        MessageBody::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::with_capacity(blocks.len());
    for (j, block) in blocks.iter().enumerate() {
        let block_path = format!("{path}.content[{j}]");
        match block {
            ContentBlock::ToolResult { tool_use_id, content, .. } => {
                let mut rest = Extra::new();
                rest.insert("tool_call_id".to_owned(), Value::String(tool_use_id.clone()));
                let content = match content {
                    None => MessageContent::Text(String::new()),
                    Some(ToolResultBody::Text(s)) => MessageContent::Text(s.clone()),
                    Some(ToolResultBody::Blocks(inner)) => {
                        // OpenAI tool messages carry text only; images move to the user message.
                        let mut texts = Vec::new();
                        for (k, b) in inner.iter().enumerate() {
                            match b {
                                ContentBlock::Text { text, .. } => texts.push(text_part(text)),
                                other => parts.push(media_part(other, &format!("{block_path}.content[{k}]"))?),
                            }
                        }
                        collapse(texts)
                    }
                };
                out.push(Message { role: Role::Tool, content: Some(content), rest });
            }
            ContentBlock::Text { text, .. } => parts.push(text_part(text)),
            other => parts.push(media_part(other, &block_path)?),
        }
    }
    if !parts.is_empty() {
        out.push(Message { role: Role::User, content: Some(collapse(parts)), rest: Extra::new() });
    }
    Ok(())
}

/// An image or document block as an OpenAI content part.
fn media_part(block: &ContentBlock, path: &str) -> Result<ContentPart, Error> {
    let mut rest = Extra::new();
    match block {
        ContentBlock::Image { source, .. } => {
            let url = match source {
                MediaSource::Base64 { media_type, data } => base64_data_uri(media_type, data),
                MediaSource::Url { url } => url.clone(),
                _ => return Err(unsupported(format!("{path}.source.type"), "image sources must be base64 or url")),
            };
            rest.insert("image_url".to_owned(), json!({ "url": url }));
            Ok(ContentPart { kind: "image_url".to_owned(), text: None, rest })
        }
        ContentBlock::Document { source, title, .. } => match source {
            MediaSource::Base64 { media_type, data } => {
                let mut file = json!({ "file_data": base64_data_uri(media_type, data) });
                if let (Some(title), Some(obj)) = (title, file.as_object_mut()) {
                    obj.insert("filename".to_owned(), Value::String(title.clone()));
                }
                rest.insert("file".to_owned(), file);
                Ok(ContentPart { kind: "file".to_owned(), text: None, rest })
            }
            MediaSource::Text { data, .. } => Ok(text_part(data)),
            _ => Err(unsupported(format!("{path}.source.type"), "document sources must be base64 or text")),
        },
        ContentBlock::ToolUse { .. } => {
            Err(invalid(format!("{path}.type"), "tool_use blocks belong in assistant turns"))
        }
        _ => Err(unsupported(format!("{path}.type"), "this content block type is not supported in user turns")),
    }
}

fn assistant_turn(msg: &InputMessage, path: &str) -> Result<Message, Error> {
    let blocks = match &msg.content {
        MessageBody::Text(s) => return Ok(Message::text_message(Role::Assistant, s.clone())),
        MessageBody::Blocks(blocks) => blocks,
    };
    let mut parts = Vec::new();
    let mut calls = Vec::new();
    for (j, block) in blocks.iter().enumerate() {
        match block {
            ContentBlock::Text { text, .. } => parts.push(text_part(text)),
            ContentBlock::ToolUse { id, name, input, .. } => calls.push(json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments(input) },
            })),
            // Reasoning of earlier turns has no OpenAI form; the model does not need it back.
            ContentBlock::Thinking { .. } | ContentBlock::RedactedThinking { .. } => {}
            _ => {
                return Err(unsupported(
                    format!("{path}.content[{j}].type"),
                    "assistant turns may only contain text, tool_use and thinking blocks",
                ));
            }
        }
    }
    let mut rest = Extra::new();
    let content = if parts.is_empty() && !calls.is_empty() { None } else { Some(collapse(parts)) };
    if !calls.is_empty() {
        rest.insert("tool_calls".to_owned(), Value::Array(calls));
    }
    Ok(Message { role: Role::Assistant, content, rest })
}

/// A tool's input as OpenAI `arguments`: the JSON serialised (`{}` for a missing input).
pub(crate) fn arguments(input: &Value) -> String {
    if input.is_null() { "{}".to_owned() } else { input.to_string() }
}

fn tool_definition(tool: &ToolDefinition, i: usize) -> Result<Value, Error> {
    if tool.kind.as_deref().is_some_and(|k| k != "custom") {
        return Err(unsupported(format!("tools[{i}].type"), "server tools are not supported by this gateway"));
    }
    let schema = tool
        .input_schema
        .clone()
        .ok_or_else(|| invalid(format!("tools[{i}].input_schema"), "input_schema: field required"))?;
    let mut function = json!({ "name": tool.name, "parameters": schema });
    if let (Some(d), Some(obj)) = (&tool.description, function.as_object_mut()) {
        obj.insert("description".to_owned(), Value::String(d.clone()));
    }
    Ok(json!({ "type": "function", "function": function }))
}

/// The OpenAI `tool_choice`, and `disable_parallel_tool_use`.
fn tool_choice(choice: &ToolChoice) -> (Value, Option<bool>) {
    match choice {
        ToolChoice::Auto { disable_parallel_tool_use } => (json!("auto"), *disable_parallel_tool_use),
        ToolChoice::Any { disable_parallel_tool_use } => (json!("required"), *disable_parallel_tool_use),
        ToolChoice::Tool { name, disable_parallel_tool_use } => {
            (json!({"type": "function", "function": {"name": name}}), *disable_parallel_tool_use)
        }
        ToolChoice::NoTools => (json!("none"), None),
    }
}

fn text_part(text: &str) -> ContentPart {
    ContentPart { kind: "text".to_owned(), text: Some(text.to_owned()), rest: Extra::new() }
}

/// A single text part is sent as a plain string, which every OpenAI-compatible server accepts.
fn collapse(mut parts: Vec<ContentPart>) -> MessageContent {
    if parts.len() == 1
        && parts[0].kind == "text"
        && parts[0].rest.is_empty()
        && let Some(text) = parts.pop().and_then(|p| p.text)
    {
        return MessageContent::Text(text);
    }
    if parts.is_empty() {
        return MessageContent::Text(String::new());
    }
    MessageContent::Parts(parts)
}
