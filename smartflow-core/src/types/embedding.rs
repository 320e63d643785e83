//! `EmbeddingRequest` and `EmbeddingResponse` (`POST /v1/embeddings`), typed only where read.

use serde::{Deserialize, Serialize};

use super::Extra;
use crate::error::Error;

/// An OpenAI embeddings request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingRequest {
    /// The model name the client asked for.
    pub model: String,
    /// A string, an array of strings, an array of token ids, or an array of those.
    pub input: serde_json::Value,
    /// Every other field (`encoding_format`, `dimensions`, `user`).
    #[serde(flatten)]
    pub rest: Extra,
}

impl EmbeddingRequest {
    /// Parses and checks a request body.
    pub fn from_slice(body: &[u8]) -> Result<Self, Error> {
        let req: Self = super::validate::parse_json(body)?;
        if req.model.trim().is_empty() {
            return Err(Error::invalid_request("you must provide a model parameter").with_param("model"));
        }
        let valid_input = match &req.input {
            serde_json::Value::String(s) => !s.is_empty(),
            serde_json::Value::Array(items) => {
                !items.is_empty()
                    && (items.iter().all(|i| i.as_str().is_some_and(|s| !s.is_empty()))
                        || items.iter().all(serde_json::Value::is_u64)
                        || items.iter().all(|i| {
                            i.as_array().is_some_and(|a| !a.is_empty() && a.iter().all(serde_json::Value::is_u64))
                        }))
            }
            _ => false,
        };
        if !valid_input {
            return Err(Error::invalid_request(
                "input must be a non-empty string, array of strings, array of token ids, or array of token-id arrays",
            )
            .with_param("input"));
        }
        super::validate::reject_client_upstream_overrides(&req.rest)?;
        Ok(req)
    }

    /// The input texts (empty for token-id input).
    pub fn texts(&self) -> Vec<&str> {
        match &self.input {
            serde_json::Value::String(s) => vec![s.as_str()],
            serde_json::Value::Array(items) => items.iter().filter_map(serde_json::Value::as_str).collect(),
            _ => Vec::new(),
        }
    }
}

/// An OpenAI embeddings response; the vectors ride along untouched in `rest` (`data`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingResponse {
    /// The model (rewritten to the name the client asked for).
    #[serde(default)]
    pub model: String,
    /// Token usage.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<EmbeddingUsage>,
    /// `object`, `data` and every other field.
    #[serde(flatten)]
    pub rest: Extra,
}

/// Usage of an embeddings call.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EmbeddingUsage {
    /// Input tokens.
    #[serde(default)]
    pub prompt_tokens: u64,
    /// Same as `prompt_tokens`.
    #[serde(default)]
    pub total_tokens: u64,
}
