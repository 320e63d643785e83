//! The detection view of a text: characters that hide a value from pattern matching without
//! changing what a reader sees are removed or mapped to ASCII, and every byte of the view keeps
//! the offset it came from, so findings are reported (and redacted) on the original text.
//!
//! - Invisible format characters are removed: zero-width space, joiners and non-joiners, soft
//!   hyphen, word joiner and invisible operators, bidi marks, embeddings, overrides and
//!   isolates, the byte-order mark, Unicode tag characters. `ann.lee@exa\u{200B}mple.org` is
//!   an e-mail address to whoever reads it.
//! - Characters whose compatibility decomposition (NFKC, via `unicode-normalization`) is ASCII
//!   are mapped to it: full-width forms (`４１１１`), mathematical digits and letters, no-break
//!   and narrow no-break spaces (French digit grouping), ligatures.
//! - Typographic hyphens (hyphen, non-breaking hyphen, figure and en dashes, minus sign) become
//!   `-`: phone and card numbers pasted from word processors carry them, and NFKC leaves them.
//!   The em dash stays: it punctuates prose and is no digit separator.
//!
//! Text without any of these (all ASCII text, most prose) is not copied.

use std::borrow::Cow;

use unicode_normalization::char::decompose_compatible;

use super::Finding;

/// A folded copy of a text and the map back to it.
#[derive(Debug)]
pub(crate) struct Folded<'a> {
    original: &'a str,
    text: String,
    /// Where the view and the original line up again after each changed character: (view
    /// offset, original offset), increasing. Between two of them the texts are the same bytes.
    edits: Vec<(usize, usize)>,
}

/// What folding does to one character.
enum Fold {
    /// Left as it is.
    Keep,
    /// Removed from the view.
    Drop,
    /// Replaced by these ASCII bytes.
    Ascii([u8; 4], usize),
}

impl<'a> Folded<'a> {
    /// The view of `text`, or `None` when folding changes nothing. Runs of ASCII are copied
    /// whole; only non-ASCII characters are looked at.
    pub(crate) fn of(text: &'a str) -> Option<Self> {
        let bytes = text.as_bytes();
        let (mut view, mut at, mut copied) = (None::<Self>, 0, 0);
        while let Some(i) = bytes.get(at..).and_then(|rest| rest.iter().position(|b| *b >= 0x80)).map(|n| at + n) {
            // `i` starts a character: `at` always moves past whole characters.
            let c = text.get(i..).and_then(|rest| rest.chars().next())?;
            let next = i + c.len_utf8();
            let ascii = match fold(c) {
                Fold::Keep => None,
                Fold::Drop => Some(([0; 4], 0)),
                Fold::Ascii(bytes, n) => Some((bytes, n)),
            };
            if let Some((bytes, n)) = ascii {
                let v = view.get_or_insert_with(|| Self {
                    original: text,
                    text: String::with_capacity(text.len()),
                    edits: Vec::new(),
                });
                v.text.push_str(text.get(copied..i).unwrap_or_default());
                v.text.push_str(std::str::from_utf8(bytes.get(..n).unwrap_or_default()).unwrap_or_default());
                v.edits.push((v.text.len(), next));
                copied = next;
            }
            at = next;
        }
        let mut v = view?;
        v.text.push_str(text.get(copied..).unwrap_or_default());
        Some(v)
    }

    /// The folded text to scan.
    pub(crate) fn text(&self) -> &str {
        &self.text
    }

    /// The original offset of view offset `i`.
    fn origin(&self, i: usize) -> usize {
        match self.edits.partition_point(|(view, _)| *view <= i) {
            0 => i,
            k => self.edits.get(k - 1).map_or(i, |(view, original)| original + (i - view)),
        }
    }

    /// Moves a finding on the view onto the original text. Characters dropped inside the value
    /// are inside the span; those dropped right after it are too (the span ends where the next
    /// kept character starts), so a redaction leaves no invisible remnant. A span that starts or
    /// ends inside a character that folded to several (`ﬁ`) is widened to cover it.
    pub(crate) fn restore(&self, f: &mut Finding) {
        let text = self.original;
        let mut start = self.origin(f.start).min(text.len());
        while !text.is_char_boundary(start) {
            start -= 1;
        }
        let mut end = self.origin(f.end).clamp(start, text.len());
        while !text.is_char_boundary(end) {
            end += 1;
        }
        (f.start, f.end) = (start, end);
    }
}

/// `value` as detection sees it: equal values hidden differently compare (and hash) alike.
pub(crate) fn normalized(value: &str) -> Cow<'_, str> {
    Folded::of(value).map_or(Cow::Borrowed(value), |v| Cow::Owned(v.text))
}

/// Invisible format characters that can sit inside a value without showing.
fn invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00AD}'
            | '\u{034F}'
            | '\u{061C}'
            | '\u{180E}'
            | '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
            | '\u{E0000}'..='\u{E007F}'
    )
}

/// What folding does to a non-ASCII character.
fn fold(c: char) -> Fold {
    if invisible(c) {
        return Fold::Drop;
    }
    if matches!(c, '\u{2010}'..='\u{2013}' | '\u{2212}') {
        return Fold::Ascii([b'-', 0, 0, 0], 1);
    }
    let (mut bytes, mut n, mut ascii) = ([0u8; 4], 0, true);
    decompose_compatible(c, |d| match (u8::try_from(d), bytes.get_mut(n)) {
        (Ok(b), Some(slot)) if d.is_ascii() && ascii => {
            *slot = b;
            n += 1;
        }
        _ => ascii = false,
    });
    if ascii && n > 0 { Fold::Ascii(bytes, n) } else { Fold::Keep }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::EntityKind;

    fn finding(start: usize, end: usize) -> Finding {
        Finding { kind: EntityKind::Email, start, end, score: 1.0, recognizer: "test" }
    }

    #[test]
    fn ascii_and_plain_unicode_are_not_copied() {
        assert!(Folded::of("card 4111 1111 1111 1111").is_none());
        assert!(Folded::of("Grüße aus Köln, né le 3 mai — merci").is_none());
    }

    #[test]
    fn invisible_characters_are_dropped_and_spans_map_back() {
        let text = "mail ann\u{200B}.lee@corp\u{2060}-mail.io\u{FEFF} now";
        let v = Folded::of(text).unwrap();
        assert_eq!(v.text(), "mail ann.lee@corp-mail.io now");
        let (s, e) = (5, 5 + "ann.lee@corp-mail.io".len());
        let mut f = finding(s, e);
        v.restore(&mut f);
        assert_eq!(&text[f.start..f.end], "ann\u{200B}.lee@corp\u{2060}-mail.io\u{FEFF}");
    }

    #[test]
    fn full_width_digits_nbsp_and_dashes_become_ascii() {
        let text = "card ４１１１\u{00A0}1111\u{202F}1111–1111.";
        let v = Folded::of(text).unwrap();
        assert_eq!(v.text(), "card 4111 1111 1111-1111.");
        let mut f = finding(5, 5 + 19);
        v.restore(&mut f);
        assert_eq!(&text[f.start..f.end], "４１１１\u{00A0}1111\u{202F}1111–1111");
        assert!(text.is_char_boundary(f.start) && text.is_char_boundary(f.end));
    }

    #[test]
    fn mathematical_digits_and_ligatures_fold() {
        let v = Folded::of("𝟓𝟑𝟔-22-8741 ﬁle").unwrap();
        assert_eq!(v.text(), "536-22-8741 file");
    }

    #[test]
    fn normalized_values_compare_alike() {
        assert_eq!(normalized("５３６–22\u{200B}–8741"), "536-22-8741");
        assert!(matches!(normalized("536-22-8741"), Cow::Borrowed(_)));
    }

    #[test]
    fn spans_inside_an_expanded_character_cover_it() {
        let text = "the ﬁle";
        let v = Folded::of(text).unwrap();
        assert_eq!(v.text(), "the file");
        // "ile" starts inside the ligature's expansion.
        let mut f = finding(5, 8);
        v.restore(&mut f);
        assert_eq!(&text[f.start..f.end], "ﬁle");
    }

    #[test]
    fn a_finding_at_the_end_maps_to_the_end() {
        let text = "x\u{200B}y";
        let v = Folded::of(text).unwrap();
        let mut f = finding(0, 2);
        v.restore(&mut f);
        assert_eq!((f.start, f.end), (0, text.len()));
    }
}
