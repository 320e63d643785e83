//! Canonical (OpenAI chat) request → Anthropic Messages request, for calling an Anthropic upstream.

use serde_json::Value;

use super::mapping::{field, invalid, parse_base64_data_uri, unsupported};
use super::tools_out::tools_and_choice;
use super::types::{
    AnthropicRole, ContentBlock, InputMessage, MediaSource, MessageBody, MessagesRequest, Metadata, SystemPrompt,
    ToolResultBody,
};
use crate::error::Error;
use crate::translate::canonical::{
    assistant_texts, check_n, function_role, number_field, reject_function_call, reject_legacy_functions,
    stop_sequences, string_field, system_texts, tool_calls,
};
use crate::types::{ChatRequest, ContentPart, Message, MessageContent, Role};

/// Translates `req` into an Anthropic Messages request body for `upstream_model`.
///
/// See [`build_anthropic_request`] for the mapping; this only serialises its result.
pub fn to_anthropic_request(
    req: &ChatRequest,
    upstream_model: &str,
    stream: bool,
    default_max_tokens: u64,
) -> Result<Value, Error> {
    let built = build_anthropic_request(req, upstream_model, stream, default_max_tokens)?;
    serde_json::to_value(&built).map_err(|_| Error::internal("failed to serialise the upstream request"))
}

/// Translates `req` into a typed Anthropic Messages request for `upstream_model`.
///
/// System and developer messages become the top-level `system`; consecutive turns of the same
/// Anthropic role are merged (tool results first within a user turn); `tool` messages become
/// `tool_result` blocks and assistant `tool_calls` become `tool_use` blocks. `response_format`
/// JSON modes are emulated with a forced tool named
/// [`JSON_TOOL_NAME`](super::JSON_TOOL_NAME). The output limit is `max_completion_tokens`, else
/// `max_tokens`, else `default_max_tokens`. `temperature` is clamped to 0..=1. Fields Anthropic
/// has no use for (`seed`, penalties, `logprobs`, `stream_options`...) are dropped.
///
/// # Errors
/// A 400 `invalid_request_error` naming the parameter for what Anthropic cannot express: `n > 1`,
/// tool-call arguments that are not a JSON object, content parts other than text, images and
/// base64 files, non-function tools, legacy `functions`, and a tool named
/// [`JSON_TOOL_NAME`](super::JSON_TOOL_NAME).
pub fn build_anthropic_request(
    req: &ChatRequest,
    upstream_model: &str,
    stream: bool,
    default_max_tokens: u64,
) -> Result<MessagesRequest, Error> {
    check_n(req)?;
    reject_legacy_functions(req)?;
    let mut system = Vec::new();
    let mut turns = Turns::default();
    for (i, msg) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match msg.role {
            Role::System | Role::Developer => system.extend(system_blocks(msg, &path)?),
            Role::User => turns.push(AnthropicRole::User, user_blocks(msg.content.as_ref(), &path)?),
            Role::Assistant => turns.push(AnthropicRole::Assistant, assistant_blocks(msg, &path)?),
            Role::Tool => turns.push(AnthropicRole::User, vec![tool_result(msg, &path)?]),
            Role::Function => return Err(function_role(&path)),
        }
    }
    let messages = turns.finish();
    if messages.is_empty() {
        return Err(invalid("messages", "messages must contain at least one user or assistant message"));
    }
    let (tools, tool_choice) = tools_and_choice(req)?;
    let user = string_field(req, "user")?.or(string_field(req, "safety_identifier")?);
    Ok(MessagesRequest {
        model: upstream_model.to_owned(),
        max_tokens: Some(req.output_limit().unwrap_or(default_max_tokens)),
        messages,
        system: system_prompt(system),
        temperature: number_field(req, "temperature")?.map(|t| t.clamp(0.0, 1.0)),
        top_p: number_field(req, "top_p")?,
        // Not OpenAI, but some OpenAI-style clients send it; Anthropic understands it.
        top_k: field(req, "top_k").and_then(Value::as_u64),
        stop_sequences: stop_sequences(req)?,
        stream: stream.then_some(true),
        metadata: user.map(|u| Metadata { user_id: Some(u) }),
        tools: (!tools.is_empty()).then_some(tools),
        tool_choice,
    })
}

/// Anthropic turns under construction: same-role neighbours merge, empty turns vanish.
#[derive(Default)]
struct Turns(Vec<(AnthropicRole, Vec<ContentBlock>)>);

impl Turns {
    fn push(&mut self, role: AnthropicRole, blocks: Vec<ContentBlock>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, existing)) if *last == role => existing.extend(blocks),
            _ => self.0.push((role, blocks)),
        }
    }

    fn finish(self) -> Vec<InputMessage> {
        let count = self.0.len();
        self.0
            .into_iter()
            .enumerate()
            .map(|(i, (role, mut blocks))| {
                if role == AnthropicRole::User {
                    // Anthropic wants a user turn's tool results before anything else.
                    let (mut results, rest): (Vec<_>, Vec<_>) =
                        blocks.into_iter().partition(|b| matches!(b, ContentBlock::ToolResult { .. }));
                    results.extend(rest);
                    blocks = results;
                } else if i + 1 == count {
                    // A final assistant turn is a prefill, which may not end in whitespace.
                    trim_trailing_whitespace(&mut blocks);
                }
                InputMessage { role, content: MessageBody::Blocks(blocks) }
            })
            .collect()
    }
}

fn trim_trailing_whitespace(blocks: &mut Vec<ContentBlock>) {
    if let Some(ContentBlock::Text { text, .. }) = blocks.last_mut() {
        let trimmed = text.trim_end().len();
        text.truncate(trimmed);
        if text.is_empty() {
            blocks.pop();
        }
    }
}

fn system_blocks(msg: &Message, path: &str) -> Result<Vec<ContentBlock>, Error> {
    Ok(system_texts(msg, path)?
        .into_iter()
        .flat_map(|(text, cache_control)| non_empty_text(text, cache_control))
        .collect())
}

/// One string when no block asks for a cache breakpoint, else the blocks.
fn system_prompt(blocks: Vec<ContentBlock>) -> Option<SystemPrompt> {
    if blocks.is_empty() {
        return None;
    }
    let cached = blocks.iter().any(|b| matches!(b, ContentBlock::Text { cache_control: Some(_), .. }));
    if cached {
        return Some(SystemPrompt::Blocks(blocks));
    }
    let texts: Vec<&str> = blocks
        .iter()
        .filter_map(|b| match b {
            ContentBlock::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    Some(SystemPrompt::Text(texts.join("\n\n")))
}

fn non_empty_text(text: &str, cache_control: Option<&Value>) -> Vec<ContentBlock> {
    if text.is_empty() {
        return Vec::new();
    }
    vec![ContentBlock::Text { text: text.to_owned(), cache_control: cache_control.cloned() }]
}

fn user_blocks(content: Option<&MessageContent>, path: &str) -> Result<Vec<ContentBlock>, Error> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(s)) => Ok(non_empty_text(s, None)),
        Some(MessageContent::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                out.extend(user_part(part, &format!("{path}.content[{j}]"))?);
            }
            Ok(out)
        }
    }
}

fn user_part(part: &ContentPart, path: &str) -> Result<Option<ContentBlock>, Error> {
    let cache_control = part.rest.get("cache_control").cloned();
    match part.kind.as_str() {
        "text" => Ok(non_empty_text(part.text.as_deref().unwrap_or(""), cache_control.as_ref()).pop()),
        "image_url" => {
            let url = match part.rest.get("image_url") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
                _ => None,
            };
            let param = format!("{path}.image_url.url");
            let url = url.ok_or_else(|| invalid(param.clone(), "image_url parts need an image_url.url"))?;
            Ok(Some(ContentBlock::Image { source: media_source(url, &param)?, cache_control }))
        }
        "file" => {
            let data = part.rest.get("file").and_then(|f| f.get("file_data")).and_then(Value::as_str);
            let param = format!("{path}.file.file_data");
            let data = data.ok_or_else(|| {
                unsupported(param.clone(), "only files given inline as file_data are supported for this model")
            })?;
            let title = part.rest.get("file").and_then(|f| f.get("filename")).and_then(Value::as_str);
            let source = match parse_base64_data_uri(data) {
                Some((media_type, data)) => {
                    MediaSource::Base64 { media_type: media_type.to_owned(), data: data.to_owned() }
                }
                None => return Err(invalid(param, "file_data must be a base64 data: URI")),
            };
            Ok(Some(ContentBlock::Document { source, title: title.map(str::to_owned), cache_control }))
        }
        other => Err(unsupported(
            format!("{path}.type"),
            format!("content parts of type `{other}` are not supported for this model"),
        )),
    }
}

/// A data: URI becomes a base64 source, an http(s) URL a url source.
fn media_source(url: &str, param: &str) -> Result<MediaSource, Error> {
    if let Some((media_type, data)) = parse_base64_data_uri(url) {
        return Ok(MediaSource::Base64 { media_type: media_type.to_owned(), data: data.to_owned() });
    }
    let lower = url.get(..8).unwrap_or(url).to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Ok(MediaSource::Url { url: url.to_owned() });
    }
    Err(invalid(param.to_owned(), "image URLs must be http(s) URLs or base64 data: URIs"))
}

fn assistant_blocks(msg: &Message, path: &str) -> Result<Vec<ContentBlock>, Error> {
    reject_function_call(msg, path)?;
    let mut out = Vec::new();
    for (text, cache_control) in assistant_texts(msg, path)? {
        out.extend(non_empty_text(text, cache_control));
    }
    for call in tool_calls(msg, path, true)? {
        out.push(ContentBlock::ToolUse { id: call.id, name: call.name, input: call.input, cache_control: None });
    }
    Ok(out)
}

fn tool_result(msg: &Message, path: &str) -> Result<ContentBlock, Error> {
    let id = msg.rest.get("tool_call_id").and_then(Value::as_str);
    let id = id.ok_or_else(|| invalid(format!("{path}.tool_call_id"), "tool messages need a tool_call_id"))?;
    let content = match &msg.content {
        None => None,
        Some(MessageContent::Text(s)) if s.is_empty() => None,
        Some(MessageContent::Text(s)) => Some(ToolResultBody::Text(s.clone())),
        Some(content @ MessageContent::Parts(_)) => Some(ToolResultBody::Blocks(user_blocks(Some(content), path)?)),
    };
    Ok(ContentBlock::ToolResult { tool_use_id: id.to_owned(), content, is_error: None, cache_control: None })
}
