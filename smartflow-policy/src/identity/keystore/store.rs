//! `KeyStore`: virtual keys in sled, stored by SHA-256 hash only, served from an in-memory
//! index. Every mutation is one sled transaction over both trees, then a flush, and only then
//! an index update and the reply: a revocation is on disk before it is acknowledged and takes
//! effect on the very next lookup.

use std::fmt;
use std::sync::{Arc, Mutex, PoisonError, RwLock, RwLockReadGuard};

use async_trait::async_trait;
use ring::rand::SystemRandom;
use sled::Transactional as _;
use sled::transaction::ConflictableTransactionError;
use smartflow_core::auth::unauthenticated;
use smartflow_core::{Authenticator, Credentials, Error, Principal};

use super::error::KeyStoreError;
use super::index::Index;
use super::record::{KeyEntry, KeyRecord, Stored, new_id, new_secret, now_secs, prefix_of};
use super::spec::{KeyField, KeyFilter, KeyPatch, KeySpec};
use crate::governance::spec::Limit;
use crate::identity::{KeyHash, MAX_KEY_BYTES};

/// The sled tree of records: key id → JSON record (with the secret's hash, never the secret).
pub const KEYS_TREE: &str = "keys";
/// The sled tree of hashes: 32 hash bytes → key id.
pub const HASHES_TREE: &str = "key_hashes";

/// Longest key id looked up; longer ones are unknown without a database read.
const MAX_ID_BYTES: usize = 64;

/// Virtual keys: created, changed, rotated and revoked through the admin API, looked up by
/// hash on every request. Cheap to clone; clones share the same store.
#[derive(Clone)]
pub struct KeyStore {
    inner: Arc<Inner>,
}

struct Inner {
    db: sled::Db,
    keys: sled::Tree,
    hashes: sled::Tree,
    index: RwLock<Index>,
    /// Serialises mutations (read-modify-write of records) so none is lost.
    write: Mutex<()>,
    rng: SystemRandom,
}

/// One atomic change over both trees.
#[derive(Default)]
struct Batch {
    records: Vec<(String, Vec<u8>)>,
    add: Vec<(KeyHash, String)>,
    drop: Vec<KeyHash>,
}

impl fmt::Debug for KeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyStore").field("live_keys", &self.len()).finish_non_exhaustive()
    }
}

impl KeyStore {
    /// Opens the store in `db` and loads every live key into memory. A record that cannot be
    /// decoded is skipped (its key does not authenticate) and logged by id.
    pub fn open(db: &sled::Db) -> Result<Self, KeyStoreError> {
        let keys = db.open_tree(KEYS_TREE)?;
        let hashes = db.open_tree(HASHES_TREE)?;
        let mut index = Index::default();
        for item in keys.iter() {
            let (id, bytes) = item?;
            match Stored::decode(&bytes) {
                Ok((hash, record)) if record.id.as_bytes() == &*id => index.put(hash, &record),
                _ => tracing::error!(
                    id = %String::from_utf8_lossy(&id),
                    "skipping an unreadable key record; that key will not authenticate"
                ),
            }
        }
        let inner = Inner {
            db: db.clone(),
            keys,
            hashes,
            index: RwLock::new(index),
            write: Mutex::new(()),
            rng: SystemRandom::new(),
        };
        Ok(Self { inner: Arc::new(inner) })
    }

    /// Creates a key. Returns its record and its secret: the only time the secret exists
    /// outside the caller's hands; the store keeps only its hash.
    pub async fn create(&self, spec: KeySpec) -> Result<(KeyRecord, String), KeyStoreError> {
        let now = now_secs();
        spec.validate(Some(now))?;
        self.mutate(move |inner| {
            let secret = new_secret(&inner.rng)?;
            let hash = KeyHash::of(&secret);
            let mut id = new_id(&inner.rng)?;
            while inner.keys.contains_key(&id)? {
                id = new_id(&inner.rng)?;
            }
            if inner.hashes.contains_key(hash.as_bytes())? {
                return Err(KeyStoreError::Internal);
            }
            let record = KeyRecord::new(id, prefix_of(&secret), spec, now);
            let batch = Batch {
                records: vec![(record.id.clone(), Stored::encode(hash, &record)?)],
                add: vec![(hash, record.id.clone())],
                drop: Vec::new(),
            };
            inner.commit(&batch, |ix| ix.put(hash, &record))?;
            tracing::info!(key_id = %record.id, "key created");
            Ok((record, secret))
        })
        .await
    }

    /// The record of key `id`, revoked or not.
    pub fn get(&self, id: &str) -> Result<Option<KeyRecord>, KeyStoreError> {
        Ok(self.inner.load(id)?.map(|(_, record)| record))
    }

    /// The keys matching `filter`, oldest first. Reads every record: an admin call, not a
    /// request-path one.
    pub fn list(&self, filter: &KeyFilter) -> Result<Vec<KeyRecord>, KeyStoreError> {
        let matches = |want: &Option<String>, have: &Option<String>| want.is_none() || want == have;
        let mut out = Vec::new();
        for item in self.inner.keys.iter() {
            let (id, bytes) = item?;
            let Ok((_, record)) = Stored::decode(&bytes) else {
                tracing::error!(id = %String::from_utf8_lossy(&id), "skipping an unreadable key record");
                continue;
            };
            if (filter.include_revoked || !record.is_revoked())
                && matches(&filter.user, &record.user)
                && matches(&filter.team, &record.team)
                && matches(&filter.department, &record.department)
            {
                out.push(record);
            }
        }
        out.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
        Ok(out)
    }

    /// Changes a live key's attributes; takes effect on the next lookup.
    pub async fn update(&self, id: &str, patch: KeyPatch) -> Result<KeyRecord, KeyStoreError> {
        let id = id.to_owned();
        self.mutate(move |inner| {
            let (hash, mut record) = inner.load(&id)?.ok_or(KeyStoreError::NotFound)?;
            if record.is_revoked() {
                return Err(KeyStoreError::Revoked);
            }
            let now = now_secs();
            let new_expiry = matches!(patch.expires_at, Some(Some(_)));
            let spec = record.spec().patched(patch);
            spec.validate(new_expiry.then_some(now))?;
            record.set_spec(spec);
            record.updated_at = now;
            let batch = Batch { records: vec![(id, Stored::encode(hash, &record)?)], ..Batch::default() };
            inner.commit(&batch, |ix| ix.put(hash, &record))?;
            tracing::info!(key_id = %record.id, "key updated");
            Ok(record)
        })
        .await
    }

    /// Revokes a key for good. Revoking a revoked key changes nothing and succeeds.
    pub async fn revoke(&self, id: &str) -> Result<KeyRecord, KeyStoreError> {
        let id = id.to_owned();
        self.mutate(move |inner| {
            let (hash, mut record) = inner.load(&id)?.ok_or(KeyStoreError::NotFound)?;
            if record.is_revoked() {
                return Ok(record);
            }
            let now = now_secs();
            (record.revoked_at, record.updated_at) = (Some(now), now);
            let batch =
                Batch { records: vec![(id, Stored::encode(hash, &record)?)], add: Vec::new(), drop: vec![hash] };
            inner.commit(&batch, |ix| ix.remove(&record.id))?;
            tracing::info!(key_id = %record.id, "key revoked");
            Ok(record)
        })
        .await
    }

    /// Revokes every live key whose `field` is `value` (a user, team or department was
    /// deleted), in one transaction. Returns how many keys were revoked.
    pub async fn revoke_where(&self, field: KeyField, value: &str) -> Result<usize, KeyStoreError> {
        let value = value.to_owned();
        self.mutate(move |inner| {
            let now = now_secs();
            let mut batch = Batch::default();
            for item in inner.keys.iter() {
                let (_, bytes) = item?;
                let Ok((hash, mut record)) = Stored::decode(&bytes) else { continue };
                let have = match field {
                    KeyField::User => &record.user,
                    KeyField::Team => &record.team,
                    KeyField::Department => &record.department,
                };
                if record.is_revoked() || have.as_deref() != Some(value.as_str()) {
                    continue;
                }
                (record.revoked_at, record.updated_at) = (Some(now), now);
                batch.records.push((record.id.clone(), Stored::encode(hash, &record)?));
                batch.drop.push(hash);
            }
            let count = batch.records.len();
            if count > 0 {
                inner.commit(&batch, |ix| batch.records.iter().for_each(|(id, _)| ix.remove(id)))?;
            }
            tracing::info!(field = field.name(), count, "keys revoked by attribute");
            Ok(count)
        })
        .await
    }

    /// Gives a live key a new secret; the old one stops working at once. Returns the record
    /// and the new secret (shown once).
    pub async fn rotate(&self, id: &str) -> Result<(KeyRecord, String), KeyStoreError> {
        let id = id.to_owned();
        self.mutate(move |inner| {
            let (old, mut record) = inner.load(&id)?.ok_or(KeyStoreError::NotFound)?;
            if record.is_revoked() {
                return Err(KeyStoreError::Revoked);
            }
            let secret = new_secret(&inner.rng)?;
            let hash = KeyHash::of(&secret);
            if inner.hashes.contains_key(hash.as_bytes())? {
                return Err(KeyStoreError::Internal);
            }
            let now = now_secs();
            (record.prefix, record.rotated_at, record.updated_at) = (prefix_of(&secret), Some(now), now);
            let batch = Batch {
                records: vec![(id, Stored::encode(hash, &record)?)],
                add: vec![(hash, record.id.clone())],
                drop: vec![old],
            };
            inner.commit(&batch, |ix| ix.put(hash, &record))?;
            tracing::info!(key_id = %record.id, "key rotated");
            Ok((record, secret))
        })
        .await
    }

    /// The live, unexpired key whose secret is `token`. Empty, oversized and control-character
    /// tokens are refused without hashing; the database is never read.
    pub fn lookup(&self, token: &str) -> Option<Arc<KeyEntry>> {
        if token.is_empty() || token.len() > MAX_KEY_BYTES || token.bytes().any(|b| b.is_ascii_control()) {
            return None;
        }
        let hash = KeyHash::of(token);
        let entry = self.index().get(&hash).cloned()?;
        (!entry.is_expired(now_secs())).then_some(entry)
    }

    /// The limits of live key `key_id`.
    pub fn limits(&self, key_id: &str) -> Option<Arc<[Limit]>> {
        self.index().entry_of(key_id).map(|e| Arc::clone(&e.limits))
    }

    /// Number of live (unrevoked) keys, expired ones included.
    pub fn len(&self) -> usize {
        self.index().len()
    }

    /// Whether there are no live keys.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn index(&self) -> RwLockReadGuard<'_, Index> {
        self.inner.index.read().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs one mutation on a blocking thread, under the write lock. The whole mutation (disk
    /// write, flush, index update) runs there, so dropping the returned future cannot leave
    /// the index behind the disk.
    async fn mutate<T, F>(&self, f: F) -> Result<T, KeyStoreError>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T, KeyStoreError> + Send + 'static,
    {
        let inner = Arc::clone(&self.inner);
        tokio::task::spawn_blocking(move || {
            let _serial = inner.write.lock().unwrap_or_else(PoisonError::into_inner);
            f(&inner)
        })
        .await
        .map_err(|_| KeyStoreError::Internal)?
    }
}

impl Inner {
    fn load(&self, id: &str) -> Result<Option<(KeyHash, KeyRecord)>, KeyStoreError> {
        if id.is_empty() || id.len() > MAX_ID_BYTES {
            return Ok(None);
        }
        self.keys.get(id)?.map(|bytes| Stored::decode(&bytes)).transpose()
    }

    /// Writes `batch` in one transaction, flushes, then applies `update` to the index. If the
    /// flush fails the batch's keys are dropped from the index (fail closed) and the error
    /// returned; they come back from disk on the next open.
    fn commit(&self, batch: &Batch, update: impl FnOnce(&mut Index)) -> Result<(), KeyStoreError> {
        (&self.keys, &self.hashes).transaction(|(keys, hashes)| {
            for hash in &batch.drop {
                hashes.remove(&hash.as_bytes()[..])?;
            }
            for (hash, id) in &batch.add {
                hashes.insert(&hash.as_bytes()[..], id.as_bytes())?;
            }
            for (id, bytes) in &batch.records {
                keys.insert(id.as_bytes(), bytes.as_slice())?;
            }
            Ok::<_, ConflictableTransactionError<KeyStoreError>>(())
        })?;
        let flushed = self.db.flush();
        let mut index = self.index.write().unwrap_or_else(PoisonError::into_inner);
        if let Err(e) = flushed {
            batch.records.iter().for_each(|(id, _)| index.remove(id));
            tracing::error!(error = %e, "key store flush failed; affected keys disabled until restart");
            return Err(e.into());
        }
        update(&mut index);
        Ok(())
    }
}

#[async_trait]
impl Authenticator for KeyStore {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        let entry = credentials.token().and_then(|t| self.lookup(t)).ok_or_else(unauthenticated)?;
        Ok(Arc::clone(&entry.principal))
    }
}
