//! `Books`: the in-memory ledger of stored entries — size, recency, expiry — that decides
//! eviction without touching sled.

use std::collections::{BTreeSet, HashMap};

#[derive(Debug, Clone, Copy)]
struct Meta {
    bytes: u64,
    tick: u64,
    expires_ms: u64,
}

/// Entry sizes, last use and expiry.
#[derive(Debug, Default)]
pub(crate) struct Books {
    entries: HashMap<u64, Meta>,
    lru: BTreeSet<(u64, u64)>,
    expiry: BTreeSet<(u64, u64)>,
    tick: u64,
    bytes: u64,
}

impl Books {
    pub(crate) fn add(&mut self, id: u64, bytes: u64, expires_ms: u64) {
        self.remove(id);
        self.tick += 1;
        let meta = Meta { bytes, tick: self.tick, expires_ms };
        self.entries.insert(id, meta);
        self.lru.insert((meta.tick, id));
        self.expiry.insert((expires_ms, id));
        self.bytes += bytes;
    }

    /// Marks `id` as just used.
    pub(crate) fn touch(&mut self, id: u64) {
        self.tick += 1;
        let tick = self.tick;
        if let Some(m) = self.entries.get_mut(&id) {
            self.lru.remove(&(m.tick, id));
            m.tick = tick;
            self.lru.insert((tick, id));
        }
    }

    pub(crate) fn remove(&mut self, id: u64) -> bool {
        match self.entries.remove(&id) {
            Some(m) => {
                self.lru.remove(&(m.tick, id));
                self.expiry.remove(&(m.expires_ms, id));
                self.bytes = self.bytes.saturating_sub(m.bytes);
                true
            }
            None => false,
        }
    }

    pub(crate) fn contains(&self, id: u64) -> bool {
        self.entries.contains_key(&id)
    }

    pub(crate) fn len(&self) -> usize {
        self.entries.len()
    }

    pub(crate) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Least recently used entries to remove so that at most `target` bytes remain.
    pub(crate) fn victims(&self, target: u64) -> Vec<u64> {
        let mut excess = self.bytes.saturating_sub(target);
        let mut out = Vec::new();
        for &(_, id) in &self.lru {
            if excess == 0 {
                break;
            }
            let bytes = self.entries.get(&id).map_or(0, |m| m.bytes);
            excess = excess.saturating_sub(bytes.max(1));
            out.push(id);
        }
        out
    }

    /// Entries whose expiry is at or before `now_ms`.
    pub(crate) fn expired(&self, now_ms: u64) -> Vec<u64> {
        self.expiry.iter().take_while(|(at, _)| *at <= now_ms).map(|&(_, id)| id).collect()
    }

    pub(crate) fn clear(&mut self) {
        *self = Self::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn victims_are_least_recently_used_first_and_expiry_is_ordered() {
        let mut b = Books::default();
        b.add(1, 100, 50);
        b.add(2, 100, 10);
        b.add(3, 100, 30);
        b.touch(1);
        assert_eq!(b.bytes(), 300);
        assert_eq!(b.victims(150), vec![2, 3]);
        assert_eq!(b.expired(30), vec![2, 3]);
        assert!(b.remove(2) && !b.remove(2));
        assert_eq!(b.bytes(), 200);
        assert_eq!(b.len(), 2);
    }
}
