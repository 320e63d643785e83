//! The exact index: every live vector in one contiguous row-major `Vec<f32>`, scanned with an
//! auto-vectorised dot product into a bounded top-k heap. Removal is real (swap-remove with an
//! id → row map), so a flat index never has tombstones.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, HashMap};

use super::{Hit, IndexError};

/// Lanes of the dot product: one independent accumulator per lane, so the compiler keeps them
/// in SIMD registers (2 × SSE or 1 × AVX) instead of one serial chain of additions.
const LANES: usize = 8;

/// The dot product of `a` and `b` (over the shorter length).
#[inline]
pub(crate) fn dot(a: &[f32], b: &[f32]) -> f32 {
    let n = a.len().min(b.len());
    let (a, b) = (a.get(..n).unwrap_or_default(), b.get(..n).unwrap_or_default());
    let (ca, cb) = (a.chunks_exact(LANES), b.chunks_exact(LANES));
    let tail: f32 = ca.remainder().iter().zip(cb.remainder()).map(|(x, y)| x * y).sum();
    let mut acc = [0.0f32; LANES];
    for (x, y) in ca.zip(cb) {
        for ((s, x), y) in acc.iter_mut().zip(x).zip(y) {
            *s += x * y;
        }
    }
    // Pairwise reduction of the lanes, then the tail.
    let [a0, a1, a2, a3, a4, a5, a6, a7] = acc;
    ((a0 + a4) + (a1 + a5)) + ((a2 + a6) + (a3 + a7)) + tail
}

/// Checks a vector (dimension, finite) and returns it scaled to unit length; the norm is
/// computed in f64 so a vector that is already unit length comes back (almost) unchanged.
pub(crate) fn normalized(dimension: usize, v: &[f32]) -> Result<Vec<f32>, IndexError> {
    let mut out = v.to_vec();
    normalize_in_place(dimension, &mut out)?;
    Ok(out)
}

/// [`normalized`] in place.
pub(crate) fn normalize_in_place(dimension: usize, v: &mut [f32]) -> Result<(), IndexError> {
    if v.len() != dimension {
        return Err(IndexError::DimensionMismatch { expected: dimension, actual: v.len() });
    }
    let mut sum = 0.0f64;
    for &x in v.iter() {
        if !x.is_finite() {
            return Err(IndexError::NonFinite);
        }
        sum += f64::from(x) * f64::from(x);
    }
    let norm = sum.sqrt();
    if norm == 0.0 || !norm.is_finite() {
        return Err(IndexError::ZeroNorm);
    }
    let inv = 1.0 / norm;
    for x in v.iter_mut() {
        *x = (f64::from(*x) * inv) as f32;
    }
    Ok(())
}

/// A candidate in a [`TopK`]. Its order is "worse is greater" (lower similarity, then higher
/// id), so the max-heap's top is the worst of the best k.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    similarity: f32,
    id: u64,
}

impl Ord for Candidate {
    fn cmp(&self, other: &Self) -> Ordering {
        other.similarity.total_cmp(&self.similarity).then(self.id.cmp(&other.id))
    }
}

impl PartialOrd for Candidate {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for Candidate {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}

impl Eq for Candidate {}

/// The k best (highest similarity) hits seen so far: a bounded heap.
pub(crate) struct TopK {
    k: usize,
    heap: BinaryHeap<Candidate>,
}

impl TopK {
    pub(crate) fn new(k: usize) -> Self {
        Self { k, heap: BinaryHeap::with_capacity(k.saturating_add(1).min(4096)) }
    }

    #[inline]
    pub(crate) fn push(&mut self, similarity: f32, id: u64) {
        let c = Candidate { similarity, id };
        if self.heap.len() < self.k {
            self.heap.push(c);
        } else if let Some(mut worst) = self.heap.peek_mut()
            && c < *worst
        {
            *worst = c;
        }
    }

    /// Best first; similarities clamped to [-1, 1] (rounding can put a self-match at 1 + 1e-7).
    pub(crate) fn into_hits(self) -> Vec<Hit> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|c| Hit { id: c.id, similarity: c.similarity.clamp(-1.0, 1.0) })
            .collect()
    }
}

/// The flat exact index. Rows are unit vectors of `dimension` floats; `versions[r]` tells
/// which insert wrote row r (a background build uses it to tell a stale copy from the current
/// one).
pub(crate) struct FlatIndex {
    dimension: usize,
    data: Vec<f32>,
    ids: Vec<u64>,
    versions: Vec<u64>,
    rows: HashMap<u64, usize>,
}

impl FlatIndex {
    pub(crate) fn new(dimension: usize) -> Self {
        Self::with_capacity(dimension, 0)
    }

    pub(crate) fn with_capacity(dimension: usize, rows: usize) -> Self {
        Self {
            dimension,
            data: Vec::with_capacity(rows.saturating_mul(dimension)),
            ids: Vec::with_capacity(rows),
            versions: Vec::with_capacity(rows),
            rows: HashMap::with_capacity(rows),
        }
    }

    pub(crate) fn len(&self) -> usize {
        self.ids.len()
    }

    fn row_mut(&mut self, row: usize) -> Option<&mut [f32]> {
        let d = self.dimension;
        self.data.get_mut(row * d..(row + 1) * d)
    }

    /// Adds `id` (or overwrites its row when present). `v` must already be a checked unit
    /// vector of the index's dimension.
    pub(crate) fn upsert(&mut self, id: u64, v: &[f32], version: u64) {
        if v.len() != self.dimension {
            return;
        }
        if let Some(&row) = self.rows.get(&id) {
            if let Some(dst) = self.row_mut(row) {
                dst.copy_from_slice(v);
            }
            if let Some(ver) = self.versions.get_mut(row) {
                *ver = version;
            }
            return;
        }
        self.rows.insert(id, self.ids.len());
        self.ids.push(id);
        self.versions.push(version);
        self.data.extend_from_slice(v);
    }

    /// Removes `id` for real: the last row moves into its place. True if it was present.
    pub(crate) fn remove(&mut self, id: u64) -> bool {
        let Some(row) = self.rows.remove(&id) else { return false };
        let d = self.dimension;
        let last = self.ids.len().saturating_sub(1);
        self.ids.swap_remove(row);
        self.versions.swap_remove(row);
        if row < last {
            self.data.copy_within(last * d..(last + 1) * d, row * d);
            if let Some(&moved) = self.ids.get(row) {
                self.rows.insert(moved, row);
            }
        }
        self.data.truncate(last * d);
        true
    }

    /// The version of `id`'s current row, if present.
    pub(crate) fn version_of(&self, id: u64) -> Option<u64> {
        self.rows.get(&id).and_then(|&r| self.versions.get(r).copied())
    }

    /// Exact top-k by dot product, best first.
    pub(crate) fn search(&self, query: &[f32], k: usize) -> Vec<Hit> {
        if k == 0 || self.dimension == 0 || query.len() != self.dimension {
            return Vec::new();
        }
        let mut top = TopK::new(k);
        for (row, &id) in self.data.chunks_exact(self.dimension).zip(&self.ids) {
            top.push(dot(query, row), id);
        }
        top.into_hits()
    }

    /// A copy of every row: (ids, versions, row-major data).
    pub(crate) fn snapshot(&self) -> (Vec<u64>, Vec<u64>, Vec<f32>) {
        (self.ids.clone(), self.versions.clone(), self.data.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::super::testutil::{Rng, brute_force};
    use super::*;

    #[test]
    fn dot_matches_naive_for_every_length() {
        let mut rng = Rng::new(1);
        for n in 0..40 {
            let a: Vec<f32> = (0..n).map(|_| rng.gauss()).collect();
            let b: Vec<f32> = (0..n).map(|_| rng.gauss()).collect();
            let naive: f64 = a.iter().zip(&b).map(|(x, y)| f64::from(*x) * f64::from(*y)).sum();
            assert!((f64::from(dot(&a, &b)) - naive).abs() < 1e-4, "n={n}");
        }
        assert_eq!(dot(&[1.0, 2.0, 3.0], &[1.0]), 1.0);
    }

    #[test]
    fn normalize_rejects_bad_vectors() {
        assert_eq!(normalized(3, &[1.0, 2.0]), Err(IndexError::DimensionMismatch { expected: 3, actual: 2 }));
        assert_eq!(normalized(2, &[f32::NAN, 1.0]), Err(IndexError::NonFinite));
        assert_eq!(normalized(2, &[f32::INFINITY, 1.0]), Err(IndexError::NonFinite));
        assert_eq!(normalized(2, &[0.0, 0.0]), Err(IndexError::ZeroNorm));
        let v = normalized(2, &[3.0, 4.0]).unwrap();
        assert!((v[0] - 0.6).abs() < 1e-7 && (v[1] - 0.8).abs() < 1e-7);
        // Huge but finite components do not overflow the norm.
        assert!(normalized(2, &[f32::MAX, f32::MAX]).is_ok());
    }

    #[test]
    fn search_is_exact_and_remove_is_real() {
        let dim = 24;
        let mut rng = Rng::new(7);
        let mut flat = FlatIndex::new(dim);
        let mut live: Vec<(u64, Vec<f32>)> = Vec::new();
        for id in 0..600u64 {
            let v = rng.unit(dim);
            flat.upsert(id, &v, id);
            live.push((id, v));
        }
        // Remove every third id, including the last rows (swap-remove edge cases).
        for id in (0..600u64).filter(|i| i % 3 == 0).chain([599]) {
            let was = live.iter().any(|(i, _)| *i == id);
            assert_eq!(flat.remove(id), was);
            live.retain(|(i, _)| *i != id);
        }
        assert!(!flat.remove(0));
        assert_eq!(flat.len(), live.len());
        for _ in 0..50 {
            let q = rng.unit(dim);
            let got = flat.search(&q, 15);
            let want = brute_force(&live, &q, 15);
            assert_eq!(got.iter().map(|h| h.id).collect::<Vec<_>>(), want.iter().map(|h| h.id).collect::<Vec<_>>());
            for (g, w) in got.iter().zip(&want) {
                assert!((g.similarity - w.similarity).abs() < 1e-5);
            }
        }
        // Every remaining row still holds its own vector.
        for (id, v) in &live {
            assert_eq!(flat.search(v, 1)[0].id, *id);
        }
    }

    #[test]
    fn upsert_overwrites_and_k_larger_than_len() {
        let mut flat = FlatIndex::new(2);
        flat.upsert(1, &[1.0, 0.0], 1);
        flat.upsert(2, &[0.0, 1.0], 2);
        flat.upsert(1, &[0.0, 1.0], 3);
        assert_eq!(flat.len(), 2);
        assert_eq!(flat.version_of(1), Some(3));
        let hits = flat.search(&[0.0, 1.0], 10);
        assert_eq!(hits.len(), 2);
        assert!(hits.iter().all(|h| (h.similarity - 1.0).abs() < 1e-6));
        assert!(flat.search(&[0.0, 1.0], 0).is_empty());
        assert!(flat.search(&[0.0, 1.0, 0.0], 3).is_empty());
    }
}
