//! Politeness and filler wrappers at the start and end of a prompt, found on the intermediate
//! form's tokens.

use super::*;

/// A token of the intermediate form: its byte span and the flags of the separators around it.
#[derive(Clone, Copy)]
struct Tok {
    start: usize,
    end: usize,
    /// Flags of the separator before this token (the start flags for the first token).
    before: u8,
    /// Flags of the separator after this token (the end flags for the last token).
    after: u8,
}

/// Separator flags encoded by byte `b` (0 for a space).
fn sep_flags(b: u8) -> u8 {
    if b < 0x10 { b } else { 0 }
}

fn is_sep(b: u8) -> bool {
    b < 0x21
}

/// Up to `N` tokens of `s[lo..hi]` starting at `lo` (which must be a token start).
fn tokens_forward<const N: usize>(s: &[u8], lo: usize, hi: usize, start_flags: u8, end_flags: u8) -> ([Tok; N], usize) {
    let empty = Tok { start: 0, end: 0, before: 0, after: 0 };
    let mut toks = [empty; N];
    let mut n = 0usize;
    let mut p = lo;
    let mut before = if lo == 0 { start_flags } else { s.get(lo.wrapping_sub(1)).map_or(0, |&b| sep_flags(b)) };
    while p < hi && n < N {
        let mut e = p;
        while e < hi && !is_sep(s[e]) {
            e += 1;
        }
        let after = if e < s.len() { sep_flags(s[e]) } else { end_flags };
        toks[n] = Tok { start: p, end: e, before, after };
        n += 1;
        before = after;
        p = e + 1;
    }
    (toks, n)
}

/// Up to `N` tokens of `s[lo..hi]` ending at `hi` (which must be a token end), last first.
fn tokens_backward<const N: usize>(
    s: &[u8],
    lo: usize,
    hi: usize,
    start_flags: u8,
    end_flags: u8,
) -> ([Tok; N], usize) {
    let empty = Tok { start: 0, end: 0, before: 0, after: 0 };
    let mut toks = [empty; N];
    let mut n = 0usize;
    let mut e = hi;
    let mut after = if hi >= s.len() { end_flags } else { sep_flags(s[hi]) };
    while e > lo && n < N {
        let mut p = e;
        while p > lo && !is_sep(s[p - 1]) {
            p -= 1;
        }
        let before = if p == 0 { start_flags } else { sep_flags(s[p - 1]) };
        toks[n] = Tok { start: p, end: e, before, after };
        n += 1;
        after = before;
        if p <= lo {
            break;
        }
        e = p - 1;
    }
    (toks, n)
}

fn word<'a>(s: &'a str, t: &Tok) -> &'a str {
    s.get(t.start..t.end).unwrap_or("")
}

/// Whether tokens `toks[at..]` start with `phrase`.
fn starts_with_phrase(s: &str, toks: &[Tok], at: usize, phrase: &[&str]) -> bool {
    toks.len() >= at + phrase.len() && phrase.iter().enumerate().all(|(k, w)| word(s, &toks[at + k]) == *w)
}

const GREETINGS: &[&[&str]] = &[
    &["hi", "there"],
    &["hello", "there"],
    &["hey", "there"],
    &["hi", "all"],
    &["hello", "all"],
    &["hey", "all"],
    &["hi", "everyone"],
    &["hello", "everyone"],
    &["hi", "team"],
    &["hello", "team"],
    &["hey", "team"],
    &["hi"],
    &["hello"],
    &["hey"],
    &["hiya"],
    &["greetings"],
];

const LEADING_THANKS: &[&[&str]] = &[
    &["thank", "you", "in", "advance"],
    &["thanks", "in", "advance"],
    &["thank", "you"],
    &["many", "thanks"],
    &["thanks"],
    &["quick", "question"],
];

const PLEASE: &[&str] = &["please", "pls", "plz", "kindly"];

const KNOW_WRAPPERS: &[&[&str]] = &[
    &["i", "would", "like", "to", "know"],
    &["i'd", "like", "to", "know"],
    &["i", "want", "to", "know"],
    &["i", "wanted", "to", "know"],
];

const TRAILING_THANKS: &[&[&str]] = &[
    &["thank", "you", "in", "advance"],
    &["thank", "you", "very", "much"],
    &["thank", "you", "so", "much"],
    &["thanks", "in", "advance"],
    &["thanks", "a", "lot"],
    &["thanks", "so", "much"],
    &["many", "thanks"],
    &["thank", "you"],
    &["thanks"],
    &["thx"],
    &["cheers"],
];

/// Length in tokens of the leading wrapper at `toks[0..]`, or 0.
fn leading_wrapper(s: &str, toks: &[Tok]) -> usize {
    let Some(first) = toks.first() else { return 0 };
    if first.before & F_OPEN_QUOTE != 0 {
        return 0;
    }
    let is_starter = |i: usize| {
        toks.get(i).is_some_and(|t| {
            let w = word(s, t);
            t.before & F_OPEN_QUOTE == 0 && (STARTERS.contains(&w) || DIRECTIVES.contains(&w))
        })
    };
    let punct_after = |i: usize| toks.get(i).is_some_and(|t| t.after & (F_BOUNDARY | F_COLON) != 0);
    let is_directive =
        |i: usize| toks.get(i).is_some_and(|t| t.before & F_OPEN_QUOTE == 0 && DIRECTIVES.contains(&word(s, t)));

    for g in GREETINGS {
        if starts_with_phrase(s, toks, 0, g) && (punct_after(g.len() - 1) || is_starter(g.len())) {
            return g.len();
        }
    }
    for g in LEADING_THANKS {
        if starts_with_phrase(s, toks, 0, g) && punct_after(g.len() - 1) {
            return g.len();
        }
    }
    if PLEASE.contains(&word(s, first)) && (punct_after(0) || is_starter(1)) {
        return 1;
    }
    // can/could/would/will you [please] <directive>
    let modal = |at: usize| {
        let m = toks.get(at).map(|t| word(s, t));
        let you = toks.get(at + 1).map(|t| word(s, t));
        if !matches!(m, Some("can" | "could" | "would" | "will")) || !matches!(you, Some("you" | "u")) {
            return 0;
        }
        let mut n = 2;
        if toks.get(at + n).is_some_and(|t| PLEASE.contains(&word(s, t))) {
            n += 1;
        }
        if is_directive(at + n) { n } else { 0 }
    };
    let n = modal(0);
    if n > 0 {
        return n;
    }
    if starts_with_phrase(s, toks, 0, &["i", "was", "wondering", "if"])
        && toks.get(4).is_some_and(|t| word(s, t) == "you")
        && toks.get(5).is_some_and(|t| matches!(word(s, t), "could" | "can" | "would" | "might"))
    {
        let mut n = 6;
        if toks.get(n).is_some_and(|t| PLEASE.contains(&word(s, t))) {
            n += 1;
        }
        if is_directive(n) {
            return n;
        }
    }
    for g in KNOW_WRAPPERS {
        if starts_with_phrase(s, toks, 0, g) {
            return g.len();
        }
    }
    0
}

/// Length in tokens of the trailing wrapper ending at `rev[0]` (tokens given last first), or 0.
fn trailing_wrapper(s: &str, rev: &[Tok]) -> usize {
    let Some(last) = rev.first() else { return 0 };
    if last.after & F_CLOSE_QUOTE != 0 {
        return 0;
    }
    // The phrase tokens in reading order are rev[len-1], ..., rev[0].
    let matches_phrase = |phrase: &[&str]| {
        rev.len() > phrase.len()
            && phrase.iter().rev().enumerate().all(|(k, w)| word(s, &rev[k]) == *w)
            && rev[phrase.len() - 1].before & F_OPEN_QUOTE == 0
    };
    for phrase in TRAILING_THANKS {
        if matches_phrase(phrase) && rev[phrase.len() - 1].before & F_BOUNDARY != 0 {
            return phrase.len();
        }
    }
    if matches!(word(s, last), "please" | "pls" | "plz") && matches_phrase(&[word(s, last)]) {
        let boundary = last.before & F_BOUNDARY != 0;
        let mention = rev.get(1).is_some_and(|t| PLEASE_MENTIONS.contains(&word(s, t)));
        if boundary || (!mention && last.before & F_COLON == 0) {
            return 1;
        }
    }
    0
}

/// Removes wrappers at both ends of the intermediate form; returns the kept byte range.
pub(super) fn strip_wrappers(s: &str, start_flags: u8, end_flags: u8) -> (usize, usize) {
    let bytes = s.as_bytes();
    let mut lo = 0usize;
    let mut hi = s.len();
    // Each pass removes at least one token, so this terminates; the cap bounds the work.
    for _ in 0..8 {
        let (toks, n) = tokens_forward::<10>(bytes, lo, hi, start_flags, end_flags);
        let k = leading_wrapper(s, &toks[..n]);
        if k == 0 || k + 2 > n {
            break;
        }
        lo = toks[k].start;
    }
    for _ in 0..8 {
        let (rev, n) = tokens_backward::<6>(bytes, lo, hi, start_flags, end_flags);
        let k = trailing_wrapper(s, &rev[..n]);
        if k == 0 || k + 2 > n {
            break;
        }
        hi = rev[k].end;
    }
    (lo, hi)
}
