//! Tokenising, light stemming, the stop list and the synonym table shared by the guard's rules.
//!
//! The tokenizer works on the NFKC text with curly quotes folded. A token is a run of letters,
//! digits, `_` and `°`, with `. - ' /` kept between two alphanumerics (`node.js`, `e-mail`,
//! `don't`, `km/h`), `,` and `:` kept between two digits (`1,000`, `12:30`), a sign or `.`
//! kept before a digit (`-3`, `.5`) and a trailing `+`/`#` run kept after letters (`c++`, `c#`).
//! A number glued to a known unit or ordinal suffix is split (`5km` → `5` `km`, `3pm` → `3` `pm`,
//! `2nd` → `second`). Comparison operators, currency signs and `%` become symbol tokens, and so
//! does an arithmetic operator between two numbers. Everything else separates tokens.

mod lists;

use std::collections::{HashMap, HashSet};

use unicode_normalization::UnicodeNormalization;

pub(crate) use lists::{SOFT_WORDS, STOP_WORDS, SYNONYMS};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Letters (possibly with digits or joiners).
    Word,
    /// A numeric literal (`5`, `-3`, `1,000`, `2.5`, `.5`).
    Number,
    /// A symbol (`%`, `$`, `>`, `>=`, `+`, ...).
    Symbol,
}

/// One token of a prompt.
#[derive(Debug, Clone)]
pub(crate) struct Token {
    /// As written (after NFKC and quote folding).
    pub(crate) raw: String,
    /// Lower-cased, with `'s`, `'re`, `n't` and similar suffixes removed (`n't` sets `neg`),
    /// and ordinals `1st`..`10th` spelled out.
    pub(crate) lower: String,
    /// Word, number or symbol.
    pub(crate) kind: Kind,
    /// First word of a sentence (after the start, `. ! ? ; :` or a line break).
    pub(crate) initial: bool,
    /// The quoted span this token is in, if any.
    pub(crate) span: Option<usize>,
    /// A negative contraction (`don't`, `can't`, `cannot`).
    pub(crate) neg: bool,
}

impl Token {
    /// A number as written (`1990`, `3.5`), its own lower-case form.
    fn number(text: &str, initial: bool, span: Option<usize>) -> Self {
        Self { raw: text.to_owned(), lower: text.to_owned(), kind: Kind::Number, initial, span, neg: false }
    }

    /// True when the raw form starts with an upper-case letter.
    pub(crate) fn capitalised(&self) -> bool {
        self.raw.chars().next().is_some_and(char::is_uppercase)
    }

    /// True when the raw form has an upper-case letter after a lower-case one (`iPhone`, `macOS`).
    pub(crate) fn internal_capital(&self) -> bool {
        let mut seen_lower = false;
        for c in self.raw.chars() {
            if c.is_lowercase() {
                seen_lower = true;
            } else if c.is_uppercase() && seen_lower {
                return true;
            }
        }
        false
    }

    /// True when the token contains a digit.
    pub(crate) fn has_digit(&self) -> bool {
        self.raw.chars().any(|c| c.is_ascii_digit())
    }
}

/// NFKC, then curly quotes and apostrophes folded to ASCII, `−`/`–` to `-`, `—` to a space.
pub(crate) fn normalize(text: &str) -> String {
    text.nfkc()
        .map(|c| match c {
            '\u{2019}' | '\u{2018}' | '\u{02BC}' | '\u{201B}' => '\'',
            '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' => '"',
            '\u{2212}' | '\u{2013}' => '-',
            '\u{2014}' => ' ',
            _ => c,
        })
        .filter(|c| !matches!(c, '\u{00AD}' | '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{2060}' | '\u{FEFF}'))
        .collect()
}

/// Span id per character for characters strictly inside quotes (`"..."`, `` `...` ``,
/// `'...'`, `«...»`). A `'` opens only after a non-alphanumeric and closes only before one, so
/// apostrophes (`don't`) are not quotes.
fn quote_mask(chars: &[char]) -> Vec<Option<usize>> {
    let mut mask = vec![None; chars.len()];
    let mut open: Option<(char, usize)> = None;
    let mut spans = 0usize;
    for (i, &c) in chars.iter().enumerate() {
        let prev_alnum = i > 0 && chars[i - 1].is_alphanumeric();
        let next = chars.get(i + 1).copied();
        let next_alnum = next.is_some_and(char::is_alphanumeric);
        match open {
            Some((q, _)) => {
                let closes = match q {
                    '\'' => c == '\'' && !next_alnum,
                    '«' => c == '»',
                    _ => c == q,
                };
                if closes {
                    open = None;
                    spans += 1;
                } else {
                    mask[i] = Some(spans);
                }
            }
            None => {
                let opens = match c {
                    '"' | '`' | '«' => true,
                    '\'' => !prev_alnum && next.is_some_and(|n| !n.is_whitespace()),
                    _ => false,
                };
                if opens {
                    open = Some((c, i));
                }
            }
        }
    }
    // An unclosed quote quotes nothing.
    if let Some((_, start)) = open {
        for m in mask.iter_mut().skip(start) {
            if *m == Some(spans) {
                *m = None;
            }
        }
    }
    mask
}

/// Unit and time suffixes split off a number they are glued to (`5km`, `3pm`).
const GLUED_SUFFIXES: &[&str] = &[
    "km", "m", "cm", "mm", "mi", "ft", "in", "yd", "kg", "g", "mg", "lb", "lbs", "oz", "t", "l", "ml", "gal", "h",
    "hr", "hrs", "min", "mins", "s", "sec", "secs", "ms", "d", "wk", "wks", "yr", "yrs", "am", "pm", "gb", "mb", "kb",
    "tb", "gib", "mib", "kib", "mbps", "gbps", "kbps", "hz", "khz", "mhz", "ghz", "w", "kw", "kwh", "mw", "v", "mah",
    "°c", "°f", "c", "f", "mph", "kph", "kmh", "x", "usd", "eur", "gbp", "cad", "aud", "jpy", "inr", "chf", "cny",
    "btc",
];

const ORDINAL_WORDS: [&str; 10] =
    ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"];

/// Splits `s` into a numeric prefix (sign, digits, `,`/`.` between digits) and the rest.
fn numeric_prefix(s: &str) -> (&str, &str) {
    let bytes = s.as_bytes();
    let mut i = 0usize;
    if matches!(bytes.first(), Some(b'-' | b'+' | b'.')) {
        i = 1;
    }
    let digits_start = i;
    while i < bytes.len() {
        let b = bytes[i];
        let joins =
            matches!(b, b',' | b'.' | b':') && i > digits_start && bytes.get(i + 1).is_some_and(u8::is_ascii_digit);
        if b.is_ascii_digit() || joins {
            i += 1;
        } else {
            break;
        }
    }
    if i == digits_start || !bytes[digits_start..i].iter().any(u8::is_ascii_digit) {
        return ("", s);
    }
    s.split_at(i)
}

/// True for a whole numeric literal.
fn is_number_literal(s: &str) -> bool {
    let (num, rest) = numeric_prefix(s);
    !num.is_empty() && rest.is_empty() && !num.contains(':')
}

/// Lower form of a word token, with contraction suffixes handled; returns (lower, neg).
fn word_lower(raw: &str) -> (String, bool) {
    let lower = raw.to_lowercase();
    if let Some(base) = lower.strip_suffix("n't") {
        let base = match base {
            "ca" => "can",
            "wo" => "will",
            "sha" => "shall",
            "ai" => "is",
            other => other,
        };
        return (base.to_owned(), true);
    }
    let negative_base = match lower.as_str() {
        "cannot" | "cant" => Some("can"),
        "wont" => Some("will"),
        "dont" => Some("do"),
        "doesnt" => Some("does"),
        "didnt" => Some("did"),
        "isnt" => Some("is"),
        "arent" => Some("are"),
        "wasnt" => Some("was"),
        "werent" => Some("were"),
        "havent" => Some("have"),
        "hasnt" => Some("has"),
        "couldnt" => Some("could"),
        "shouldnt" => Some("should"),
        "wouldnt" => Some("would"),
        _ => None,
    };
    if let Some(base) = negative_base {
        return (base.to_owned(), true);
    }
    for suffix in ["'s", "'re", "'ve", "'ll", "'m", "'d", "'"] {
        if let Some(base) = lower.strip_suffix(suffix)
            && !base.is_empty()
        {
            return (base.to_owned(), false);
        }
    }
    (lower, false)
}

fn is_symbol(c: char) -> bool {
    matches!(
        c,
        '%' | '$' | '€' | '£' | '¥' | '₹' | '<' | '>' | '=' | '≤' | '≥' | '≠' | '+' | '&' | '@' | '#' | '^' | '~'
    )
}

fn is_arith(c: char) -> bool {
    matches!(c, '-' | '*' | '/' | '×' | '÷' | '^')
}

/// Splits `text` (already [`normalize`]d) into tokens.
pub(crate) fn tokenize(text: &str) -> Vec<Token> {
    let chars: Vec<char> = text.chars().collect();
    let mask = quote_mask(&chars);
    let n = chars.len();
    let mut tokens = Vec::new();
    let mut sentence_start = true;
    let mut i = 0usize;
    while i < n {
        let c = chars[i];
        let prev = if i > 0 { Some(chars[i - 1]) } else { None };
        let next = chars.get(i + 1).copied();
        let sign_start = matches!(c, '-' | '+' | '.')
            && next.is_some_and(|d| d.is_ascii_digit())
            && !prev.is_some_and(char::is_alphanumeric);
        if c.is_alphanumeric() || c == '_' || sign_start {
            let start = i;
            let mut j = if sign_start { i + 1 } else { i };
            while j < n {
                let d = chars[j];
                if d.is_alphanumeric() || d == '_' || d == '°' {
                    j += 1;
                    continue;
                }
                let p = chars[j - 1];
                let nx = chars.get(j + 1).copied();
                let joins = match d {
                    '.' | '-' | '\'' | '/' => p.is_alphanumeric() && nx.is_some_and(char::is_alphanumeric),
                    ',' | ':' => p.is_ascii_digit() && nx.is_some_and(|x| x.is_ascii_digit()),
                    _ => false,
                };
                if joins {
                    j += 1;
                } else {
                    break;
                }
            }
            // c++, c#, f#, notepad++
            if j < n && matches!(chars[j], '+' | '#') && chars[start..j].iter().all(|x| x.is_alphabetic()) {
                let mut k = j;
                while k < n && k < j + 2 && chars[k] == chars[j] {
                    k += 1;
                }
                if !chars.get(k).is_some_and(|x| x.is_alphanumeric()) {
                    j = k;
                }
            }
            let raw: String = chars[start..j].iter().collect();
            let span = mask[start];
            push_word(&mut tokens, &raw, sentence_start, span);
            sentence_start = false;
            i = j;
            continue;
        }
        if matches!(c, '.' | '!' | '?' | ';' | ':' | '\n' | '\r' | '•') {
            sentence_start = true;
        }
        if is_symbol(c) || (c == '!' && next == Some('=')) {
            let two: Option<&str> = match (c, next) {
                ('>', Some('=')) => Some(">="),
                ('<', Some('=')) => Some("<="),
                ('!', Some('=')) => Some("!="),
                ('=', Some('=')) => Some("=="),
                ('=', Some('>')) | ('-', Some('>')) => Some("=>"),
                _ => None,
            };
            let s = two.map_or_else(|| c.to_string(), str::to_owned);
            i += if two.is_some() { 2 } else { 1 };
            tokens.push(Token {
                lower: s.clone(),
                raw: s,
                kind: Kind::Symbol,
                initial: false,
                span: mask.get(i.saturating_sub(1)).copied().flatten(),
                neg: false,
            });
            continue;
        }
        if is_arith(c) {
            let before = chars[..i].iter().rev().find(|x| !x.is_whitespace());
            let after = chars[i + 1..].iter().find(|x| !x.is_whitespace());
            if before.is_some_and(char::is_ascii_digit) && after.is_some_and(char::is_ascii_digit) {
                let s = if matches!(c, '×') { "*".to_owned() } else { c.to_string() };
                tokens.push(Token {
                    lower: s.clone(),
                    raw: s,
                    kind: Kind::Symbol,
                    initial: false,
                    span: mask[i],
                    neg: false,
                });
            }
        }
        i += 1;
    }
    tokens
}

/// Pushes the token(s) for one word-like run `raw`.
fn push_word(tokens: &mut Vec<Token>, raw: &str, initial: bool, span: Option<usize>) {
    let (num, rest) = numeric_prefix(raw);
    if !num.is_empty() && !rest.is_empty() && !num.contains(':') {
        let suffix = rest.to_lowercase();
        let value: Option<usize> = num.parse().ok();
        if matches!(suffix.as_str(), "st" | "nd" | "rd" | "th") {
            if let Some(v @ 1..=10) = value {
                let word = ORDINAL_WORDS[v - 1];
                tokens.push(Token {
                    raw: raw.to_owned(),
                    lower: word.to_owned(),
                    kind: Kind::Word,
                    initial,
                    span,
                    neg: false,
                });
            } else {
                tokens.push(Token::number(num, initial, span));
            }
            return;
        }
        // "1990s" is a decade, not seconds.
        let decade = suffix == "s" && num.len() >= 2 && num.ends_with('0');
        if GLUED_SUFFIXES.contains(&suffix.as_str()) && !decade {
            tokens.push(Token::number(num, initial, span));
            tokens.push(Token {
                raw: rest.to_owned(),
                lower: suffix,
                kind: Kind::Word,
                initial: false,
                span,
                neg: false,
            });
            return;
        }
    }
    if is_number_literal(raw) {
        tokens.push(Token::number(raw, initial, span));
        return;
    }
    let (lower, neg) = word_lower(raw);
    tokens.push(Token { raw: raw.to_owned(), lower, kind: Kind::Word, initial, span, neg });
}

/// A light suffix stemmer: plural `s`/`es`/`ies`, `ing`, `ed`/`ied`, final `e`/`y` folded, a
/// doubled final consonant undoubled. Words of three letters or fewer, and words with
/// characters other than ASCII letters, are returned unchanged.
pub(crate) fn stem(word: &str) -> String {
    if word.len() <= 3 || !word.bytes().all(|b| b.is_ascii_lowercase()) {
        return word.to_owned();
    }
    let mut w = word.to_owned();
    if let Some(base) = w.strip_suffix("ies").filter(|b| b.len() >= 2) {
        w = format!("{base}i");
    } else if let Some(base) = w.strip_suffix("ied").filter(|b| b.len() >= 2) {
        w = format!("{base}i");
    } else if let Some(base) = w.strip_suffix("es").filter(|b| {
        b.len() >= 3
            && (b.ends_with('s') || b.ends_with('x') || b.ends_with('z') || b.ends_with("ch") || b.ends_with("sh"))
    }) {
        w = base.to_owned();
    } else if w.ends_with('s') && !w.ends_with("ss") && !w.ends_with("us") && !w.ends_with("is") {
        w.pop();
    } else if let Some(base) = w.strip_suffix("ation").filter(|b| b.len() >= 3) {
        w = format!("{base}at");
    } else if let Some(base) = w.strip_suffix("ing").filter(|b| b.len() >= 3) {
        w = undouble(base);
    } else if let Some(base) = w.strip_suffix("ed").filter(|b| b.len() >= 3) {
        w = undouble(base);
    }
    if w.len() > 3 {
        if w.ends_with('e') {
            w.pop();
        } else if w.ends_with('y') {
            w.pop();
            w.push('i');
        }
    }
    w
}

/// Every word of a space-separated phrase stemmed.
pub(crate) fn stem_phrase(phrase: &str) -> String {
    phrase.split(' ').map(stem).collect::<Vec<_>>().join(" ")
}

fn undouble(base: &str) -> String {
    let b = base.as_bytes();
    let n = b.len();
    if n >= 2 && b[n - 1] == b[n - 2] && !matches!(b[n - 1], b'l' | b's' | b'z' | b'e' | b'o') {
        base[..n - 1].to_owned()
    } else {
        base.to_owned()
    }
}

/// Precomputed word lists.
pub(crate) struct Words {
    pub(crate) stops: HashSet<String>,
    pub(crate) soft: HashSet<String>,
    /// Stemmed single word → group key.
    pub(crate) synonyms: HashMap<String, &'static str>,
    /// Multi-word phrase (lower words joined by one space) → group key.
    pub(crate) synonym_phrases: HashMap<String, &'static str>,
    /// The same with every word stemmed (`hash tables` = `hash table`).
    pub(crate) synonym_stem_phrases: HashMap<String, &'static str>,
    /// Longest synonym phrase, in words.
    pub(crate) max_phrase: usize,
}

impl Words {
    pub(crate) fn new() -> Self {
        let mut stops = HashSet::new();
        for w in STOP_WORDS {
            stops.insert((*w).to_owned());
            stops.insert(stem(w));
        }
        let mut soft = HashSet::new();
        let mut synonyms = HashMap::new();
        let mut synonym_phrases = HashMap::new();
        let mut synonym_stem_phrases = HashMap::new();
        let mut max_phrase = 1;
        for (key, words) in SYNONYMS {
            for w in *words {
                if w.contains(' ') {
                    max_phrase = max_phrase.max(w.split(' ').count());
                    synonym_phrases.insert((*w).to_owned(), *key);
                    synonym_stem_phrases.insert(stem_phrase(w), *key);
                } else {
                    synonyms.insert(stem(w), *key);
                }
            }
            synonyms.entry(stem(key)).or_insert(*key);
        }
        for w in SOFT_WORDS {
            soft.insert((*w).to_owned());
            soft.insert(stem(w));
            if let Some(key) = synonyms.get(&stem(w)) {
                soft.insert((*key).to_owned());
            }
        }
        Self { stops, soft, synonyms, synonym_phrases, synonym_stem_phrases, max_phrase }
    }

    /// The content key of a single lower-case word: its synonym group, else its stem.
    pub(crate) fn key(&self, lower: &str) -> String {
        let s = stem(lower);
        match self.synonyms.get(&s) {
            Some(k) => (*k).to_owned(),
            None => s,
        }
    }

    pub(crate) fn is_stop(&self, lower: &str) -> bool {
        self.stops.contains(lower) || self.stops.contains(&stem(lower))
    }
}

#[cfg(test)]
mod tests;
