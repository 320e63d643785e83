//! `Store`: cache entries on sled — `entries` (id → header + answer), `keys` (layer key → id),
//! `vectors` (id → embeddings) and `meta` (format version) — with the in-memory [`Books`] that
//! decide TTL expiry and LRU eviction.
//!
//! The cache has its own sled directory, so a damaged cache can be moved aside without touching
//! keys, counters or the audit trail: [`Store::open`] never fails — a store that cannot be
//! opened (corrupt, unknown format, sled panicking on it) is renamed to
//! `<dir>.corrupt-<unix ms>`, reported, and the cache starts empty.

mod books;
pub(crate) mod entry;
pub(crate) mod vectors;

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, PoisonError};

use books::Books;
use entry::{Entry, Header};
use vectors::Vectors;

use crate::fingerprint::Digest;

/// The on-disk format this build reads and writes.
const FORMAT: &[u8] = b"smartflow-cache/1";

/// How opening went.
#[derive(Debug, Clone, Default)]
pub struct OpenReport {
    /// Where a store that could not be used was moved (kept for forensics).
    pub quarantined: Option<PathBuf>,
    /// Why, when it was.
    pub reason: Option<String>,
    /// Whether the store is temporary (no path configured, or the directory was unusable).
    pub temporary: bool,
    /// Entries dropped at start because they failed their checksum or did not parse.
    pub dropped_corrupt: u64,
    /// Entries dropped at start because they had expired.
    pub dropped_expired: u64,
    /// Entries loaded.
    pub loaded: u64,
}

pub(crate) struct Store {
    db: sled::Db,
    entries: sled::Tree,
    keys: sled::Tree,
    vectors: sled::Tree,
    next_id: AtomicU64,
    books: Mutex<Books>,
}

/// Why a store operation failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StoreError {
    #[error("cache store: {0}")]
    Sled(#[from] sled::Error),
    #[error("cache entry encoding: {0}")]
    Encode(#[from] serde_json::Error),
}

fn id_bytes(id: u64) -> [u8; 8] {
    id.to_be_bytes()
}

fn id_of(bytes: &[u8]) -> Option<u64> {
    Some(u64::from_be_bytes(bytes.try_into().ok()?))
}

pub(crate) fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn try_open(path: Option<&Path>) -> Result<sled::Db, String> {
    let open = || match path {
        Some(p) => sled::Config::new().path(p).flush_every_ms(Some(500)).open(),
        None => sled::Config::new().temporary(true).open(),
    };
    // sled 0.34 can panic on some damaged files rather than return an error; that must not take
    // the gateway down.
    let db = match std::panic::catch_unwind(open) {
        Ok(Ok(db)) => db,
        Ok(Err(e)) => return Err(e.to_string()),
        Err(_) => return Err("the store's files are damaged (sled panicked while opening them)".to_owned()),
    };
    let meta = db.open_tree("meta").map_err(|e| e.to_string())?;
    match meta.get("format").map_err(|e| e.to_string())? {
        Some(v) if v.as_ref() == FORMAT => {}
        Some(v) => return Err(format!("unknown cache format {:?}", String::from_utf8_lossy(&v))),
        None if db.tree_names().len() > 2 || !db.is_empty() => {
            return Err("the directory holds a store that is not a smartflow cache".to_owned());
        }
        None => {
            meta.insert("format", FORMAT).map_err(|e| e.to_string())?;
        }
    }
    Ok(db)
}

impl Store {
    /// Opens the store at `path` (temporary when `None`); see the module docs. Fails only when
    /// not even a temporary store can be created (then the caller runs without a cache).
    pub(crate) fn open(path: Option<&Path>) -> Result<(Self, OpenReport), StoreError> {
        let mut report = OpenReport { temporary: path.is_none(), ..OpenReport::default() };
        let db = match try_open(path) {
            Ok(db) => Some(db),
            Err(reason) => {
                // A store another process holds is not damaged: never move it aside.
                let locked = reason.contains("lock");
                if let (Some(p), false) = (path, locked) {
                    let aside = PathBuf::from(format!("{}.corrupt-{}", p.display(), now_ms()));
                    match std::fs::rename(p, &aside) {
                        Ok(()) => {
                            tracing::error!(path = %p.display(), moved_to = %aside.display(), %reason,
                                "the cache store could not be opened; it was moved aside and the cache starts empty");
                            report.quarantined = Some(aside);
                        }
                        Err(e) => tracing::error!(path = %p.display(), %reason, error = %e,
                            "the cache store could not be opened nor moved aside; the cache runs on a temporary store"),
                    }
                } else {
                    tracing::error!(%reason, "the cache store is in use or unusable; the cache runs on a temporary store");
                }
                report.reason = Some(reason);
                if report.quarantined.is_some() { try_open(path).ok() } else { None }
            }
        };
        let db = match db {
            Some(db) => db,
            None => {
                report.temporary = true;
                try_open(None).map_err(|e| StoreError::Sled(sled::Error::Unsupported(e)))?
            }
        };
        let store = Self {
            entries: db.open_tree("entries")?,
            keys: db.open_tree("keys")?,
            vectors: db.open_tree("vectors")?,
            db,
            next_id: AtomicU64::new(1),
            books: Mutex::new(Books::default()),
        };
        store.load(&mut report)?;
        Ok((store, report))
    }

    fn books(&self) -> std::sync::MutexGuard<'_, Books> {
        self.books.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Rebuilds the books from the entries on disk, dropping damaged and expired ones.
    fn load(&self, report: &mut OpenReport) -> Result<(), StoreError> {
        let now = now_ms();
        let mut max_id = 0;
        let mut doomed = Vec::new();
        let mut books = self.books();
        for item in self.entries.iter() {
            let (k, v) = item?;
            let Some(id) = id_of(&k) else {
                doomed.push(k.to_vec());
                report.dropped_corrupt += 1;
                continue;
            };
            max_id = max_id.max(id);
            match entry::decode_header(&v) {
                Ok(h) if h.expires_ms > now => {
                    books.add(id, v.len() as u64, h.expires_ms);
                    report.loaded += 1;
                }
                Ok(h) => {
                    report.dropped_expired += 1;
                    doomed.push(k.to_vec());
                    self.remove_keys(&h, id)?;
                }
                Err(e) => {
                    tracing::warn!(id, error = %e, "dropping a damaged cache entry");
                    report.dropped_corrupt += 1;
                    doomed.push(k.to_vec());
                }
            }
        }
        drop(books);
        for k in doomed {
            self.entries.remove(&k)?;
            self.vectors.remove(&k)?;
        }
        self.next_id.store(max_id + 1, Ordering::Relaxed);
        Ok(())
    }

    /// The entry a layer key points to.
    pub(crate) fn lookup(&self, key: &Digest) -> Result<Option<u64>, StoreError> {
        Ok(self.keys.get(key)?.and_then(|v| id_of(&v)))
    }

    /// Reads an entry: `None` when it is gone, expired or damaged (damaged and expired ones
    /// are removed on the way).
    pub(crate) fn get(&self, id: u64) -> Result<Option<Entry>, StoreError> {
        if !self.books().contains(id) {
            return Ok(None);
        }
        let Some(bytes) = self.entries.get(id_bytes(id))? else {
            self.books().remove(id);
            return Ok(None);
        };
        match entry::decode(&bytes) {
            Ok(e) if e.header.expires_ms > now_ms() => {
                self.books().touch(id);
                Ok(Some(e))
            }
            Ok(e) => {
                self.remove_entry(id, Some(&e.header))?;
                Ok(None)
            }
            Err(err) => {
                tracing::warn!(id, error = %err, "dropping a damaged cache entry");
                self.remove_entry(id, None)?;
                Ok(None)
            }
        }
    }

    /// Stores an entry under its keys; returns its id and the ids it displaced (entries whose
    /// keys now point here, which the caller removes).
    pub(crate) fn insert(&self, header: &Header, value: &[u8]) -> Result<(u64, Vec<u64>), StoreError> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        self.entries.insert(id_bytes(id), value)?;
        let mut displaced = Vec::new();
        for key in &header.keys {
            let Some(key) = hex_digest(key) else { continue };
            if let Some(old) = self.keys.insert(key, &id_bytes(id))?.and_then(|v| id_of(&v))
                && old != id
            {
                displaced.push(old);
            }
        }
        self.books().add(id, value.len() as u64, header.expires_ms);
        Ok((id, displaced))
    }

    /// Saves an entry's embeddings (after the entry itself; see [`Self::vectors`]).
    pub(crate) fn put_vectors(&self, id: u64, v: &Vectors) -> Result<bool, StoreError> {
        if !self.books().contains(id) {
            return Ok(false);
        }
        self.vectors.insert(id_bytes(id), v.encode())?;
        Ok(true)
    }

    /// An entry's embeddings.
    pub(crate) fn vectors(&self, id: u64) -> Result<Option<Vectors>, StoreError> {
        Ok(self.vectors.get(id_bytes(id))?.and_then(|b| Vectors::decode(&b)))
    }

    /// Every live entry's header and embeddings (start-up index rebuild).
    pub(crate) fn all_vectors(&self) -> Result<Vec<(u64, Header, Vectors)>, StoreError> {
        let mut out = Vec::new();
        for item in self.vectors.iter() {
            let (k, v) = item?;
            let (Some(id), Some(vectors)) = (id_of(&k), Vectors::decode(&v)) else { continue };
            if !self.books().contains(id) {
                continue;
            }
            if let Some(bytes) = self.entries.get(&k)?
                && let Ok(h) = entry::decode_header(&bytes)
            {
                out.push((id, h, vectors));
            }
        }
        Ok(out)
    }

    fn remove_keys(&self, header: &Header, id: u64) -> Result<(), StoreError> {
        for key in &header.keys {
            if let Some(key) = hex_digest(key) {
                // Only if it still points here: a newer entry may own the key now.
                let _ = self.keys.compare_and_swap(key, Some(&id_bytes(id)), None::<&[u8]>)?;
            }
        }
        Ok(())
    }

    /// Removes an entry, its keys and vectors; returns its header when it was readable.
    pub(crate) fn remove_entry(&self, id: u64, header: Option<&Header>) -> Result<Option<Header>, StoreError> {
        self.books().remove(id);
        let old = self.entries.remove(id_bytes(id))?;
        self.vectors.remove(id_bytes(id))?;
        let header = match header {
            Some(h) => Some(h.clone()),
            None => old.as_deref().and_then(|b| entry::decode_header(b).ok()),
        };
        if let Some(h) = &header {
            self.remove_keys(h, id)?;
        }
        Ok(header)
    }

    /// Every entry's id and header (flushes by scope or model).
    pub(crate) fn headers(&self) -> Result<Vec<(u64, Header)>, StoreError> {
        let mut out = Vec::new();
        for item in self.entries.iter() {
            let (k, v) = item?;
            if let (Some(id), Ok(h)) = (id_of(&k), entry::decode_header(&v)) {
                out.push((id, h));
            }
        }
        Ok(out)
    }

    /// Removes everything; returns how many entries there were.
    pub(crate) fn clear(&self) -> Result<u64, StoreError> {
        let n = self.entries.len() as u64;
        self.entries.clear()?;
        self.keys.clear()?;
        self.vectors.clear()?;
        self.books().clear();
        Ok(n)
    }

    /// Entries to evict so at most `target` bytes remain, and expired ones.
    pub(crate) fn victims(&self, target: u64) -> Vec<u64> {
        let books = self.books();
        let mut out = books.expired(now_ms());
        out.extend(books.victims(target));
        out.sort_unstable();
        out.dedup();
        out
    }

    pub(crate) fn len(&self) -> usize {
        self.books().len()
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.books().bytes()
    }

    /// Writes everything to disk.
    pub(crate) async fn flush(&self) -> Result<(), StoreError> {
        self.db.flush_async().await?;
        Ok(())
    }
}

/// A layer key's hex form back to bytes.
fn hex_digest(s: &str) -> Option<Digest> {
    let mut out = [0u8; 32];
    hex::decode_to_slice(s, &mut out).ok()?;
    Some(out)
}

/// A digest as hex.
pub(crate) fn hex(d: &Digest) -> String {
    hex::encode(d)
}
