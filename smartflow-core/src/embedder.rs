//! The `Embedder` trait: text to vectors, for the semantic cache and classifiers.

use async_trait::async_trait;

use crate::error::Error;

/// Turns texts into vectors of a fixed dimension.
#[async_trait]
pub trait Embedder: Send + Sync + 'static {
    /// A name that identifies the model (entries embedded by another model never match).
    fn model_id(&self) -> &str;

    /// The vector dimension.
    fn dimension(&self) -> usize;

    /// One vector per text, in order.
    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error>;
}
