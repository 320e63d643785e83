//! `CacheConfig`: what the operator decides — layers and their modes, scope, sharing, bounds.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use smartflow_core::{Embedder, TokenUsage};

/// The deciding similarity each embedder ships with: the lowest threshold at which the labelled
/// paraphrase set (`tests/data/paraphrases.jsonl`, `tests/paraphrase_eval.rs`) had at most 1 %
/// false hits through the whole cache (guard and context checks included). Re-derive on your own
/// traffic in shadow mode before lowering one.
pub mod thresholds {
    /// The built-in hashing embedder.
    pub const BUILTIN: f32 = 0.75;
    /// The static embedder distilled from all-MiniLM-L6-v2.
    pub const STATIC: f32 = 0.93;
    /// all-MiniLM-L6-v2 (as the deciding embedder).
    pub const MINILM: f32 = 0.85;
    /// An OpenAI-compatible embeddings endpoint (unknown model: conservative).
    pub const PROVIDER: f32 = 0.92;
}

/// How a layer takes part in lookups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LayerMode {
    /// Not consulted, nothing indexed for it.
    Off,
    /// Hits are served.
    #[default]
    Enforce,
    /// Shadow mode: a hit is recorded as "would have hit" (with the candidate and similarity)
    /// and the request goes upstream, so operators can measure false hits before trusting it.
    Audit,
}

impl LayerMode {
    /// Whether the layer is consulted at all.
    pub fn is_on(self) -> bool {
        self != Self::Off
    }
}

/// Which principal attribute an entry belongs to: only requests with the same value read it.
/// A missing attribute falls back to the key, so nothing escapes its scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ScopeBy {
    /// The virtual key (the default: the narrowest scope).
    #[default]
    Key,
    /// The end user.
    User,
    /// The team.
    Team,
    /// The department.
    Department,
}

/// Across which users an entry may be shared (L4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ShareWithin {
    /// Users of the same information-barrier segment(s) (requires barriers to be configured).
    #[default]
    Segment,
    /// Users of the same department.
    Department,
    /// Users of the same team.
    Team,
}

/// The L4 policy: cross-user reuse. Off by default (deny by default).
#[derive(Debug, Clone, Default)]
pub struct SharingPolicy {
    /// Whether any entry is shared.
    pub enabled: bool,
    /// Across which users.
    pub within: ShareWithin,
    /// Whether semantic (L2) matches may serve a shared entry; by default only exact and
    /// canonical (L1/L3) matches do, since a false semantic hit there leaks one user's answer
    /// to another.
    pub semantic: bool,
    /// Only these virtual models share (`None`: every model).
    pub models: Option<BTreeSet<String>>,
    /// Shadow mode for L4.
    pub mode: LayerMode,
}

/// The semantic layer: an embedder screens, an optional stronger one verifies, a slot guard
/// vetoes, and the conversation around the last user turn must match exactly.
#[derive(Clone)]
pub struct SemanticConfig {
    /// Retrieves candidates (fast: the built-in or static embedder).
    pub screen: Arc<dyn Embedder>,
    /// Candidates must reach this similarity under the screen embedder.
    pub screen_threshold: f32,
    /// Decides, when set (all-MiniLM-L6-v2): a candidate must reach `threshold` under it.
    /// Without it, the screen embedder's similarity must reach `threshold`.
    pub verify: Option<Arc<dyn Embedder>>,
    /// The similarity a hit needs (the operator's floor; a client may only raise it).
    pub threshold: f32,
    /// Candidates retrieved per lookup.
    pub candidates: usize,
    /// The whole semantic lookup must finish within this, or it is skipped (counted as bypassed).
    pub budget: Duration,
    /// Prompts longer than this (bytes) are not embedded.
    pub max_prompt_bytes: usize,
    /// Partitions with more entries than this use HNSW; smaller ones an exact flat scan.
    pub hnsw_above: usize,
}

impl std::fmt::Debug for SemanticConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SemanticConfig")
            .field("screen", &self.screen.model_id())
            .field("screen_threshold", &self.screen_threshold)
            .field("verify", &self.verify.as_ref().map(|v| v.model_id().to_owned()))
            .field("threshold", &self.threshold)
            .field("candidates", &self.candidates)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl SemanticConfig {
    /// A semantic layer screening and deciding with `screen` at `threshold`.
    pub fn new(screen: Arc<dyn Embedder>, threshold: f32) -> Self {
        Self {
            screen,
            screen_threshold: threshold,
            verify: None,
            threshold,
            candidates: 5,
            budget: Duration::from_millis(250),
            max_prompt_bytes: 8 * 1024,
            hnsw_above: 10_000,
        }
    }
}

/// Prices tokens saved: nano-dollars for `usage` on virtual model `model`.
pub type Pricer = Arc<dyn Fn(&str, &TokenUsage) -> u64 + Send + Sync>;

/// Everything the layered cache needs to know.
#[derive(Clone)]
pub struct CacheConfig {
    /// L1: exact match of everything that affects generation.
    pub exact: LayerMode,
    /// L3: the canonical form of the last user turn (rephrasing-equivalent).
    pub canonical: LayerMode,
    /// L2: semantic retrieval plus verification; `None` turns it off.
    pub semantic: Option<(LayerMode, SemanticConfig)>,
    /// L4: cross-user reuse.
    pub sharing: SharingPolicy,
    /// Whose entries a request may read.
    pub scope: ScopeBy,
    /// How long an entry lives (a client may only shorten it).
    pub ttl: Duration,
    /// The bound on stored bytes; least recently used entries go first.
    pub max_bytes: u64,
    /// Larger answers are not stored.
    pub max_entry_bytes: usize,
    /// Prices savings; `None` reports tokens only.
    pub pricer: Option<Pricer>,
    /// At most this many distinct scopes are counted one by one in the analytics; the rest
    /// are counted under `other`.
    pub max_tracked_scopes: usize,
}

impl std::fmt::Debug for CacheConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheConfig")
            .field("exact", &self.exact)
            .field("canonical", &self.canonical)
            .field("semantic", &self.semantic)
            .field("sharing", &self.sharing)
            .field("scope", &self.scope)
            .field("ttl", &self.ttl)
            .field("max_bytes", &self.max_bytes)
            .finish_non_exhaustive()
    }
}

impl Default for CacheConfig {
    /// L1 and L3 on, no semantic layer, no sharing, key scope, one hour, 256 MiB.
    fn default() -> Self {
        Self {
            exact: LayerMode::Enforce,
            canonical: LayerMode::Enforce,
            semantic: None,
            sharing: SharingPolicy::default(),
            scope: ScopeBy::Key,
            ttl: Duration::from_secs(3600),
            max_bytes: 256 << 20,
            max_entry_bytes: 1 << 20,
            pricer: None,
            max_tracked_scopes: 1000,
        }
    }
}
