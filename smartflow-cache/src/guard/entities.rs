//! Rule 2: entities and quoted strings of either side must appear in the other.
//!
//! An entity is a word token, outside quotes and not a closed-class word (those are rule 5's),
//! that is one of:
//! - capitalised and not the first word of a sentence (`France`, `Hamlet`, `Acme`), unless the
//!   side is written in capitals throughout (in Title Case every word counts);
//! - an acronym (two or more capitals, no lower case: `TCP`, `GDPR`), unless the side shouts;
//! - a word with a digit and a letter (`GPT4`, `2FA`, `x86`, `1990s`);
//! - a word with an internal capital (`iPhone`, `macOS`, `JavaScript`);
//! - a code identifier: `snake_case`, `dotted.names`, `file.ext`, `path/parts`.
//!
//! An entity appears in the other side if, case-insensitively and ignoring `- . _ ' /`, it
//! equals a token there, the concatenation of two or three adjacent tokens there (`Node.js` =
//! `node js`), the stem or plural of one (`APIs` = `API`), or the synonym key of a phrase there
//! (`2FA` = `two-factor authentication`). A quoted string (`"..."`, `'...'`, `` `...` ``) must appear in the other
//! side as the same word sequence, quoted or not.
//!
//! Cannot catch: an entity written in lower case at the start of a sentence on both sides
//! (`france` vs `germany` there is left to the substitution rule), a nickname or translation of the same entity (`NYC` vs `New York` is a false veto).

use std::collections::HashSet;

use super::words::{Kind, Token, stem};

/// An entity of one side.
#[derive(Debug, Clone)]
pub(crate) struct Entity {
    pub(crate) key: String,
    pub(crate) index: usize,
}

/// Lower-cased with `- . _ ' /` removed.
pub(crate) fn entity_key(lower: &str) -> String {
    lower.chars().filter(|c| !matches!(c, '-' | '.' | '_' | '\'' | '/')).collect()
}

const NOT_ENTITIES: &[&str] = &["i", "e.g", "i.e", "etc", "ok", "okay", "vs", "a.m", "p.m", "and/or"];

/// Finds the entities of one side; `in_class(i)` tells whether token `i` is a class word.
pub(crate) fn extract(tokens: &[Token], in_class: &dyn Fn(usize) -> bool) -> Vec<Entity> {
    let words: Vec<&Token> = tokens
        .iter()
        .filter(|t| t.kind == Kind::Word && t.raw.chars().next().is_some_and(char::is_alphabetic))
        .collect();
    let shouting_words = words.iter().filter(|t| is_acronym(t)).count();
    let shouting = words.len() >= 3 && shouting_words * 10 >= words.len() * 6;

    let mut out = Vec::new();
    for (i, t) in tokens.iter().enumerate() {
        if t.kind != Kind::Word || t.span.is_some() || in_class(i) || NOT_ENTITIES.contains(&t.lower.as_str()) {
            continue;
        }
        if t.raw == "I" || t.raw.starts_with("I'") {
            continue;
        }
        let has_letter = t.raw.chars().any(char::is_alphabetic);
        let code_like = t.raw.contains('_')
            || (t.raw.contains('.') && t.raw.chars().filter(|c| c.is_alphabetic()).count() > 2)
            || (t.raw.contains('/') && t.raw.split('/').all(|p| p.len() > 2));
        let entity = (t.has_digit() && has_letter)
            || t.internal_capital()
            || code_like
            || (is_acronym(t) && !shouting)
            || (t.capitalised() && !t.initial && !shouting);
        if entity {
            out.push(Entity { key: entity_key(&t.lower), index: i });
        }
    }
    out
}

fn is_acronym(t: &Token) -> bool {
    let letters = t.raw.chars().filter(|c| c.is_alphabetic()).count();
    letters >= 2 && !t.raw.chars().any(char::is_lowercase)
}

/// Everything an entity of the other side may match in this side.
pub(crate) fn presence<'a>(tokens: &[Token], term_keys: impl Iterator<Item = &'a str>) -> HashSet<String> {
    let mut set = HashSet::new();
    let keys: Vec<String> = tokens.iter().map(|t| entity_key(&t.lower)).collect();
    for (i, k) in keys.iter().enumerate() {
        set.insert(k.clone());
        set.insert(stem(k));
        if let Some(n) = keys.get(i + 1) {
            set.insert(format!("{k}{n}"));
            if let Some(m) = keys.get(i + 2) {
                set.insert(format!("{k}{n}{m}"));
            }
        }
    }
    for k in term_keys {
        set.insert(k.to_owned());
    }
    set
}

/// The quoted strings of one side, as lower-case word sequences.
pub(crate) fn quoted(tokens: &[Token]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut current: Option<usize> = None;
    for t in tokens {
        match (t.span, current) {
            (Some(s), Some(c)) if s == c => {
                if let Some(last) = out.last_mut() {
                    last.push(' ');
                    last.push_str(&t.lower);
                }
            }
            (Some(s), _) => {
                out.push(t.lower.clone());
                current = Some(s);
            }
            (None, _) => current = None,
        }
    }
    out
}

/// The word sequence of a side, padded with spaces, for quoted-string search.
pub(crate) fn sequence(tokens: &[Token]) -> String {
    let mut s = String::from(" ");
    for t in tokens {
        s.push_str(&t.lower);
        s.push(' ');
    }
    s
}

/// One side's view for rule 2.
pub(crate) struct Side<'a> {
    pub(crate) entities: &'a [Entity],
    /// Synonym key of the term each entity token belongs to.
    pub(crate) entity_terms: &'a [Option<String>],
    pub(crate) quoted: &'a [String],
    pub(crate) presence: &'a HashSet<String>,
    pub(crate) sequence: &'a str,
}

fn covered(from: &Side<'_>, to: &Side<'_>) -> bool {
    let entities_ok = from.entities.iter().zip(from.entity_terms.iter()).all(|(e, term)| {
        to.presence.contains(&e.key)
            || to.presence.contains(&stem(&e.key))
            || to.presence.contains(&format!("{}s", e.key))
            || e.key.strip_suffix('s').is_some_and(|k| k.len() >= 2 && to.presence.contains(k))
            || term.as_ref().is_some_and(|k| to.presence.contains(k))
    });
    let quoted_ok = from.quoted.iter().all(|q| q.is_empty() || to.sequence.contains(&format!(" {q} ")));
    entities_ok && quoted_ok
}

/// Rule 2.
pub(crate) fn check(a: &Side<'_>, b: &Side<'_>) -> bool {
    covered(a, b) && covered(b, a)
}

#[cfg(test)]
mod tests {
    use super::super::words::{normalize, tokenize};
    use super::super::{SlotGuard, Veto};
    use super::*;

    fn keys(s: &str) -> Vec<String> {
        let toks = tokenize(&normalize(s));
        extract(&toks, &|_| false).into_iter().map(|e| e.key).collect()
    }

    #[test]
    fn finds_entities() {
        assert_eq!(keys("What is the capital of France?"), ["france"]);
        assert_eq!(keys("Compare TCP and UDP"), ["tcp", "udp"]);
        assert_eq!(keys("Is GPT4 better than the iPhone app?"), ["gpt4", "iphone"]);
        assert_eq!(keys("why does my_var in config.yaml break"), ["myvar", "configyaml"]);
        assert!(keys("HOW DO I RESET MY PASSWORD QUICKLY").is_empty());
        assert!(keys("I think I'm lost").is_empty());
    }

    #[test]
    fn rule() {
        let g = SlotGuard::new();
        assert_eq!(g.check("What is the capital of France?", "What is the capital of Germany?"), Err(Veto::Entities));
        assert_eq!(g.check("Who wrote Pride and Prejudice?", "Who wrote War and Peace?"), Err(Veto::Entities));
        assert_eq!(g.check("Set up 2FA on my account", "Set up two-factor authentication on my account"), Ok(()));
        assert_eq!(g.check("How do I install Node.js?", "How do I install node js?"), Ok(()));
        assert_eq!(
            g.check("Translate 'see you soon' into Italian", "Translate 'see you later' into Italian"),
            Err(Veto::Entities)
        );
        assert_eq!(g.check("Translate 'see you soon' into Italian", "How do you say see you soon in Italian?"), Ok(()));
    }
}
