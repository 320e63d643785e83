//! Passport numbers, only directly after passport context ("passport", "passport no.",
//! "Reisepass", "Reisepassnummer", "passeport", "pasaporte", optionally followed by a number word
//! such as "no.", "number", "Nr.", "n°", "numéro", "número", "is", "de"): a token of 6–9
//! upper-case letters and digits with at least one digit (US and UK: 9 digits; DE: `C01X00T47`).
//!
//! Not recognised: numbers without such context, lower-case tokens, machine-readable zones.
//! There is no checksum for the printed number, so the context gate is the precision.

use crate::compliance::pii::triggers::digit_in;
use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// Finds passport numbers after passport context (score 0.85); the span is the number only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Passport;

const NAME: &str = "passport";
const SCORE: f32 = 0.85;
/// The longest number.
const NUMBER: usize = 9;

/// The bytes of what may stand between the passport word and the number: blanks, `:#.,-_`,
/// opening quotes and brackets and markdown emphasis (`"'([<*` and backtick), the
/// letters of `no`, `nr`, `number`, `nummer`, `numéro`, `número`, `is`, `de`, `du` (either case)
/// and non-ASCII bytes (`n°`, `nº`, `é`, `ú`). Digits are not among them: a number's first digit
/// is at most its length after the end of their run.
fn number_word_byte(b: u8) -> bool {
    b.is_ascii_whitespace()
        || matches!(b, b':' | b'#' | b'.' | b'-' | b'_' | b',' | b'"' | b'\'' | b'(' | b'[' | b'<' | b'*' | b'`')
        || matches!(b.to_ascii_lowercase(), b'n' | b'o' | b'r' | b'u' | b'm' | b'b' | b'e' | b'i' | b's' | b'd')
        || b >= 0x80
}

impl Recognizer for Passport {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![
            r#"(?i:\b(?:passport|reisepass|passeport|pasaporte)(?:nummer|nr)?)(?i:[\s:#.,_\-"'(\[<*`]|\bno\b|\bnr\b|n°|nº|\bnumber\b|number\b|\bnummer\b|\bnum[ée]ro\b|\bnúmero\b|\bis\b|\bde\b|\bdu\b)*\b[A-Z0-9]{6,9}\b"#
                .to_owned(),
        ]
    }

    /// The passport word; the window runs over the number words and separators after it (bytes of
    /// `number_word_byte`) and the number, which holds a digit.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        let digit_follows = |text: &str, _start: usize, end: usize| {
            let rest = text.as_bytes().get(end..).unwrap_or_default();
            let words = rest.iter().take_while(|b| number_word_byte(**b)).count();
            digit_in(text, end + words, end + words + NUMBER)
        };
        Some(vec![
            Trigger::literals_ignore_case(&["passport", "reisepass", "passeport", "pasaporte"])
                .word_start()
                .window(0, NUMBER + 1)
                .extend(number_word_byte)
                .accept(digit_follows),
        ])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        // The number is the trailing alphanumeric run of the match.
        let token_start = candidate.rfind(|c: char| !c.is_ascii_alphanumeric()).map_or(0, |i| i + 1);
        let token = candidate.get(token_start..)?;
        if !(6..=9).contains(&token.len()) || !token.chars().any(|c| c.is_ascii_digit()) {
            return None;
        }
        if token.chars().all(|c| token.starts_with(c)) {
            return None;
        }
        if text.get(end..).and_then(|s| s.chars().next()).is_some_and(|c| c.is_alphanumeric() || c == '-') {
            return None;
        }
        let start = start + token_start;
        Some(Finding { kind: EntityKind::Passport, start, end, score: SCORE, recognizer: NAME })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(Passport)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn passport_finds_numbers_after_context_with_number_span() {
        assert_eq!(spans("Passport No. 123456789, expires 2030"), ["123456789"]);
        assert_eq!(spans("passport number: 987654321"), ["987654321"]);
        assert_eq!(spans("Reisepass Nr. C01X00T47"), ["C01X00T47"]);
        assert_eq!(spans("Reisepassnummer C01X00T47"), ["C01X00T47"]);
        assert_eq!(spans("numéro de passeport : 18AV12345"), ["18AV12345"]);
        assert_eq!(spans("pasaporte número PAB123456"), ["PAB123456"]);
        assert_eq!(spans("my passport is X1234567."), ["X1234567"]);
        assert_eq!(spans(r#"{"type":"PASSPORT","number":"973235893"}"#), ["973235893"]);
        assert_eq!(spans("passport number \"649106549\""), ["649106549"]);
        assert_eq!(spans(r#"{"type":"passport","passport_number":"128844703"}"#), ["128844703"]);
    }

    #[test]
    fn passport_requires_context_and_a_digit() {
        for text in [
            "123456789",
            "Order C01X00T47",
            "passport ABCDEFGH",
            "passport 12345",
            "passport 1234567890",
            "passport 111111111",
            "passport holder JOHNSON",
            "passport v1.2.3.4",
            "passport 978-3-16-148410-0",
            "passport 550e8400-e29b-41d4-a716-446655440000",
            "passport XXX-XX-XXXX",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
    }
}
