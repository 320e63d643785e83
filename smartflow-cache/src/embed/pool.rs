//! [`EmbedPool`]: a bounded executor for CPU-heavy embedding work, off the async reactor.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use smartflow_core::{Error, ErrorKind};
use tokio::sync::Semaphore;

/// The error kind of a missed deadline or a saturated pool: "skip the semantic layer, go
/// upstream". Never a client error; the cache swallows it (and counts it).
pub const SKIP_SEMANTIC: ErrorKind = ErrorKind::Unavailable;

/// The default per-call deadline: 500 ms in release builds (a short MiniLM prompt takes ~16 ms,
/// a 300-token one ~170 ms on 2 idle cores, up to ~3× that on a loaded machine); 20 s in debug
/// builds, where unoptimised inference is 20–50× slower and a 500 ms budget would silently turn
/// every test's semantic layer off.
pub const DEFAULT_DEADLINE: Duration =
    if cfg!(debug_assertions) { Duration::from_secs(20) } else { Duration::from_millis(500) };

/// How many jobs may wait or run per worker before new calls are refused outright.
const PENDING_PER_WORKER: usize = 16;

/// Runs CPU-heavy closures on tokio's blocking threads: at most `workers` at once, each call
/// bounded by a deadline that covers both the wait for a worker and the work.
///
/// A call that misses its deadline returns at once with an error of kind [`SKIP_SEMANTIC`];
/// its closure, once started, still runs to the end (a blocking thread cannot be interrupted)
/// and keeps its worker slot until then, so the CPU stays bounded even when callers give up.
/// When more than `16 × workers` calls are waiting or running, new calls are refused at once
/// with the same kind. Cloning is cheap and shares the pool.
#[derive(Debug, Clone)]
pub struct EmbedPool {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    permits: Arc<Semaphore>,
    workers: usize,
    deadline: Duration,
    max_pending: usize,
    pending: Arc<AtomicUsize>,
}

/// Counts one call as pending until dropped (which may be on the blocking thread).
struct PendingGuard(Arc<AtomicUsize>);

impl Drop for PendingGuard {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Default for EmbedPool {
    /// As many workers as the machine has cores ([`std::thread::available_parallelism`]) and
    /// [`DEFAULT_DEADLINE`].
    fn default() -> Self {
        let workers = std::thread::available_parallelism().map(std::num::NonZeroUsize::get).unwrap_or(1);
        Self::new(workers, DEFAULT_DEADLINE)
    }
}

impl EmbedPool {
    /// A pool of at most `workers` concurrent jobs (at least one), each call bounded by
    /// `deadline`.
    pub fn new(workers: usize, deadline: Duration) -> Self {
        let workers = workers.max(1);
        Self {
            inner: Arc::new(Inner {
                permits: Arc::new(Semaphore::new(workers)),
                workers,
                deadline,
                max_pending: workers.saturating_mul(PENDING_PER_WORKER),
                pending: Arc::new(AtomicUsize::new(0)),
            }),
        }
    }

    /// The most jobs that run at once.
    pub fn workers(&self) -> usize {
        self.inner.workers
    }

    /// The per-call deadline of [`run`](Self::run).
    pub fn deadline(&self) -> Duration {
        self.inner.deadline
    }

    /// Calls waiting for a worker or running now (including abandoned ones still running).
    pub fn pending(&self) -> usize {
        self.inner.pending.load(Ordering::Acquire)
    }

    /// Runs `f` on a blocking thread within the pool's deadline.
    ///
    /// # Errors
    ///
    /// `f`'s own error; [`SKIP_SEMANTIC`] when the deadline passes or the pool is saturated;
    /// `Internal` when `f` panics or no tokio runtime is running.
    pub async fn run<T>(&self, f: impl FnOnce() -> Result<T, Error> + Send + 'static) -> Result<T, Error>
    where
        T: Send + 'static,
    {
        self.run_with_deadline(self.inner.deadline, f).await
    }

    /// [`run`](Self::run) with another deadline for this call.
    ///
    /// # Errors
    ///
    /// As [`run`](Self::run).
    pub async fn run_with_deadline<T>(
        &self,
        deadline: Duration,
        f: impl FnOnce() -> Result<T, Error> + Send + 'static,
    ) -> Result<T, Error>
    where
        T: Send + 'static,
    {
        let inner = &self.inner;
        if inner.pending.fetch_add(1, Ordering::AcqRel) >= inner.max_pending {
            inner.pending.fetch_sub(1, Ordering::AcqRel);
            return Err(Error::new(SKIP_SEMANTIC, "the embedding pool is saturated").with_code("embed_pool_saturated"));
        }
        let guard = PendingGuard(Arc::clone(&inner.pending));
        let permits = Arc::clone(&inner.permits);
        let job = async move {
            let permit = permits.acquire_owned().await.map_err(|_| Error::internal("the embedding pool is closed"))?;
            let handle = tokio::runtime::Handle::try_current()
                .map_err(|_| Error::internal("embedding needs a tokio runtime"))?;
            // The permit and the pending count go with the closure: released when the work
            // ends, even if the caller stopped waiting.
            let task = handle.spawn_blocking(move || {
                let _permit = permit;
                let _guard = guard;
                f()
            });
            match task.await {
                Ok(result) => result,
                Err(e) if e.is_panic() => Err(Error::internal("the embedding job panicked")),
                Err(_) => Err(Error::internal("the embedding job was cancelled")),
            }
        };
        match tokio::time::timeout(deadline, job).await {
            Ok(result) => result,
            Err(_) => Err(Error::new(
                SKIP_SEMANTIC,
                format!("embedding took longer than {} ms; skipping the semantic layer", deadline.as_millis()),
            )
            .with_code("embed_deadline_exceeded")),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn at_most_n_jobs_run_at_once() {
        let pool = EmbedPool::new(2, Duration::from_secs(10));
        let running = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let mut calls = Vec::new();
        for i in 0..6 {
            let (pool, running, peak) = (pool.clone(), Arc::clone(&running), Arc::clone(&peak));
            calls.push(tokio::spawn(async move {
                pool.run(move || {
                    let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                    peak.fetch_max(now, Ordering::SeqCst);
                    std::thread::sleep(Duration::from_millis(40));
                    running.fetch_sub(1, Ordering::SeqCst);
                    Ok(i)
                })
                .await
            }));
        }
        let mut results = Vec::new();
        for c in calls {
            results.push(c.await.unwrap().unwrap());
        }
        assert_eq!(results, vec![0, 1, 2, 3, 4, 5]);
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(pool.pending(), 0);
    }

    #[tokio::test]
    async fn a_missed_deadline_is_skip_semantic_and_keeps_the_slot_until_done() {
        let pool = EmbedPool::new(1, Duration::from_millis(20));
        let err = pool
            .run(|| {
                std::thread::sleep(Duration::from_millis(150));
                Ok(())
            })
            .await
            .unwrap_err();
        assert_eq!(err.kind(), SKIP_SEMANTIC);
        assert_eq!(err.code(), Some("embed_deadline_exceeded"));
        // The abandoned job still holds the only worker: a quick job queued behind it misses a
        // short deadline too, and succeeds once the slow one is done.
        assert_eq!(pool.pending(), 1);
        let err = pool.run_with_deadline(Duration::from_millis(10), || Ok(1)).await.unwrap_err();
        assert_eq!(err.kind(), SKIP_SEMANTIC);
        assert_eq!(pool.run_with_deadline(Duration::from_secs(5), || Ok(2)).await.unwrap(), 2);
        assert_eq!(pool.pending(), 0);
    }

    #[tokio::test]
    async fn errors_and_panics_come_back_as_errors() {
        let pool = EmbedPool::new(1, Duration::from_secs(5));
        let err = pool.run(|| Err::<(), _>(Error::invalid_request("bad input"))).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        let err = pool.run(|| -> Result<(), Error> { panic!("boom") }).await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Internal);
        assert_eq!(pool.run(|| Ok("still works")).await.unwrap(), "still works");
    }

    #[tokio::test]
    async fn a_saturated_pool_refuses_at_once() {
        let pool = EmbedPool::new(1, Duration::from_secs(5));
        let gate = Arc::new(std::sync::Barrier::new(2));
        let blocker = {
            let (pool, gate) = (pool.clone(), Arc::clone(&gate));
            tokio::spawn(async move {
                pool.run(move || {
                    gate.wait();
                    Ok(())
                })
                .await
            })
        };
        // Fill the queue behind the blocked job up to the limit.
        let mut queued = Vec::new();
        while pool.pending() < PENDING_PER_WORKER {
            let pool = pool.clone();
            queued.push(tokio::spawn(async move { pool.run(|| Ok(())).await }));
            tokio::task::yield_now().await;
        }
        let err = pool.run(|| Ok(())).await.unwrap_err();
        assert_eq!(err.kind(), SKIP_SEMANTIC);
        assert_eq!(err.code(), Some("embed_pool_saturated"));
        let gate2 = Arc::clone(&gate);
        tokio::task::spawn_blocking(move || gate2.wait()).await.unwrap();
        blocker.await.unwrap().unwrap();
        for q in queued {
            q.await.unwrap().unwrap();
        }
        assert_eq!(pool.pending(), 0);
    }

    #[test]
    fn workers_are_at_least_one() {
        assert_eq!(EmbedPool::new(0, DEFAULT_DEADLINE).workers(), 1);
        assert!(EmbedPool::default().workers() >= 1);
    }
}
