//! Background builds: flat → HNSW when the index grows past `hnsw_above`, and HNSW → fresh
//! HNSW (or flat) when tombstones pile up.
//!
//! A build works on a snapshot: `(id, version, vector)` for every live entry when it started.
//! The current index keeps serving; inserts made meanwhile are logged (with their version) in
//! the [`BuildLog`] and replayed into the new index, most of them without any lock and the last
//! few (at most [`FINAL_BATCH`]) under the write lock, where the new index is installed. At
//! that moment an entry is live in the new index only if its version is still the current
//! one, which applies every removal and overwrite made during the build. A `clear` or a
//! dropped index makes the build give up; a failed or panicking build leaves the current index
//! as it is and is retried only after more writes.

use std::mem;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, Weak};

use tokio::time::Instant;

use super::flat::FlatIndex;
use super::hnsw::{Graph, GraphIndex, GraphPoint, collect_points, new_graph};
use super::{IndexOptions, Inner, State, Store, read, write};

/// Points per `parallel_insert` call; between calls the build checks it is still wanted.
const CHUNK: usize = 4096;

/// Logged inserts small enough to replay under the write lock at the switch.
const FINAL_BATCH: usize = 8;

/// Writes to wait after a failed build before trying again (at least the live count).
const RETRY_AFTER_OPS: u64 = 1024;

/// What a build produces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Graph,
    Flat,
}

/// An insert made while a build runs.
struct Pending {
    id: u64,
    version: u64,
    vector: Vec<f32>,
}

/// The state of a running build, kept in the index's [`State`].
pub(super) struct BuildLog {
    target: Target,
    pending: Vec<Pending>,
}

impl BuildLog {
    pub(super) fn new(target: Target) -> Self {
        Self { target, pending: Vec::new() }
    }

    pub(super) fn target(&self) -> Target {
        self.target
    }

    pub(super) fn push(&mut self, id: u64, version: u64, vector: Vec<f32>) {
        self.pending.push(Pending { id, version, vector });
    }
}

enum Vectors {
    /// Row-major, `dimension` floats per entry (a flat index's copy).
    Rows { dimension: usize, data: Vec<f32> },
    /// One vector per entry (from `load`).
    Owned(Vec<Vec<f32>>),
    /// The points of the graph being replaced (no copy: their data is immutable).
    Points(Vec<GraphPoint>),
}

/// Live entries when a build started.
pub(super) struct Snapshot {
    ids: Vec<u64>,
    versions: Vec<u64>,
    vectors: Vectors,
}

impl Snapshot {
    pub(super) fn with_capacity(n: usize) -> Self {
        Self {
            ids: Vec::with_capacity(n),
            versions: Vec::with_capacity(n),
            vectors: Vectors::Owned(Vec::with_capacity(n)),
        }
    }

    /// Appends to a snapshot made by [`Self::with_capacity`].
    pub(super) fn push(&mut self, id: u64, version: u64, vector: Vec<f32>) {
        if let Vectors::Owned(v) = &mut self.vectors {
            self.ids.push(id);
            self.versions.push(version);
            v.push(vector);
        }
    }

    fn len(&self) -> usize {
        self.ids.len()
    }

    fn vector(&self, i: usize) -> Option<&[f32]> {
        match &self.vectors {
            Vectors::Rows { dimension, data } => data.get(i * dimension..(i + 1) * dimension),
            Vectors::Owned(v) => v.get(i).map(Vec::as_slice),
            Vectors::Points(p) => p.get(i).map(|p| p.get_v()),
        }
    }
}

enum Source {
    Ready(Snapshot),
    /// Points of this graph with a slot below `boundary` (later ones are in the log).
    Graph {
        graph: Arc<Graph>,
        boundary: usize,
    },
}

/// A build to run on its own thread.
pub(super) struct BuildJob {
    epoch: u64,
    source: Source,
    target: Target,
}

impl BuildJob {
    /// A graph build from a snapshot already taken (`load`).
    pub(super) fn ready(epoch: u64, snapshot: Snapshot) -> Self {
        Self { epoch, source: Source::Ready(snapshot), target: Target::Graph }
    }
}

/// Called under the write lock after every change: starts a build (records it in `st` and
/// returns the job to [`spawn`] once the lock is released) when one is due and none runs.
pub(super) fn maybe_start(opts: &IndexOptions, st: &mut State) -> Option<BuildJob> {
    if st.build.is_some() || st.ops < st.retry_after_ops {
        return None;
    }
    let (target, source) = match &st.store {
        Store::Flat(f) if f.len() > opts.hnsw_above => {
            let (ids, versions, data) = f.snapshot();
            let vectors = Vectors::Rows { dimension: opts.dimension, data };
            (Target::Graph, Source::Ready(Snapshot { ids, versions, vectors }))
        }
        Store::Graph(g)
            if g.tombstones() > 0
                && g.tombstones() as f64 > f64::from(opts.rebuild_tombstone_ratio) * g.graph_size() as f64 =>
        {
            // Flat or graph is decided again on the snapshot.
            let target = if g.len() <= opts.hnsw_above / 2 { Target::Flat } else { Target::Graph };
            (target, Source::Graph { graph: Arc::clone(g.graph()), boundary: g.graph_size() })
        }
        _ => return None,
    };
    st.build = Some(BuildLog::new(target));
    Some(BuildJob { epoch: st.epoch, source, target })
}

/// Runs `job` on a new thread (holding only a weak reference to the index).
pub(super) fn spawn(inner: &Arc<Inner>, job: BuildJob) {
    let epoch = job.epoch;
    let weak = Arc::downgrade(inner);
    let spawned = std::thread::Builder::new().name("vector-index-build".into()).spawn(move || run(&weak, job));
    if let Err(e) = spawned {
        tracing::warn!(error = %e, "vector index: cannot start a background build; serving as is");
        give_up(inner, epoch);
    }
}

/// Forgets a failed build and defers the next attempt.
fn give_up(inner: &Inner, epoch: u64) {
    let mut st = write(&inner.state);
    if st.epoch == epoch && st.build.is_some() {
        st.build = None;
        st.retry_after_ops = st.ops + RETRY_AFTER_OPS.max(st.store.len() as u64);
    }
}

/// Why a build stopped early.
#[derive(Debug)]
enum Stop {
    /// The index was dropped.
    Dropped,
    /// The index was cleared.
    Cleared,
    /// Something that should not happen; the current index stays.
    Failed(&'static str),
}

fn run(weak: &Weak<Inner>, job: BuildJob) {
    let epoch = job.epoch;
    let target = job.target;
    let started = Instant::now();
    match catch_unwind(AssertUnwindSafe(|| execute(weak, job))) {
        Ok(Ok((live, tombstones))) => tracing::info!(
            ?target,
            live,
            tombstones,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "vector index: background build installed"
        ),
        Ok(Err(Stop::Dropped | Stop::Cleared)) => tracing::debug!(?target, "vector index: background build abandoned"),
        Ok(Err(Stop::Failed(why))) => {
            tracing::warn!(?target, why, "vector index: background build failed; serving as is");
            if let Some(inner) = weak.upgrade() {
                give_up(&inner, epoch);
            }
        }
        Err(_) => {
            tracing::error!(?target, "vector index: background build panicked; serving as is");
            if let Some(inner) = weak.upgrade() {
                give_up(&inner, epoch);
            }
        }
    }
}

fn upgrade(weak: &Weak<Inner>) -> Result<Arc<Inner>, Stop> {
    weak.upgrade().ok_or(Stop::Dropped)
}

/// Still wanted: the index exists and was not cleared (or switched) since the build started.
fn still_wanted(weak: &Weak<Inner>, epoch: u64) -> Result<(), Stop> {
    let inner = upgrade(weak)?;
    if read(&inner.state).epoch == epoch { Ok(()) } else { Err(Stop::Cleared) }
}

/// Returns (live, tombstones) of the installed index.
fn execute(weak: &Weak<Inner>, job: BuildJob) -> Result<(usize, usize), Stop> {
    let BuildJob { epoch, source, target } = job;
    let opts = upgrade(weak)?.opts;
    let (snapshot, target) = match source {
        Source::Ready(s) => (s, target),
        Source::Graph { graph, boundary } => {
            let s = snapshot_graph(weak, epoch, &graph, boundary)?;
            // Removals may have continued since the build was decided: size it on the snapshot.
            let target = if s.len() <= opts.hnsw_above / 2 { Target::Flat } else { Target::Graph };
            (s, target)
        }
    };
    match target {
        Target::Graph => build_graph(weak, epoch, &opts, snapshot),
        Target::Flat => build_flat(weak, epoch, &opts, &snapshot),
    }
}

/// The live points of the graph being replaced.
fn snapshot_graph(weak: &Weak<Inner>, epoch: u64, graph: &Arc<Graph>, boundary: usize) -> Result<Snapshot, Stop> {
    {
        // Inserts that reserved a slot below `boundary` before the build started may still be
        // linking their point into the graph; they hold the gate shared until done.
        let inner = upgrade(weak)?;
        drop(write(&inner.gate));
    }
    let points = collect_points(graph, boundary);
    let inner = upgrade(weak)?;
    let st = read(&inner.state);
    if st.epoch != epoch {
        return Err(Stop::Cleared);
    }
    let Store::Graph(g) = &st.store else { return Err(Stop::Failed("the index is no longer a graph")) };
    if !Arc::ptr_eq(g.graph(), graph) {
        return Err(Stop::Failed("the graph was replaced during a build"));
    }
    let mut ids = Vec::with_capacity(g.len());
    let mut versions = Vec::with_capacity(g.len());
    let mut live = Vec::with_capacity(g.len());
    for p in points {
        let slot = p.get_origin_id();
        if let (true, Some(id)) = (g.is_live(slot), g.id_of(slot)) {
            ids.push(id);
            versions.push(slot as u64);
            live.push(p);
        }
    }
    Ok(Snapshot { ids, versions, vectors: Vectors::Points(live) })
}

/// Inserts logged entries into `graph` after the ones already there.
fn replay(graph: &Graph, entries: &mut Vec<(u64, u64)>, pending: &[Pending], parallel: bool) {
    let base = entries.len();
    let items: Vec<(&[f32], usize)> =
        pending.iter().enumerate().map(|(i, p)| (p.vector.as_slice(), base + i)).collect();
    if parallel && items.len() > 1 {
        graph.parallel_insert_slice(&items);
    } else {
        for &item in &items {
            graph.insert_slice(item);
        }
    }
    entries.extend(pending.iter().map(|p| (p.id, p.version)));
}

fn build_graph(
    weak: &Weak<Inner>,
    epoch: u64,
    opts: &IndexOptions,
    snapshot: Snapshot,
) -> Result<(usize, usize), Stop> {
    let n = snapshot.len();
    let graph = new_graph(opts.max_connections, n + n / 4 + 1024, opts.ef_construction);
    // Slot s of the new graph holds entries[s] = (id, version).
    let mut entries: Vec<(u64, u64)> = snapshot.ids.iter().copied().zip(snapshot.versions.iter().copied()).collect();
    let mut start = 0;
    while start < n {
        let end = (start + CHUNK).min(n);
        let items = (start..end)
            .map(|i| snapshot.vector(i).map(|v| (v, i)))
            .collect::<Option<Vec<(&[f32], usize)>>>()
            .ok_or(Stop::Failed("a snapshot row is missing"))?;
        graph.parallel_insert_slice(&items);
        start = end;
        still_wanted(weak, epoch)?;
    }
    drop(snapshot);
    loop {
        let inner = upgrade(weak)?;
        let mut st = write(&inner.state);
        if st.epoch != epoch {
            return Err(Stop::Cleared);
        }
        let Some(log) = st.build.as_mut() else { return Err(Stop::Cleared) };
        let pending = mem::take(&mut log.pending);
        if pending.len() > FINAL_BATCH {
            drop(st);
            drop(inner);
            replay(&graph, &mut entries, &pending, true);
            continue;
        }
        replay(&graph, &mut entries, &pending, false);
        let mut next = GraphIndex::new(graph);
        for &(id, version) in &entries {
            next.push_built(id, st.store.version_of(id) == Some(version));
        }
        let done = (next.len(), next.tombstones());
        let (old, job) = install(&inner.opts, &mut st, Store::Graph(next));
        drop(st);
        drop(old);
        if let Some(job) = job {
            spawn(&inner, job);
        }
        return Ok(done);
    }
}

fn build_flat(
    weak: &Weak<Inner>,
    epoch: u64,
    opts: &IndexOptions,
    snapshot: &Snapshot,
) -> Result<(usize, usize), Stop> {
    let inner = upgrade(weak)?;
    let mut guard = write(&inner.state);
    let st = &mut *guard;
    if st.epoch != epoch {
        return Err(Stop::Cleared);
    }
    let Some(log) = st.build.as_mut() else { return Err(Stop::Cleared) };
    let pending = mem::take(&mut log.pending);
    let mut flat = FlatIndex::with_capacity(opts.dimension, st.store.len());
    let from_snapshot = (0..snapshot.len())
        .filter_map(|i| Some((*snapshot.ids.get(i)?, *snapshot.versions.get(i)?, snapshot.vector(i)?)));
    let from_log = pending.iter().map(|p| (p.id, p.version, p.vector.as_slice()));
    for (id, version, v) in from_snapshot.chain(from_log) {
        if st.store.version_of(id) == Some(version) {
            let new_version = st.bump_version();
            flat.upsert(id, v, new_version);
        }
    }
    let done = (flat.len(), 0);
    let (old, job) = install(opts, st, Store::Flat(flat));
    drop(guard);
    drop(old);
    if let Some(job) = job {
        spawn(&inner, job);
    }
    Ok(done)
}

/// Swaps `store` in (the caller holds the write lock) and ends the build. Returns the old
/// store, for the caller to free after unlocking, and the next build if one is already due,
/// for the caller to [`spawn`] after unlocking.
fn install(opts: &IndexOptions, st: &mut State, store: Store) -> (Store, Option<BuildJob>) {
    let old = mem::replace(&mut st.store, store);
    st.build = None;
    st.epoch += 1;
    let next = maybe_start(opts, st);
    (old, next)
}
