//! The slot guard: vetoes a semantic candidate whose slots (numbers, entities, negation,
//! direction...) differ.
//!
//! An embedding score cannot tell "Convert 5 km to miles" from "Convert 5 miles to km" (cosine
//! 0.986 under MiniLM) or "Is it safe…" from "Is it not safe…" (0.993), so no threshold gives a
//! semantic (L2) hit without false hits. [`SlotGuard::check`] compares the stored prompt of a
//! candidate with the incoming prompt and returns a [`Veto`] naming the first rule that fails; a
//! candidate may be served only if **all** rules pass (and the embedding score, the request
//! parameters and the conversation context also match: the guard sees only the two prompts).
//!
//! Both prompts are NFKC-normalised and tokenised ([`words`]), numbers are read ([`numbers`]),
//! then the tokens are grouped into *terms*: closed-class words and phrases ([`classes`]),
//! synonym phrases, numbers, stop words and content words. The rules, in the order checked:
//!
//! 1. **Numbers** ([`numbers`]): equal multisets of numbers (digits, number words, ordinals,
//!    `half`, `a dozen`) and equal counts of percent markers.
//! 2. **Entities** ([`entities`]): capitalised mid-sentence words, acronyms, words with digits
//!    or internal capitals, code identifiers and quoted strings of each side appear in the
//!    other.
//! 3. **Negation** ([`negation`]): equal numbers of negations, and no antonym pair
//!    (`enable`/`disable`, `install`/`uninstall`, `good`/`bad`...) used with different poles.
//! 4. **Direction** ([`direction`]): equal ordered pairs (`X to Y`, `from X to Y`, `X than Y`,
//!    `X vs Y` over units, languages, programming languages, formats and entities) and equal
//!    number–unit bindings, when both sides have them.
//! 5. **Closed classes** ([`classes`]): for programming languages, natural languages, output
//!    formats, time frames, units and currencies, tone and audience, verbosity, order and
//!    comparison, and question type (`why`/`when`/`where`/`who`), equal sets of keys whenever
//!    either side uses the class; and the same written language of the request when both can
//!    be told.
//! 6. **Substitution**, 7. **Modifier**, 8. **Length** ([`substitution`]): no one-for-one
//!    content-word swap, no added or removed content word, no 3× difference in informative
//!    terms. A small synonym table keeps true paraphrases (`wrote`/`author`,
//!    `difference`/`differ`) from being vetoed here; it never contains closed-class words.
//!
//! What the guard cannot catch, whatever its lists: a change of meaning through words it treats
//! as scaffolding, two or more content words replaced at once (the embedding score must reject
//! those), an entity written in lower case at the start of both sentences, a number that moves
//! between slots, and anything outside the two prompts — the conversation history, the system
//! prompt, the model or its parameters belong in the cache key. Each rule module documents its
//! own blind spots. The word lists were written together with the evaluation set in
//! `tests/data/paraphrases.jsonl`, so its pass rates are optimistic; re-measure on fresh traffic
//! (shadow mode) before trusting them.

mod classes;
mod direction;
mod entities;
mod negation;
mod numbers;
mod substitution;
mod words;

use std::collections::BTreeSet;

use classes::{Class, ClassSets, Lexicon};
use negation::Polarity;
use numbers::Numbers;
use words::{Kind, Token, Words};

/// Why the guard rejected a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Veto {
    /// Rule 1: the numbers (or percent markers) differ.
    Numbers,
    /// Rule 2: an entity or quoted string of one side is missing from the other.
    Entities,
    /// Rule 3: the negations differ, or an antonym pair is used with different poles.
    Negation,
    /// Rule 4: an ordered pair (conversion, translation, comparison) or a number–unit binding
    /// differs.
    Direction,
    /// Rule 5: the words of a closed class differ; the label names the class
    /// (`programming_language`, `language`, `format`, `time`, `unit`, `tone`, `verbosity`,
    /// `order`, `question`).
    Class(&'static str),
    /// Rule 6: one content word replaced by another.
    Substitution,
    /// Rule 7: a content word added or removed.
    Modifier,
    /// Rule 8: very different lengths.
    Length,
}

impl Veto {
    /// A short stable label, for metrics and logs.
    #[must_use]
    pub fn label(&self) -> &'static str {
        match self {
            Self::Numbers => "numbers",
            Self::Entities => "entities",
            Self::Negation => "negation",
            Self::Direction => "direction",
            Self::Class(label) => label,
            Self::Substitution => "substitution",
            Self::Modifier => "modifier",
            Self::Length => "length",
        }
    }
}

/// What a term is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TermKind {
    /// A whole-token cardinal number.
    Number,
    /// A closed-class word or phrase.
    Class(Class),
    /// A content word or synonym phrase.
    Content,
    /// A stop word, a negation, an ordinal or a neutral phrase.
    Stop,
    /// A symbol other than `%` that is not in a class (`+`, `&`, `=`...).
    Symbol,
}

/// A word, phrase, number or symbol of a prompt.
#[derive(Debug, Clone)]
pub(crate) struct Term {
    /// Class key, synonym key, stem, number value or symbol.
    pub(crate) key: String,
    /// The lower-case words, joined by one space.
    pub(crate) lower: String,
    pub(crate) kind: TermKind,
    /// First token and number of tokens.
    pub(crate) first: usize,
    pub(crate) len: usize,
    /// The term's first token is an entity.
    pub(crate) entity: bool,
}

/// One prompt, analysed.
struct Analysis {
    numbers: Numbers,
    terms: Vec<Term>,
    classes: ClassSets,
    entities: Vec<entities::Entity>,
    entity_terms: Vec<Option<String>>,
    quoted: Vec<String>,
    presence: std::collections::HashSet<String>,
    sequence: String,
    negations: usize,
    poles: std::collections::HashMap<usize, u8>,
    direction: direction::Direction,
    request_language: Option<&'static str>,
}

/// Verifies semantic cache candidates slot by slot; see the module documentation.
pub struct SlotGuard {
    words: Words,
    lexicon: Lexicon,
    polarity: Polarity,
}

impl Default for SlotGuard {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for SlotGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SlotGuard").finish_non_exhaustive()
    }
}

impl SlotGuard {
    /// Builds the word lists (a few thousand small allocations; build once and share).
    #[must_use]
    pub fn new() -> Self {
        let words = Words::new();
        let polarity = Polarity::new(&words);
        Self { words, lexicon: Lexicon::new(), polarity }
    }

    /// `Ok(())` if a cached answer to `stored` may answer `incoming` as far as the slots can
    /// tell; otherwise the first rule that fails. Symmetric in its arguments.
    ///
    /// # Errors
    ///
    /// The [`Veto`] of the first failing rule, in the order of the module documentation.
    pub fn check(&self, stored: &str, incoming: &str) -> Result<(), Veto> {
        let a = self.analyze(stored);
        let b = self.analyze(incoming);
        if !numbers::check(&a.numbers, &b.numbers) {
            return Err(Veto::Numbers);
        }
        if !entities::check(&entity_side(&a), &entity_side(&b)) {
            return Err(Veto::Entities);
        }
        if !negation::check(a.negations, b.negations, &a.poles, &b.poles) {
            return Err(Veto::Negation);
        }
        if !direction::check(&a.direction, &b.direction) {
            return Err(Veto::Direction);
        }
        classes::check(&a.classes, &b.classes).map_err(|c| Veto::Class(c.label()))?;
        if let (Some(la), Some(lb)) = (a.request_language, b.request_language)
            && la != lb
        {
            return Err(Veto::Class(Class::Language.label()));
        }
        let ca = self.content(&a);
        let cb = self.content(&b);
        if !substitution::substitution(&ca, &cb) {
            return Err(Veto::Substitution);
        }
        if !substitution::modifier(&ca, &cb) {
            return Err(Veto::Modifier);
        }
        if !substitution::length(&ca, &cb) {
            return Err(Veto::Length);
        }
        Ok(())
    }

    fn content<'a>(&self, a: &'a Analysis) -> substitution::Content<'a> {
        let keys: BTreeSet<&str> = a
            .terms
            .iter()
            .filter(|t| matches!(t.kind, TermKind::Content | TermKind::Symbol))
            .map(|t| t.key.as_str())
            .collect();
        let hard = keys.iter().copied().filter(|k| !self.words.soft.contains(*k)).collect();
        let informative = a
            .terms
            .iter()
            .filter(|t| matches!(t.kind, TermKind::Content | TermKind::Symbol | TermKind::Class(_) | TermKind::Number))
            .count();
        substitution::Content { keys, hard, informative }
    }

    fn analyze(&self, text: &str) -> Analysis {
        let normalized = words::normalize(text);
        let tokens = words::tokenize(&normalized);
        let numbers = numbers::extract(&tokens);
        let (terms, classes) = self.terms(&tokens, &numbers);

        let mut class_mask = vec![false; tokens.len()];
        for t in terms.iter().filter(|t| matches!(t.kind, TermKind::Class(_))) {
            for m in class_mask.iter_mut().skip(t.first).take(t.len) {
                *m = true;
            }
        }
        let entities = entities::extract(&tokens, &|i| class_mask.get(i).copied().unwrap_or(false));
        let mut terms = terms;
        let mut entity_terms = Vec::with_capacity(entities.len());
        for e in &entities {
            let term = terms.iter_mut().find(|t| t.first <= e.index && e.index < t.first + t.len);
            entity_terms.push(term.as_ref().map(|t| t.key.clone()));
            if let Some(t) = term {
                t.entity = true;
            }
        }
        let presence = entities::presence(&tokens, terms.iter().map(|t| t.key.as_str()));
        let quoted = entities::quoted(&tokens);
        let sequence = entities::sequence(&tokens);
        let negations = negation::count(&tokens);
        let poles = self.polarity.poles(
            terms
                .iter()
                .filter(|t| !matches!(t.kind, TermKind::Number))
                .flat_map(|t| [t.key.as_str(), t.lower.as_str()]),
        );
        let direction = direction::extract(&terms, &tokens, &numbers);
        let request_language = classes::request_language(&tokens);
        Analysis {
            numbers,
            terms,
            classes,
            entities,
            entity_terms,
            quoted,
            presence,
            sequence,
            negations,
            poles,
            direction,
            request_language,
        }
    }

    /// Groups tokens into terms and collects the class keys.
    fn terms(&self, tokens: &[Token], numbers: &Numbers) -> (Vec<Term>, ClassSets) {
        let mut terms = Vec::with_capacity(tokens.len());
        let mut classes = ClassSets::default();
        let max_len = self.lexicon.max_len.max(self.words.max_phrase);
        let is_number = |i: usize| {
            tokens.get(i).is_some_and(|t| t.kind == Kind::Number)
                || numbers.found.iter().any(|n| n.covers && (n.first == i || n.last == i))
        };
        let mut phrase = String::new();
        let mut i = 0usize;
        while i < tokens.len() {
            if let Some(n) = numbers.found.iter().find(|n| n.covers && n.first == i) {
                let lower = join(&tokens[n.first..=n.last]);
                terms.push(Term {
                    key: n.value.clone(),
                    lower,
                    kind: TermKind::Number,
                    first: i,
                    len: n.last - n.first + 1,
                    entity: false,
                });
                i = n.last + 1;
                continue;
            }
            let mut matched = None;
            for len in (1..=max_len.min(tokens.len() - i)).rev() {
                let span = &tokens[i..i + len];
                if len > 1 && span.iter().enumerate().any(|(k, t)| t.kind == Kind::Number || numbers.covers(i + k)) {
                    continue;
                }
                phrase.clear();
                for (k, t) in span.iter().enumerate() {
                    if k > 0 {
                        phrase.push(' ');
                    }
                    phrase.push_str(&t.lower);
                }
                if let Some(entry) = self.lexicon.lookup(&phrase, tokens, i, len, &is_number) {
                    let (kind, key) = match entry.class {
                        Some(c) => {
                            classes.insert(c, entry.key);
                            (TermKind::Class(c), entry.key.to_owned())
                        }
                        None => (TermKind::Stop, String::new()),
                    };
                    matched = Some((kind, key, len));
                    break;
                }
                if len > 1
                    && let Some(key) = self
                        .words
                        .synonym_phrases
                        .get(phrase.as_str())
                        .or_else(|| self.words.synonym_stem_phrases.get(&words::stem_phrase(&phrase)))
                {
                    matched = Some((TermKind::Content, (*key).to_owned(), len));
                    break;
                }
            }
            let (kind, key, len) = matched.unwrap_or_else(|| self.single(&tokens[i], &mut classes));
            terms.push(Term { key, lower: join(&tokens[i..i + len]), kind, first: i, len, entity: false });
            i += len;
        }
        (terms, classes)
    }

    /// The term of one token that no phrase covers.
    fn single(&self, t: &Token, classes: &mut ClassSets) -> (TermKind, String, usize) {
        match t.kind {
            Kind::Symbol => {
                if t.lower == "%" {
                    (TermKind::Stop, String::new(), 1)
                } else {
                    (TermKind::Symbol, t.lower.clone(), 1)
                }
            }
            Kind::Number => (TermKind::Number, t.lower.clone(), 1),
            Kind::Word => {
                let w = t.lower.as_str();
                if w.ends_with("-year-old") || w.ends_with("-year-olds") {
                    classes.insert(Class::Tone, "child");
                    return (TermKind::Class(Class::Tone), "child".to_owned(), 1);
                }
                // "gluten-free", "non-leap": the negation rule counts the prefix or suffix.
                if let Some(base) = w.strip_suffix("-free").or_else(|| w.strip_prefix("non-")).filter(|b| !b.is_empty())
                {
                    return (TermKind::Content, self.words.key(base), 1);
                }
                let s = words::stem(w);
                if let Some(key) = self.words.synonyms.get(&s) {
                    return (TermKind::Content, (*key).to_owned(), 1);
                }
                if t.neg
                    || self.words.is_stop(w)
                    || matches!(
                        w,
                        "second" | "third" | "fourth" | "fifth" | "sixth" | "seventh" | "eighth" | "ninth" | "tenth"
                    )
                {
                    return (TermKind::Stop, s, 1);
                }
                (TermKind::Content, self.words.key(w), 1)
            }
        }
    }
}

fn join(tokens: &[Token]) -> String {
    let mut s = String::new();
    for (k, t) in tokens.iter().enumerate() {
        if k > 0 {
            s.push(' ');
        }
        s.push_str(&t.lower);
    }
    s
}

fn entity_side(a: &Analysis) -> entities::Side<'_> {
    entities::Side {
        entities: &a.entities,
        entity_terms: &a.entity_terms,
        quoted: &a.quoted,
        presence: &a.presence,
        sequence: &a.sequence,
    }
}

#[cfg(test)]
impl SlotGuard {
    /// A readable dump of the analysis of `text`, for debugging tests.
    pub(crate) fn explain(&self, text: &str) -> String {
        let a = self.analyze(text);
        let terms: Vec<String> = a
            .terms
            .iter()
            .map(|t| format!("{}={}:{:?}{}", t.lower, t.key, t.kind, if t.entity { "*" } else { "" }))
            .collect();
        format!(
            "terms {terms:?}\nnumbers {:?} %{}\nentities {:?} quoted {:?}\nneg {} poles {:?}\ndirection {:?}\nclasses {:?}\nlang {:?}",
            a.numbers.multiset(),
            a.numbers.percent,
            a.entities.iter().map(|e| e.key.as_str()).collect::<Vec<_>>(),
            a.quoted,
            a.negations,
            a.poles,
            a.direction,
            a.classes,
            a.request_language
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paraphrases_pass() {
        let g = SlotGuard::new();
        for (a, b) in [
            ("What is the capital of France?", "What's France's capital?"),
            ("Explain recursion", "What is recursion?"),
            ("Calculate 15% of 200.", "What is fifteen percent of 200?"),
            ("Convert 5 km to miles.", "How many miles is 5 kilometers?"),
            ("Who wrote Hamlet?", "Who is the author of Hamlet?"),
            ("How do I reset my password?", "how do i reset my password"),
            ("What is the difference between TCP and UDP?", "How does TCP differ from UDP?"),
        ] {
            assert_eq!(g.check(a, b), Ok(()), "{a:?} vs {b:?}");
            assert_eq!(g.check(b, a), Ok(()), "{b:?} vs {a:?} (symmetry)");
        }
    }

    #[test]
    fn hard_negatives_fail() {
        let g = SlotGuard::new();
        for (a, b, veto) in [
            ("Convert 5 km to miles", "Convert 50 km to miles", Veto::Numbers),
            ("What is the capital of France?", "What is the capital of Spain?", Veto::Entities),
            ("Is it safe to eat raw eggs?", "Is it not safe to eat raw eggs?", Veto::Negation),
            ("Convert 5 km to miles", "Convert 5 miles to km", Veto::Direction),
            ("Write a haiku about autumn", "Write a limerick about autumn", Veto::Class("format")),
            ("Give me a recipe for cookies", "Give me a vegan recipe for cookies", Veto::Modifier),
        ] {
            assert_eq!(g.check(a, b), Err(veto), "{a:?} vs {b:?}");
        }
    }

    #[test]
    fn explain_shows_the_analysis() {
        let dump = SlotGuard::new().explain("Convert 5 km to miles");
        assert!(dump.contains("km=km:Class(Unit)") && dump.contains("(\"5\", \"km\")"), "{dump}");
    }

    #[test]
    fn no_closed_class_word_is_a_synonym() {
        let lexicon = Lexicon::new();
        for (key, group) in words::SYNONYMS {
            for w in group.iter().chain(std::iter::once(key)) {
                assert!(!lexicon.contains(w), "synonym {w:?} (group {key:?}) is a closed-class or neutral phrase");
            }
        }
    }

    #[test]
    fn labels() {
        assert_eq!(Veto::Class("unit").label(), "unit");
        assert_eq!(Veto::Numbers.label(), "numbers");
        assert_eq!(Veto::Length.label(), "length");
    }

    #[test]
    fn direction_of_content_words_and_entities() {
        let g = SlotGuard::new();
        assert_eq!(
            g.check(
                "Move money from my savings account to my checking account",
                "Move money from my checking account to my savings account"
            ),
            Err(Veto::Direction)
        );
        assert_eq!(g.check("Does Alice report to Bob?", "Does Bob report to Alice?"), Err(Veto::Direction));
        assert_eq!(g.check("Does Alice report to Bob?", "Alice reports to Bob, right?"), Ok(()));
    }

    #[test]
    fn odd_input_does_not_panic() {
        let g = SlotGuard::default();
        for s in ["", " ", "'", "\"", "```", "%%%", "-", "1,,,2", "a-", "-a", "Ü", "🙂", "$", "> <", "'''a'''"] {
            let _ = g.check(s, "hello");
            let _ = g.check("hello", s);
            let _ = g.check(s, s);
        }
        assert_eq!(g.check("", ""), Ok(()));
    }
}
