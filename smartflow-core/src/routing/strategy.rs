//! `Strategy`: how a virtual model orders its targets for one request.

use std::sync::atomic::{AtomicUsize, Ordering};

/// How targets are ordered; whatever the strategy, later targets are the failover order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Strategy {
    /// The configured order: the first healthy target serves, the others are fallbacks.
    #[default]
    Priority,
    /// A random order drawn by weight (sampling without replacement), so traffic splits by
    /// weight and fallbacks follow the same odds.
    Weighted,
    /// Start at the next target each request.
    RoundRobin,
    /// Lowest moving average of time to first byte first; untried targets are tried first.
    LeastLatency,
}

/// Orders `n` candidates (indexes into the model's targets) by the strategy.
pub(crate) fn order(
    strategy: Strategy,
    candidates: &mut Vec<usize>,
    weights: &[u32],
    latency_us: impl Fn(usize) -> u64,
    cursor: &AtomicUsize,
) {
    match strategy {
        Strategy::Priority => {}
        Strategy::RoundRobin => {
            if !candidates.is_empty() {
                let start = cursor.fetch_add(1, Ordering::Relaxed) % candidates.len();
                candidates.rotate_left(start);
            }
        }
        Strategy::LeastLatency => candidates.sort_by_key(|&i| latency_us(i)),
        Strategy::Weighted => {
            // Efraimidis–Spirakis: key = u^(1/w); descending keys are a weighted sample.
            let mut keyed: Vec<(f64, usize)> = candidates
                .iter()
                .map(|&i| {
                    let w = f64::from(weights[i].max(1));
                    (fastrand::f64().powf(1.0 / w), i)
                })
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
            candidates.clear();
            candidates.extend(keyed.into_iter().map(|(_, i)| i));
        }
    }
}
