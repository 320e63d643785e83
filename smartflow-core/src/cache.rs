//! The `Cache` trait: response caches the pipeline consults before routing.

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Error;
use crate::types::{ChatRequest, ChatResponse, RequestContext};

/// Which layer answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CacheLayer {
    /// Exact match.
    L1,
    /// Semantic match (embedding retrieval plus verification).
    L2,
    /// Rephrasing-equivalent canonical form.
    L3,
    /// Shared across users where policy permits.
    L4,
}

impl CacheLayer {
    /// `l1`..`l4`.
    pub fn label(self) -> &'static str {
        match self {
            Self::L1 => "l1",
            Self::L2 => "l2",
            Self::L3 => "l3",
            Self::L4 => "l4",
        }
    }
}

/// A cached answer.
#[derive(Debug, Clone)]
pub struct CacheHit {
    /// The stored response.
    pub response: ChatResponse,
    /// The layer that matched.
    pub layer: CacheLayer,
    /// Cosine similarity for semantic hits.
    pub similarity: Option<f32>,
}

/// Which entries an invalidation removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheScope {
    /// Every entry.
    All,
    /// Entries written under this scope key (key, team or department scope).
    Scope(String),
    /// Entries for this model.
    Model(String),
}

/// Counters a cache reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheStats {
    /// Lookups.
    pub lookups: u64,
    /// Hits per layer, `l1`..`l4`.
    pub hits: [u64; 4],
    /// Entries stored.
    pub entries: u64,
    /// Bytes stored.
    pub bytes: u64,
}

/// A response cache. Implementations decide scope from the context's principal; the pipeline
/// calls `put` only with complete, successful, policy-clean responses.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// Looks for a stored answer to `req` within the scopes `ctx` allows.
    async fn get(&self, ctx: &RequestContext, req: &ChatRequest) -> Result<Option<CacheHit>, Error>;

    /// Stores `resp` as the answer to `req`.
    async fn put(&self, ctx: &RequestContext, req: &ChatRequest, resp: &ChatResponse) -> Result<(), Error>;

    /// Removes entries; returns how many.
    async fn invalidate(&self, scope: &CacheScope) -> Result<u64, Error>;

    /// Current counters.
    fn stats(&self) -> CacheStats;
}
