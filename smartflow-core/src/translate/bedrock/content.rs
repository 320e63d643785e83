//! Canonical message content → Converse content blocks: text, images, documents, `toolUse` from
//! assistant `tool_calls` and `toolResult` from `tool` messages.

use serde_json::{Value, json};

use super::mapping::{invalid, parse_base64_data_uri, tool_use_id, unsupported};
use crate::error::Error;
use crate::translate::canonical::{assistant_texts, reject_function_call, system_texts, tool_calls};
use crate::types::{ContentPart, Message, MessageContent};

/// A prompt-cache breakpoint: Converse marks the end of the cached prefix with its own block.
fn cache_point() -> Value {
    json!({ "cachePoint": { "type": "default" } })
}

/// A text block, or nothing for empty text (Converse refuses blank text blocks); a
/// `cache_control` adds a cache point after it.
fn text_blocks(text: &str, cache_control: Option<&Value>) -> Vec<Value> {
    if text.is_empty() {
        return Vec::new();
    }
    let mut out = vec![json!({ "text": text })];
    if cache_control.is_some_and(|c| !c.is_null()) {
        out.push(cache_point());
    }
    out
}

/// The `system` blocks of a system or developer message: text parts only.
pub(super) fn system_blocks(msg: &Message, path: &str) -> Result<Vec<Value>, Error> {
    Ok(system_texts(msg, path)?
        .into_iter()
        .flat_map(|(text, cache_control)| text_blocks(text, cache_control))
        .collect())
}

/// The blocks of a user message: text, images and documents.
pub(super) fn user_blocks(content: Option<&MessageContent>, path: &str) -> Result<Vec<Value>, Error> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(s)) => Ok(text_blocks(s, None)),
        Some(MessageContent::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                out.extend(user_part(part, &format!("{path}.content[{j}]"))?);
            }
            Ok(out)
        }
    }
}

fn user_part(part: &ContentPart, path: &str) -> Result<Vec<Value>, Error> {
    match part.kind.as_str() {
        "text" => Ok(text_blocks(part.text.as_deref().unwrap_or(""), part.rest.get("cache_control"))),
        "image_url" => Ok(vec![image_block(part, path)?]),
        "file" => Ok(vec![document_block(part, path)?]),
        other => Err(unsupported(
            format!("{path}.type"),
            format!("content parts of type `{other}` are not supported for this model"),
        )),
    }
}

/// An `image_url` part → `{"image": {"format", "source": {"bytes": <base64>}}}`.
fn image_block(part: &ContentPart, path: &str) -> Result<Value, Error> {
    let url = match part.rest.get("image_url") {
        Some(Value::String(s)) => Some(s.as_str()),
        Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
        _ => None,
    };
    let param = format!("{path}.image_url.url");
    let url = url.ok_or_else(|| invalid(param.clone(), "image_url parts need an image_url.url"))?;
    let Some((media_type, data)) = parse_base64_data_uri(url) else {
        return Err(unsupported(param, "images must be given inline as base64 data: URIs for this model"));
    };
    let format = match media_type.to_ascii_lowercase().as_str() {
        "image/png" => "png",
        "image/jpeg" | "image/jpg" => "jpeg",
        "image/gif" => "gif",
        "image/webp" => "webp",
        _ => return Err(unsupported(param, "images must be png, jpeg, gif or webp for this model")),
    };
    Ok(json!({ "image": { "format": format, "source": { "bytes": data } } }))
}

/// A `file` part given as a base64 `data:` URI → a `document` block.
fn document_block(part: &ContentPart, path: &str) -> Result<Value, Error> {
    let file = part.rest.get("file");
    let param = format!("{path}.file.file_data");
    let data = file.and_then(|f| f.get("file_data")).and_then(Value::as_str).ok_or_else(|| {
        unsupported(param.clone(), "only files given inline as file_data are supported for this model")
    })?;
    let Some((media_type, data)) = parse_base64_data_uri(data) else {
        return Err(invalid(param, "file_data must be a base64 data: URI"));
    };
    let format = match media_type.to_ascii_lowercase().as_str() {
        "application/pdf" => "pdf",
        "text/csv" => "csv",
        "application/msword" => "doc",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document" => "docx",
        "application/vnd.ms-excel" => "xls",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet" => "xlsx",
        "text/html" => "html",
        "text/plain" => "txt",
        "text/markdown" => "md",
        _ => {
            return Err(unsupported(
                param,
                "files must be pdf, csv, doc, docx, xls, xlsx, html, txt or md for this model",
            ));
        }
    };
    let filename = file.and_then(|f| f.get("filename")).and_then(Value::as_str).unwrap_or("");
    Ok(json!({ "document": { "format": format, "name": document_name(filename), "source": { "bytes": data } } }))
}

/// A document name Converse accepts (letters, digits, single spaces, hyphens, parentheses and
/// square brackets): the file name without its extension, other characters replaced by `-`.
fn document_name(filename: &str) -> String {
    let stem = filename.rsplit_once('.').map_or(filename, |(stem, _)| stem);
    let mut name = String::with_capacity(stem.len());
    for c in stem.chars() {
        let c = if c.is_alphanumeric() || matches!(c, '-' | '(' | ')' | '[' | ']') {
            c
        } else if c.is_whitespace() {
            ' '
        } else {
            '-'
        };
        if !(c == ' ' && name.ends_with(' ')) {
            name.push(c);
        }
    }
    let name = name.trim();
    if name.is_empty() { "document".to_owned() } else { name.chars().take(200).collect() }
}

/// The blocks of an assistant message: its text (or refusal) and its tool calls.
pub(super) fn assistant_blocks(msg: &Message, path: &str) -> Result<Vec<Value>, Error> {
    reject_function_call(msg, path)?;
    let mut out = Vec::new();
    for (text, cache_control) in assistant_texts(msg, path)? {
        out.extend(text_blocks(text, cache_control));
    }
    for call in tool_calls(msg, path, true)? {
        out.push(json!({ "toolUse": { "toolUseId": tool_use_id(&call.id), "name": call.name, "input": call.input } }));
    }
    Ok(out)
}

/// A `tool` message → `{"toolResult": {"toolUseId", "content": [...]}}` for a user turn.
///
/// Text becomes `text` blocks and data-URI images `image` blocks; an empty result is sent with
/// no content blocks (Converse refuses blank text).
pub(super) fn tool_result(msg: &Message, path: &str) -> Result<Value, Error> {
    let id = msg.rest.get("tool_call_id").and_then(Value::as_str);
    let id = id.ok_or_else(|| invalid(format!("{path}.tool_call_id"), "tool messages need a tool_call_id"))?;
    let mut content = Vec::new();
    match &msg.content {
        None => {}
        Some(MessageContent::Text(s)) => content.extend(text_blocks(s, None)),
        Some(MessageContent::Parts(parts)) => {
            for (j, part) in parts.iter().enumerate() {
                let part_path = format!("{path}.content[{j}]");
                match part.kind.as_str() {
                    "text" => content.extend(text_blocks(part.text.as_deref().unwrap_or(""), None)),
                    "image_url" => content.push(image_block(part, &part_path)?),
                    other => {
                        return Err(unsupported(
                            format!("{part_path}.type"),
                            format!("tool results with parts of type `{other}` are not supported for this model"),
                        ));
                    }
                }
            }
        }
    }
    Ok(json!({ "toolResult": { "toolUseId": tool_use_id(id), "content": content } }))
}
