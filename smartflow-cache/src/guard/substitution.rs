//! Rules 6–8: one-for-one substitution, an added or removed modifier, very different lengths.
//!
//! All three work on the *content keys* of each side: words that are not stop words (function
//! words and request scaffolding such as `explain`, `give`, `please`), not numbers and not
//! closed-class words (rule 5 compares those), after light stemming and the synonym table
//! (`wrote` = `author` = `compose`, `difference` = `differ` = `compare`, `hash table` = `hash
//! map`, ...).
//!
//! - **Substitution** (rule 6): exactly one content key only on each side, and at least one
//!   shared (`capital of France` / `capital of Germany` when the entity rule did not fire,
//!   `time complexity` / `space complexity`, `boiling point` / `freezing point`).
//! - **Modifier** (rule 7): one side's content keys are a strict superset of the other's
//!   (`recipe for cookies` / `vegan recipe for cookies`). Generic words a paraphrase often adds
//!   (`city`, `type`, `code`, `list`, ...) are ignored here, and only here.
//! - **Length** (rule 8): one side has at least three times as many informative terms (content,
//!   class and number terms) as the other, and at least four more.
//!
//! Cannot catch: two or more words replaced at once (`hash map in Python` / `linked list in
//! Java` is left to the embedding score and the other rules), a synonym outside the table (a
//! false veto: `boiling point` / `temperature at which water boils`), a modifier that is itself
//! a stop word.

use std::collections::BTreeSet;

/// Content keys of one side, and the same without soft words.
pub(crate) struct Content<'a> {
    pub(crate) keys: BTreeSet<&'a str>,
    pub(crate) hard: BTreeSet<&'a str>,
    pub(crate) informative: usize,
}

/// Rule 6.
pub(crate) fn substitution(a: &Content<'_>, b: &Content<'_>) -> bool {
    let a_only = a.keys.difference(&b.keys).count();
    let b_only = b.keys.difference(&a.keys).count();
    let shared = a.keys.intersection(&b.keys).count();
    !(a_only == 1 && b_only == 1 && shared >= 1)
}

/// Rule 7.
pub(crate) fn modifier(a: &Content<'_>, b: &Content<'_>) -> bool {
    a.hard == b.hard || !(a.hard.is_subset(&b.hard) || b.hard.is_subset(&a.hard))
}

/// Rule 8.
pub(crate) fn length(a: &Content<'_>, b: &Content<'_>) -> bool {
    let (lo, hi) =
        if a.informative <= b.informative { (a.informative, b.informative) } else { (b.informative, a.informative) };
    !(hi >= 3 * lo.max(1) && hi >= lo + 4)
}

#[cfg(test)]
mod tests {
    use super::super::{SlotGuard, Veto};

    #[test]
    fn substitution_rule() {
        let g = SlotGuard::new();
        assert_eq!(
            g.check("What is the time complexity of binary search?", "What is the space complexity of binary search?"),
            Err(Veto::Substitution)
        );
        assert_eq!(
            g.check("What is the boiling point of water?", "What is the freezing point of water?"),
            Err(Veto::Substitution)
        );
        assert_eq!(g.check("Who wrote Pride and Prejudice?", "Who is the author of Pride and Prejudice?"), Ok(()));
    }

    #[test]
    fn modifier_rule() {
        let g = SlotGuard::new();
        assert_eq!(
            g.check("Give me a recipe for chocolate chip cookies", "Give me a vegan recipe for chocolate chip cookies"),
            Err(Veto::Modifier)
        );
        assert_eq!(g.check("What is the capital of Peru?", "Which city is the capital of Peru?"), Ok(()));
    }

    #[test]
    fn length_rule() {
        let g = SlotGuard::new();
        assert_eq!(
            g.check(
                "Kubernetes intro",
                "Kubernetes pods, services, deployments, ingress controllers, storage and networking"
            ),
            Err(Veto::Length)
        );
    }
}
