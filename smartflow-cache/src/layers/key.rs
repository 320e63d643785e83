//! L1 and L3: lookup by key. L1's key is the exact request hash; L3's is the conversation
//! context hash plus the canonical form of the last user turn. Both keys include the partition.

use async_trait::async_trait;
use smartflow_core::CacheLayer;

use super::{Found, Layer, Query};
use crate::fingerprint::{Digest, digest_parts};
use crate::store::{Store, StoreError, hex};

/// A layer that files and finds entries by one key.
pub(crate) struct KeyLayer {
    kind: CacheLayer,
}

impl KeyLayer {
    /// L1: exact.
    pub(crate) fn exact() -> Self {
        Self { kind: CacheLayer::L1 }
    }

    /// L3: rephrasing-equivalent.
    pub(crate) fn canonical() -> Self {
        Self { kind: CacheLayer::L3 }
    }
}

#[async_trait]
impl Layer for KeyLayer {
    fn kind(&self) -> CacheLayer {
        self.kind
    }

    async fn find(&self, store: &Store, q: &Query<'_>, partition: &str) -> Result<Option<Found>, StoreError> {
        let Some(key) = self.key(q, partition) else { return Ok(None) };
        let Some(id) = store.lookup(&key)? else { return Ok(None) };
        let Some(entry) = store.get(id)? else { return Ok(None) };
        // The key names the partition already; a stale pointer is still never served.
        let key = hex(&key);
        if !entry.header.keys.contains(&key) {
            return Ok(None);
        }
        Ok(Some(Found { id, entry, similarity: None }))
    }

    fn key(&self, q: &Query<'_>, partition: &str) -> Option<Digest> {
        match self.kind {
            CacheLayer::L1 => Some(digest_parts(&[b"l1", partition.as_bytes(), &q.fp.exact])),
            _ => {
                let context = q.fp.context.as_ref()?;
                let canonical = q.canonical().filter(|c| !c.is_empty())?;
                Some(digest_parts(&[b"l3", partition.as_bytes(), context, canonical.as_bytes()]))
            }
        }
    }
}
