//! `UsageBook`: requests, tokens and spend per key, user, team and department per UTC day —
//! what `/api/usage` reports, whether or not any limit applies. Today's totals live in memory;
//! every change is written to sled, and earlier days are read from sled.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use serde::Serialize;
use smartflow_core::Principal;
use smartflow_core::types::TokenUsage;

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
    today: Mutex<(u64, HashMap<String, UsageTotals>)>,
    store: Option<sled::Tree>,
}

impl UsageBook {
    /// A book in memory only.
    pub fn in_memory() -> Self {
        Self::default()
    }

    /// A book persisted in `tree`.
    pub fn persistent(tree: sled::Tree) -> Self {
        Self { store: Some(tree), ..Self::default() }
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
        let mut writes = Vec::with_capacity(DIMENSIONS.len());
        {
            let mut guard = self.today.lock().unwrap_or_else(PoisonError::into_inner);
            let (current, map) = &mut *guard;
            if *current != day {
                *current = day;
                map.clear();
            }
            for dim in DIMENSIONS {
                let Some(value) = dim.value(p, "") else { continue };
                let key = row_key(day, dim, value);
                let totals = match map.get_mut(&key) {
                    Some(t) => t,
                    None => map.entry(key.clone()).or_insert_with(|| self.load(&key)),
                };
                totals.add(&delta);
                writes.push((key, *totals));
            }
        }
        if let Some(tree) = &self.store {
            for (key, totals) in writes {
                if let Err(e) = tree.insert(key.as_bytes(), &totals.encode()[..]) {
                    tracing::error!(error = %e, "cannot persist usage totals");
                }
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
                if guard.0 == day { guard.1.get(&key).copied() } else { None }
            };
            sum.add(&cached.unwrap_or_else(|| self.load(&key)));
        }
        sum
    }

    /// Writes sled's buffers to disk (shutdown).
    pub fn flush(&self) {
        if let Some(tree) = &self.store
            && let Err(e) = tree.flush()
        {
            tracing::error!(error = %e, "cannot flush usage totals");
        }
    }

    fn load(&self, key: &str) -> UsageTotals {
        self.store
            .as_ref()
            .and_then(|t| t.get(key.as_bytes()).ok().flatten())
            .and_then(|v| UsageTotals::decode(&v))
            .unwrap_or_default()
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
            let book = UsageBook::persistent(db.open_tree("usage").unwrap());
            book.record(NOW - DAY, &p, true, &usage, NanoUsd(100));
            book.record(NOW, &p, true, &usage, NanoUsd(100));
            book.record(NOW, &p, false, &TokenUsage::default(), NanoUsd(0));
            assert_eq!(book.totals(NOW, ScopeAttr::Team, "red", 1).requests, 1);
        }
        let book = UsageBook::persistent(db.open_tree("usage").unwrap());
        let two_days = book.totals(NOW, ScopeAttr::Key, "k1", 2);
        assert_eq!((two_days.requests, two_days.input_tokens, two_days.spend_nano_usd), (2, 20, 200));
        assert_eq!(book.totals(NOW, ScopeAttr::User, "k1", 2), UsageTotals::default());
    }
}
