//! The in-memory index of live keys, `hash → entry` and `id → hash`, so that a lookup never
//! touches the database. Only the store's mutation path changes it, after the disk write.

use std::collections::HashMap;
use std::sync::Arc;

use super::record::{KeyEntry, KeyRecord};
use crate::identity::KeyHash;

#[derive(Default)]
pub(crate) struct Index {
    by_hash: HashMap<KeyHash, Arc<KeyEntry>>,
    by_id: HashMap<String, KeyHash>,
}

impl Index {
    pub(crate) fn get(&self, hash: &KeyHash) -> Option<&Arc<KeyEntry>> {
        self.by_hash.get(hash)
    }

    pub(crate) fn entry_of(&self, id: &str) -> Option<&Arc<KeyEntry>> {
        self.by_id.get(id).and_then(|h| self.by_hash.get(h))
    }

    /// Makes `record` (with secret hash `hash`) live, replacing any earlier hash of the same id.
    /// A revoked record is removed instead.
    pub(crate) fn put(&mut self, hash: KeyHash, record: &KeyRecord) {
        self.remove(&record.id);
        if record.is_revoked() {
            return;
        }
        self.by_hash.insert(hash, record.entry());
        self.by_id.insert(record.id.clone(), hash);
    }

    pub(crate) fn remove(&mut self, id: &str) {
        if let Some(old) = self.by_id.remove(id) {
            self.by_hash.remove(&old);
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.by_id.len()
    }
}
