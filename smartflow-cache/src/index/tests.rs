//! Tests of [`VectorIndex`]: exactness, removal, the flat → HNSW switch under concurrent
//! writes, tombstone rebuilds, bad input, `load`.

use std::collections::HashSet;
use std::time::Duration;

use tokio::time::Instant;

use super::hnsw::collect_points;
use super::testutil::{Rng, brute_force, clustered};
use super::*;

/// Small graphs for debug-mode tests.
fn opts(dimension: usize, hnsw_above: usize) -> IndexOptions {
    IndexOptions { hnsw_above, max_connections: 12, ef_construction: 40, ..IndexOptions::new(dimension) }
}

/// Polls `f` every 5 ms until it holds; fails after `timeout`.
fn wait_until(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Same ids in the same order, similarities within rounding.
fn assert_same_hits(got: &[Hit], want: &[Hit]) {
    assert_eq!(got.iter().map(|h| h.id).collect::<Vec<_>>(), want.iter().map(|h| h.id).collect::<Vec<_>>());
    assert!(got.iter().zip(want).all(|(g, w)| (g.similarity - w.similarity).abs() < 1e-5));
}

fn settled(index: &VectorIndex) -> bool {
    !index.build_in_progress()
}

/// Checks the graph's bookkeeping against `expected` live ids: each is live, its slot is a
/// point of the graph, and nothing else is live.
fn assert_graph_holds(index: &VectorIndex, expected: &HashSet<u64>) {
    let st = read(&index.inner.state);
    let Store::Graph(g) = &st.store else { panic!("not a graph: {:?}", index.kind()) };
    assert_eq!(g.len(), expected.len());
    let in_graph: HashSet<usize> = collect_points(g.graph(), usize::MAX).iter().map(|p| p.get_origin_id()).collect();
    assert_eq!(in_graph.len(), g.graph_size(), "every slot is a graph point");
    for id in expected {
        let slot = g.slot_of(*id).unwrap_or_else(|| panic!("id {id} lost"));
        assert!(g.is_live(slot) && in_graph.contains(&slot), "id {id} slot {slot}");
    }
}

/// Fraction of `live` found at rank 1 when searching with its own vector; also checks that no
/// result is outside `live`.
fn self_recall(index: &VectorIndex, live: &[(u64, Vec<f32>)]) -> f64 {
    let ids: HashSet<u64> = live.iter().map(|(id, _)| *id).collect();
    let mut found = 0;
    for (id, v) in live {
        let hits = index.search(v, 5);
        assert!(hits.iter().all(|h| ids.contains(&h.id)), "a removed id came back");
        found += usize::from(hits.first().is_some_and(|h| h.id == *id));
    }
    found as f64 / live.len().max(1) as f64
}

#[test]
fn index_is_send_and_sync() {
    fn check<T: Send + Sync>() {}
    check::<VectorIndex>();
}

#[test]
fn bad_vectors_are_refused_without_panicking() {
    let index = VectorIndex::new(opts(4, 100));
    assert_eq!(index.insert(1, &[1.0, 0.0]), Err(IndexError::DimensionMismatch { expected: 4, actual: 2 }));
    assert_eq!(index.insert(1, &[1.0, f32::NAN, 0.0, 0.0]), Err(IndexError::NonFinite));
    assert_eq!(index.insert(1, &[1.0, f32::NEG_INFINITY, 0.0, 0.0]), Err(IndexError::NonFinite));
    assert_eq!(index.insert(1, &[0.0; 4]), Err(IndexError::ZeroNorm));
    assert!(index.is_empty());
    index.insert(1, &[1.0, 0.0, 0.0, 0.0]).unwrap();
    assert!(index.search(&[1.0, 0.0], 3).is_empty());
    assert!(index.search(&[f32::NAN, 0.0, 0.0, 0.0], 3).is_empty());
    assert!(index.search(&[0.0; 4], 3).is_empty());
    assert!(index.search(&[1.0, 0.0, 0.0, 0.0], 0).is_empty());
    // Not normalised on input: the index normalises, similarity is the cosine.
    let hits = index.search(&[5.0, 0.0, 0.0, 0.0], 3);
    assert_eq!(hits.len(), 1);
    assert!((hits[0].similarity - 1.0).abs() < 1e-6);
    // The same in HNSW mode.
    let mut rng = Rng::new(2);
    let index = VectorIndex::load(opts(8, 10), (0..50).map(|i| (i, rng.unit(8))).collect());
    wait_until("hnsw", Duration::from_secs(60), || index.kind() == IndexKind::Hnsw);
    assert!(index.insert(99, &[f32::NAN; 8]).is_err());
    assert!(index.search(&[1.0; 7], 3).is_empty());
    assert!(index.search(&[f32::INFINITY; 8], 3).is_empty());
    assert_eq!(index.search(&[1.0; 8], 100).len(), 50);
}

#[test]
fn out_of_range_options_are_adjusted() {
    let bad = IndexOptions {
        hnsw_above: 20,
        max_connections: 1000, // hnsw_rs would exit the process
        ef_construction: 0,
        ef_search: 0,
        rebuild_tombstone_ratio: f32::NAN,
        ..IndexOptions::new(8)
    };
    let mut rng = Rng::new(4);
    let index = VectorIndex::load(bad, (0..100).map(|i| (i, rng.unit(8))).collect());
    let used = index.options();
    assert_eq!((used.max_connections, used.ef_construction, used.ef_search), (255, 1, 1));
    assert_eq!(used.rebuild_tombstone_ratio, 0.25);
    wait_until("hnsw", Duration::from_secs(60), || index.kind() == IndexKind::Hnsw);
    assert_eq!(index.search(&rng.unit(8), 5).len(), 5);
    index.set_ef_search(0);
    assert_eq!(index.ef_search(), 1);
}

#[test]
fn flat_search_is_exact() {
    let dim = 20;
    let mut rng = Rng::new(9);
    let index = VectorIndex::new(opts(dim, usize::MAX));
    let mut live: Vec<(u64, Vec<f32>)> = Vec::new();
    for id in 0..2000u64 {
        let v = rng.unit(dim);
        index.insert(id, &v).unwrap();
        live.push((id, v));
    }
    for id in (0..2000u64).filter(|i| i % 7 == 3) {
        assert!(index.remove(id));
        assert!(!index.remove(id));
    }
    live.retain(|(id, _)| id % 7 != 3);
    assert_eq!((index.len(), index.tombstones(), index.kind()), (live.len(), 0, IndexKind::Flat));
    for _ in 0..50 {
        let q = rng.unit(dim);
        let got = index.search(&q, 12);
        assert_same_hits(&got, &brute_force(&live, &q, 12));
        assert!(got.windows(2).all(|w| w[0].similarity >= w[1].similarity));
    }
    assert_eq!(self_recall(&index, &live), 1.0);
}

#[test]
fn removed_ids_never_come_back() {
    for hnsw_above in [usize::MAX, 300] {
        let dim = 16;
        let mut rng = Rng::new(21);
        let entries: Vec<(u64, Vec<f32>)> = (0..3000u64).map(|i| (i * 3 + 1, rng.unit(dim))).collect();
        let index = VectorIndex::load(opts(dim, hnsw_above), entries.clone());
        let want_kind = if hnsw_above == usize::MAX { IndexKind::Flat } else { IndexKind::Hnsw };
        wait_until("kind", Duration::from_secs(120), || index.kind() == want_kind && settled(&index));
        // 20%: below the rebuild ratio, so the graph keeps its tombstones.
        let removed: HashSet<u64> = entries.iter().map(|(id, _)| *id).filter(|id| id % 5 == 0).collect();
        for id in &removed {
            assert!(index.remove(*id));
        }
        assert_eq!(index.tombstones(), if want_kind == IndexKind::Hnsw { removed.len() } else { 0 });
        assert_eq!(index.len(), 3000 - removed.len());
        for _ in 0..200 {
            let hits = index.search(&rng.unit(dim), 20);
            assert_eq!(hits.len(), 20);
            assert!(hits.iter().all(|h| !removed.contains(&h.id)), "{want_kind:?}");
        }
        // Queries aimed exactly at removed vectors.
        for (id, v) in entries.iter().filter(|(id, _)| removed.contains(id)).take(200) {
            let hits = index.search(v, 10);
            assert_eq!(hits.len(), 10);
            assert!(hits.iter().all(|h| h.id != *id && !removed.contains(&h.id)));
        }
    }
}

#[test]
fn switch_to_hnsw_under_concurrent_writes_loses_nothing() {
    let dim = 16;
    let index = Arc::new(VectorIndex::new(opts(dim, 300)));
    let mut saw_building = false;
    let threads: Vec<_> = (0..4u64)
        .map(|t| {
            let index = Arc::clone(&index);
            std::thread::spawn(move || {
                let mut rng = Rng::new(100 + t);
                let mut mine = Vec::new();
                for i in 0..1000u64 {
                    let id = t * 10_000 + i;
                    let v = rng.unit(dim);
                    index.insert(id, &v).unwrap();
                    mine.push((id, v));
                    if i % 25 == 0 {
                        std::thread::sleep(Duration::from_millis(1));
                        assert!(!index.search(&mine[0].1, 3).is_empty());
                    }
                    // Every 10th entry removed again a little later.
                    if i >= 5 && (i - 5) % 10 == 0 {
                        assert!(index.remove(t * 10_000 + i - 5));
                    }
                }
                mine.retain(|(id, _)| (id % 10_000) % 10 != 0);
                mine
            })
        })
        .collect();
    while !threads.iter().all(|t| t.is_finished()) {
        saw_building |= index.kind() == IndexKind::Building;
        std::thread::sleep(Duration::from_micros(200));
    }
    let live: Vec<(u64, Vec<f32>)> = threads.into_iter().flat_map(|t| t.join().unwrap()).collect();
    wait_until("hnsw", Duration::from_secs(120), || index.kind() == IndexKind::Hnsw && settled(&index));
    assert!(saw_building, "the flat index served while the graph was built");
    assert_eq!(live.len(), 3600);
    assert_eq!(index.len(), 3600);
    assert_graph_holds(&index, &live.iter().map(|(id, _)| *id).collect());
    let recall = self_recall(&index, &live);
    assert!(recall > 0.99, "self recall {recall}");
}

#[test]
fn tombstones_trigger_a_rebuild_that_loses_nothing() {
    let dim = 16;
    let mut rng = Rng::new(31);
    let entries: Vec<(u64, Vec<f32>)> = (0..2000u64).map(|i| (i, rng.unit(dim))).collect();
    let index = VectorIndex::load(opts(dim, 500), entries.clone());
    wait_until("hnsw", Duration::from_secs(120), || index.kind() == IndexKind::Hnsw && settled(&index));
    // 30% removed: the rebuild starts at the 501st removal (25% of 2000).
    let mut live: Vec<(u64, Vec<f32>)> = entries.clone();
    for id in 0..600u64 {
        assert!(index.remove(id * 3));
    }
    live.retain(|(id, _)| !(id % 3 == 0 && id / 3 < 600));
    assert!(index.build_in_progress() || index.tombstones() == 0);
    // Writes while the rebuild runs: new entries, overwrites, removals.
    let writer = {
        let index = Arc::clone(&index);
        std::thread::spawn(move || {
            let mut rng = Rng::new(32);
            let mut added = Vec::new();
            for i in 0..400u64 {
                let v = rng.unit(dim);
                index.insert(10_000 + i, &v).unwrap();
                added.push((10_000 + i, v));
                if i % 40 == 0 {
                    std::thread::sleep(Duration::from_millis(1));
                }
            }
            // Overwrite 1 and 2 (live), remove 4 and 5.
            let (v1, v2) = (rng.unit(dim), rng.unit(dim));
            index.insert(1, &v1).unwrap();
            index.insert(2, &v2).unwrap();
            assert!(index.remove(4) && index.remove(5));
            (added, v1, v2)
        })
    };
    let (added, v1, v2) = writer.join().unwrap();
    live.retain(|(id, _)| ![1, 2, 4, 5].contains(id));
    live.extend(added);
    live.push((1, v1));
    live.push((2, v2));
    wait_until("rebuild", Duration::from_secs(120), || settled(&index) && index.kind() == IndexKind::Hnsw);
    assert!(index.tombstones() * 4 <= index.len(), "tombstones {}", index.tombstones());
    assert_eq!(index.len(), live.len());
    assert_graph_holds(&index, &live.iter().map(|(id, _)| *id).collect());
    let recall = self_recall(&index, &live);
    assert!(recall > 0.99, "self recall {recall}");
}

#[test]
fn a_shrunken_graph_becomes_flat_again() {
    let dim = 8;
    let mut rng = Rng::new(41);
    let entries: Vec<(u64, Vec<f32>)> = (0..1200u64).map(|i| (i, rng.unit(dim))).collect();
    let index = VectorIndex::load(opts(dim, 500), entries.clone());
    wait_until("hnsw", Duration::from_secs(120), || index.kind() == IndexKind::Hnsw && settled(&index));
    for id in 0..1000u64 {
        assert!(index.remove(id));
    }
    wait_until("flat", Duration::from_secs(120), || index.kind() == IndexKind::Flat && settled(&index));
    assert_eq!((index.len(), index.tombstones()), (200, 0));
    let live: Vec<(u64, Vec<f32>)> = entries.into_iter().filter(|(id, _)| *id >= 1000).collect();
    for _ in 0..20 {
        let q = rng.unit(dim);
        assert_same_hits(&index.search(&q, 7), &brute_force(&live, &q, 7));
    }
}

#[test]
fn overwriting_an_id_replaces_its_vector() {
    let dim = 8;
    let mut rng = Rng::new(51);
    let entries: Vec<(u64, Vec<f32>)> = (0..400u64).map(|i| (i, rng.unit(dim))).collect();
    let index = VectorIndex::load(opts(dim, 100), entries.clone());
    wait_until("hnsw", Duration::from_secs(60), || index.kind() == IndexKind::Hnsw && settled(&index));
    let v = rng.unit(dim);
    index.insert(7, &v).unwrap();
    assert_eq!((index.len(), index.tombstones()), (400, 1));
    let hits = index.search(&v, 10);
    assert_eq!(hits[0].id, 7);
    assert!((hits[0].similarity - 1.0).abs() < 1e-5);
    let hits = index.search(&entries[7].1, 50);
    let ids: HashSet<u64> = hits.iter().map(|h| h.id).collect();
    assert_eq!(ids.len(), hits.len(), "no duplicate ids");
    // The old vector of 7 is a tombstone: 7 may appear only with its new similarity.
    if let Some(h) = hits.iter().find(|h| h.id == 7) {
        assert!((h.similarity - super::flat::dot(&v, &entries[7].1)).abs() < 1e-5);
    }
}

#[test]
fn load_serves_at_once_then_switches_to_hnsw() {
    let dim = 32;
    let mut rng = Rng::new(61);
    let centres: Vec<Vec<f32>> = (0..200).map(|_| rng.unit(dim)).collect();
    let vectors = clustered(&mut rng, dim, &centres, 20_000);
    let entries: Vec<(u64, Vec<f32>)> = vectors.into_iter().enumerate().map(|(i, v)| (i as u64, v)).collect();
    let started = Instant::now();
    let index = VectorIndex::load(IndexOptions { hnsw_above: 4096, ..opts(dim, 0) }, entries.clone());
    let q = rng.unit(dim);
    let hits = index.search(&q, 10);
    let serving = started.elapsed();
    assert!(serving < Duration::from_millis(500), "load took {serving:?} to serve");
    assert!(matches!(index.kind(), IndexKind::Building | IndexKind::Flat));
    // The flat index serves exact results meanwhile.
    assert_same_hits(&hits, &brute_force(&entries, &q, 10));
    assert_eq!(index.len(), 20_000);
    wait_until("hnsw", Duration::from_secs(600), || index.kind() == IndexKind::Hnsw);
    assert_eq!((index.len(), index.tombstones()), (20_000, 0));
    let (mut at1, mut at10) = (0, 0);
    for q in clustered(&mut rng, dim, &centres, 50) {
        let exact = brute_force(&entries, &q, 10);
        let got = index.search(&q, 10);
        assert_eq!(got.len(), 10);
        at1 += usize::from(got[0].id == exact[0].id);
        at10 += got.iter().filter(|h| exact.iter().any(|e| e.id == h.id)).count();
    }
    assert!(at1 >= 48 && at10 >= 450, "recall@1 {at1}/50, recall@10 {at10}/500");
}

#[test]
fn load_skips_invalid_vectors_and_keeps_the_last_duplicate() {
    let entries =
        vec![(1, vec![1.0, 0.0]), (2, vec![f32::NAN, 0.0]), (3, vec![1.0]), (1, vec![0.0, 1.0]), (4, vec![0.0, 0.0])];
    let index = VectorIndex::load(opts(2, 100), entries);
    assert_eq!((index.len(), index.kind()), (1, IndexKind::Flat));
    assert_eq!(index.search(&[0.0, 1.0], 5)[0].id, 1);
    assert!((index.search(&[0.0, 1.0], 5)[0].similarity - 1.0).abs() < 1e-6);
}

#[test]
fn clear_abandons_a_running_build() {
    let dim = 16;
    let mut rng = Rng::new(71);
    let index = VectorIndex::load(opts(dim, 100), (0..5000u64).map(|i| (i, rng.unit(dim))).collect());
    assert_eq!(index.kind(), IndexKind::Building);
    index.clear();
    assert_eq!((index.len(), index.kind(), index.build_in_progress()), (0, IndexKind::Flat, false));
    index.insert(1, &rng.unit(dim)).unwrap();
    // The abandoned build never installs its graph.
    let until = Instant::now() + Duration::from_millis(1500);
    while Instant::now() < until {
        assert_eq!((index.kind(), index.len()), (IndexKind::Flat, 1));
        std::thread::sleep(Duration::from_millis(20));
    }
    // Dropping an index mid-build is fine too.
    let index = VectorIndex::load(opts(dim, 100), (0..3000u64).map(|i| (i, rng.unit(dim))).collect());
    drop(index);
}
