//! [`Trigger`]: where a recognizer's candidates can be, so the detector runs its patterns only
//! on small windows of the text. The detector finds every trigger of every recognizer in one pass
//! (one Aho-Corasick automaton over all literals, one scan for digit runs); a recognizer whose
//! triggers do not occur in a text costs nothing more.

/// Which bytes a digit cluster may have between two runs of digits (up to [`MAX_GAP`] of them):
/// the separators of phone, card, SSN, IP and date layouts (`+1 (212) 555-0198`, `4111 1111…`,
/// `10.0.0.1`, `14/03/1985`).
pub(crate) const GAP_BYTES: &[u8] = b" .-/()+";
/// The most gap bytes between two runs of one cluster (`) (` in `+1) (212`).
pub(crate) const MAX_GAP: usize = 3;

/// A test of one hit before its window is scanned: `(text, hit start, hit end)`.
pub type Accept = fn(&str, usize, usize) -> bool;

/// What a trigger looks for.
#[derive(Debug, Clone)]
pub(crate) enum TriggerKind {
    /// Any of these literals (`ignore_case`: in any letter case).
    Literals { words: Vec<String>, ignore_case: bool },
    /// A digit cluster (runs of ASCII digits joined by up to [`MAX_GAP`] of [`GAP_BYTES`]) with at
    /// least `min` digits; the hit is the cluster, first digit to last.
    Digits { min: usize },
}

/// One kind of place where a recognizer's candidates can be: literals (`@`, `sk-`, `Dear `) or
/// digit clusters, and the window around each hit that holds the candidates.
///
/// The contract a recognizer keeps when it declares triggers: every match of each of its patterns
/// that matters — every candidate `check` can accept, and every match that could overlap one —
/// starts at most `before` bytes before an accepted hit of a trigger for that pattern and ends at
/// most `after` bytes after it (after the run of [`extend`](Self::extend) bytes, when set). The
/// detector then runs each pattern from its windows' starts (seeing the text before them, for
/// `\b` and `^`) a little past their ends, and keeps the matches that start inside them. A match
/// that reaches the end of the searched slice is searched again up to the end of the text, so a
/// candidate that outgrows its window (a 150-letter name, a domain of 400 bytes) is still found
/// whole when the pattern's match grows to the cut rather than stopping short of it.
#[derive(Debug, Clone)]
pub struct Trigger {
    pub(crate) kind: TriggerKind,
    pub(crate) word_start: bool,
    pub(crate) before: usize,
    pub(crate) after: usize,
    pub(crate) extend: Option<fn(u8) -> bool>,
    pub(crate) accept: Option<Accept>,
    pub(crate) patterns: Option<Vec<usize>>,
    pub(crate) line_start: bool,
    pub(crate) lines: Option<usize>,
}

impl Trigger {
    fn new(kind: TriggerKind) -> Self {
        Self {
            kind,
            word_start: false,
            before: 0,
            after: 0,
            extend: None,
            accept: None,
            patterns: None,
            line_start: false,
            lines: None,
        }
    }

    /// Occurrences of any of `words`, exactly as written.
    pub fn literals(words: &[&str]) -> Self {
        Self::new(TriggerKind::Literals { words: words.iter().map(|w| (*w).to_owned()).collect(), ignore_case: false })
    }

    /// Occurrences of any of `words` in any letter case: ASCII letters either way, other letters
    /// in their single-character upper- and lower-case forms (`chère`, `CHÈRE`). Texts holding one
    /// of the few characters that only Unicode case folding maps onto such letters (`ſ`, the Kelvin
    /// sign `K`, the Ångström sign `Å`, `ẞ`) are scanned whole.
    pub fn literals_ignore_case(words: &[&str]) -> Self {
        Self::new(TriggerKind::Literals { words: words.iter().map(|w| (*w).to_owned()).collect(), ignore_case: true })
    }

    /// Digit clusters with at least `min` digits: runs of ASCII digits joined by up to three of
    /// `` .-/()+`` (so `+1 (212) 555-0198` is one cluster of 11 digits). The hit spans the cluster
    /// from its first digit to its last.
    pub fn digits(min: usize) -> Self {
        Self::new(TriggerKind::Digits { min })
    }

    /// Only literal hits that start a word: not preceded by an ASCII letter, digit or `_` (the
    /// ASCII `\b` of a pattern).
    pub fn word_start(mut self) -> Self {
        self.word_start = true;
        self
    }

    /// Only literal hits that start a line (after a `\n`, or at the text's start): for patterns
    /// anchored with `(?m)^`.
    pub fn line_start(mut self) -> Self {
        self.line_start = true;
        self
    }

    /// Widens the window to whole lines: from the start of the hit's line to the end of the line
    /// `below` lines under it (for candidates that start at a line start and span lines;
    /// `usize::MAX` reaches the end of the text).
    pub fn lines(mut self, below: usize) -> Self {
        self.lines = Some(below);
        self
    }

    /// The window around a hit: candidates start at most `before` bytes before the hit and end at
    /// most `after` bytes after it.
    pub fn window(mut self, before: usize, after: usize) -> Self {
        self.before = before;
        self.after = after;
        self
    }

    /// Extends the window over the run of bytes after the hit for which `f` holds (a token's
    /// characters), then by `after`: for candidates of unbounded length (`ey…` tokens, URLs).
    pub fn extend(mut self, f: fn(u8) -> bool) -> Self {
        self.extend = Some(f);
        self
    }

    /// Opens windows for these patterns only (indices into the recognizer's `patterns()`); by
    /// default a hit opens a window for every pattern. Each pattern runs on its own windows.
    pub fn patterns(mut self, patterns: &[usize]) -> Self {
        self.patterns = Some(patterns.to_vec());
        self
    }

    /// Keeps only the hits `f(text, start, end)` accepts: a cheap necessary condition (a digit
    /// nearby, a line start) checked before the window is scanned.
    pub fn accept(mut self, f: Accept) -> Self {
        self.accept = Some(f);
        self
    }
}

/// Characters that Unicode simple case folding (the regex crate's `(?i)`) or `to_lowercase` maps
/// onto a letter of a case-insensitive trigger although they are not that letter's ordinary upper
/// or lower case: `ſ` (s), the Kelvin sign (k), the Ångström sign (å), capital sharp s (ß). A text
/// holding one is scanned whole.
pub(crate) const EXOTIC: &[&str] = &["\u{17F}", "\u{212A}", "\u{212B}", "\u{1E9E}"];

/// The literal forms of a case-insensitive word for an automaton that already ignores ASCII case:
/// every combination of the non-ASCII letters' single-character upper- and lower-case forms.
pub(crate) fn case_variants(word: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    for c in word.chars() {
        let mut forms = vec![c];
        if !c.is_ascii() {
            for other in [single(c.to_uppercase()), single(c.to_lowercase())].into_iter().flatten() {
                if !forms.contains(&other) {
                    forms.push(other);
                }
            }
        }
        out = out
            .iter()
            .flat_map(|prefix| {
                forms.iter().map(move |f| {
                    let mut s = prefix.clone();
                    s.push(*f);
                    s
                })
            })
            .collect();
    }
    out
}

/// The character of a one-character case mapping.
fn single(mut it: impl Iterator<Item = char>) -> Option<char> {
    let c = it.next()?;
    it.next().is_none().then_some(c)
}

/// Whether the byte before `at` is not an ASCII word byte (the ASCII `\b` before a word).
pub(crate) fn starts_word(text: &str, at: usize) -> bool {
    at.checked_sub(1).and_then(|i| text.as_bytes().get(i)).is_none_or(|b| !(b.is_ascii_alphanumeric() || *b == b'_'))
}

/// Whether an ASCII digit occurs in `text[from..to]` (clamped to the text).
pub(crate) fn digit_in(text: &str, from: usize, to: usize) -> bool {
    let bytes = text.as_bytes();
    bytes.get(from.min(bytes.len())..to.min(bytes.len())).is_some_and(|s| s.iter().any(u8::is_ascii_digit))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn case_variants_cover_non_ascii_letters() {
        assert_eq!(case_variants("born"), ["born"]);
        assert_eq!(case_variants("chère"), ["chère", "chÈre"]);
        assert_eq!(case_variants("né le").len(), 2);
        assert_eq!(case_variants("grüß").len(), 2);
    }

    /// Every character that the regex crate's case-insensitive matching or `to_lowercase` maps
    /// onto a letter used in case-insensitive triggers is that letter, one of its case variants,
    /// or listed in [`EXOTIC`] (so texts with it are scanned whole).
    #[test]
    fn exotic_lists_every_other_case_folding_character() {
        let letters = "abcdefghijklmnopqrstuvwxyzàâäçéèêëíîïñóôöúùûüß";
        let class = regex::Regex::new(&format!("(?i)[{letters}]")).unwrap();
        let plain = |c: char| {
            c.is_ascii() || letters.chars().any(|l| case_variants(&l.to_string()).iter().any(|v| v.starts_with(c)))
        };
        let all: String = (0x80..=0x10FFFF_u32).filter_map(char::from_u32).collect();
        let folding = class.find_iter(&all).filter_map(|m| m.as_str().chars().next());
        let lowering = all.chars().filter(|c| single(c.to_lowercase()).is_some_and(|l| letters.contains(l)));
        let mut missing: Vec<char> =
            folding.chain(lowering).filter(|c| !plain(*c) && !EXOTIC.contains(&&*c.to_string())).collect();
        missing.dedup();
        assert!(missing.is_empty(), "not in EXOTIC: {missing:?}");
    }
}
