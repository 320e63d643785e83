//! Canonical (OpenAI chat) request → Bedrock Converse request body, for calling a Bedrock
//! upstream (`POST /model/{modelId}/converse` and `/converse-stream` take the same body).

use serde_json::{Map, Value, json};

use super::content::{assistant_blocks, system_blocks, tool_result, user_blocks};
use super::mapping::invalid;
use super::tools::tool_config;
use crate::error::Error;
use crate::translate::canonical::{check_n, function_role, number_field, reject_legacy_functions, stop_sequences};
use crate::types::{ChatRequest, Role};

/// Translates `req` into a Converse request body (the model id goes in the URL, not the body).
///
/// - System and developer messages become the top-level `system` text blocks.
/// - Consecutive turns of the same Converse role are merged (tool results first within a user
///   turn); `tool` messages become `toolResult` blocks in a user turn, assistant `tool_calls`
///   become `toolUse` blocks with the arguments parsed.
/// - Images come only from base64 `data:` URIs (`png`, `jpeg`, `gif`, `webp`); `file` parts
///   given as base64 `data:` URIs become `document` blocks (`pdf`, `csv`, `doc`, `docx`, `xls`,
///   `xlsx`, `html`, `txt`, `md`).
/// - A `cache_control` on a system or message text part is followed by a Converse
///   `cachePoint` block.
/// - `inferenceConfig`: `maxTokens` is `max_completion_tokens`, else `max_tokens`, else
///   `default_max_tokens`; `temperature` (clamped to 0..=1, the range most Bedrock models
///   accept), `top_p` → `topP`, `stop` → `stopSequences`.
/// - Tools, `tool_choice` and JSON mode → `toolConfig`; see the module docs.
/// - Fields Converse has no use for (`seed`, penalties, `logprobs`, `user`,
///   `parallel_tool_calls`, `stream_options`...) are dropped.
///
/// # Errors
/// A 400 `invalid_request_error` naming the parameter for what Converse cannot express: `n > 1`,
/// tool-call arguments that are not a JSON object, images that are not base64 `data:` URIs or
/// of another format, content parts other than text, images and base64 files, non-function
/// tools, legacy `functions`, and a tool named [`JSON_TOOL_NAME`](super::JSON_TOOL_NAME).
pub fn to_converse_request(req: &ChatRequest, default_max_tokens: u64) -> Result<Value, Error> {
    check_n(req)?;
    reject_legacy_functions(req)?;
    let mut system = Vec::new();
    let mut turns = Turns::default();
    for (i, msg) in req.messages.iter().enumerate() {
        let path = format!("messages[{i}]");
        match msg.role {
            Role::System | Role::Developer => system.extend(system_blocks(msg, &path)?),
            Role::User => turns.push(Speaker::User, user_blocks(msg.content.as_ref(), &path)?),
            Role::Assistant => turns.push(Speaker::Assistant, assistant_blocks(msg, &path)?),
            Role::Tool => turns.push(Speaker::User, vec![tool_result(msg, &path)?]),
            Role::Function => return Err(function_role(&path)),
        }
    }
    let has_tool_blocks = turns.has_tool_blocks();
    let messages = turns.finish();
    if messages.is_empty() {
        return Err(invalid("messages", "messages must contain at least one user or assistant message"));
    }
    let mut body = Map::new();
    body.insert("messages".to_owned(), Value::Array(messages));
    if !system.is_empty() {
        body.insert("system".to_owned(), Value::Array(system));
    }
    body.insert("inferenceConfig".to_owned(), inference_config(req, default_max_tokens)?);
    if let Some(config) = tool_config(req, has_tool_blocks)? {
        body.insert("toolConfig".to_owned(), config);
    }
    Ok(Value::Object(body))
}

/// A Converse message author.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Speaker {
    User,
    Assistant,
}

impl Speaker {
    fn as_str(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Assistant => "assistant",
        }
    }
}

/// Converse turns under construction: same-role neighbours merge, empty turns vanish.
#[derive(Default)]
struct Turns(Vec<(Speaker, Vec<Value>)>);

impl Turns {
    fn push(&mut self, speaker: Speaker, blocks: Vec<Value>) {
        if blocks.is_empty() {
            return;
        }
        match self.0.last_mut() {
            Some((last, existing)) if *last == speaker => existing.extend(blocks),
            _ => self.0.push((speaker, blocks)),
        }
    }

    /// Whether any turn carries `toolUse` or `toolResult` blocks (Converse then insists on a
    /// `toolConfig`).
    fn has_tool_blocks(&self) -> bool {
        self.0
            .iter()
            .flat_map(|(_, blocks)| blocks)
            .any(|b| b.get("toolUse").is_some() || b.get("toolResult").is_some())
    }

    fn finish(self) -> Vec<Value> {
        let count = self.0.len();
        self.0
            .into_iter()
            .enumerate()
            .map(|(i, (speaker, mut blocks))| {
                if speaker == Speaker::User {
                    // Tool results go before anything else in a user turn.
                    let (mut results, rest): (Vec<_>, Vec<_>) =
                        blocks.into_iter().partition(|b| b.get("toolResult").is_some());
                    results.extend(rest);
                    blocks = results;
                } else if i + 1 == count {
                    // A final assistant turn is a prefill, which may not end in whitespace.
                    trim_trailing_whitespace(&mut blocks);
                }
                json!({ "role": speaker.as_str(), "content": blocks })
            })
            .filter(|m| m["content"].as_array().is_some_and(|c| !c.is_empty()))
            .collect()
    }
}

fn trim_trailing_whitespace(blocks: &mut Vec<Value>) {
    let Some(last) = blocks.last_mut() else { return };
    let Some(Value::String(text)) = last.get_mut("text") else { return };
    let trimmed = text.trim_end().len();
    text.truncate(trimmed);
    if text.is_empty() {
        blocks.pop();
    }
}

fn inference_config(req: &ChatRequest, default_max_tokens: u64) -> Result<Value, Error> {
    let mut config = Map::new();
    config.insert("maxTokens".to_owned(), req.output_limit().unwrap_or(default_max_tokens).into());
    if let Some(t) = number_field(req, "temperature")? {
        config.insert("temperature".to_owned(), json!(t.clamp(0.0, 1.0)));
    }
    if let Some(p) = number_field(req, "top_p")? {
        config.insert("topP".to_owned(), json!(p));
    }
    if let Some(stops) = stop_sequences(req)? {
        config.insert("stopSequences".to_owned(), json!(stops));
    }
    Ok(Value::Object(config))
}
