//! Rule 4: direction — ordered pairs and quantity bindings must agree.
//!
//! *Slots* are words of the classes `unit`, `language`, `programming_language` and `format`,
//! and entities. On each side:
//! - a slot right after `to`, `into`, `in` or `as` (determiners skipped; for entities only
//!   `to`/`into`), or after `how many`/`how much`, is a **target**; a slot right after `from` is a
//!   **source**, and so is any other slot of the same class as a target (`convert this Python
//!   code to Rust`: python → rust) and, for an entity target, an entity shortly before it
//!   (`Alice reports to Bob`). Each (source, target) of the same class is an ordered pair.
//! - `from X ... to Y` gives the pair (X, Y) for any content words (`from savings to
//!   checking`).
//! - `X than Y`, `X vs Y`, `X versus Y`, `X over Y`, `X instead of Y` give the pair (X, Y),
//!   with X the nearest slot before and Y the nearest slot of the same class after.
//! - a number directly followed by a unit (`5 km`, `five kilometres`) or preceded by a
//!   currency sign (`$5`) is a **binding** (5, km).
//!
//! When both sides have pairs, the sets of pairs must be equal; when both have bindings, the
//! multisets of bindings must be equal. So `convert 5 km to miles` passes `how many miles is 5
//! km` (pairs (km, miles) and bindings (5, km) on both) but not `convert 5 miles to km`, and
//! `from French to English` is vetoed against `from English to French`.
//!
//! Cannot catch: direction carried by verbs or word order alone (`Alice owes Bob` vs `Bob owes
//! Alice`, `import from A into B` when A/B are not slots), a pair present on one side only (the
//! other side is allowed to leave it implicit), and it vetoes `X vs Y` against `Y vs X` (a false
//! veto when the order does not matter).

use std::collections::BTreeSet;

use super::Term;
use super::TermKind;
use super::classes::Class;
use super::numbers::Numbers;
use super::words::Token;

/// Pairs and bindings of one side.
#[derive(Debug, Default, Clone)]
pub(crate) struct Direction {
    pub(crate) pairs: BTreeSet<(String, String)>,
    pub(crate) bindings: Vec<(String, String)>,
}

/// The slot tag of a term, if it is a slot.
fn slot_tag(t: &Term) -> Option<&'static str> {
    match t.kind {
        TermKind::Class(c @ (Class::Unit | Class::Language | Class::ProgrammingLanguage | Class::Format)) => {
            Some(c.label())
        }
        TermKind::Content | TermKind::Stop if t.entity => Some("entity"),
        _ => None,
    }
}

const DETERMINERS: &[&str] =
    &["a", "an", "the", "this", "that", "my", "our", "your", "plain", "proper", "valid", "standard", "some"];

/// The lower form of the first non-determiner term before `i` (looking back at most 3 terms).
fn marker_before(terms: &[Term], i: usize) -> (Option<&str>, Option<usize>) {
    let mut k = i;
    for _ in 0..3 {
        let Some(prev) = k.checked_sub(1) else { return (None, None) };
        k = prev;
        let lower = terms[k].lower.as_str();
        if !DETERMINERS.contains(&lower) {
            return (Some(lower), Some(k));
        }
    }
    (None, None)
}

/// Extracts the pairs and bindings of one side.
pub(crate) fn extract(terms: &[Term], tokens: &[Token], numbers: &Numbers) -> Direction {
    let mut out = Direction::default();
    let mut targets: Vec<usize> = Vec::new();
    let mut sources: Vec<usize> = Vec::new();
    let mut subjects: Vec<usize> = Vec::new();
    for (i, t) in terms.iter().enumerate() {
        let Some(tag) = slot_tag(t) else { continue };
        let (marker, at) = marker_before(terms, i);
        let how_many = matches!(marker, Some("many" | "much"))
            && at.and_then(|k| k.checked_sub(1)).is_some_and(|k| terms[k].lower == "how");
        let target_marker = if tag == "entity" {
            matches!(marker, Some("to" | "into"))
        } else {
            matches!(marker, Some("to" | "into" | "in" | "as")) || how_many
        };
        if target_marker {
            targets.push(i);
        } else if marker == Some("from") || tag != "entity" {
            sources.push(i);
        } else {
            subjects.push(i);
        }
    }
    for &ti in &targets {
        // An entity target takes the entities before it as sources too ("Alice reports to Bob").
        let near_subjects = subjects.iter().copied().filter(|&si| si < ti && ti - si <= 8);
        for si in sources.iter().copied().chain(near_subjects) {
            let (s, t) = (&terms[si], &terms[ti]);
            if slot_tag(s) == slot_tag(t) && s.key != t.key {
                out.pairs.insert((s.key.clone(), t.key.clone()));
            }
        }
    }
    // "from X ... to Y" with any content words ("from savings to checking").
    for (i, t) in terms.iter().enumerate() {
        if t.lower != "from" {
            continue;
        }
        let informative = |k: &usize| !matches!(terms[*k].kind, TermKind::Stop | TermKind::Number);
        let Some(x) = (i + 1..(i + 4).min(terms.len())).find(informative) else { continue };
        let to = (x + 1..(x + 5).min(terms.len())).find(|&k| matches!(terms[k].lower.as_str(), "to" | "into"));
        let Some(to) = to else { continue };
        if let Some(y) = (to + 1..(to + 4).min(terms.len())).find(informative)
            && terms[x].key != terms[y].key
        {
            out.pairs.insert((terms[x].key.clone(), terms[y].key.clone()));
        }
    }
    // Comparatives.
    for (i, t) in terms.iter().enumerate() {
        let connector = match t.lower.as_str() {
            "than" | "vs" | "versus" | "over" => true,
            "instead" => terms.get(i + 1).is_some_and(|n| n.lower == "of"),
            _ => false,
        };
        if !connector {
            continue;
        }
        let before = (i.saturating_sub(6)..i).rev().find(|&k| slot_tag(&terms[k]).is_some());
        let Some(x) = before else { continue };
        let tag = slot_tag(&terms[x]);
        let after = (i + 1..(i + 5).min(terms.len())).find(|&k| slot_tag(&terms[k]) == tag);
        if let Some(y) = after
            && terms[x].key != terms[y].key
        {
            out.pairs.insert((terms[x].key.clone(), terms[y].key.clone()));
        }
    }
    // Bindings.
    for n in numbers.found.iter().filter(|n| n.covers) {
        let after = terms.iter().find(|t| t.first == n.last + 1);
        let before = terms.iter().find(|t| t.first + t.len == n.first);
        let unit = after.filter(|t| t.kind == TermKind::Class(Class::Unit)).or_else(|| {
            before.filter(|t| {
                t.kind == TermKind::Class(Class::Unit)
                    && tokens.get(t.first).is_some_and(|tok| matches!(tok.lower.as_str(), "$" | "€" | "£" | "¥" | "₹"))
            })
        });
        if let Some(u) = unit {
            out.bindings.push((n.value.clone(), u.key.clone()));
        }
    }
    out.bindings.sort();
    out
}

/// Rule 4.
pub(crate) fn check(a: &Direction, b: &Direction) -> bool {
    let pairs_ok = a.pairs.is_empty() || b.pairs.is_empty() || a.pairs == b.pairs;
    let bindings_ok = a.bindings.is_empty() || b.bindings.is_empty() || a.bindings == b.bindings;
    pairs_ok && bindings_ok
}

#[cfg(test)]
mod tests {
    use super::super::{SlotGuard, Veto};

    #[test]
    fn rule() {
        let g = SlotGuard::new();
        assert_eq!(g.check("Convert 5 km to miles", "Convert 5 miles to km"), Err(Veto::Direction));
        assert_eq!(g.check("Convert 5 km to miles", "How many miles is 5 km?"), Ok(()));
        assert_eq!(g.check("Convert 5 km to miles", "How many km is 5 miles?"), Err(Veto::Direction));
        assert_eq!(g.check("What is 100 USD in EUR?", "What is 100 EUR in USD?"), Err(Veto::Direction));
        assert_eq!(g.check("Convert $100 to euros", "How much is 100 dollars in euros?"), Ok(()));
        assert_eq!(
            g.check(
                "Translate this paragraph from French to English",
                "Translate this paragraph from English to French"
            ),
            Err(Veto::Direction)
        );
        assert_eq!(
            g.check("Convert this Python script to Rust", "Rewrite this Rust code in Python"),
            Err(Veto::Direction)
        );
        assert_eq!(g.check("Convert this JSON to YAML", "Convert this YAML to JSON"), Err(Veto::Direction));
        assert_eq!(g.check("Is Python faster than Java?", "Is Java faster than Python?"), Err(Veto::Direction));
        assert_eq!(
            g.check("Book a flight from London to Paris", "Book a flight from Paris to London"),
            Err(Veto::Direction)
        );
    }
}
