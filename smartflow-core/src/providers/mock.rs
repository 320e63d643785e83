//! `MockProvider`: a deterministic in-process provider with no network, for the quickstart,
//! examples and tests. `echo` answers with the last user message exactly as it arrived, so
//! policies that rewrite prompts are observable through it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use futures_util::stream;

use super::estimate_tokens;
use crate::error::Error;
use crate::provider::{ChunkStream, EmbedCall, Provider, ProviderCall};
use crate::types::{
    ChatChunk, ChatRequest, ChatResponse, Choice, Delta, EmbeddingResponse, EmbeddingUsage, Extra, Message, Role, Usage,
};

/// What the mock answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MockBehavior {
    /// The last user message, byte for byte.
    Echo,
    /// Always this text.
    Fixed(String),
    /// Exercises tool calling: when the request offers tools and the last message is not a tool
    /// result, it calls the first tool with its first parameter set to the last user message;
    /// after a tool result it answers `tool result: <content>`; without tools it echoes.
    Tools,
}

/// A tool call the mock decided to make: (call id, function name, arguments JSON).
type MockToolCall = (String, String, String);

/// Mock settings.
#[derive(Debug, Clone)]
pub struct MockConfig {
    /// What to answer.
    pub behavior: MockBehavior,
    /// Delay before the answer (time to first token).
    pub latency: Duration,
    /// Delay between streamed chunks.
    pub chunk_delay: Duration,
    /// How many content chunks a stream has (at most one per word).
    pub stream_chunks: usize,
    /// When set, a streamed answer is cut into pieces of this many characters (the last may be
    /// shorter; never inside a character) instead of the word-based [`Self::stream_chunks`]
    /// split, so tests can put chunk boundaries anywhere. `Some(0)` counts as 1.
    pub stream_chunk_chars: Option<usize>,
    /// Dimension of mock embeddings.
    pub embedding_dimension: usize,
}

impl Default for MockConfig {
    fn default() -> Self {
        Self {
            behavior: MockBehavior::Fixed(DEFAULT_REPLY.to_owned()),
            latency: Duration::ZERO,
            chunk_delay: Duration::ZERO,
            stream_chunks: 8,
            stream_chunk_chars: None,
            embedding_dimension: 64,
        }
    }
}

/// The default fixed reply.
pub const DEFAULT_REPLY: &str = "Hello from the Smartflow mock provider. This reply is deterministic.";

/// The in-process mock provider.
#[derive(Debug, Clone)]
pub struct MockProvider {
    name: String,
    config: MockConfig,
}

impl MockProvider {
    /// A mock provider named `name`.
    pub fn new(name: impl Into<String>, config: MockConfig) -> Self {
        Self { name: name.into(), config }
    }

    fn reply(&self, req: &ChatRequest) -> String {
        match &self.config.behavior {
            MockBehavior::Echo => req.last_user_text().unwrap_or_default(),
            MockBehavior::Fixed(text) => text.clone(),
            MockBehavior::Tools => match req.messages.last() {
                Some(m) if m.role == Role::Tool => format!("tool result: {}", m.text().unwrap_or_default()),
                _ => req.last_user_text().unwrap_or_default(),
            },
        }
    }

    /// The tool call to make instead of a text answer, if any.
    fn tool_call(&self, req: &ChatRequest, request_id: &str) -> Option<MockToolCall> {
        if self.config.behavior != MockBehavior::Tools || req.messages.last().is_some_and(|m| m.role == Role::Tool) {
            return None;
        }
        let function = req.rest.get("tools")?.as_array()?.first()?.get("function")?;
        let name = function.get("name")?.as_str()?.to_owned();
        let param = function
            .get("parameters")
            .and_then(|p| p.get("properties"))
            .and_then(|p| p.as_object())
            .and_then(|p| p.keys().next().cloned());
        let mut args = serde_json::Map::new();
        if let Some(param) = param {
            args.insert(param, req.last_user_text().unwrap_or_default().into());
        }
        Some((format!("call_{request_id}"), name, serde_json::Value::Object(args).to_string()))
    }

    fn usage(req: &ChatRequest, reply: &str) -> Usage {
        let prompt: usize = req.messages.iter().map(Message::text_len).sum();
        Usage::new(estimate_tokens(prompt), estimate_tokens(reply.len()))
    }
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0)
}

/// Splits `text` into at most `n` pieces at word starts; the pieces concatenate to `text`.
fn split_words(text: &str, n: usize) -> Vec<String> {
    let starts: Vec<usize> = text.char_indices().filter(|&(i, c)| i > 0 && c == ' ').map(|(i, _)| i).collect();
    let n = n.max(1);
    let per = starts.len().div_ceil(n).max(1);
    let mut pieces = Vec::new();
    let mut from = 0;
    for cut in starts.iter().skip(per - 1).step_by(per) {
        pieces.push(text[from..*cut].to_owned());
        from = *cut;
    }
    pieces.push(text[from..].to_owned());
    pieces.retain(|p| !p.is_empty());
    pieces
}

/// Splits `text` into pieces of `n` characters (the last may be shorter), on character
/// boundaries; the pieces concatenate to `text`. An empty text gives no pieces.
fn split_chars(text: &str, n: usize) -> Vec<String> {
    let n = n.max(1);
    let mut pieces = Vec::with_capacity(text.len().div_ceil(n));
    let mut from = 0;
    for (count, (i, _)) in text.char_indices().enumerate() {
        if count > 0 && count % n == 0 {
            pieces.push(text[from..i].to_owned());
            from = i;
        }
    }
    if from < text.len() {
        pieces.push(text[from..].to_owned());
    }
    pieces
}

fn chunk(id: &str, created: u64, model: &str, delta: Delta, finish: Option<&str>) -> ChatChunk {
    let mut chunk = ChatChunk::single(id, created, model, delta, finish.map(str::to_owned));
    chunk.usage = Some(None);
    chunk
}

#[async_trait]
impl Provider for MockProvider {
    fn name(&self) -> &str {
        &self.name
    }

    async fn chat(&self, call: ProviderCall<'_>) -> Result<ChatResponse, Error> {
        if !self.config.latency.is_zero() {
            tokio::time::sleep(self.config.latency).await;
        }
        let reply = self.reply(call.request);
        let usage = Self::usage(call.request, &reply);
        if let Some((id, name, arguments)) = self.tool_call(call.request, call.request_id) {
            let mut message = Message { role: Role::Assistant, content: None, rest: Extra::new() };
            message.rest.insert(
                "tool_calls".into(),
                serde_json::json!([{"id": id, "type": "function", "function": {"name": name, "arguments": arguments}}]),
            );
            return Ok(ChatResponse {
                id: format!("chatcmpl-mock-{}", call.request_id),
                object: "chat.completion".to_owned(),
                created: now_secs(),
                model: call.upstream_model.to_owned(),
                choices: vec![Choice {
                    index: 0,
                    message,
                    finish_reason: Some("tool_calls".to_owned()),
                    rest: Extra::new(),
                }],
                usage: Some(usage),
                rest: Extra::new(),
            });
        }
        Ok(ChatResponse {
            id: format!("chatcmpl-mock-{}", call.request_id),
            object: "chat.completion".to_owned(),
            created: now_secs(),
            model: call.upstream_model.to_owned(),
            choices: vec![Choice {
                index: 0,
                message: Message::text_message(Role::Assistant, reply),
                finish_reason: Some("stop".to_owned()),
                rest: Extra::new(),
            }],
            usage: Some(usage),
            rest: Extra::new(),
        })
    }

    async fn chat_stream(&self, call: ProviderCall<'_>) -> Result<ChunkStream, Error> {
        let reply = self.reply(call.request);
        let usage = Self::usage(call.request, &reply);
        let id = format!("chatcmpl-mock-{}", call.request_id);
        let created = now_secs();
        let model = call.upstream_model;
        let mut chunks = vec![chunk(
            &id,
            created,
            model,
            Delta { role: Some(Role::Assistant), content: Some(String::new()), rest: Extra::new() },
            None,
        )];
        let finish = match self.tool_call(call.request, call.request_id) {
            Some((call_id, name, arguments)) => {
                // The arguments arrive in two fragments, as real upstreams send them.
                let cut = arguments.len() / 2;
                let cut = (0..=cut).rev().find(|&i| arguments.is_char_boundary(i)).unwrap_or(0);
                let mut first = Delta::default();
                first.rest.insert(
                    "tool_calls".into(),
                    serde_json::json!([{"index": 0, "id": call_id, "type": "function", "function": {"name": name, "arguments": &arguments[..cut]}}]),
                );
                let mut second = Delta::default();
                second.rest.insert(
                    "tool_calls".into(),
                    serde_json::json!([{"index": 0, "function": {"arguments": &arguments[cut..]}}]),
                );
                chunks.push(chunk(&id, created, model, first, None));
                chunks.push(chunk(&id, created, model, second, None));
                "tool_calls"
            }
            None => {
                let pieces = match self.config.stream_chunk_chars {
                    Some(n) => split_chars(&reply, n),
                    None => split_words(&reply, self.config.stream_chunks),
                };
                for piece in pieces {
                    chunks.push(chunk(&id, created, model, Delta { content: Some(piece), ..Delta::default() }, None));
                }
                "stop"
            }
        };
        chunks.push(chunk(&id, created, model, Delta::default(), Some(finish)));
        let mut last = chunk(&id, created, model, Delta::default(), None);
        last.choices.clear();
        last.usage = Some(Some(usage));
        chunks.push(last);

        let first_delay = self.config.latency;
        let gap = self.config.chunk_delay;
        let s = stream::unfold((chunks.into_iter(), true), move |(mut it, first)| async move {
            let next = it.next()?;
            let delay = if first { first_delay } else { gap };
            if !delay.is_zero() {
                tokio::time::sleep(delay).await;
            }
            Some((Ok(next), (it, false)))
        });
        Ok(Box::pin(s))
    }

    async fn embed(&self, call: EmbedCall<'_>) -> Result<EmbeddingResponse, Error> {
        let texts = call.request.texts();
        let dim = self.config.embedding_dimension.max(1);
        let mut data = Vec::with_capacity(texts.len());
        let mut tokens = 0u64;
        for (index, text) in texts.iter().enumerate() {
            tokens += estimate_tokens(text.len());
            let v = deterministic_vector(text, dim);
            data.push(serde_json::json!({"object": "embedding", "index": index, "embedding": v}));
        }
        let mut rest = Extra::new();
        rest.insert("object".into(), "list".into());
        rest.insert("data".into(), data.into());
        Ok(EmbeddingResponse {
            model: call.upstream_model.to_owned(),
            usage: Some(EmbeddingUsage { prompt_tokens: tokens, total_tokens: tokens }),
            rest,
        })
    }
}

/// A unit vector derived from the text's bytes (FNV-1a seeded xorshift): the same text always
/// gives the same vector.
fn deterministic_vector(text: &str, dim: usize) -> Vec<f32> {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    let mut v: Vec<f32> = (0..dim)
        .map(|_| {
            h ^= h << 13;
            h ^= h >> 7;
            h ^= h << 17;
            ((h >> 40) as f32 / (1u64 << 24) as f32) - 0.5
        })
        .collect();
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt().max(f32::EPSILON);
    v.iter_mut().for_each(|x| *x /= norm);
    v
}

#[cfg(test)]
mod tests {
    use futures_util::StreamExt;

    use super::*;

    fn req(text: &str) -> ChatRequest {
        ChatRequest {
            model: "m".into(),
            messages: vec![Message::text_message(Role::System, "sys"), Message::text_message(Role::User, text)],
            stream: None,
            stream_options: None,
            max_tokens: None,
            max_completion_tokens: None,
            rest: Extra::new(),
        }
    }

    #[test]
    fn split_words_preserves_text() {
        for text in ["", "one", "a b c d e f g h i j", "  lead and  double  spaces ", "ünïcode wörds hère"] {
            for n in 1..12 {
                let pieces = split_words(text, n);
                assert_eq!(pieces.concat(), text);
                assert!(pieces.len() <= n.max(1) + 1, "{text:?} {n} {pieces:?}");
            }
        }
    }

    #[test]
    fn split_chars_cuts_every_n_characters_on_char_boundaries() {
        assert_eq!(split_chars("abcdefgh", 3), ["abc", "def", "gh"]);
        assert_eq!(split_chars("abcdef", 3), ["abc", "def"]);
        assert!(split_chars("", 3).is_empty());
        assert_eq!(split_chars("ab", 0), ["a", "b"], "0 counts as 1");
        // Two-, three- and four-byte characters are never cut.
        let text = "é€😀a b\u{200b}c１２３ 🇩🇪 ü";
        for n in 1..12 {
            let pieces = split_chars(text, n);
            assert_eq!(pieces.concat(), text, "{n}");
            let counts: Vec<usize> = pieces.iter().map(|p| p.chars().count()).collect();
            let (last, full) = counts.split_last().unwrap();
            assert!(full.iter().all(|&c| c == n) && (1..=n).contains(last), "{n}: {pieces:?}");
        }
    }

    #[tokio::test]
    async fn stream_chunk_chars_streams_fixed_size_pieces_of_the_exact_reply() {
        let config = MockConfig { behavior: MockBehavior::Echo, stream_chunk_chars: Some(3), ..MockConfig::default() };
        let p = MockProvider::new("mock", config);
        let text = "mail ann@corp.io, card 4111 1111 1111 1111 — ünï😀";
        let r = req(text);
        let call = ProviderCall { request: &r, upstream_model: "echo", request_id: "1", traceparent: "" };
        let chunks: Vec<_> = p.chat_stream(call).await.unwrap().collect().await;
        let pieces: Vec<String> = chunks
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .flat_map(|c| c.choices.iter().filter_map(|ch| ch.delta.content.clone()))
            .filter(|p| !p.is_empty())
            .collect();
        assert_eq!(pieces.concat(), text);
        assert_eq!(pieces.len(), text.chars().count().div_ceil(3), "{pieces:?}");
        assert!(pieces[..pieces.len() - 1].iter().all(|p| p.chars().count() == 3), "{pieces:?}");
        let finish =
            chunks.iter().filter_map(|c| c.as_ref().ok()).find_map(|c| c.choices.first()?.finish_reason.clone());
        assert_eq!(finish.as_deref(), Some("stop"));
    }

    #[tokio::test]
    async fn echo_stream_reassembles_the_prompt_exactly() {
        let p = MockProvider::new("mock", MockConfig { behavior: MockBehavior::Echo, ..MockConfig::default() });
        let text = "  Héllo,\n wörld\t[EMAIL_1]  ";
        let r = req(text);
        let call = ProviderCall { request: &r, upstream_model: "echo", request_id: "1", traceparent: "" };
        let full = p.chat(call).await.unwrap();
        assert_eq!(full.choices[0].message.text().as_deref(), Some(text));
        let chunks: Vec<_> = p.chat_stream(call).await.unwrap().collect().await;
        let joined: String = chunks
            .iter()
            .filter_map(|c| c.as_ref().ok())
            .flat_map(|c| c.choices.iter().filter_map(|ch| ch.delta.content.clone()))
            .collect();
        assert_eq!(joined, text);
        assert!(chunks.last().unwrap().as_ref().unwrap().is_usage_only());
    }

    #[test]
    fn vectors_are_deterministic_unit_vectors() {
        let a = deterministic_vector("hello", 32);
        assert_eq!(a, deterministic_vector("hello", 32));
        assert_ne!(a, deterministic_vector("hellp", 32));
        let n: f32 = a.iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-4);
    }
}
