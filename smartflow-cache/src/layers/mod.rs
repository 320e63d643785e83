//! The layers: each finds a candidate entry for a request in one partition. The layered cache
//! composes them cheapest first; a layer knows nothing of the others, of scopes or of modes.

mod key;
mod semantic;

use async_trait::async_trait;
use smartflow_core::CacheLayer;

pub(crate) use key::KeyLayer;
pub(crate) use semantic::SemanticLayer;

use crate::fingerprint::{Digest, Fingerprint};
use crate::store::entry::Entry;
use crate::store::{Store, StoreError};

/// One request as the layers see it. Embeddings are computed at most once per lookup, on first
/// need, and shared between partitions.
pub(crate) struct Query<'a> {
    pub(crate) fp: &'a Fingerprint,
    /// The L3 canonical form of the last user turn, computed on first need.
    canonical: std::sync::OnceLock<Option<String>>,
    /// The similarity a semantic hit needs for this request.
    pub(crate) threshold: f32,
    pub(crate) screen: tokio::sync::OnceCell<Option<Vec<f32>>>,
    pub(crate) verify: tokio::sync::OnceCell<Option<Vec<f32>>>,
}

impl<'a> Query<'a> {
    pub(crate) fn new(fp: &'a Fingerprint, threshold: f32) -> Self {
        Self {
            fp,
            canonical: std::sync::OnceLock::new(),
            threshold,
            screen: tokio::sync::OnceCell::new(),
            verify: tokio::sync::OnceCell::new(),
        }
    }
}

impl Query<'_> {
    /// The L3 canonical form of the last user turn.
    pub(crate) fn canonical(&self) -> Option<&str> {
        self.canonical.get_or_init(|| self.fp.prompt.as_deref().map(crate::canonical::canonical_prompt)).as_deref()
    }
}

/// A candidate a layer vouches for.
#[derive(Debug)]
pub(crate) struct Found {
    pub(crate) id: u64,
    pub(crate) entry: Entry,
    pub(crate) similarity: Option<f32>,
}

/// A cache layer.
#[async_trait]
pub(crate) trait Layer: Send + Sync {
    /// Which layer this is.
    fn kind(&self) -> CacheLayer;

    /// The best entry of `partition` this layer accepts as an answer to `q`.
    async fn find(&self, store: &Store, q: &Query<'_>, partition: &str) -> Result<Option<Found>, StoreError>;

    /// The key an entry answering `q` is filed under in `partition`, for layers that look up
    /// by key.
    fn key(&self, _q: &Query<'_>, _partition: &str) -> Option<Digest> {
        None
    }
}
