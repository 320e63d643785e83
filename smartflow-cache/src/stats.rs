//! `Analytics`: hits and misses per layer, tokens and cost saved, per model and per scope.

use std::sync::{Mutex, PoisonError};

use smartflow_core::{CacheCounters, CacheLayer, CacheStats};

/// What one lookup contributes.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct LookupOutcome {
    pub(crate) hit: Option<CacheLayer>,
    pub(crate) shadow: [bool; 4],
    pub(crate) tokens_saved: u64,
    pub(crate) cost_saved: u64,
    pub(crate) bypassed: bool,
}

#[derive(Default)]
struct Inner {
    stats: CacheStats,
}

/// The cache's counters.
pub(crate) struct Analytics {
    inner: Mutex<Inner>,
    max_scopes: usize,
}

fn add(c: &mut CacheCounters, o: &LookupOutcome) {
    c.lookups += 1;
    if let Some(layer) = o.hit {
        c.hits[layer.index()] += 1;
        c.tokens_saved += o.tokens_saved;
        c.cost_saved_nano_usd += o.cost_saved;
    }
    for (i, s) in o.shadow.iter().enumerate() {
        c.shadow_hits[i] += u64::from(*s);
    }
}

impl Analytics {
    pub(crate) fn new(max_scopes: usize) -> Self {
        Self { inner: Mutex::new(Inner::default()), max_scopes }
    }

    fn with<T>(&self, f: impl FnOnce(&mut CacheStats) -> T) -> T {
        f(&mut self.inner.lock().unwrap_or_else(PoisonError::into_inner).stats)
    }

    pub(crate) fn lookup(&self, model: &str, scope: &str, o: &LookupOutcome) {
        let max_scopes = self.max_scopes;
        self.with(|s| {
            add(&mut s.total, o);
            if o.hit.is_none() {
                s.misses += 1;
            }
            s.bypassed += u64::from(o.bypassed);
            match s.by_model.get_mut(model) {
                Some(c) => add(c, o),
                None => add(s.by_model.entry(model.to_owned()).or_default(), o),
            }
            let scope = if s.by_scope.contains_key(scope) || s.by_scope.len() < max_scopes { scope } else { "other" };
            match s.by_scope.get_mut(scope) {
                Some(c) => add(c, o),
                None => add(s.by_scope.entry(scope.to_owned()).or_default(), o),
            }
        });
    }

    pub(crate) fn bypassed(&self) {
        self.with(|s| s.bypassed += 1);
    }

    pub(crate) fn stored(&self) {
        self.with(|s| s.stores += 1);
    }

    pub(crate) fn skipped(&self) {
        self.with(|s| s.stores_skipped += 1);
    }

    pub(crate) fn evicted(&self, n: u64) {
        self.with(|s| s.evictions += n);
    }

    pub(crate) fn snapshot(&self, entries: u64, bytes: u64) -> CacheStats {
        self.with(|s| {
            let mut out = s.clone();
            out.entries = entries;
            out.bytes = bytes;
            out
        })
    }
}
