//! Vector indexes for the semantic layer: a flat exact scan, and HNSW above a size.
//!
//! The cache keeps one [`VectorIndex`] per partition (scope + model + embedder). Entries are
//! identified by the cache's `u64` ids; vectors are unit length (the index normalises what it
//! is given, so the similarity it reports is the cosine), and similarity is the dot product.
//!
//! # Shape
//!
//! - **Flat** (up to [`IndexOptions::hnsw_above`] live entries): one contiguous row-major
//!   `Vec<f32>`, an 8-lane dot product the compiler vectorises, a bounded top-k heap. Exact;
//!   removal is real (swap-remove), so there are no tombstones.
//! - **Building**: the flat index crossed `hnsw_above`. A background thread builds an HNSW
//!   graph (hnsw_rs, `parallel_insert`) from a snapshot while the flat index keeps serving
//!   searches, inserts and removals. Inserts made meanwhile are logged and replayed into the
//!   graph; removals are applied when the graph is installed (every entry carries a version,
//!   and only entries whose version is still current come out live). The switch is a swap
//!   under the state lock.
//! - **Hnsw**: hnsw_rs has no delete, so [`VectorIndex::remove`] leaves a tombstone (a bit per
//!   graph slot) that searches skip; when tombstones exceed
//!   [`IndexOptions::rebuild_tombstone_ratio`] of the graph, the same background build makes a
//!   fresh graph from the live points (or a flat index again, if at most half of
//!   `hnsw_above` entries are left) and swaps it in.
//!
//! Searching past tombstones: a plain search for k plus the expected share of tombstones plus
//! a margin of 8, removed ids dropped, falling back to hnsw_rs's filtered search when that
//! leaves fewer than k live hits. It costs the same as a search without tombstones. hnsw_rs's
//! `search_filter` disables its early exit and was about 4× slower at 1–20% tombstones with
//! the same recall; over-fetching `k + tombstones` was 17–60× slower (100k entries, ef 64;
//! the ignored test `index::hnsw::tests::tombstone_strategies`).
//!
//! Every method takes `&self` (state behind an `RwLock`; hnsw_rs's graph is itself `Sync`), so
//! an index is shared as an `Arc<VectorIndex>`. No method panics on bad input: a vector of
//! the wrong dimension, non-finite or all zeros is an [`IndexError`] on insert and yields no
//! hits on search; lock poisoning is ignored (the state is consistent between statements).

mod build;
mod flat;
mod hnsw;
#[cfg(test)]
mod testutil;

use std::fmt;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard};

use build::{BuildLog, Target};
use flat::{FlatIndex, normalize_in_place, normalized};
use hnsw::GraphIndex;

/// Settings of a [`VectorIndex`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct IndexOptions {
    /// Dimension of every vector (384 for all-MiniLM-L6-v2, the default).
    pub dimension: usize,
    /// Above this many live entries the index builds an HNSW graph; at or below it, it scans.
    /// Default 4096 (a flat scan of 4096 × 384 takes about 0.2 ms).
    pub hnsw_above: usize,
    /// HNSW `M`: links per node and layer (twice that on layer 0). Default 16; clamped to
    /// 2..=255 (hnsw_rs exits the process above 256).
    pub max_connections: usize,
    /// HNSW `ef_construction`: the beam width while inserting. Default 100.
    pub ef_construction: usize,
    /// HNSW `ef` at search time (raised to k when k is larger). Default 32: at 100k clustered
    /// 384-d entries it measured recall@1 0.999 and recall@10 0.9988 against the exact scan,
    /// p50 0.55 ms and p99 0.95 ms; ef 64 reached recall 1.000 at p50 0.96 ms and p99 1.5 ms
    /// (benchmark `cache_index`). Changeable at run time with [`VectorIndex::set_ef_search`].
    pub ef_search: usize,
    /// Rebuild the graph in the background when tombstones exceed this share of its points.
    /// Default 0.25; clamped to 0.01..=1.
    pub rebuild_tombstone_ratio: f32,
}

impl Default for IndexOptions {
    fn default() -> Self {
        Self::new(384)
    }
}

impl IndexOptions {
    /// The defaults, for vectors of `dimension`.
    pub fn new(dimension: usize) -> Self {
        Self {
            dimension,
            hnsw_above: 4096,
            max_connections: 16,
            ef_construction: 100,
            ef_search: 32,
            rebuild_tombstone_ratio: 0.25,
        }
    }

    /// The options with every value brought into the range hnsw_rs accepts without panicking.
    fn sanitized(self) -> Self {
        let ratio = if self.rebuild_tombstone_ratio.is_finite() { self.rebuild_tombstone_ratio } else { 0.25 };
        let s = Self {
            dimension: self.dimension,
            hnsw_above: self.hnsw_above,
            max_connections: self.max_connections.clamp(2, 255),
            ef_construction: self.ef_construction.max(1),
            ef_search: self.ef_search.max(1),
            rebuild_tombstone_ratio: ratio.clamp(0.01, 1.0),
        };
        if s != self {
            tracing::warn!(given = ?self, used = ?s, "vector index: options out of range were adjusted");
        }
        s
    }
}

/// What a [`VectorIndex`] currently searches with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IndexKind {
    /// An exact flat scan.
    Flat,
    /// An exact flat scan while an HNSW graph is built in the background.
    Building,
    /// An HNSW graph (possibly while a replacement is rebuilt in the background).
    Hnsw,
}

/// One search result.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// The entry's id.
    pub id: u64,
    /// Cosine similarity to the query, in [-1, 1].
    pub similarity: f32,
}

/// Why a vector was refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum IndexError {
    /// The vector does not have the index's dimension.
    #[error("vector has dimension {actual}, the index expects {expected}")]
    DimensionMismatch {
        /// The index's dimension.
        expected: usize,
        /// The vector's length.
        actual: usize,
    },
    /// A component is NaN or infinite.
    #[error("vector has a NaN or infinite component")]
    NonFinite,
    /// Every component is zero: there is no direction to compare.
    #[error("vector has zero length")]
    ZeroNorm,
    /// The HNSW graph cannot take more points (hnsw_rs numbers points with an `i32`).
    #[error("the index is full ({limit} graph points)")]
    CapacityExceeded {
        /// The number of graph points (live or tombstoned) that hnsw_rs can address.
        limit: usize,
    },
}

/// A per-partition vector index: exact flat scan when small, HNSW when large, switching in the
/// background. See the [module documentation](self).
pub struct VectorIndex {
    inner: Arc<Inner>,
}

/// What the index and its background builds share.
struct Inner {
    opts: IndexOptions,
    ef_search: AtomicUsize,
    state: RwLock<State>,
    /// Held shared by an insert from reserving its graph slot until its point is linked into
    /// the graph; a rebuild takes it exclusively once, so it never snapshots a half-inserted
    /// graph.
    gate: RwLock<()>,
}

enum Store {
    Flat(FlatIndex),
    Graph(GraphIndex),
}

impl Store {
    fn len(&self) -> usize {
        match self {
            Store::Flat(f) => f.len(),
            Store::Graph(g) => g.len(),
        }
    }

    /// The version of `id`'s current vector: a flat row's version, or a graph slot.
    fn version_of(&self, id: u64) -> Option<u64> {
        match self {
            Store::Flat(f) => f.version_of(id),
            Store::Graph(g) => g.slot_of(id).map(|s| s as u64),
        }
    }
}

struct State {
    store: Store,
    /// Some while a background build runs: inserts made meanwhile, to replay.
    build: Option<BuildLog>,
    /// Bumped by every switch and by `clear`; a build whose epoch is stale gives up.
    epoch: u64,
    next_version: u64,
    /// Inserts and removals so far, and when a failed build may be retried.
    ops: u64,
    retry_after_ops: u64,
}

impl State {
    fn bump_version(&mut self) -> u64 {
        self.next_version += 1;
        self.next_version
    }
}

fn read<T>(lock: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(PoisonError::into_inner)
}

fn write<T>(lock: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(PoisonError::into_inner)
}

impl VectorIndex {
    /// An empty index (flat until it holds more than `hnsw_above` entries). Out-of-range
    /// options are adjusted (see [`IndexOptions`]) with a warning.
    pub fn new(opts: IndexOptions) -> Self {
        let opts = opts.sanitized();
        let state = State {
            store: Store::Flat(FlatIndex::new(opts.dimension)),
            build: None,
            epoch: 0,
            next_version: 0,
            ops: 0,
            retry_after_ops: 0,
        };
        Self {
            inner: Arc::new(Inner {
                opts,
                ef_search: AtomicUsize::new(opts.ef_search),
                state: RwLock::new(state),
                gate: RwLock::new(()),
            }),
        }
    }

    /// Bulk load at start. Returns as soon as the vectors are checked and copied into a flat
    /// index, which serves at once; above `hnsw_above` entries the HNSW graph is built on a
    /// background thread and swapped in when ready ([`kind`](Self::kind) goes from
    /// [`IndexKind::Building`] to [`IndexKind::Hnsw`]). Invalid vectors are skipped with a
    /// warning; a repeated id keeps its last vector. Returns an `Arc` because that is how the
    /// cache holds its indexes; the background build holds only a weak reference.
    pub fn load(opts: IndexOptions, entries: Vec<(u64, Vec<f32>)>) -> Arc<Self> {
        let index = Self::new(opts);
        let dimension = index.inner.opts.dimension;
        let mut flat = FlatIndex::with_capacity(dimension, entries.len());
        let mut snapshot = build::Snapshot::with_capacity(entries.len());
        let mut skipped = 0usize;
        let mut version = 0u64;
        for (id, mut v) in entries {
            if normalize_in_place(dimension, &mut v).is_err() {
                skipped += 1;
                continue;
            }
            version += 1;
            flat.upsert(id, &v, version);
            snapshot.push(id, version, v);
        }
        if skipped > 0 {
            tracing::warn!(skipped, dimension, "vector index: invalid vectors skipped at load");
        }
        let job = {
            let mut st = write(&index.inner.state);
            st.next_version = version;
            let live = flat.len();
            st.store = Store::Flat(flat);
            (live > index.inner.opts.hnsw_above).then(|| {
                st.build = Some(BuildLog::new(Target::Graph));
                build::BuildJob::ready(st.epoch, snapshot)
            })
        };
        if let Some(job) = job {
            build::spawn(&index.inner, job);
        }
        Arc::new(index)
    }

    /// Adds `id` (or replaces its vector). The vector is normalised to unit length; one of the
    /// wrong dimension, with a NaN or infinite component, or all zeros is refused. In HNSW mode
    /// this links the point into the graph (about a millisecond at 100k entries) without
    /// blocking searches.
    pub fn insert(&self, id: u64, vector: &[f32]) -> Result<(), IndexError> {
        let v = normalized(self.inner.opts.dimension, vector)?;
        let _gate = read(&self.inner.gate);
        let (graph_insert, job) = {
            let mut guard = write(&self.inner.state);
            let st = &mut *guard;
            st.ops += 1;
            let (graph_insert, version) = match &mut st.store {
                Store::Flat(f) => {
                    let version = st.next_version + 1;
                    st.next_version = version;
                    f.upsert(id, &v, version);
                    (None, version)
                }
                Store::Graph(g) => {
                    let slot = g.allocate(id)?;
                    (Some((Arc::clone(g.graph()), slot)), slot as u64)
                }
            };
            if let Some(log) = &mut st.build {
                log.push(id, version, v.clone());
            }
            (graph_insert, build::maybe_start(&self.inner.opts, st))
        };
        if let Some(job) = job {
            build::spawn(&self.inner, job);
        }
        if let Some((graph, slot)) = graph_insert {
            graph.insert_slice((&v, slot));
        }
        Ok(())
    }

    /// Removes `id`: for real in a flat index, as a tombstone in a graph (which may start a
    /// background rebuild). True if it was live.
    pub fn remove(&self, id: u64) -> bool {
        let (removed, job) = {
            let mut st = write(&self.inner.state);
            st.ops += 1;
            let removed = match &mut st.store {
                Store::Flat(f) => f.remove(id),
                Store::Graph(g) => g.remove(id),
            };
            (removed, if removed { build::maybe_start(&self.inner.opts, &mut st) } else { None })
        };
        if let Some(job) = job {
            build::spawn(&self.inner, job);
        }
        removed
    }

    /// The `k` live entries most similar to `query`, best first. Exact in flat mode,
    /// approximate in HNSW mode; never a removed id; k hits when at least k entries are live
    /// (barring a disconnected graph). A query of the wrong dimension, non-finite or all zeros
    /// has no hits.
    pub fn search(&self, query: &[f32], k: usize) -> Vec<Hit> {
        if k == 0 {
            return Vec::new();
        }
        let q = match normalized(self.inner.opts.dimension, query) {
            Ok(q) => q,
            Err(e) => {
                tracing::debug!(error = %e, "vector index: query refused");
                return Vec::new();
            }
        };
        let ef = self.ef_search();
        let st = read(&self.inner.state);
        match &st.store {
            Store::Flat(f) => f.search(&q, k),
            Store::Graph(g) => g.search(&q, k, ef),
        }
    }

    /// Live entries.
    pub fn len(&self) -> usize {
        read(&self.inner.state).store.len()
    }

    /// Whether there are no live entries.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Removed entries still in the HNSW graph (always 0 in flat mode).
    pub fn tombstones(&self) -> usize {
        match &read(&self.inner.state).store {
            Store::Flat(_) => 0,
            Store::Graph(g) => g.tombstones(),
        }
    }

    /// What searches use now.
    pub fn kind(&self) -> IndexKind {
        let st = read(&self.inner.state);
        match (&st.store, &st.build) {
            (Store::Graph(_), _) => IndexKind::Hnsw,
            (Store::Flat(_), Some(log)) if log.target() == Target::Graph => IndexKind::Building,
            (Store::Flat(_), _) => IndexKind::Flat,
        }
    }

    /// Whether a background build (first graph, or a rebuild) is running.
    pub fn build_in_progress(&self) -> bool {
        read(&self.inner.state).build.is_some()
    }

    /// Removes everything (and abandons a background build).
    pub fn clear(&self) {
        let old = {
            let mut st = write(&self.inner.state);
            st.epoch += 1;
            st.build = None;
            st.ops = 0;
            st.retry_after_ops = 0;
            std::mem::replace(&mut st.store, Store::Flat(FlatIndex::new(self.inner.opts.dimension)))
        };
        // A 100k-point graph takes a while to free: not under the lock.
        drop(old);
    }

    /// The options in use (after adjustment).
    pub fn options(&self) -> IndexOptions {
        IndexOptions { ef_search: self.ef_search(), ..self.inner.opts }
    }

    /// The HNSW search beam width in use.
    pub fn ef_search(&self) -> usize {
        self.inner.ef_search.load(Ordering::Relaxed)
    }

    /// Changes the HNSW search beam width (at least 1): higher is slower with better recall.
    pub fn set_ef_search(&self, ef: usize) {
        self.inner.ef_search.store(ef.max(1), Ordering::Relaxed);
    }
}

impl fmt::Debug for VectorIndex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("VectorIndex")
            .field("kind", &self.kind())
            .field("len", &self.len())
            .field("tombstones", &self.tombstones())
            .field("options", &self.options())
            .finish()
    }
}

#[cfg(test)]
mod tests;
