//! The verified audit stream: append-only segment files, separate from sled, where every line
//! carries a sequence number and an HMAC-SHA-256 chained to the line before it (across
//! segments), with periodic checkpoints signed with Ed25519. Someone who can write the directory
//! but does not hold the HMAC key cannot alter, remove, reorder or insert a record without
//! [`verify`] saying where.
//!
//! Durability follows [`FsyncPolicy`]; when the stream cannot be written, [`OnFailure::Reject`]
//! (the default) refuses requests (the gateway answers 503) and `Degrade` serves them with an
//! alert. Segments rotate by size and age.

mod line;
mod segment;
#[cfg(test)]
mod tests;
mod verify;

use std::fs::{File, OpenOptions};
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use ring::hmac;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use serde_json::json;
use smartflow_core::{Audit, AuditRecord, Error, ErrorKind};

pub use line::LineKind;
pub use verify::{Finding, Problem, Report, verify};

use line::Mac;

/// When appended lines are forced to disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FsyncPolicy {
    /// Before `record` returns: an acknowledged request's record survives a crash (group commit
    /// keeps concurrent requests from waiting for one fsync each).
    EveryRecord,
    /// After every N lines, by a background thread (a crash loses at most N).
    EveryN(u32),
    /// Every interval, by a background thread.
    Interval(Duration),
}

/// What happens when the stream cannot be written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum OnFailure {
    /// Refuse requests (503) until it can be written again.
    #[default]
    Reject,
    /// Serve requests, log an error and count the unrecorded ones.
    Degrade,
}

/// Settings of the verified stream.
#[derive(Clone)]
pub struct VerifiedConfig {
    /// The directory of segment files (created if missing).
    pub dir: PathBuf,
    /// The HMAC key (at least 32 bytes), kept outside the directory.
    pub hmac_key: Vec<u8>,
    /// The Ed25519 seed (32 bytes) checkpoints are signed with; `None`: unsigned checkpoints.
    pub signing_seed: Option<[u8; 32]>,
    /// When lines reach the disk.
    pub fsync: FsyncPolicy,
    /// What an unwritable stream does to requests.
    pub on_failure: OnFailure,
    /// Rotate after this many bytes.
    pub max_segment_bytes: u64,
    /// Rotate after this long.
    pub max_segment_age: Duration,
    /// A signed checkpoint after this many records.
    pub checkpoint_every: u64,
    /// Remove closed segments older than this — only those marked exported (a
    /// `<segment>.exported` file next to them, written by whatever archived them); an unexported
    /// segment is kept and reported, never deleted silently. `None`: keep everything.
    pub retention: Option<Duration>,
}

impl std::fmt::Debug for VerifiedConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedConfig")
            .field("dir", &self.dir)
            .field("fsync", &self.fsync)
            .field("on_failure", &self.on_failure)
            .field("signed", &self.signing_seed.is_some())
            .finish_non_exhaustive()
    }
}

impl VerifiedConfig {
    /// Defaults: fsync every 100 lines, reject on failure, 64 MiB / 1 h segments, a checkpoint
    /// every 1,000 records.
    pub fn new(dir: impl Into<PathBuf>, hmac_key: Vec<u8>) -> Self {
        Self {
            dir: dir.into(),
            hmac_key,
            signing_seed: None,
            fsync: FsyncPolicy::EveryN(100),
            on_failure: OnFailure::Reject,
            max_segment_bytes: 64 << 20,
            max_segment_age: Duration::from_secs(3600),
            checkpoint_every: 1_000,
            retention: None,
        }
    }
}

/// The open segment and the chain's head.
struct Writer {
    file: Arc<File>,
    path: PathBuf,
    bytes: u64,
    opened: tokio::time::Instant,
    seq: u64,
    prev: Mac,
    since_checkpoint: u64,
    since_sync: u64,
}

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct VerifiedStats {
    /// Lines appended.
    pub lines: AtomicU64,
    /// Records that could not be written (refused or, in degrade mode, lost).
    pub write_failures: AtomicU64,
    /// fsync calls.
    pub syncs: AtomicU64,
    /// Times retention kept an old segment because it was not marked exported.
    pub retention_blocked: AtomicU64,
}

/// The verified stream as an audit sink.
pub struct VerifiedAudit {
    config: VerifiedConfig,
    key: hmac::Key,
    signer: Option<Ed25519KeyPair>,
    writer: Mutex<Option<Writer>>,
    /// Highest sequence number known to be on disk.
    synced: Mutex<u64>,
    broken: AtomicBool,
    stats: Arc<VerifiedStats>,
    syncer: std::sync::mpsc::Sender<SyncRequest>,
}

/// A request to the sync thread: sync now, and say when done (for `EveryRecord` waiters).
type SyncRequest = Option<tokio::sync::oneshot::Sender<Result<(), String>>>;

impl std::fmt::Debug for VerifiedAudit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifiedAudit").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A configuration the stream cannot start with.
#[derive(Debug, thiserror::Error)]
pub enum VerifiedError {
    /// The HMAC key is shorter than 32 bytes.
    #[error("the audit HMAC key must be at least 32 bytes")]
    WeakKey,
    /// The signing seed is not a valid Ed25519 seed.
    #[error("the audit signing key is not a valid Ed25519 seed")]
    BadSigningKey,
    /// The background thread could not start.
    #[error("cannot start the audit sync thread: {0}")]
    Thread(std::io::Error),
}

impl VerifiedAudit {
    /// Opens (or creates) the stream in `config.dir`, continuing the chain of its last segment.
    /// A directory that cannot be opened does not fail this: the stream starts broken, refuses
    /// requests (or degrades) and retries on every record.
    pub fn open(config: VerifiedConfig) -> Result<Arc<Self>, VerifiedError> {
        if config.hmac_key.len() < 32 {
            return Err(VerifiedError::WeakKey);
        }
        let signer = match config.signing_seed {
            Some(seed) => Some(Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| VerifiedError::BadSigningKey)?),
            None => None,
        };
        let (syncer, wakes) = std::sync::mpsc::channel();
        let audit = Arc::new(Self {
            key: hmac::Key::new(hmac::HMAC_SHA256, &config.hmac_key),
            signer,
            writer: Mutex::new(None),
            synced: Mutex::new(0),
            broken: AtomicBool::new(false),
            stats: Arc::default(),
            syncer,
            config,
        });
        {
            let mut w = audit.writer.lock().unwrap_or_else(PoisonError::into_inner);
            if let Err(e) = audit.reopen(&mut w) {
                audit.fail(&e);
            }
        }
        spawn_syncer(&audit, wakes).map_err(VerifiedError::Thread)?;
        Ok(audit)
    }

    /// The counters.
    pub fn stats(&self) -> Arc<VerifiedStats> {
        self.stats.clone()
    }

    /// The stream's directory.
    pub fn dir(&self) -> &std::path::Path {
        &self.config.dir
    }

    /// The Ed25519 public key checkpoints are signed with (hex), if any.
    pub fn public_key_hex(&self) -> Option<String> {
        self.signer.as_ref().map(|s| hex::encode(s.public_key().as_ref()))
    }

    /// Whether the stream is currently unwritable.
    pub fn is_broken(&self) -> bool {
        self.broken.load(Ordering::Relaxed)
    }

    fn fail(&self, e: &std::io::Error) {
        self.stats.write_failures.fetch_add(1, Ordering::Relaxed);
        if !self.broken.swap(true, Ordering::Relaxed) {
            tracing::error!(dir = %self.config.dir.display(), error = %e, "ALERT: the verified audit stream cannot be written");
        }
    }

    /// Opens the last segment (recovering its tail) or starts the first one.
    fn reopen(&self, slot: &mut Option<Writer>) -> std::io::Result<()> {
        std::fs::create_dir_all(&self.config.dir)?;
        let mut segments = segment::list(&self.config.dir)?;
        while let Some(last) = segments.pop() {
            let (file, tail) = segment::recover(&last)?;
            if tail.seq == 0 {
                // A segment without one complete line (a crash right after it was created).
                drop(file);
                std::fs::remove_file(&last)?;
                continue;
            }
            let bytes = file.metadata()?.len();
            let mut w = Writer {
                file: Arc::new(file),
                path: last,
                bytes,
                opened: tokio::time::Instant::now(),
                seq: tail.seq,
                prev: tail.mac,
                since_checkpoint: 0,
                since_sync: 0,
            };
            if tail.torn_bytes > 0 {
                tracing::warn!(
                    torn_bytes = tail.torn_bytes,
                    "verified audit: a torn last line was cut off after a crash"
                );
                self.append(
                    &mut w,
                    LineKind::Recovered,
                    json!({"torn_bytes": tail.torn_bytes}).to_string().as_bytes(),
                )?;
            }
            *slot = Some(w);
            return Ok(());
        }
        *slot = Some(self.start_segment(1, line::GENESIS)?);
        Ok(())
    }

    fn start_segment(&self, seq: u64, prev: Mac) -> std::io::Result<Writer> {
        let path = self.config.dir.join(segment::name(seq));
        let file = OpenOptions::new().create_new(true).append(true).open(&path)?;
        let path = path.clone();
        let mut w = Writer {
            file: Arc::new(file),
            path,
            bytes: 0,
            opened: tokio::time::Instant::now(),
            seq: seq - 1,
            prev,
            since_checkpoint: 0,
            since_sync: 0,
        };
        let body = json!({"segment": segment::name(seq), "public_key": self.public_key_hex()});
        self.append(&mut w, LineKind::SegmentStart, body.to_string().as_bytes())?;
        w.file.sync_all()?;
        if let Ok(d) = File::open(&self.config.dir) {
            let _ = d.sync_all();
        }
        Ok(w)
    }

    /// Appends one line; on a failed write the file is cut back to where it was.
    fn append(&self, w: &mut Writer, kind: LineKind, body: &[u8]) -> std::io::Result<()> {
        let seq = w.seq + 1;
        let (bytes, mac) = line::encode(&self.key, seq, kind, unix_ms(), &w.prev, body);
        if let Err(e) = (&*w.file).write_all(&bytes) {
            let _ = w.file.set_len(w.bytes);
            return Err(e);
        }
        w.bytes += bytes.len() as u64;
        w.seq = seq;
        w.prev = mac;
        w.since_sync += 1;
        self.stats.lines.fetch_add(1, Ordering::Relaxed);
        Ok(())
    }

    fn checkpoint(&self, w: &mut Writer, reason: &str) -> std::io::Result<()> {
        let head = hex::encode(w.prev);
        let next = w.seq + 1;
        let signature = self.signer.as_ref().map(|s| hex::encode(s.sign(checkpoint_message(next, &head).as_bytes())));
        let body = json!({"reason": reason, "records": w.since_checkpoint, "head": head, "signature": signature});
        self.append(w, LineKind::Checkpoint, body.to_string().as_bytes())?;
        w.since_checkpoint = 0;
        Ok(())
    }

    /// Appends a record, rotating and checkpointing as configured. Returns the record's sequence
    /// number and the file to sync.
    fn write_record(&self, body: &[u8]) -> std::io::Result<u64> {
        let mut slot = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
        if slot.is_none() {
            self.reopen(&mut slot)?;
        }
        let Some(w) = slot.as_mut() else { return Err(std::io::Error::other("no segment")) };
        if w.bytes >= self.config.max_segment_bytes || w.opened.elapsed() >= self.config.max_segment_age {
            self.checkpoint(w, "rotation")?;
            w.file.sync_data()?;
            let next = self.start_segment(w.seq + 1, w.prev)?;
            *w = next;
            if let Some(age) = self.config.retention {
                self.apply_retention(w, age)?;
            }
        }
        if let Err(e) = self.append(w, LineKind::Record, body) {
            // Drop the writer: the next record reopens and recovers the segment.
            *slot = None;
            return Err(e);
        }
        w.since_checkpoint += 1;
        if w.since_checkpoint >= self.config.checkpoint_every {
            self.checkpoint(w, "periodic")?;
        }
        if let FsyncPolicy::EveryN(n) = self.config.fsync
            && w.since_sync >= u64::from(n)
        {
            w.since_sync = 0;
            let _ = self.syncer.send(None);
        }
        Ok(w.seq)
    }

    /// Removes the oldest closed segments older than `age` that are marked exported, after
    /// recording in the stream what was removed. Stops at the first segment that must stay, so
    /// what remains is one contiguous stretch of the chain.
    fn apply_retention(&self, w: &mut Writer, age: Duration) -> std::io::Result<()> {
        let segments = segment::list(&self.config.dir)?;
        let mut removable = Vec::new();
        for (i, path) in segments.iter().enumerate() {
            if *path == w.path {
                break;
            }
            let old = std::fs::metadata(path)?.modified()?.elapsed().is_ok_and(|e| e >= age);
            if !old {
                break;
            }
            if !exported_marker(path).exists() {
                self.stats.retention_blocked.fetch_add(1, Ordering::Relaxed);
                tracing::warn!(segment = %path.display(), "audit retention: segment kept, it is not marked exported");
                break;
            }
            let Some(next) = segments.get(i + 1) else { break };
            removable.push((path.clone(), next.clone()));
        }
        let Some((_, first_kept)) = removable.last() else { return Ok(()) };
        // The first line of the first kept segment chains to the removed stretch's last MAC.
        let (through_seq, head) = segment::first_line_anchor(first_kept)?;
        let names: Vec<String> =
            removable.iter().filter_map(|(p, _)| p.file_name().and_then(|n| n.to_str()).map(str::to_owned)).collect();
        let body = json!({"removed": names, "through_seq": through_seq, "head": head});
        self.append(w, LineKind::Retention, body.to_string().as_bytes())?;
        w.file.sync_data()?;
        for (path, _) in &removable {
            std::fs::remove_file(path)?;
            let _ = std::fs::remove_file(exported_marker(path));
        }
        tracing::info!(segments = names.len(), through_seq, "audit retention removed exported segments");
        Ok(())
    }

    /// Makes every line up to `seq` durable: one fsync covers every writer waiting meanwhile.
    fn sync_through(&self, seq: u64, file: &File) -> std::io::Result<()> {
        let mut synced = self.synced.lock().unwrap_or_else(PoisonError::into_inner);
        if *synced >= seq {
            return Ok(());
        }
        let head = self.writer.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map_or(seq, |w| w.seq);
        file.sync_data()?;
        self.stats.syncs.fetch_add(1, Ordering::Relaxed);
        *synced = head.max(seq);
        Ok(())
    }

    /// Syncs the open segment (background syncer and shutdown).
    fn sync_now(&self) -> std::io::Result<()> {
        let current =
            self.writer.lock().unwrap_or_else(PoisonError::into_inner).as_ref().map(|w| (w.seq, w.file.clone()));
        match current {
            Some((seq, file)) => self.sync_through(seq, &file),
            None => Ok(()),
        }
    }

    /// Syncs what was written so far to disk.
    pub fn sync(&self) -> std::io::Result<()> {
        self.sync_now()
    }

    /// Verifies the stream as it stands (what was written when the check began), with the
    /// stream's own keys. Writers are not held up.
    pub fn verify_live(&self) -> std::io::Result<Report> {
        let limit = {
            let slot = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            slot.as_ref().map(|w| (w.path.clone(), w.bytes))
        };
        let public = self.signer.as_ref().map(|s| s.public_key().as_ref().to_vec());
        verify::verify_upto(
            &self.config.dir,
            &self.config.hmac_key,
            public.as_deref(),
            limit.as_ref().map(|(p, n)| (p.as_path(), *n)),
        )
    }

    /// Writes a final signed checkpoint and syncs (clean shutdown).
    pub fn seal(&self) -> std::io::Result<()> {
        {
            let mut slot = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(w) = slot.as_mut() {
                self.checkpoint(w, "shutdown")?;
            }
        }
        self.sync_now()
    }

    fn refusal(&self) -> Error {
        Error::new(ErrorKind::Unavailable, "the audit trail cannot be written; the request was refused")
            .with_code("audit_unavailable")
    }
}

/// The marker that says a segment was archived and may be removed by retention.
pub fn exported_marker(segment: &std::path::Path) -> PathBuf {
    let mut name = segment.as_os_str().to_owned();
    name.push(".exported");
    PathBuf::from(name)
}

/// The text a checkpoint's Ed25519 signature covers.
pub fn checkpoint_message(seq: u64, head_hex: &str) -> String {
    format!("smartflow-audit-checkpoint:{seq}:{head_hex}")
}

#[async_trait]
impl Audit for VerifiedAudit {
    fn name(&self) -> &str {
        "verified"
    }

    fn ready(&self) -> Result<(), Error> {
        if self.config.on_failure == OnFailure::Reject && self.is_broken() {
            // Try again now: the disk may have been fixed.
            let mut slot = self.writer.lock().unwrap_or_else(PoisonError::into_inner);
            if slot.is_none() && self.reopen(&mut slot).is_ok() {
                self.broken.store(false, Ordering::Relaxed);
                return Ok(());
            }
            return Err(self.refusal());
        }
        Ok(())
    }

    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        let body = serde_json::to_vec(record).map_err(|e| Error::internal(format!("audit record: {e}")))?;
        let written = self.write_record(&body);
        let result = match (written, self.config.fsync) {
            (Ok(_), FsyncPolicy::EveryRecord) => {
                // The sync thread syncs once for everyone waiting (group commit).
                let (tx, rx) = tokio::sync::oneshot::channel();
                match self.syncer.send(Some(tx)) {
                    Ok(()) => match rx.await {
                        Ok(Ok(())) => Ok(()),
                        Ok(Err(e)) => Err(std::io::Error::other(e)),
                        Err(_) => Err(std::io::Error::other("the audit sync thread stopped")),
                    },
                    Err(_) => Err(std::io::Error::other("the audit sync thread stopped")),
                }
            }
            (Ok(_), _) => Ok(()),
            (Err(e), _) => Err(e),
        };
        match result {
            Ok(()) => {
                self.broken.store(false, Ordering::Relaxed);
                Ok(())
            }
            Err(e) => {
                self.fail(&e);
                match self.config.on_failure {
                    OnFailure::Reject => Err(self.refusal()),
                    OnFailure::Degrade => Ok(()),
                }
            }
        }
    }

    async fn flush(&self) -> Result<(), Error> {
        self.seal().map_err(|e| Error::internal(format!("audit seal: {e}")))
    }
}

/// Starts the thread that fsyncs: on demand (every N lines, every record with group commit),
/// every interval, and at least once a second whatever the policy.
fn spawn_syncer(audit: &Arc<VerifiedAudit>, requests: std::sync::mpsc::Receiver<SyncRequest>) -> std::io::Result<()> {
    let weak = Arc::downgrade(audit);
    let period = match audit.config.fsync {
        FsyncPolicy::Interval(d) => d,
        _ => Duration::from_secs(1),
    };
    std::thread::Builder::new().name("smartflow-audit-sync".into()).spawn(move || {
        loop {
            let first = match requests.recv_timeout(period) {
                Ok(r) => Some(r),
                Err(std::sync::mpsc::RecvTimeoutError::Timeout) => None,
                Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => return,
            };
            let mut waiters: Vec<_> = first.into_iter().flatten().collect();
            while let Ok(r) = requests.try_recv() {
                waiters.extend(r);
            }
            let Some(audit) = weak.upgrade() else { return };
            let result = audit.sync_now().map_err(|e| e.to_string());
            if let Err(e) = &result {
                tracing::error!(error = %e, "ALERT: the verified audit stream cannot be synced to disk");
            }
            for w in waiters {
                let _ = w.send(result.clone());
            }
        }
    })?;
    Ok(())
}

fn unix_ms() -> u64 {
    SystemTime::now().duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}
