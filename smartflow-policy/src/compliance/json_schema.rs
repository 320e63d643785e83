//! `JsonSchema`: a guardrail on the `llm_output` hook requiring the answer text to be JSON that
//! validates against a JSON Schema (draft 2020-12 unless the schema's `$schema` names another;
//! validation by the `boon` crate). It only validates: a failure refuses with the location of the
//! first error in the answer (a JSON pointer) and the failing keyword, never the content.
//!
//! Choices without text (tool calls only) are not checked.
//!
//! Streams: the text of each choice is buffered (up to [`MAX_BUFFER`] bytes in all; beyond that
//! the stream is refused) and validated at the chunk that carries the choice's `finish_reason`.
//! The chunks before it have already been delivered, so a failing streamed answer reaches the
//! client *in full* and is then ended with an error event instead of a normal end: clients must
//! treat a stream that ends in an error as failed. Callers that cannot afford that should not
//! stream when this guardrail applies. A stream that ends without a `finish_reason` is not
//! validated.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use boon::{Compiler, Draft, SchemaIndex, Schemas, UrlLoader, ValidationError};
use serde_json::Value;
use smartflow_core::{ChatChunk, ChatRequest, ChatResponse, Decision, Denial, Enforcement, Policy, RequestContext};

use crate::governance::rules::Subjects;

/// The most streamed answer text buffered for validation, over all choices.
pub const MAX_BUFFER: usize = 1024 * 1024;

/// Where the inline schema is registered; it has no other name.
const SCHEMA_URL: &str = "urn:smartflow:guardrail-schema";

/// The schema could not be compiled.
#[derive(Debug, thiserror::Error)]
#[error("invalid JSON schema: {0}")]
pub struct SchemaError(String);

/// The JSON-schema guardrail.
#[derive(Clone)]
pub struct JsonSchema {
    id: String,
    schemas: Arc<Schemas>,
    index: SchemaIndex,
    enforcement: Enforcement,
    subjects: Subjects,
}

impl std::fmt::Debug for JsonSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchema")
            .field("id", &self.id)
            .field("enforcement", &self.enforcement)
            .finish_non_exhaustive()
    }
}

/// Refuses every external `$ref`: a schema is self-contained, nothing is read from disk or the
/// network when it is compiled.
struct NoLoader;

impl UrlLoader for NoLoader {
    fn load(&self, url: &str) -> Result<Value, Box<dyn std::error::Error>> {
        Err(format!("external references are not loaded ({url})").into())
    }
}

/// The request was in scope.
#[derive(Debug, Clone, Copy)]
struct Applies;

/// Streamed text per choice index; `None` once the limit was crossed.
#[derive(Debug, Clone, Default)]
struct Buffer {
    texts: BTreeMap<u32, String>,
    bytes: usize,
}

impl JsonSchema {
    /// A guardrail `id` validating answers against `schema` (a JSON Schema document).
    pub fn new(id: impl Into<String>, schema: Value) -> Result<Self, SchemaError> {
        let mut compiler = Compiler::new();
        compiler.set_default_draft(Draft::V2020_12);
        compiler.use_loader(Box::new(NoLoader));
        compiler.add_resource(SCHEMA_URL, schema).map_err(|e| SchemaError(e.to_string()))?;
        let mut schemas = Schemas::new();
        let index = compiler.compile(SCHEMA_URL, &mut schemas).map_err(|e| SchemaError(e.to_string()))?;
        Ok(Self {
            id: id.into(),
            schemas: Arc::new(schemas),
            index,
            enforcement: Enforcement::Enforce,
            subjects: Subjects::default(),
        })
    }

    /// Audit enforcement: failures are recorded as `would_deny`.
    pub fn audit_only(mut self) -> Self {
        self.enforcement = Enforcement::Audit;
        self
    }

    /// Applies only to requests whose principal and model match `subjects`.
    pub fn for_subjects(mut self, subjects: Subjects) -> Self {
        self.subjects = subjects;
        self
    }

    /// Checks one answer text: `None` when it is valid, else a client-safe reason.
    pub fn check(&self, text: &str) -> Option<String> {
        let Ok(value) = serde_json::from_str::<Value>(text) else {
            return Some("the answer is not valid JSON".to_owned());
        };
        if !self.schemas.contains(self.index) {
            return Some("the answer could not be validated".to_owned());
        }
        match self.schemas.validate(&value, self.index) {
            Ok(()) => None,
            Err(e) => {
                let leaf = first_leaf(&e);
                let at = leaf.instance_location.to_string();
                let at = if at.is_empty() { "/".to_owned() } else { at };
                let keyword = leaf.kind.keyword_path().map_or("schema", |k| k.keyword);
                Some(format!("the answer does not match the JSON schema at {at} ({keyword})"))
            }
        }
    }

    fn deny(&self, reason: String) -> Decision {
        Decision::Deny(Denial::new(self.id.clone(), reason))
    }
}

/// The first most specific error: the first cause, recursively.
fn first_leaf<'a, 's, 'v>(mut e: &'a ValidationError<'s, 'v>) -> &'a ValidationError<'s, 'v> {
    while let Some(first) = e.causes.first() {
        e = first;
    }
    e
}

#[async_trait]
impl Policy for JsonSchema {
    fn name(&self) -> &str {
        &self.id
    }

    fn enforcement(&self) -> Enforcement {
        self.enforcement
    }

    async fn on_request(&self, ctx: &mut RequestContext, req: &mut ChatRequest) -> Decision {
        if self.subjects.matches(&ctx.principal, &req.model) {
            ctx.extensions.insert(Applies);
        }
        Decision::Continue
    }

    async fn on_response(&self, ctx: &mut RequestContext, resp: &mut ChatResponse) -> Decision {
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        for c in &resp.choices {
            if c.message.content.is_none() {
                continue;
            }
            let text = c.message.text().unwrap_or_default();
            if let Some(reason) = self.check(&text) {
                return self.deny(reason);
            }
        }
        Decision::Continue
    }

    fn on_chunk(&self, ctx: &mut RequestContext, chunk: &mut ChatChunk) -> Decision {
        if ctx.extensions.get::<Applies>().is_none() {
            return Decision::Continue;
        }
        let mut buffer = ctx.extensions.remove::<Buffer>().unwrap_or_default();
        let mut decision = Decision::Continue;
        for c in &chunk.choices {
            if let Some(content) = &c.delta.content {
                buffer.bytes = buffer.bytes.saturating_add(content.len());
                if buffer.bytes > MAX_BUFFER {
                    decision =
                        self.deny(format!("the answer is longer than {MAX_BUFFER} bytes and cannot be validated"));
                    break;
                }
                buffer.texts.entry(c.index).or_default().push_str(content);
            }
            if c.finish_reason.is_some()
                && let Some(text) = buffer.texts.remove(&c.index)
                && let Some(reason) = self.check(&text)
            {
                decision = self.deny(reason);
                break;
            }
        }
        ctx.extensions.insert(buffer);
        decision
    }
}

#[cfg(test)]
mod tests {
    use smartflow_core::types::{ChunkChoice, Delta, Endpoint, Principal};

    use super::*;

    fn guard() -> JsonSchema {
        let schema = serde_json::json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "type": "object",
            "required": ["name", "age"],
            "properties": {"name": {"type": "string"}, "age": {"type": "integer", "minimum": 0}},
            "$defs": {"unused": {"prefixItems": [{"type": "string"}]}}
        });
        JsonSchema::new("schema", schema).unwrap()
    }

    fn ctx() -> RequestContext {
        let mut c = RequestContext::new("r", Arc::new(Principal::new("k")), Endpoint::ChatCompletions);
        c.extensions.insert(Applies);
        c
    }

    fn chunk(text: &str, last: bool) -> ChatChunk {
        ChatChunk {
            id: "c".into(),
            object: "chat.completion.chunk".into(),
            created: 0,
            model: "m".into(),
            choices: vec![ChunkChoice {
                index: 0,
                delta: Delta { role: None, content: Some(text.into()), rest: Default::default() },
                finish_reason: last.then(|| "stop".to_owned()),
                rest: Default::default(),
            }],
            usage: None,
            rest: Default::default(),
        }
    }

    #[test]
    fn valid_answers_pass_and_failures_name_the_path_not_the_content() {
        let g = guard();
        assert_eq!(g.check(r#"{"name": "Ann", "age": 40}"#), None);
        assert_eq!(g.check("Hello there").as_deref(), Some("the answer is not valid JSON"));
        let reason = g.check(r#"{"name": "SECRET", "age": -3}"#).unwrap();
        assert!(reason.contains("/age") && reason.contains("minimum"), "{reason}");
        assert!(!reason.contains("SECRET") && !reason.contains("-3"), "{reason}");
        let reason = g.check(r#"{"name": 7}"#).unwrap();
        assert!(reason.contains("required") || reason.contains("/name"), "{reason}");
    }

    #[test]
    fn external_references_and_bad_schemas_are_refused() {
        assert!(JsonSchema::new("s", serde_json::json!({"$ref": "https://example.com/s.json"})).is_err());
        assert!(JsonSchema::new("s", serde_json::json!({"type": 7})).is_err());
    }

    #[test]
    fn streams_are_validated_at_the_final_chunk() {
        let g = guard();
        let mut c = ctx();
        assert!(matches!(g.on_chunk(&mut c, &mut chunk(r#"{"name": "Ann","#, false)), Decision::Continue));
        assert!(matches!(g.on_chunk(&mut c, &mut chunk(r#" "age": 40}"#, true)), Decision::Continue));
        let mut c = ctx();
        assert!(matches!(g.on_chunk(&mut c, &mut chunk("Hello", false)), Decision::Continue));
        assert!(matches!(g.on_chunk(&mut c, &mut chunk(" world", true)), Decision::Deny(_)));
    }

    #[test]
    fn oversize_streams_are_refused() {
        let g = guard();
        let mut c = ctx();
        let big = " ".repeat(MAX_BUFFER);
        assert!(matches!(g.on_chunk(&mut c, &mut chunk(&big, false)), Decision::Continue));
        assert!(matches!(g.on_chunk(&mut c, &mut chunk("{}", false)), Decision::Deny(_)));
    }
}
