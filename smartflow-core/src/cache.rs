//! The `Cache` trait: response caches the pipeline consults before routing, the per-request
//! cache directives a client may send, and the counters a cache reports.

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use serde::Serialize;

use crate::error::Error;
use crate::policy::PolicyDecision;
use crate::types::{ChatRequest, ChatResponse, RequestContext};

/// Which layer answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
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
    /// Every layer, in label order.
    pub const ALL: [CacheLayer; 4] = [Self::L1, Self::L2, Self::L3, Self::L4];

    /// `l1`..`l4`.
    pub fn label(self) -> &'static str {
        match self {
            Self::L1 => "l1",
            Self::L2 => "l2",
            Self::L3 => "l3",
            Self::L4 => "l4",
        }
    }

    /// The position in per-layer counter arrays (`l1` = 0).
    pub fn index(self) -> usize {
        match self {
            Self::L1 => 0,
            Self::L2 => 1,
            Self::L3 => 2,
            Self::L4 => 3,
        }
    }
}

/// A cached answer.
#[derive(Debug, Clone)]
pub struct CacheHit {
    /// The stored response.
    pub response: ChatResponse,
    /// The layer that matched (`L4` for an entry shared from another user).
    pub layer: CacheLayer,
    /// Cosine similarity for semantic hits.
    pub similarity: Option<f32>,
}

/// What a lookup found: at most one hit to serve, and the decisions to record (a shadow
/// layer's "would have hit", a shared entry's provenance).
#[derive(Debug, Default)]
pub struct CacheLookup {
    /// The answer to serve, if any layer in enforcement found one.
    pub hit: Option<CacheHit>,
    /// Decisions for the audit trail, in order.
    pub decisions: Vec<PolicyDecision>,
}

impl CacheLookup {
    /// A miss with nothing to record.
    pub fn miss() -> Self {
        Self::default()
    }
}

/// Which entries an invalidation removes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CacheScope {
    /// Every entry.
    All,
    /// Entries written under this scope (`key:..`, `team:..`, `department:..`, `user:..`).
    Scope(String),
    /// Entries for this model.
    Model(String),
}

/// Per-request cache directives (`x-smartflow-cache` request header). A client may only make
/// the cache stricter than the operator's configuration: a TTL longer than the operator's and
/// a similarity threshold below the operator's are clamped to the operator's.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct CacheDirectives {
    /// Do not answer from the cache (the answer may still be stored).
    pub no_cache: bool,
    /// Do not store the answer.
    pub no_store: bool,
    /// Store the answer for at most this long.
    pub ttl: Option<Duration>,
    /// Require at least this similarity for a semantic hit.
    pub threshold: Option<f32>,
}

impl CacheDirectives {
    /// Parses a header value: comma-separated `no-cache`, `no-store`, `ttl=SECONDS`,
    /// `threshold=T` (0 < T <= 1). Anything else is a 400 naming the header.
    pub fn parse(value: &str) -> Result<Self, Error> {
        let bad = |what: &str| {
            Error::invalid_request(format!(
                "invalid x-smartflow-cache directive {what}: expected no-cache, no-store, ttl=SECONDS or threshold=0..1"
            ))
            .with_param("x-smartflow-cache")
        };
        let mut d = Self::default();
        for token in value.split(',').map(str::trim).filter(|t| !t.is_empty()) {
            let (name, arg) = match token.split_once('=') {
                Some((n, a)) => (n.trim(), Some(a.trim())),
                None => (token, None),
            };
            match (name.to_ascii_lowercase().as_str(), arg) {
                ("no-cache", None) => d.no_cache = true,
                ("no-store", None) => d.no_store = true,
                ("ttl", Some(a)) => {
                    let secs: u64 = a.parse().map_err(|_| bad("ttl"))?;
                    d.ttl = Some(Duration::from_secs(secs.min(10 * 365 * 86_400)));
                }
                ("threshold", Some(a)) => {
                    let t: f32 = a.parse().map_err(|_| bad("threshold"))?;
                    if !(t > 0.0 && t <= 1.0) {
                        return Err(bad("threshold"));
                    }
                    d.threshold = Some(t);
                }
                _ => return Err(bad(&format!("`{}`", name.chars().take(32).collect::<String>()))),
            }
        }
        Ok(d)
    }
}

/// Counters for one slice of traffic (a model, a scope).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CacheCounters {
    /// Lookups.
    pub lookups: u64,
    /// Hits served per layer, `l1`..`l4`.
    pub hits: [u64; 4],
    /// Hits a shadow (audit) layer would have served, per layer.
    pub shadow_hits: [u64; 4],
    /// Tokens (prompt + completion) not sent upstream thanks to hits.
    pub tokens_saved: u64,
    /// What those tokens would have cost, in nano-dollars (0 when the model has no price).
    pub cost_saved_nano_usd: u64,
}

impl CacheCounters {
    /// Hits served, all layers.
    pub fn total_hits(&self) -> u64 {
        self.hits.iter().sum()
    }
}

/// Counters a cache reports.
#[derive(Debug, Clone, Default, Serialize)]
pub struct CacheStats {
    /// Totals over all traffic.
    #[serde(flatten)]
    pub total: CacheCounters,
    /// Lookups that found nothing to serve.
    pub misses: u64,
    /// Lookups skipped (`no-cache`, a layer past its time budget).
    pub bypassed: u64,
    /// Answers stored.
    pub stores: u64,
    /// Answers not stored (`no-store`, sensitive, too large, failed).
    pub stores_skipped: u64,
    /// Entries removed to stay within the byte bound, or expired.
    pub evictions: u64,
    /// Entries stored now.
    pub entries: u64,
    /// Bytes stored now.
    pub bytes: u64,
    /// Per virtual model.
    pub by_model: BTreeMap<String, CacheCounters>,
    /// Per scope (`team:payments`).
    pub by_scope: BTreeMap<String, CacheCounters>,
}

/// A response cache. Implementations decide scope from the context's principal and read the
/// request's [`CacheDirectives`] and [`DataLabels`](crate::types::DataLabels) from
/// `ctx.extensions`; the pipeline calls `put` only with complete, successful answers that every
/// response policy let through.
#[async_trait]
pub trait Cache: Send + Sync + 'static {
    /// Looks for a stored answer to `req` within the scopes `ctx` allows.
    async fn get(&self, ctx: &RequestContext, req: &ChatRequest) -> Result<CacheLookup, Error>;

    /// Stores `resp` as the answer to `req`.
    async fn put(&self, ctx: &RequestContext, req: &ChatRequest, resp: &ChatResponse) -> Result<(), Error>;

    /// Removes entries; returns how many.
    async fn invalidate(&self, scope: &CacheScope) -> Result<u64, Error>;

    /// Current counters.
    fn stats(&self) -> CacheStats;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn directives_parse_and_refuse() {
        let d = CacheDirectives::parse("no-store, ttl=60,threshold=0.97").unwrap_or_default();
        assert!(d.no_store && !d.no_cache);
        assert_eq!(d.ttl, Some(Duration::from_secs(60)));
        assert_eq!(d.threshold, Some(0.97));
        assert!(CacheDirectives::parse("NO-CACHE").is_ok_and(|d| d.no_cache));
        for bad in ["max-age=3", "ttl=-1", "threshold=1.5", "threshold=0", "threshold=nan", "no-cache=1", "ttl"] {
            let e = CacheDirectives::parse(bad).err();
            assert!(e.is_some_and(|e| e.status_code() == 400), "{bad}");
        }
    }
}
