//! Deterministic test data: a small PRNG, unit vectors, clustered sets, brute force.

use super::Hit;
use super::flat::{TopK, dot};

/// SplitMix64 plus Box–Muller: enough for test vectors, no dependency.
pub(crate) struct Rng(u64);

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15).wrapping_add(1))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1].
    pub(crate) fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 1.0) / (1u64 << 53) as f64
    }

    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next_u64() % n as u64) as usize
    }

    pub(crate) fn gauss(&mut self) -> f32 {
        let (u, v) = (self.uniform(), self.uniform());
        ((-2.0 * u.ln()).sqrt() * (std::f64::consts::TAU * v).cos()) as f32
    }

    pub(crate) fn unit(&mut self, dim: usize) -> Vec<f32> {
        let mut v: Vec<f32> = (0..dim).map(|_| self.gauss()).collect();
        normalize(&mut v);
        v
    }
}

pub(crate) fn normalize(v: &mut [f32]) {
    let n = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    v.iter_mut().for_each(|x| *x /= n);
}

/// `n` unit vectors around `centres` random centres, cosine within a cluster ≈ 0.73 (the
/// reference doc's synthetic set).
pub(crate) fn clustered(rng: &mut Rng, dim: usize, centres: &[Vec<f32>], n: usize) -> Vec<Vec<f32>> {
    let sigma = (0.37 / dim as f32).sqrt();
    (0..n)
        .map(|_| {
            let c = &centres[rng.below(centres.len())];
            let mut v: Vec<f32> = c.iter().map(|x| x + sigma * rng.gauss()).collect();
            normalize(&mut v);
            v
        })
        .collect()
}

/// Exact top-k over `live`.
pub(crate) fn brute_force(live: &[(u64, Vec<f32>)], q: &[f32], k: usize) -> Vec<Hit> {
    let mut top = TopK::new(k);
    for (id, v) in live {
        top.push(dot(q, v), *id);
    }
    top.into_hits()
}
