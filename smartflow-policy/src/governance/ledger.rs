//! `Ledger`: counters per (rule, metric, period, scope), each holding what its current window
//! has used and what in-flight requests have reserved. A request's charges are reserved
//! atomically across every counter it touches — all or nothing, under the locks of every shard
//! involved, taken in one global order — so concurrent requests can never together pass a limit
//! that each alone would respect. Settlement swaps each reservation for the actual amount.
//!
//! Settled counters are written behind to sled (within [`persist::INTERVAL`], then on disk
//! within sled's flush interval, and at once on [`Ledger::flush`]) and read back the first time
//! a key is touched after a restart.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::persist::{self, Persist};
use super::spec::Period;
use super::window::{Window, window};

const SHARDS: usize = 32;

/// One shard: counters by key, and which changed since they were last written to sled.
#[derive(Default)]
struct Shard {
    counters: HashMap<Arc<str>, Counter>,
    dirty: HashSet<Arc<str>>,
}

/// One counter's state.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counter {
    /// The window the numbers belong to.
    pub window: u64,
    /// Settled use in this window.
    pub used: u64,
    /// Held by in-flight requests.
    pub reserved: u64,
}

/// One amount a request wants to take from one counter.
#[derive(Debug, Clone)]
pub struct Charge {
    /// The counter (`rule|metric|period|scope`).
    pub key: Arc<str>,
    /// Its window length.
    pub period: Period,
    /// The most `used + reserved` may reach (`u64::MAX`: count only).
    pub limit: u64,
    /// What this request reserves.
    pub amount: u64,
    /// Whether exceeding refuses the request (`false`: audit only, reserved anyway).
    pub enforce: bool,
}

/// Where a counter stands after a reservation (or at a refusal).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Level {
    /// `used + reserved`, this request included when admitted.
    pub in_use: u64,
    /// The limit.
    pub limit: u64,
    /// Seconds until the window resets.
    pub reset_after: u64,
    /// Whether this request took the counter over its limit (audit-only charges).
    pub over: bool,
}

impl Level {
    /// What is left (0 when over).
    pub fn remaining(&self) -> u64 {
        self.limit.saturating_sub(self.in_use)
    }
}

/// A reservation held on one counter, to be settled exactly once.
#[derive(Debug, Clone)]
pub struct Held {
    key: Arc<str>,
    period: Period,
    window: u64,
    amount: u64,
}

impl Held {
    /// The reserved amount.
    pub fn amount(&self) -> u64 {
        self.amount
    }
}

/// Why a reservation was refused: the first enforced charge that did not fit, and its level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Refusal {
    /// Index into the charges.
    pub index: usize,
    /// The counter as it stood (without this request).
    pub level: Level,
}

/// The counters.
pub struct Ledger {
    shards: Box<[Mutex<Shard>]>,
    store: Option<sled::Tree>,
}

impl std::fmt::Debug for Ledger {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ledger").field("persistent", &self.store.is_some()).finish_non_exhaustive()
    }
}

impl Default for Ledger {
    fn default() -> Self {
        Self::in_memory()
    }
}

impl Ledger {
    /// Counters that live only as long as the process.
    pub fn in_memory() -> Self {
        Self { shards: (0..SHARDS).map(|_| Mutex::default()).collect(), store: None }
    }

    /// Counters persisted in `tree`, written behind by a background thread (see
    /// [`persist`](super::persist)).
    pub fn persistent(tree: sled::Tree) -> std::io::Result<Arc<Self>> {
        let ledger = Arc::new(Self { store: Some(tree), ..Self::in_memory() });
        persist::spawn(&ledger, "smartflow-limits")?;
        Ok(ledger)
    }

    /// Reserves every charge, or none: the first enforced charge that would pass its limit
    /// refuses the whole request and nothing is taken. `now` is Unix seconds.
    pub fn reserve(&self, now: u64, charges: &[Charge]) -> Result<(Vec<Held>, Vec<Level>), Refusal> {
        let shard_of: Vec<usize> = charges.iter().map(|c| shard(&c.key)).collect();
        let mut guards = self.lock(&shard_of);
        let mut levels = vec![Level::default(); charges.len()];
        for (s, shard) in guards.iter_mut() {
            for (i, c) in charges.iter().enumerate().filter(|(i, _)| shard_of.get(*i) == Some(s)) {
                let w = window(c.period, now);
                let counter = self.current(&mut shard.counters, &c.key, w);
                let in_use = counter.used.saturating_add(counter.reserved);
                let after = in_use.saturating_add(c.amount);
                let over = after > c.limit;
                let reset_after = w.reset_after(now);
                if over && c.enforce {
                    return Err(Refusal { index: i, level: Level { in_use, limit: c.limit, reset_after, over } });
                }
                if let Some(l) = levels.get_mut(i) {
                    *l = Level { in_use: after, limit: c.limit, reset_after, over };
                }
            }
        }
        let mut held = Vec::with_capacity(charges.len());
        for (s, shard) in guards.iter_mut() {
            for (i, c) in charges.iter().enumerate().filter(|(i, _)| shard_of.get(*i) == Some(s)) {
                let w = window(c.period, now);
                let counter = self.current(&mut shard.counters, &c.key, w);
                counter.reserved = counter.reserved.saturating_add(c.amount);
                held.push((i, Held { key: c.key.clone(), period: c.period, window: w.id, amount: c.amount }));
            }
        }
        held.sort_unstable_by_key(|(i, _)| *i);
        Ok((held.into_iter().map(|(_, h)| h).collect(), levels))
    }

    /// Settles reservations: each gives back what it reserved and takes `actual[i]`. A request
    /// that outlived its window is charged to the current one (spend is never forgotten).
    pub fn settle(&self, now: u64, held: &[Held], actual: &[u64]) {
        let shard_of: Vec<usize> = held.iter().map(|h| shard(&h.key)).collect();
        let mut guards = self.lock(&shard_of);
        for (s, shard) in guards.iter_mut() {
            for (i, h) in held.iter().enumerate().filter(|(i, _)| shard_of.get(*i) == Some(s)) {
                let counter = self.current(&mut shard.counters, &h.key, window(h.period, now));
                if counter.window == h.window {
                    counter.reserved = counter.reserved.saturating_sub(h.amount);
                }
                let spent = actual.get(i).copied().unwrap_or(0);
                counter.used = counter.used.saturating_add(spent);
                if spent > 0 && self.store.is_some() {
                    shard.dirty.insert(h.key.clone());
                }
            }
        }
    }

    /// The counter `key` as it stands in the window of `period` containing `now`.
    pub fn get(&self, now: u64, key: &str, period: Period) -> Counter {
        let key: Arc<str> = Arc::from(key);
        let Some(m) = self.shards.get(shard(&key)) else { return Counter::default() };
        let mut guard = m.lock().unwrap_or_else(PoisonError::into_inner);
        *self.current(&mut guard.counters, &key, window(period, now))
    }

    /// Every counter whose key starts with `prefix`, as it stands now.
    pub fn scan(&self, prefix: &str) -> Vec<(Arc<str>, Counter)> {
        let mut out = Vec::new();
        for s in self.shards.iter() {
            let guard = s.lock().unwrap_or_else(PoisonError::into_inner);
            out.extend(guard.counters.iter().filter(|(k, _)| k.starts_with(prefix)).map(|(k, c)| (k.clone(), *c)));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        out
    }

    /// Writes every settled counter to disk now (shutdown).
    pub fn flush(&self) {
        self.persist();
        if let Some(tree) = &self.store
            && let Err(e) = tree.flush()
        {
            tracing::error!(error = %e, "cannot flush usage counters");
        }
    }

    fn lock(&self, shards: &[usize]) -> Vec<(usize, MutexGuard<'_, Shard>)> {
        let mut order: Vec<usize> = shards.to_vec();
        order.sort_unstable();
        order.dedup();
        // One global order (ascending shard index) for every caller: no deadlock.
        order
            .into_iter()
            .filter_map(|i| self.shards.get(i).map(|m| (i, m.lock().unwrap_or_else(PoisonError::into_inner))))
            .collect()
    }

    /// The counter in `map`, created (or read back from sled) on first use and rolled over to
    /// window `w` if it belongs to an earlier one.
    fn current<'m>(&self, map: &'m mut HashMap<Arc<str>, Counter>, key: &Arc<str>, w: Window) -> &'m mut Counter {
        let counter = map.entry(key.clone()).or_insert_with(|| self.load(key, w.id));
        if counter.window != w.id {
            *counter = Counter { window: w.id, used: 0, reserved: 0 };
        }
        counter
    }

    fn load(&self, key: &str, window: u64) -> Counter {
        let stored = self.store.as_ref().and_then(|t| t.get(key.as_bytes()).ok().flatten()).and_then(|v| decode(&v));
        match stored {
            Some(c) if c.window == window => Counter { reserved: 0, ..c },
            _ => Counter { window, used: 0, reserved: 0 },
        }
    }
}

impl Persist for Ledger {
    fn persist(&self) {
        let Some(tree) = &self.store else { return };
        let mut rows: Vec<(Arc<str>, Vec<u8>)> = Vec::new();
        for s in self.shards.iter() {
            let mut guard = s.lock().unwrap_or_else(PoisonError::into_inner);
            let Shard { counters, dirty } = &mut *guard;
            rows.extend(dirty.drain().filter_map(|k| counters.get(&k).map(|c| (k, encode(c).to_vec()))));
        }
        persist::write_batch(tree, rows.iter().map(|(k, v)| (k.as_ref(), v.clone())));
    }
}

fn shard(key: &str) -> usize {
    // FNV-1a: cheap and stable; keys are operator- and principal-derived, not attacker-chosen
    // in bulk.
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in key.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h % SHARDS as u64) as usize
}

fn encode(c: &Counter) -> [u8; 16] {
    let mut out = [0u8; 16];
    out[..8].copy_from_slice(&c.window.to_be_bytes());
    out[8..].copy_from_slice(&c.used.to_be_bytes());
    out
}

fn decode(bytes: &[u8]) -> Option<Counter> {
    let window = u64::from_be_bytes(bytes.get(..8)?.try_into().ok()?);
    let used = u64::from_be_bytes(bytes.get(8..16)?.try_into().ok()?);
    Some(Counter { window, used, reserved: 0 })
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_301_100;

    fn charge(key: &str, limit: u64, amount: u64) -> Charge {
        Charge { key: Arc::from(key), period: Period::Minute, limit, amount, enforce: true }
    }

    #[test]
    fn reservation_is_all_or_nothing() {
        let l = Ledger::in_memory();
        let charges = [charge("a", 100, 60), charge("b", 50, 60)];
        let refused = l.reserve(NOW, &charges).err();
        assert_eq!(refused.map(|r| r.index), Some(1));
        assert_eq!(l.get(NOW, "a", Period::Minute).reserved, 0, "nothing held after a refusal");
        let (held, levels) = l.reserve(NOW, &[charge("a", 100, 60)]).unwrap();
        assert_eq!(levels[0].remaining(), 40);
        l.settle(NOW, &held, &[25]);
        assert_eq!(l.get(NOW, "a", Period::Minute), Counter { window: NOW / 60, used: 25, reserved: 0 });
    }

    #[test]
    fn audit_charges_are_reserved_over_the_limit() {
        let l = Ledger::in_memory();
        let c = Charge { enforce: false, ..charge("a", 10, 30) };
        let (_, levels) = l.reserve(NOW, &[c]).unwrap();
        assert!(levels[0].over);
        assert_eq!(l.get(NOW, "a", Period::Minute).reserved, 30);
    }

    #[test]
    fn windows_roll_over_and_late_settlements_are_still_charged() {
        let l = Ledger::in_memory();
        let (held, _) = l.reserve(NOW, &[charge("a", 100, 80)]).unwrap();
        let later = NOW + 120;
        assert_eq!(l.get(later, "a", Period::Minute).reserved, 0, "a new window starts empty");
        l.settle(later, &held, &[70]);
        assert_eq!(l.get(later, "a", Period::Minute).used, 70);
    }

    #[test]
    fn concurrent_reservations_never_pass_the_limit() {
        let l = Arc::new(Ledger::in_memory());
        let barrier = Arc::new(std::sync::Barrier::new(8));
        let handles: Vec<_> = (0..8)
            .map(|_| {
                let (l, b) = (l.clone(), barrier.clone());
                std::thread::spawn(move || {
                    b.wait();
                    (0..100)
                        .filter(|_| l.reserve(NOW, &[charge("rpm", 10, 1), charge("tpm", 1000, 80)]).is_ok())
                        .count()
                })
            })
            .collect();
        let admitted: usize = handles.into_iter().map(|h| h.join().unwrap()).sum();
        assert_eq!(admitted, 10);
        assert_eq!(l.get(NOW, "tpm", Period::Minute).reserved, 800);
    }

    #[test]
    fn persisted_counters_come_back_without_reservations() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        {
            let l = Ledger::persistent(db.open_tree("limits").unwrap()).unwrap();
            let (held, _) = l.reserve(NOW, &[charge("a", 100, 50), charge("b", 100, 5)]).unwrap();
            l.settle(NOW, &held, &[42, 0]);
            let _ = l.reserve(NOW, &[charge("a", 100, 10)]).unwrap();
            l.flush();
        }
        let l = Ledger::persistent(db.open_tree("limits").unwrap()).unwrap();
        assert_eq!(l.get(NOW, "a", Period::Minute), Counter { window: NOW / 60, used: 42, reserved: 0 });
        assert_eq!(l.get(NOW + 60, "a", Period::Minute).used, 0, "the next window starts empty");
    }
}
