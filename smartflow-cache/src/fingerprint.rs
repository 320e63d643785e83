//! `Fingerprint`: what identifies a request for the cache. Everything that affects generation
//! (model, every message, tools, tool choice, response format, sampling parameters, seed, `n`,
//! and any field Smartflow does not model) goes into the hash; only transport fields that
//! cannot change the answer (`stream`, `stream_options`, `user`, `metadata`, `store`...) stay out.
//!
//! Two hashes come out: `exact` over the whole request (L1), and `context` over the request
//! with its last user turn blanked — the conversation around that turn, which L3 and L2 require
//! to be identical while they compare the turn itself.

use ring::digest::{Context, SHA256};
use smartflow_core::types::MessageContent;
use smartflow_core::{ChatRequest, Role};

/// Request fields that never change the answer.
const TRANSPORT_FIELDS: &[&str] =
    &["stream", "stream_options", "user", "metadata", "store", "prompt_cache_key", "safety_identifier", "service_tier"];

/// A SHA-256 digest.
pub type Digest = [u8; 32];

/// The cache's view of one request.
#[derive(Debug, Clone)]
pub struct Fingerprint {
    /// The virtual model.
    pub model: String,
    /// Over everything that affects generation.
    pub exact: Digest,
    /// Over everything but the last user turn; `None` when the request has no plain-text last
    /// user turn (then only L1 applies).
    pub context: Option<Digest>,
    /// The last user turn's text, when it is plain text.
    pub prompt: Option<String>,
}

impl Fingerprint {
    /// Fingerprints `req`. Fails only if the request cannot be serialised (never for a request
    /// that parsed).
    pub fn of(req: &ChatRequest) -> Result<Self, serde_json::Error> {
        let mut value = serde_json::to_value(req)?;
        let obj = value.as_object_mut();
        if let Some(obj) = obj {
            for f in TRANSPORT_FIELDS {
                obj.remove(*f);
            }
        }
        let exact = digest(&serde_json::to_vec(&value)?);
        let last = req.messages.len().checked_sub(1).filter(|&i| req.messages[i].role == Role::User);
        let prompt = last.and_then(|i| match &req.messages[i].content {
            Some(MessageContent::Text(t)) if req.messages[i].rest.is_empty() => Some(t.clone()),
            _ => None,
        });
        let context = match (prompt.is_some(), last, value.get_mut("messages")) {
            (true, Some(i), Some(serde_json::Value::Array(messages))) => {
                if let Some(m) = messages.get_mut(i) {
                    *m = serde_json::Value::String("\u{0}last-user-turn".to_owned());
                }
                Some(digest(&serde_json::to_vec(&value)?))
            }
            _ => None,
        };
        Ok(Self { model: req.model.clone(), exact, context, prompt })
    }
}

/// SHA-256 of `bytes`.
pub fn digest(bytes: &[u8]) -> Digest {
    let mut out = [0u8; 32];
    out.copy_from_slice(ring::digest::digest(&SHA256, bytes).as_ref());
    out
}

/// SHA-256 over several parts, each length-prefixed so no two lists collide.
pub fn digest_parts(parts: &[&[u8]]) -> Digest {
    let mut ctx = Context::new(&SHA256);
    for p in parts {
        ctx.update(&(p.len() as u64).to_be_bytes());
        ctx.update(p);
    }
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(body: &str) -> ChatRequest {
        serde_json::from_str(body).unwrap_or_else(|e| panic!("{e}"))
    }

    fn fp(body: &str) -> Fingerprint {
        Fingerprint::of(&req(body)).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn transport_fields_do_not_change_the_key_and_generation_fields_do() {
        let base = fp(r#"{"model":"m","messages":[{"role":"user","content":"hi"}]}"#);
        let streamed = fp(r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"user":"u"}"#);
        assert_eq!(base.exact, streamed.exact);
        for other in [
            r#"{"model":"m2","messages":[{"role":"user","content":"hi"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.5}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"seed":1}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_object"}}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"tools":[{"type":"function","function":{"name":"f"}}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":5}"#,
            r#"{"model":"m","messages":[{"role":"system","content":"be brief"},{"role":"user","content":"hi"}]}"#,
            r#"{"model":"m","messages":[{"role":"user","content":"hi!"}]}"#,
        ] {
            assert_ne!(base.exact, fp(other).exact, "{other}");
        }
    }

    #[test]
    fn context_blanks_only_the_last_user_turn() {
        let a = fp(r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"one"}]}"#);
        let b = fp(r#"{"model":"m","messages":[{"role":"system","content":"s"},{"role":"user","content":"two"}]}"#);
        let c = fp(r#"{"model":"m","messages":[{"role":"system","content":"t"},{"role":"user","content":"one"}]}"#);
        assert_eq!(a.context, b.context);
        assert_ne!(a.context, c.context);
        assert_eq!(a.prompt.as_deref(), Some("one"));
        let tool_last = fp(
            r#"{"model":"m","messages":[{"role":"user","content":"x"},{"role":"tool","content":"r","tool_call_id":"1"}]}"#,
        );
        assert!(tool_last.context.is_none() && tool_last.prompt.is_none());
    }

    #[test]
    fn parts_are_not_length_ambiguous() {
        assert_ne!(digest_parts(&[b"ab", b"c"]), digest_parts(&[b"a", b"bc"]));
    }
}
