//! Canonical messages → Gemini `systemInstruction` and `contents`: roles, text, media parts,
//! assistant tool calls as `functionCall` parts and tool results as `functionResponse` parts.

use serde_json::{Value, json};

use super::THOUGHT_SIGNATURE_FALLBACK;
use super::mapping::{invalid, is_http_url, media_type_from_url, parse_base64_data_uri, unsupported};
use super::types::{Blob, Content, FileData, FunctionCall, FunctionResponse, Part};
use crate::error::Error;
use crate::translate::canonical::{assistant_texts, function_role, reject_function_call, system_texts, tool_calls};
use crate::types::{ChatRequest, ContentPart, Message, MessageContent, Role};

const USER: &str = "user";
const MODEL: &str = "model";

/// The system instruction and the turns for `req.messages`.
pub(super) fn contents(req: &ChatRequest) -> Result<(Option<Content>, Vec<Content>), Error> {
    let mut system = Vec::new();
    let mut turns = Turns::default();
    for (i, msg) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match msg.role {
            Role::System | Role::Developer => system.extend(system_parts(msg, &path)?),
            Role::User => turns.push(USER, user_parts(msg.content.as_ref(), &path)?),
            Role::Assistant => turns.push(MODEL, model_parts(msg, &path)?),
            Role::Tool => turns.push(USER, vec![function_response(&req.messages[..i], msg, &path)?]),
            Role::Function => return Err(function_role(&path)),
        }
    }
    let system = (!system.is_empty()).then_some(Content { role: None, parts: system });
    Ok((system, turns.finish()))
}

/// Gemini turns under construction: same-role neighbours merge (so the results of parallel calls
/// land in one turn), empty turns vanish.
#[derive(Default)]
struct Turns(Vec<Content>);

impl Turns {
    fn push(&mut self, role: &'static str, parts: Vec<Part>) {
        if parts.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some(last) if last.role.as_deref() == Some(role) => last.parts.extend(parts),
            _ => self.0.push(Content { role: Some(role.to_owned()), parts }),
        }
    }

    fn finish(mut self) -> Vec<Content> {
        for turn in &mut self.0 {
            if turn.role.as_deref() == Some(USER) {
                // Function responses answer the previous model turn: they come first.
                let parts = std::mem::take(&mut turn.parts);
                let (mut responses, rest): (Vec<_>, Vec<_>) =
                    parts.into_iter().partition(|p| p.function_response.is_some());
                responses.extend(rest);
                turn.parts = responses;
            }
        }
        self.0
    }
}

fn text_part(text: &str) -> Option<Part> {
    (!text.is_empty()).then(|| Part::text(text))
}

fn system_parts(msg: &Message, path: &str) -> Result<Vec<Part>, Error> {
    Ok(system_texts(msg, path)?.into_iter().flat_map(|(text, _)| text_part(text)).collect())
}

fn user_parts(content: Option<&MessageContent>, path: &str) -> Result<Vec<Part>, Error> {
    match content {
        None => Ok(Vec::new()),
        Some(MessageContent::Text(s)) => Ok(text_part(s).into_iter().collect()),
        Some(MessageContent::Parts(parts)) => {
            let mut out = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                out.extend(user_part(part, &format!("{path}.content[{j}]"))?);
            }
            Ok(out)
        }
    }
}

fn user_part(part: &ContentPart, path: &str) -> Result<Option<Part>, Error> {
    match part.kind.as_str() {
        "text" => Ok(text_part(part.text.as_deref().unwrap_or(""))),
        "image_url" => {
            let url = match part.rest.get("image_url") {
                Some(Value::String(s)) => Some(s.as_str()),
                Some(Value::Object(o)) => o.get("url").and_then(Value::as_str),
                _ => None,
            };
            let param = format!("{path}.image_url.url");
            let url = url.ok_or_else(|| invalid(param.clone(), "image_url parts need an image_url.url"))?;
            media_part(url, &param).map(Some)
        }
        "input_audio" => {
            let audio = part.rest.get("input_audio");
            let data = audio.and_then(|a| a.get("data")).and_then(Value::as_str).filter(|d| !d.is_empty());
            let data = data.ok_or_else(|| invalid(format!("{path}.input_audio.data"), "input_audio needs data"))?;
            let format = audio.and_then(|a| a.get("format")).and_then(Value::as_str).unwrap_or("");
            if format.is_empty() || !format.bytes().all(|b| b.is_ascii_alphanumeric()) {
                return Err(invalid(format!("{path}.input_audio.format"), "input_audio needs a format such as wav"));
            }
            let mime_type = format!("audio/{}", format.to_ascii_lowercase());
            Ok(Some(Part { inline_data: Some(Blob { mime_type, data: data.to_owned() }), ..Part::default() }))
        }
        "file" => {
            let file = part.rest.get("file");
            if let Some(data) = file.and_then(|f| f.get("file_data")).and_then(Value::as_str) {
                let (mime_type, data) = parse_base64_data_uri(data)
                    .ok_or_else(|| invalid(format!("{path}.file.file_data"), "file_data must be a base64 data: URI"))?;
                let blob = Blob { mime_type: mime_type.to_owned(), data: data.to_owned() };
                return Ok(Some(Part { inline_data: Some(blob), ..Part::default() }));
            }
            if file.and_then(|f| f.get("file_id")).is_some_and(|v| !v.is_null()) {
                return Err(unsupported(
                    format!("{path}.file.file_id"),
                    "uploaded file ids are not supported for this model; send the file as file_data",
                ));
            }
            Err(invalid(format!("{path}.file"), "file parts need file_data"))
        }
        other => Err(unsupported(
            format!("{path}.type"),
            format!("content parts of type `{other}` are not supported for this model"),
        )),
    }
}

/// A data: URI becomes `inlineData`, an http(s) URL `fileData` (with the media type its
/// extension implies, if any).
fn media_part(url: &str, param: &str) -> Result<Part, Error> {
    if let Some((mime_type, data)) = parse_base64_data_uri(url) {
        let blob = Blob { mime_type: mime_type.to_owned(), data: data.to_owned() };
        return Ok(Part { inline_data: Some(blob), ..Part::default() });
    }
    if is_http_url(url) {
        let file = FileData { mime_type: media_type_from_url(url).map(str::to_owned), file_uri: url.to_owned() };
        return Ok(Part { file_data: Some(file), ..Part::default() });
    }
    Err(invalid(param.to_owned(), "image URLs must be http(s) URLs or base64 data: URIs"))
}

fn model_parts(msg: &Message, path: &str) -> Result<Vec<Part>, Error> {
    reject_function_call(msg, path)?;
    let mut out = Vec::new();
    for (text, _) in assistant_texts(msg, path)? {
        out.extend(text_part(text));
    }
    for (j, call) in tool_calls(msg, path, false)?.into_iter().enumerate() {
        let signature = call
            .extra_content
            .as_ref()
            .and_then(|e| e.get("google"))
            .and_then(|g| g.get("thought_signature"))
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .map(str::to_owned);
        let mut part = Part {
            function_call: Some(FunctionCall { id: None, name: call.name, args: Some(call.input) }),
            thought_signature: signature,
            ..Part::default()
        };
        if j == 0 && part.thought_signature.is_none() {
            // Gemini 3 refuses a model turn whose first call has no signature; history from
            // elsewhere (another model, a client that dropped `extra_content`) has none.
            part.thought_signature = Some(THOUGHT_SIGNATURE_FALLBACK.to_owned());
        }
        out.push(part);
    }
    Ok(out)
}

/// A `tool` message as a `functionResponse` part, named after the call it answers: the nearest
/// earlier assistant tool call with the same id (ids repeat across turns, `call_0`...).
fn function_response(earlier: &[Message], msg: &Message, path: &str) -> Result<Part, Error> {
    let param = format!("{path}.tool_call_id");
    let id = msg.rest.get("tool_call_id").and_then(Value::as_str);
    let id = id.ok_or_else(|| invalid(param.clone(), "tool messages need a tool_call_id"))?;
    let name = earlier
        .iter()
        .rev()
        .filter(|m| m.role == Role::Assistant)
        .filter_map(|m| m.rest.get("tool_calls").and_then(Value::as_array))
        .flatten()
        .find(|call| call.get("id").and_then(Value::as_str) == Some(id))
        .and_then(|call| call.get("function")?.get("name")?.as_str());
    let name = name.ok_or_else(|| {
        invalid(
            param.clone(),
            format!("tool_call_id `{id}` does not match a tool call of an earlier assistant message"),
        )
    })?;
    let text = match &msg.content {
        None => String::new(),
        Some(MessageContent::Text(s)) => s.clone(),
        Some(MessageContent::Parts(parts)) => {
            let mut texts = Vec::with_capacity(parts.len());
            for (j, part) in parts.iter().enumerate() {
                if part.kind != "text" {
                    return Err(unsupported(
                        format!("{path}.content[{j}].type"),
                        "tool results may only contain text parts for this model",
                    ));
                }
                texts.push(part.text.as_deref().unwrap_or(""));
            }
            texts.join("\n")
        }
    };
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(v @ Value::Object(_)) => v,
        _ => json!({ "content": text }),
    };
    Ok(Part { function_response: Some(FunctionResponse { name: name.to_owned(), response }), ..Part::default() })
}
