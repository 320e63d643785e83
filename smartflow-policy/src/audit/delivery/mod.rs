//! Off-the-request-path delivery of audit records to remote sinks (Splunk HEC, syslog, OTLP):
//! `record` only enqueues (a bounded queue; a slow sink never slows requests), a worker batches,
//! encodes with the sink's [`Transport`], sends, retries with backoff, and keeps what it cannot
//! deliver in a [`spool`](Spool) — on disk when configured, so nothing is lost while the
//! receiver is down or across a restart. Everything that happens is counted ([`DeliveryStats`])
//! for `/metrics`; what cannot be kept (queue and spool both full) is counted as dropped and
//! logged, never discarded silently.

mod spool;
mod transport;

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use smartflow_core::{Audit, AuditRecord, Error};
use tokio::sync::{mpsc, oneshot};

use spool::Spool;
pub use transport::{Transport, TransportError};

/// How a remote sink is fed.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// Records waiting to be batched (beyond it, `record` waits up to `enqueue_timeout`).
    pub queue: usize,
    /// Most records per payload.
    pub batch: usize,
    /// How long a partial batch waits for more records.
    pub linger: Duration,
    /// Spool directory (`None`: in memory, lost at exit).
    pub spool_dir: Option<PathBuf>,
    /// Most bytes spooled.
    pub spool_max_bytes: u64,
    /// First retry delay (doubles up to `retry_max`).
    pub retry_min: Duration,
    /// Longest retry delay.
    pub retry_max: Duration,
    /// How long `record` may wait for room in a full queue before the record is dropped,
    /// counted and logged (the request is never held longer).
    pub enqueue_timeout: Duration,
}

impl Default for DeliveryConfig {
    fn default() -> Self {
        Self {
            queue: 10_000,
            batch: 100,
            linger: Duration::from_millis(200),
            spool_dir: None,
            spool_max_bytes: 256 << 20,
            retry_min: Duration::from_millis(500),
            retry_max: Duration::from_secs(60),
            enqueue_timeout: Duration::from_millis(20),
        }
    }
}

/// Counters of one sink, read at scrape time.
#[derive(Debug, Default)]
pub struct DeliveryStats {
    /// Records delivered.
    pub delivered: AtomicU64,
    /// Send attempts that failed (each retried or spooled).
    pub failed_sends: AtomicU64,
    /// Records the receiver rejected as invalid (not retried; logged).
    pub rejected: AtomicU64,
    /// Records lost because the queue and the spool were full (logged).
    pub dropped: AtomicU64,
    /// Payloads waiting in the spool.
    pub spooled_payloads: AtomicU64,
    /// Bytes waiting in the spool.
    pub spooled_bytes: AtomicU64,
    /// Records waiting in the queue.
    pub queued: AtomicU64,
}

enum Msg {
    Record(Arc<AuditRecord>),
    Flush(oneshot::Sender<()>),
}

/// A remote audit sink: a [`Transport`] behind a queue, batching, retries and a spool.
pub struct Delivery {
    name: String,
    tx: mpsc::Sender<Msg>,
    stats: Arc<DeliveryStats>,
    enqueue_timeout: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Delivery {
    /// Starts delivering to `transport` (on the current tokio runtime).
    pub fn start(transport: Arc<dyn Transport>, config: DeliveryConfig) -> std::io::Result<Self> {
        let spool = Spool::open(config.spool_dir.clone(), config.spool_max_bytes)?;
        let (tx, rx) = mpsc::channel(config.queue.max(1));
        let stats = Arc::new(DeliveryStats::default());
        stats.spooled_payloads.store(spool.len() as u64, Ordering::Relaxed);
        stats.spooled_bytes.store(spool.bytes(), Ordering::Relaxed);
        let name = transport.name().to_owned();
        let worker = Worker { transport, config: config.clone(), spool, stats: stats.clone(), backoff: None };
        tokio::spawn(worker.run(rx));
        Ok(Self { name, tx, stats, enqueue_timeout: config.enqueue_timeout })
    }

    /// The counters.
    pub fn stats(&self) -> Arc<DeliveryStats> {
        self.stats.clone()
    }
}

#[async_trait]
impl Audit for Delivery {
    fn name(&self) -> &str {
        &self.name
    }

    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        let msg = Msg::Record(Arc::new(record.clone()));
        let sent = match self.tx.try_send(msg) {
            Ok(()) => true,
            Err(mpsc::error::TrySendError::Full(msg)) => {
                tokio::time::timeout(self.enqueue_timeout, self.tx.send(msg)).await.is_ok_and(|r| r.is_ok())
            }
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        };
        if sent {
            self.stats.queued.fetch_add(1, Ordering::Relaxed);
        } else {
            self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::error!(sink = %self.name, request_id = %record.request_id, "audit record dropped: the sink's queue is full");
        }
        // A remote sink never fails a request: the verified stream is the record of truth.
        Ok(())
    }

    async fn flush(&self) -> Result<(), Error> {
        let (done, wait) = oneshot::channel();
        if self.tx.send(Msg::Flush(done)).await.is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(10), wait).await;
        }
        Ok(())
    }
}

struct Worker {
    transport: Arc<dyn Transport>,
    config: DeliveryConfig,
    spool: Spool,
    stats: Arc<DeliveryStats>,
    /// While failing: the current delay and when the next attempt may happen.
    backoff: Option<(Duration, tokio::time::Instant)>,
}

impl Worker {
    async fn run(mut self, mut rx: mpsc::Receiver<Msg>) {
        let mut batch: Vec<Arc<AuditRecord>> = Vec::new();
        let mut flushes: Vec<oneshot::Sender<()>> = Vec::new();
        loop {
            // Wait for the first record (or retry the spool when it is due).
            let wait = match (&self.backoff, self.spool.len()) {
                (Some((_, at)), n) if n > 0 => Some(*at),
                (None, n) if n > 0 => Some(tokio::time::Instant::now()),
                _ => None,
            };
            let first = match wait {
                Some(at) => tokio::select! {
                    m = rx.recv() => m,
                    () = tokio::time::sleep_until(at) => { self.drain_spool().await; continue; }
                },
                None => rx.recv().await,
            };
            let Some(first) = first else {
                return;
            };
            self.take(first, &mut batch, &mut flushes);
            let deadline = tokio::time::Instant::now() + self.config.linger;
            while batch.len() < self.config.batch && flushes.is_empty() {
                match tokio::time::timeout_at(deadline, rx.recv()).await {
                    Ok(Some(m)) => self.take(m, &mut batch, &mut flushes),
                    Ok(None) | Err(_) => break,
                }
            }
            if !batch.is_empty() {
                self.deliver(std::mem::take(&mut batch)).await;
            }
            if !flushes.is_empty() {
                self.drain_spool().await;
                for f in flushes.drain(..) {
                    let _ = f.send(());
                }
            }
        }
    }

    fn take(&self, msg: Msg, batch: &mut Vec<Arc<AuditRecord>>, flushes: &mut Vec<oneshot::Sender<()>>) {
        match msg {
            Msg::Record(r) => {
                self.stats.queued.fetch_sub(1, Ordering::Relaxed);
                batch.push(r);
            }
            Msg::Flush(f) => flushes.push(f),
        }
    }

    /// Encodes and sends a batch — after the spool, to keep order; spools it when that fails.
    async fn deliver(&mut self, batch: Vec<Arc<AuditRecord>>) {
        let n = batch.len() as u64;
        let payload = match self.transport.encode(&batch) {
            Ok(p) => p,
            Err(e) => {
                self.stats.rejected.fetch_add(n, Ordering::Relaxed);
                tracing::error!(sink = self.transport.name(), error = %e, records = n, "audit records could not be encoded");
                return;
            }
        };
        if self.spool.len() == 0 && self.backoff.is_none() {
            match self.transport.send(&payload).await {
                Ok(()) => {
                    self.stats.delivered.fetch_add(n, Ordering::Relaxed);
                    return;
                }
                Err(e) if !e.retryable => {
                    self.stats.rejected.fetch_add(n, Ordering::Relaxed);
                    tracing::error!(sink = self.transport.name(), error = %e, records = n, "audit records rejected by the receiver");
                    return;
                }
                Err(e) => self.failed(&e),
            }
        }
        self.keep(&payload, n);
    }

    fn keep(&mut self, payload: &Bytes, records: u64) {
        if self.spool.push(payload, records) {
            self.count_spool();
        } else {
            self.stats.dropped.fetch_add(records, Ordering::Relaxed);
            tracing::error!(sink = self.transport.name(), records, "ALERT: audit records dropped: the spool is full");
        }
    }

    /// Sends spooled payloads oldest first until one fails.
    async fn drain_spool(&mut self) {
        while let Some((payload, records)) = self.spool.front() {
            match self.transport.send(&payload).await {
                Ok(()) => {
                    self.spool.pop();
                    self.backoff = None;
                    self.stats.delivered.fetch_add(records, Ordering::Relaxed);
                }
                Err(e) if !e.retryable => {
                    self.spool.pop();
                    self.stats.rejected.fetch_add(records, Ordering::Relaxed);
                    tracing::error!(sink = self.transport.name(), error = %e, "spooled audit payload rejected by the receiver");
                }
                Err(e) => {
                    self.failed(&e);
                    break;
                }
            }
        }
        self.count_spool();
    }

    fn failed(&mut self, e: &TransportError) {
        self.stats.failed_sends.fetch_add(1, Ordering::Relaxed);
        let delay = match self.backoff {
            None => {
                tracing::warn!(sink = self.transport.name(), error = %e, "audit sink unreachable; spooling");
                self.config.retry_min
            }
            Some((d, _)) => (d * 2).min(self.config.retry_max),
        };
        let jittered = delay.mul_f64(0.5 + fastrand::f64() / 2.0);
        self.backoff = Some((delay, tokio::time::Instant::now() + jittered));
    }

    fn count_spool(&self) {
        self.stats.spooled_payloads.store(self.spool.len() as u64, Ordering::Relaxed);
        self.stats.spooled_bytes.store(self.spool.bytes(), Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use smartflow_core::Principal;
    use smartflow_core::policy::Outcome;

    use super::*;

    /// A transport that fails while `down` is set and records what it received.
    #[derive(Default)]
    struct Flaky {
        down: std::sync::atomic::AtomicBool,
        received: Mutex<Vec<String>>,
    }

    #[async_trait]
    impl Transport for Flaky {
        fn name(&self) -> &str {
            "flaky"
        }
        fn encode(&self, batch: &[Arc<AuditRecord>]) -> Result<Bytes, TransportError> {
            Ok(Bytes::from(batch.iter().map(|r| r.request_id.clone()).collect::<Vec<_>>().join(",")))
        }
        async fn send(&self, payload: &Bytes) -> Result<(), TransportError> {
            if self.down.load(Ordering::SeqCst) {
                return Err(TransportError::retryable("down"));
            }
            self.received.lock().unwrap().push(String::from_utf8_lossy(payload).into_owned());
            Ok(())
        }
    }

    fn record(i: usize) -> AuditRecord {
        AuditRecord {
            timestamp_ms: 0,
            request_id: format!("r{i}"),
            trace_id: String::new(),
            span_id: String::new(),
            parent_span_id: None,
            endpoint: "chat",
            principal: Arc::new(Principal::new("k")),
            model: None,
            target: None,
            stream: false,
            outcome: Outcome::Allowed,
            status: 200,
            error: None,
            decisions: Vec::new(),
            cache: None,
            usage: None,
            cost_nano_usd: None,
            latency_ms: 0.0,
            ttfb_ms: None,
            prompt: None,
            completion: None,
            admin: None,
        }
    }

    fn config(spool: Option<PathBuf>) -> DeliveryConfig {
        DeliveryConfig {
            batch: 10,
            linger: Duration::from_millis(5),
            spool_dir: spool,
            retry_min: Duration::from_millis(10),
            retry_max: Duration::from_millis(40),
            ..DeliveryConfig::default()
        }
    }

    #[tokio::test]
    async fn records_are_batched_and_delivered_in_order() {
        let t = Arc::new(Flaky::default());
        let d = Delivery::start(t.clone(), config(None)).unwrap();
        for i in 0..25 {
            d.record(&record(i)).await.unwrap();
        }
        d.flush().await.unwrap();
        let got = t.received.lock().unwrap().join(",");
        let want: Vec<String> = (0..25).map(|i| format!("r{i}")).collect();
        assert_eq!(got, want.join(","));
        assert!(t.received.lock().unwrap().len() <= 25);
        assert_eq!(d.stats().delivered.load(Ordering::SeqCst), 25);
    }

    #[tokio::test]
    async fn an_outage_is_spooled_to_disk_and_delivered_in_order_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let t = Arc::new(Flaky::default());
        t.down.store(true, Ordering::SeqCst);
        {
            let d = Delivery::start(t.clone(), config(Some(dir.path().to_path_buf()))).unwrap();
            for i in 0..30 {
                d.record(&record(i)).await.unwrap();
            }
            d.flush().await.unwrap();
            assert!(d.stats().spooled_payloads.load(Ordering::SeqCst) > 0);
            assert!(d.stats().failed_sends.load(Ordering::SeqCst) > 0);
            assert_eq!(d.stats().dropped.load(Ordering::SeqCst), 0);
        }
        // "Restart": a new delivery on the same spool, with the receiver back.
        t.down.store(false, Ordering::SeqCst);
        let d = Delivery::start(t.clone(), config(Some(dir.path().to_path_buf()))).unwrap();
        d.record(&record(30)).await.unwrap();
        d.flush().await.unwrap();
        let got = t.received.lock().unwrap().join(",");
        let want: Vec<String> = (0..31).map(|i| format!("r{i}")).collect();
        assert_eq!(got, want.join(","), "spooled records first, in order, then new ones");
        assert_eq!(d.stats().spooled_payloads.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn a_full_spool_drops_and_counts_never_silently() {
        let t = Arc::new(Flaky::default());
        t.down.store(true, Ordering::SeqCst);
        let d = Delivery::start(t.clone(), DeliveryConfig { spool_max_bytes: 16, ..config(None) }).unwrap();
        for i in 0..40 {
            d.record(&record(i)).await.unwrap();
        }
        d.flush().await.unwrap();
        assert!(d.stats().dropped.load(Ordering::SeqCst) > 0);
    }
}
