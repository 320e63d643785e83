//! `ModelInfo`: one entry of `GET /v1/models`.

use serde::Serialize;

/// What a virtual model serves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ModelKind {
    /// Chat completions.
    Chat,
    /// Embeddings.
    Embedding,
}

/// One model as clients see it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelInfo {
    /// The name clients send.
    pub id: String,
    /// Always `model`.
    pub object: &'static str,
    /// Unix seconds (when the gateway's configuration was built).
    pub created: u64,
    /// Who owns it (the organisation running the gateway).
    pub owned_by: String,
    /// Chat or embedding.
    #[serde(skip)]
    pub kind: ModelKind,
}
