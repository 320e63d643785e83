//! `UsageBook`: requests, tokens and spend per key, user, team and department per UTC day —
//! what `/api/usage` reports, whether or not any limit applies. Today's totals live in memory;
//! every change is written behind to sled, and earlier days are read from sled.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;
use smartflow_core::Principal;
use smartflow_core::types::TokenUsage;

use super::persist::{self, Persist};
use super::rules::ScopeAttr;
use super::spec::NanoUsd;

const DAY: u64 = 86_400;

/// Totals for one subject over some days.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct UsageTotals {
    /// Requests served (denied ones are not counted).
    pub requests: u64,
    /// Prompt tokens sent upstream.
    pub input_tokens: u64,
    /// Completion tokens.
    pub output_tokens: u64,
    /// Prompt tokens served from the provider's prompt cache.
    pub cached_input_tokens: u64,
    /// Spend in nano-dollars.
    pub spend_nano_usd: u64,
}

impl UsageTotals {
    fn add(&mut self, o: &Self) {
        self.requests += o.requests;
        self.input_tokens += o.input_tokens;
        self.output_tokens += o.output_tokens;
        self.cached_input_tokens += o.cached_input_tokens;
        self.spend_nano_usd += o.spend_nano_usd;
    }

    fn encode(&self) -> [u8; 40] {
        let mut out = [0u8; 40];
        let fields =
            [self.requests, self.input_tokens, self.output_tokens, self.cached_input_tokens, self.spend_nano_usd];
        for (chunk, v) in out.chunks_exact_mut(8).zip(fields) {
            chunk.copy_from_slice(&v.to_be_bytes());
        }
        out
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let field = |i: usize| Some(u64::from_be_bytes(bytes.get(i * 8..i * 8 + 8)?.try_into().ok()?));
        Some(Self {
            requests: field(0)?,
            input_tokens: field(1)?,
            output_tokens: field(2)?,
            cached_input_tokens: field(3)?,
            spend_nano_usd: field(4)?,
        })
    }
}

/// Dimensions the book keeps totals by.
pub const DIMENSIONS: [ScopeAttr; 4] = [ScopeAttr::Key, ScopeAttr::User, ScopeAttr::Team, ScopeAttr::Department];

/// Per-day usage totals.
#[derive(Debug, Default)]
pub struct UsageBook {
    today: Mutex<Today>,
    store: Option<sled::Tree>,
}

/// Today's rows, and which changed since they were last written.
#[derive(Debug, Default)]
struct Today {
    day: u64,
    rows: HashMap<String, UsageTotals>,
    dirty: std::collections::HashSet<String>,
}

impl UsageBook {
    /// A book in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A book persisted in `tree`, written behind by a background thread.
    pub fn persistent(tree: sled::Tree) -> std::io::Result<Arc<Self>> {
        let book = Arc::new(Self { store: Some(tree), ..Self::default() });
        persist::spawn(&book, "smartflow-usage")?;
        Ok(book)
    }

    /// Adds one settled request by `p` (at Unix second `now`).
    pub fn record(&self, now: u64, p: &Principal, served: bool, usage: &TokenUsage, spend: NanoUsd) {
        let delta = UsageTotals {
            requests: u64::from(served),
            input_tokens: usage.input,
            output_tokens: usage.output,
            cached_input_tokens: usage.cached_input,
            spend_nano_usd: spend.0,
        };
        if delta == UsageTotals::default() {
            return;
        }
        let day = now / DAY;
        let mut guard = self.today.lock().unwrap_or_else(PoisonError::into_inner);
        if guard.day != day {
            // Yesterday's rows are in sled (written behind); write what is still dirty first.
            self.write_dirty(&mut guard);
            guard.day = day;
            guard.rows.clear();
        }
        for dim in DIMENSIONS {
            let Some(value) = dim.value(p, "") else { continue };
            let key = row_key(day, dim, value);
            let totals = match guard.rows.get_mut(&key) {
                Some(t) => t,
                None => {
                    let loaded = self.load(&key);
                    guard.rows.entry(key.clone()).or_insert(loaded)
                }
            };
            totals.add(&delta);
            if self.store.is_some() {
                guard.dirty.insert(key);
            }
        }
    }

    /// Totals of `dim = value` over the `days` UTC days ending with today (`now`).
    pub fn totals(&self, now: u64, dim: ScopeAttr, value: &str, days: u64) -> UsageTotals {
        let today = now / DAY;
        let mut sum = UsageTotals::default();
        for day in today.saturating_sub(days.saturating_sub(1))..=today {
            let key = row_key(day, dim, value);
            let cached = {
                let guard = self.today.lock().unwrap_or_else(PoisonError::into_inner);
                if guard.day == day { guard.rows.get(&key).copied() } else { None }
            };
            sum.add(&cached.unwrap_or_else(|| self.load(&key)));
        }
        sum
    }

    /// Writes every recorded total to disk now (shutdown).
    pub fn flush(&self) {
        self.persist();
        if let Some(tree) = &self.store
            && let Err(e) = tree.flush()
        {
            tracing::error!(error = %e, "cannot flush usage totals");
        }
    }

    fn write_dirty(&self, today: &mut Today) {
        let Some(tree) = &self.store else { return };
        let rows: Vec<(String, Vec<u8>)> = today
            .dirty
            .drain()
            .filter_map(|k| today.rows.get(&k).map(|t| t.encode().to_vec()).map(|v| (k, v)))
            .collect();
        persist::write_batch(tree, rows.iter().map(|(k, v)| (k.as_str(), v.clone())));
    }

    fn load(&self, key: &str) -> UsageTotals {
        self.store
            .as_ref()
            .and_then(|t| t.get(key.as_bytes()).ok().flatten())
            .and_then(|v| UsageTotals::decode(&v))
            .unwrap_or_default()
    }
}

impl Persist for UsageBook {
    fn persist(&self) {
        let mut guard = self.today.lock().unwrap_or_else(PoisonError::into_inner);
        self.write_dirty(&mut guard);
    }
}

fn row_key(day: u64, dim: ScopeAttr, value: &str) -> String {
    format!("{day:08}|{}|{value}", dim.label())
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: u64 = 1_795_301_100;

    #[test]
    fn totals_accumulate_per_dimension_and_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::open(dir.path()).unwrap();
        let mut p = Principal::new("k1");
        p.team = Some("red".into());
        let usage = TokenUsage { input: 10, output: 5, ..TokenUsage::default() };
        {
            let book = UsageBook::persistent(db.open_tree("usage").unwrap()).unwrap();
            book.record(NOW - DAY, &p, true, &usage, NanoUsd(100));
            book.record(NOW, &p, true, &usage, NanoUsd(100));
            book.record(NOW, &p, false, &TokenUsage::default(), NanoUsd(0));
            assert_eq!(book.totals(NOW, ScopeAttr::Team, "red", 1).requests, 1);
            book.flush();
        }
        let book = UsageBook::persistent(db.open_tree("usage").unwrap()).unwrap();
        let two_days = book.totals(NOW, ScopeAttr::Key, "k1", 2);
        assert_eq!((two_days.requests, two_days.input_tokens, two_days.spend_nano_usd), (2, 20, 200));
        assert_eq!(book.totals(NOW, ScopeAttr::User, "k1", 2), UsageTotals::default());
    }
}
