//! Evaluates the non-semantic cache layers on our labelled paraphrase set
//! (`tests/data/paraphrases.jsonl`): the L3 canonical form and the slot guard.
//!
//! Prints (run with `-- --nocapture`) the L3 hit rate on each positive kind and its false hits,
//! and the guard's pass rate per kind with the vetoes that fired. Asserts that L3 has no false
//! hit and that the guard passes at most 1% of the negatives of the kinds it is built to catch.
//! The guard's word lists were written while this set was being written, so its figures here
//! are optimistic; they are a regression baseline, not a measure of production precision.

use std::collections::{BTreeMap, HashSet};

mod common;

use common::{Pair, Turn, load};
use smartflow_cache::canonical::canonical_prompt;
use smartflow_cache::guard::{SlotGuard, Veto};

const POSITIVE_KINDS: &[&str] = &["paraphrase", "politeness", "multi_turn_same"];
const NEGATIVE_KINDS: &[&str] = &[
    "entity",
    "number",
    "negation",
    "unit",
    "direction",
    "translation",
    "programming_language",
    "format",
    "time",
    "modifier",
    "substitution",
    "audience",
    "order",
    "multi_turn",
    "unrelated",
];
/// Negative kinds the slot guard is meant to catch from the final prompts alone.
const GUARD_KINDS: &[&str] = &[
    "entity",
    "number",
    "negation",
    "unit",
    "direction",
    "translation",
    "programming_language",
    "format",
    "time",
    "modifier",
    "order",
    "audience",
];

/// Checks the set's shape; returns every problem found.
fn validate(pairs: &[Pair]) -> Vec<String> {
    let mut problems = Vec::new();
    if pairs.len() < 240 {
        problems.push(format!("only {} pairs (need at least 240)", pairs.len()));
    }
    let negatives = pairs.iter().filter(|p| !p.same).count();
    if negatives * 2 <= pairs.len() {
        problems.push(format!("{negatives} negatives of {} (need more than half)", pairs.len()));
    }
    let mut ids = HashSet::new();
    for p in pairs {
        if !ids.insert(p.id) {
            problems.push(format!("duplicate id {}", p.id));
        }
        let positive = POSITIVE_KINDS.contains(&p.kind.as_str());
        if !positive && !NEGATIVE_KINDS.contains(&p.kind.as_str()) {
            problems.push(format!("id {}: unknown kind {:?}", p.id, p.kind));
        }
        if positive != p.same {
            problems.push(format!("id {}: kind {:?} with same={}", p.id, p.kind, p.same));
        }
        if p.a.trim().is_empty() || p.b.trim().is_empty() {
            problems.push(format!("id {}: empty prompt", p.id));
        }
        for t in p.history_a.iter().chain(&p.history_b) {
            if !matches!(t.role.as_str(), "user" | "assistant" | "system") || t.content.trim().is_empty() {
                problems.push(format!("id {}: bad history turn {t:?}", p.id));
            }
        }
        if p.kind.starts_with("multi_turn") && p.history_a.is_empty() && p.history_b.is_empty() {
            problems.push(format!("id {}: multi-turn pair without history", p.id));
        }
    }
    let count = |kind: &str| pairs.iter().filter(|p| p.kind == kind).count();
    for kind in POSITIVE_KINDS.iter().chain(NEGATIVE_KINDS) {
        if count(kind) == 0 {
            problems.push(format!("no pair of kind {kind:?}"));
        }
    }
    if count("multi_turn") < 15 {
        problems.push(format!("{} multi_turn pairs (need at least 15)", count("multi_turn")));
    }
    if count("politeness") < 30 {
        problems.push(format!("{} politeness pairs (need at least 30)", count("politeness")));
    }
    problems
}

/// Histories equal under the L3 form (same roles, canonical-equal contents).
fn histories_equal(a: &[Turn], b: &[Turn]) -> bool {
    a.len() == b.len()
        && a.iter()
            .zip(b)
            .all(|(x, y)| x.role == y.role && canonical_prompt(&x.content) == canonical_prompt(&y.content))
}

/// The L3 decision: equal canonical final prompts and equal histories.
fn l3_hit(p: &Pair) -> bool {
    canonical_prompt(&p.a) == canonical_prompt(&p.b) && histories_equal(&p.history_a, &p.history_b)
}

/// The guard applied to the context as well: same turn structure, every turn passes.
fn guard_with_context(guard: &SlotGuard, p: &Pair) -> Result<(), Veto> {
    guard.check(&p.a, &p.b)?;
    if p.history_a.len() != p.history_b.len() {
        return Err(Veto::Length);
    }
    for (x, y) in p.history_a.iter().zip(&p.history_b) {
        if x.role != y.role {
            return Err(Veto::Length);
        }
        guard.check(&x.content, &y.content)?;
    }
    Ok(())
}

#[derive(Default)]
struct Tally {
    total: usize,
    l3: usize,
    guard: usize,
    guard_ctx: usize,
    vetoes: BTreeMap<&'static str, usize>,
}

fn pct(n: usize, d: usize) -> f64 {
    if d == 0 {
        return 0.0;
    }
    #[expect(clippy::cast_precision_loss, reason = "small counts")]
    let r = 100.0 * n as f64 / d as f64;
    r
}

#[test]
fn paraphrase_set_is_valid_and_layers_behave() {
    let pairs = match load() {
        Ok(p) => p,
        Err(e) => panic!("cannot load the paraphrase set: {e}"),
    };
    let problems = validate(&pairs);
    assert!(problems.is_empty(), "invalid paraphrase set:\n{}", problems.join("\n"));

    let guard = SlotGuard::new();
    let mut by_kind: BTreeMap<&str, Tally> = BTreeMap::new();
    let mut l3_false_hits = Vec::new();
    let mut guard_leaks = Vec::new();
    let mut false_vetoes = Vec::new();
    for p in &pairs {
        let tally = by_kind.entry(p.kind.as_str()).or_default();
        tally.total += 1;
        let hit = l3_hit(p);
        if hit {
            tally.l3 += 1;
            if !p.same {
                l3_false_hits.push(p.id);
            }
        }
        match guard.check(&p.a, &p.b) {
            Ok(()) => {
                tally.guard += 1;
                if !p.same && GUARD_KINDS.contains(&p.kind.as_str()) {
                    guard_leaks.push(format!("  #{} {}: {:?} / {:?}", p.id, p.kind, p.a, p.b));
                }
            }
            Err(v) => {
                *tally.vetoes.entry(v.label()).or_default() += 1;
                if p.same {
                    false_vetoes.push(format!("#{}:{}", p.id, v.label()));
                }
            }
        }
        if guard_with_context(&guard, p).is_ok() {
            tally.guard_ctx += 1;
        }
    }

    let sum = |kinds: &[&str], f: &dyn Fn(&Tally) -> usize| -> (usize, usize) {
        kinds.iter().filter_map(|k| by_kind.get(k)).fold((0, 0), |(n, d), t| (n + f(t), d + t.total))
    };
    let negatives = pairs.iter().filter(|p| !p.same).count();
    eprintln!(
        "\n== paraphrase set: {} pairs, {} negatives ({:.1}%)",
        pairs.len(),
        negatives,
        pct(negatives, pairs.len())
    );

    eprintln!("\n== L3 (canonical form; histories must be canonical-equal too)");
    for kind in POSITIVE_KINDS {
        if let Some(t) = by_kind.get(kind) {
            eprintln!("  {kind:<22} hit {:>3}/{:<3} = {:5.1}%", t.l3, t.total, pct(t.l3, t.total));
        }
    }
    let (hits, total) = sum(POSITIVE_KINDS, &|t| t.l3);
    eprintln!("  {:<22} hit {hits:>3}/{total:<3} = {:5.1}%", "all positives", pct(hits, total));
    eprintln!(
        "  false hits on negatives: {} of {negatives} = {:.1}% {:?}",
        l3_false_hits.len(),
        pct(l3_false_hits.len(), negatives),
        l3_false_hits
    );

    eprintln!("\n== slot guard on the final prompts (pass = would allow the hit)");
    for kind in POSITIVE_KINDS.iter().chain(NEGATIVE_KINDS) {
        if let Some(t) = by_kind.get(kind) {
            let vetoes: Vec<String> = t.vetoes.iter().map(|(k, n)| format!("{k}:{n}")).collect();
            eprintln!(
                "  {kind:<22} pass {:>3}/{:<3} = {:5.1}%   with context {:>3}/{:<3}   vetoes {}",
                t.guard,
                t.total,
                pct(t.guard, t.total),
                t.guard_ctx,
                t.total,
                vetoes.join(" ")
            );
        }
    }
    let (pos_pass, pos_total) = sum(POSITIVE_KINDS, &|t| t.guard);
    let (neg_pass, neg_total) = sum(GUARD_KINDS, &|t| t.guard);
    let (all_neg_pass, all_neg_total) = sum(NEGATIVE_KINDS, &|t| t.guard);
    let (all_neg_ctx, _) = sum(NEGATIVE_KINDS, &|t| t.guard_ctx);
    eprintln!("  positives passed (guard recall): {pos_pass}/{pos_total} = {:.1}%", pct(pos_pass, pos_total));
    eprintln!("  negatives passed, guarded kinds: {neg_pass}/{neg_total} = {:.1}%", pct(neg_pass, neg_total));
    eprintln!(
        "  negatives passed, all kinds: {all_neg_pass}/{all_neg_total} = {:.1}% (with context: {all_neg_ctx})",
        pct(all_neg_pass, all_neg_total)
    );
    eprintln!("  positives vetoed (id:rule): {}", false_vetoes.join(" "));
    if !guard_leaks.is_empty() {
        eprintln!("  guarded-kind negatives that passed:\n{}", guard_leaks.join("\n"));
    }

    assert!(l3_false_hits.is_empty(), "L3 false hits on negatives: {l3_false_hits:?}");
    assert!(
        neg_pass * 100 <= neg_total,
        "the guard passes {neg_pass}/{neg_total} negatives of the kinds it is meant to catch (max 1%)"
    );
}
