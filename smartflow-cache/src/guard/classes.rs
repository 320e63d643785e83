//! Rule 5: closed word classes, and the language a request is written in.
//!
//! Each class is a fixed list of words and phrases, each mapped to a key (aliases of one thing
//! share a key: `js` = `javascript`, `kilometres` = `km`, `bulleted list` = `bullets`). If either
//! side uses a word of a class, the two sides' sets of keys for that class must be equal, so
//! `haiku` vs `limerick`, `today` vs `yesterday`, `ascending` vs `descending`, `formal` vs
//! `casual` are vetoed whatever else the prompts share. Classes: `programming_language`,
//! `language`, `format`, `time`, `unit` (units and currencies), `tone` (tone and audience),
//! `verbosity`, `order` (order, comparison, extremes, `<`/`>`), `question` (`why`, `when`,
//! `where`, `who` at the start of a sentence, and `what causes`, `what year`...).
//!
//! Ambiguous words only count in context: `Go`, `Swift`, `Rust`, `Julia`, `Dart`, `Polish`
//! capitalised or after `in/into/to/from/using/with/learn`; `C` and `R` only as capitals; `May`
//! and `March` capitalised mid-sentence or next to a number; `m`, `g`, `c`, `f`, `l`, `h`, `s`
//! after a number; `over`/`under`/`above`/`below` only before a number.
//!
//! The written language of the request is guessed from function words (`el`, `la`, `der`,
//! `und`, ...) and scripts (Cyrillic, CJK, ...) outside quotes; two confident guesses that differ
//! are vetoed as `language` (the answer would be in another language).
//!
//! Cannot catch: words outside the lists (a framework, a product tier, a niche unit), a class
//! word used in a sense the context rules do not see (`python` the snake), a change of tone or
//! audience expressed in free text ("like you would to my grandmother").

mod style_tables;
mod subject_tables;

use std::collections::{BTreeSet, HashMap};

use super::words::{Kind, Token};
use style_tables::{ORDER, QUESTIONS, TONES, VERBOSITY};
use subject_tables::{FORMATS, LANGUAGES, PROGRAMMING, TIMES, UNITS};

/// A closed word class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub(crate) enum Class {
    ProgrammingLanguage,
    Language,
    Format,
    Time,
    Unit,
    Tone,
    Verbosity,
    Order,
    Question,
}

impl Class {
    pub(crate) const ALL: [Self; 9] = [
        Self::ProgrammingLanguage,
        Self::Language,
        Self::Format,
        Self::Time,
        Self::Unit,
        Self::Tone,
        Self::Verbosity,
        Self::Order,
        Self::Question,
    ];

    /// The label used in [`super::Veto::Class`].
    pub(crate) fn label(self) -> &'static str {
        match self {
            Self::ProgrammingLanguage => "programming_language",
            Self::Language => "language",
            Self::Format => "format",
            Self::Time => "time",
            Self::Unit => "unit",
            Self::Tone => "tone",
            Self::Verbosity => "verbosity",
            Self::Order => "order",
            Self::Question => "question",
        }
    }

    fn index(self) -> usize {
        match self {
            Self::ProgrammingLanguage => 0,
            Self::Language => 1,
            Self::Format => 2,
            Self::Time => 3,
            Self::Unit => 4,
            Self::Tone => 5,
            Self::Verbosity => 6,
            Self::Order => 7,
            Self::Question => 8,
        }
    }
}

/// When an ambiguous lexicon entry counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cond {
    Always,
    /// Capitalised and not sentence-initial.
    Cap,
    /// Capitalised, or after a preposition such as `in`.
    CapOrPrep,
    /// Written in capitals (`C`, `R`).
    Upper,
    /// After a number (or `per`, `a`, `each`, `every`).
    AfterNumber,
    /// Before a number.
    BeforeNumber,
    /// At the start of a sentence.
    Initial,
    /// Capitalised mid-sentence, or next to a number (`May 5`).
    Month,
}

/// One lexicon entry: a class (or `None` for a neutral phrase that is only scaffolding) and key.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub(crate) class: Option<Class>,
    pub(crate) key: &'static str,
    pub(crate) cond: Cond,
}

type Table = &'static [(&'static str, &'static [&'static str])];

// A surface may start with a condition marker: '^' Cap, '~' CapOrPrep, '!' Upper,
// '#' AfterNumber, '>' BeforeNumber, '?' Initial, '@' Month.

/// Phrases that are only scaffolding: consumed so their words do not count in any class.
const NEUTRAL: &[&str] = &[
    "best way",
    "the best way",
    "best practice",
    "best practices",
    "at first",
    "first of all",
    "last but not least",
    "at last",
    "more or less",
    "more about",
    "tell me more",
    "no more",
    "the most",
    "most of",
    "more info",
    "more information",
    "more details",
    "at the end",
    "in the end",
    "end of",
    "one day",
    "the day",
    "a day in the life",
    "day to day",
    "day-to-day",
    "in time",
    "on time",
    "a lot more",
    "what else",
    "first aid",
    "last name",
    "first name",
    "top of",
    "on top of",
    "bottom line",
    "the following",
    "as follows",
    "kind of",
    "sort of",
    "raise an exception",
    "raise exception",
    "raise an error",
    "thanks in advance",
    "thank you in advance",
    "thank you",
    "thanks a lot",
    "how long",
    "hi team",
    "hello team",
    "hey team",
    "hi all",
    "hello all",
    "hi there",
    "hello there",
    "hey there",
    "hi everyone",
    "hello everyone",
    "lower case",
    "upper case",
];

const CODE_NOUNS: &[&str] = &[
    "code",
    "program",
    "programs",
    "script",
    "function",
    "functions",
    "snippet",
    "developer",
    "developers",
    "library",
    "crate",
    "compiler",
    "syntax",
    "project",
    "app",
    "macro",
    "closure",
    "trait",
    "struct",
    "module",
    "package",
];

const PREPS: &[&str] =
    &["in", "into", "to", "from", "using", "with", "learn", "learning", "write", "writing", "code", "for", "via"];

/// The class lexicon.
pub(crate) struct Lexicon {
    phrases: HashMap<String, Vec<Entry>>,
    pub(crate) max_len: usize,
}

impl Lexicon {
    pub(crate) fn new() -> Self {
        let mut lex = Self { phrases: HashMap::new(), max_len: 1 };
        let tables: [(Class, Table); 9] = [
            (Class::ProgrammingLanguage, PROGRAMMING),
            (Class::Language, LANGUAGES),
            (Class::Format, FORMATS),
            (Class::Time, TIMES),
            (Class::Unit, UNITS),
            (Class::Tone, TONES),
            (Class::Verbosity, VERBOSITY),
            (Class::Order, ORDER),
            (Class::Question, QUESTIONS),
        ];
        for (class, table) in tables {
            for (key, surfaces) in table {
                for s in *surfaces {
                    lex.add(s, Some(class), key);
                }
            }
        }
        for s in NEUTRAL {
            lex.add(s, None, "");
        }
        lex
    }

    fn add(&mut self, surface: &'static str, class: Option<Class>, key: &'static str) {
        let (cond, text) = match surface.chars().next() {
            Some('^') => (Cond::Cap, &surface[1..]),
            Some('~') => (Cond::CapOrPrep, &surface[1..]),
            Some('!') if surface.len() > 1 && surface != "!=" => (Cond::Upper, &surface[1..]),
            Some('#') if surface.len() > 1 => (Cond::AfterNumber, &surface[1..]),
            Some('>') if surface.len() > 1 && surface != ">=" => (Cond::BeforeNumber, &surface[1..]),
            Some('?') if surface.len() > 1 => (Cond::Initial, &surface[1..]),
            Some('@') => (Cond::Month, &surface[1..]),
            _ => (Cond::Always, surface),
        };
        let entry = Entry { class, key, cond };
        let words = text.split(' ').count();
        self.max_len = self.max_len.max(words);
        self.phrases.entry(text.to_owned()).or_default().push(entry);
    }

    /// True when `phrase` is a class word or a neutral phrase in every context.
    #[cfg(test)]
    pub(crate) fn contains(&self, phrase: &str) -> bool {
        self.phrases.get(phrase).is_some_and(|entries| entries.iter().any(|e| e.cond == Cond::Always))
    }

    /// The entry for `phrase` (lower-case words joined by one space) at `tokens[at..at + len]`,
    /// if one applies in context.
    pub(crate) fn lookup(
        &self,
        phrase: &str,
        tokens: &[Token],
        at: usize,
        len: usize,
        is_number: &dyn Fn(usize) -> bool,
    ) -> Option<Entry> {
        self.phrases
            .get(phrase)
            .and_then(|entries| entries.iter().find(|e| applies(e.cond, tokens, at, len, is_number)))
            .copied()
    }
}

fn applies(cond: Cond, tokens: &[Token], at: usize, len: usize, is_number: &dyn Fn(usize) -> bool) -> bool {
    let Some(tok) = tokens.get(at) else { return false };
    let prev = at.checked_sub(1).and_then(|i| tokens.get(i));
    let prev_lower = prev.map_or("", |t| t.lower.as_str());
    let next_index = at + len;
    match cond {
        Cond::Always => true,
        Cond::Cap => tok.capitalised() && !tok.initial,
        Cond::CapOrPrep => {
            tok.capitalised()
                || PREPS.contains(&prev_lower)
                || tokens.get(next_index).is_some_and(|t| CODE_NOUNS.contains(&t.lower.as_str()))
        }
        Cond::Upper => tok.raw.chars().all(|c| !c.is_lowercase()),
        Cond::AfterNumber => {
            at.checked_sub(1).is_some_and(is_number) || matches!(prev_lower, "per" | "a" | "an" | "each" | "every")
        }
        Cond::BeforeNumber => {
            is_number(next_index)
                || tokens
                    .get(next_index)
                    .is_some_and(|t| t.kind == Kind::Symbol && matches!(t.lower.as_str(), "$" | "€" | "£" | "¥" | "₹"))
        }
        Cond::Initial => {
            tok.initial
                || prev.is_some_and(|p| {
                    p.kind == Kind::Word
                        && matches!(
                            prev_lower,
                            "so" | "and"
                                | "but"
                                | "then"
                                | "also"
                                | "ok"
                                | "okay"
                                | "now"
                                | "hi"
                                | "hello"
                                | "hey"
                                | "please"
                                | "thanks"
                                | "exactly"
                                | "just"
                                | "team"
                                | "there"
                                | "all"
                                | "everyone"
                                | "folks"
                        )
                })
        }
        Cond::Month => {
            (tok.capitalised() && !tok.initial) || is_number(next_index) || at.checked_sub(1).is_some_and(is_number)
        }
    }
}

/// Keys per class for one side.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct ClassSets {
    sets: [BTreeSet<&'static str>; 9],
}

impl ClassSets {
    pub(crate) fn insert(&mut self, class: Class, key: &'static str) {
        self.sets[class.index()].insert(key);
    }

    pub(crate) fn get(&self, class: Class) -> &BTreeSet<&'static str> {
        &self.sets[class.index()]
    }
}

/// Rule 5: the first class whose key sets differ (when either side uses it).
pub(crate) fn check(a: &ClassSets, b: &ClassSets) -> Result<(), Class> {
    for class in Class::ALL {
        if a.get(class) != b.get(class) {
            return Err(class);
        }
    }
    Ok(())
}

const FUNCTION_WORDS: &[(&str, &[&str])] = &[
    (
        "en",
        &[
            "the", "is", "are", "what", "how", "why", "and", "of", "to", "for", "with", "my", "i", "you", "this",
            "that", "can", "does", "please", "write", "explain", "it", "an", "which", "should", "would", "me", "a",
            "about", "at", "be", "have", "give", "tell", "make", "your", "our", "we", "from", "by", "do",
        ],
    ),
    (
        "es",
        &[
            "el", "los", "las", "es", "qué", "cómo", "por", "para", "del", "y", "escribe", "explica", "cuál", "dónde",
            "está", "una", "sobre", "puedes", "cuando", "mis",
        ],
    ),
    (
        "fr",
        &[
            "le", "les", "une", "est", "et", "des", "du", "pour", "avec", "comment", "je", "mon", "vous", "écris",
            "explique", "quel", "quelle", "sur", "dans", "pas", "ce", "pourquoi", "mes",
        ],
    ),
    (
        "de",
        &[
            "der", "das", "und", "ist", "ein", "eine", "wie", "ich", "mein", "nicht", "mit", "für", "auf", "warum",
            "schreibe", "erkläre", "zu", "den", "dem", "sind", "bitte", "einen",
        ],
    ),
    (
        "pt",
        &[
            "uma", "é", "não", "como", "meu", "minha", "você", "da", "dos", "das", "em", "escreva", "explique", "qual",
            "sobre", "isso", "por que",
        ],
    ),
    (
        "it",
        &["il", "gli", "è", "mio", "che", "di", "della", "sono", "scrivi", "spiega", "cosa", "perché", "un", "questo"],
    ),
    ("nl", &["het", "een", "en", "van", "hoe", "wat", "ik", "mijn", "niet", "met", "voor", "schrijf", "waarom"]),
];

/// A guess at the natural language the request is written in, from scripts and function words
/// outside quotes; `None` when unsure.
pub(crate) fn request_language(tokens: &[Token]) -> Option<&'static str> {
    let mut script_counts = [0usize; 8];
    let mut latin = 0usize;
    for t in tokens.iter().filter(|t| t.span.is_none() && t.kind == Kind::Word) {
        for c in t.raw.chars() {
            let slot = match c as u32 {
                0x0400..=0x04FF => Some(0),
                0x0370..=0x03FF => Some(1),
                0x0600..=0x06FF => Some(2),
                0x0590..=0x05FF => Some(3),
                0x0900..=0x097F => Some(4),
                0x3040..=0x30FF => Some(5),
                0x4E00..=0x9FFF => Some(6),
                0xAC00..=0xD7AF | 0x0E00..=0x0E7F => Some(7),
                _ => None,
            };
            match slot {
                Some(s) => script_counts[s] += 1,
                None if c.is_alphabetic() => latin += 1,
                None => {}
            }
        }
    }
    const SCRIPTS: [&str; 8] =
        ["cyrillic", "greek", "arabic", "hebrew", "devanagari", "japanese", "cjk", "hangul_thai"];
    let (best_script, best_count) =
        script_counts.iter().enumerate().max_by_key(|(_, c)| **c).map_or((0, 0), |(i, c)| (i, *c));
    let non_latin: usize = script_counts.iter().sum();
    if non_latin > latin {
        // Kana marks Japanese even when Han characters dominate.
        if script_counts[5] > 0 {
            return Some("japanese");
        }
        return (best_count > 0).then(|| SCRIPTS[best_script]);
    }
    let mut scores = [0usize; 7];
    for t in tokens.iter().filter(|t| t.span.is_none() && t.kind == Kind::Word) {
        for (i, (_, words)) in FUNCTION_WORDS.iter().enumerate() {
            if words.contains(&t.lower.as_str()) {
                scores[i] += 1;
            }
        }
    }
    let mut order: Vec<usize> = (0..scores.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(scores[i]));
    let (first, second) = (order[0], order[1]);
    if scores[first] >= 2 && scores[first] >= 2 * scores[second].max(1) { Some(FUNCTION_WORDS[first].0) } else { None }
}

#[cfg(test)]
mod tests;
