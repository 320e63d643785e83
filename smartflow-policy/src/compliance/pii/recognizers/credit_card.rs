//! Payment card numbers (PANs): 13–19 digits, either contiguous or in groups separated by one
//! space or one dash (the same separator throughout, first group of four digits), with a known
//! brand prefix and length, and a valid Luhn checksum.
//!
//! Well-known test numbers (`4111 1111 1111 1111`, `5555 5555 5555 4444`) *are* reported: a DLP
//! cannot tell a test card from a real one. Masked cards (`**** **** **** 1234`) have too few
//! digits to match. Digit runs that continue past the candidate (tracking numbers, longer IDs) or
//! are glued to letters are rejected.

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, context_near};

/// Finds Luhn-valid card numbers of a known brand (score 0.9; 1.0 next to card context).
#[derive(Debug, Clone, Copy, Default)]
pub struct CreditCard;

const NAME: &str = "credit_card";
const SCORE: f32 = 0.9;
const SCORE_WITH_CONTEXT: f32 = 1.0;
const CONTEXT: &[&str] = &[
    "card",
    "credit",
    "debit",
    "visa",
    "mastercard",
    "amex",
    "discover",
    "jcb",
    "diners",
    "maestro",
    "unionpay",
    "cc",
    "pan",
    "karte",
    "carte",
    "tarjeta",
];

/// A brand's prefix range (inclusive, compared on the first `digits` digits) and allowed lengths.
struct Brand {
    low: u32,
    high: u32,
    digits: usize,
    lengths: &'static [usize],
}

const fn brand(low: u32, high: u32, digits: usize, lengths: &'static [usize]) -> Brand {
    Brand { low, high, digits, lengths }
}

const SIXTEEN_TO_NINETEEN: &[usize] = &[16, 17, 18, 19];

const BRANDS: &[Brand] = &[
    // Visa
    brand(4, 4, 1, &[13, 16, 19]),
    // Mastercard
    brand(51, 55, 2, &[16]),
    brand(2221, 2720, 4, &[16]),
    // American Express
    brand(34, 34, 2, &[15]),
    brand(37, 37, 2, &[15]),
    // Discover
    brand(6011, 6011, 4, SIXTEEN_TO_NINETEEN),
    brand(644, 649, 3, SIXTEEN_TO_NINETEEN),
    brand(65, 65, 2, SIXTEEN_TO_NINETEEN),
    // JCB
    brand(3528, 3589, 4, SIXTEEN_TO_NINETEEN),
    // Diners Club
    brand(300, 305, 3, &[14, 15, 16, 17, 18, 19]),
    brand(36, 36, 2, &[14, 15, 16, 17, 18, 19]),
    brand(38, 38, 2, &[14, 15, 16, 17, 18, 19]),
    // UnionPay
    brand(62, 62, 2, SIXTEEN_TO_NINETEEN),
    // Maestro
    brand(5018, 5018, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(5020, 5020, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(5038, 5038, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(5893, 5893, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(6304, 6304, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(6759, 6759, 4, &[13, 14, 15, 16, 17, 18, 19]),
    brand(6761, 6763, 4, &[13, 14, 15, 16, 17, 18, 19]),
];

impl Recognizer for CreditCard {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![r"\b\d{13,19}\b".to_owned(), r"\b\d{4}(?:[ \-]\d{2,6}){2,5}\b".to_owned()]
    }

    /// Digit clusters of at least 13 digits.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![Trigger::digits(13).window(2, 2)])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        if !neighbours_ok(text, start, end) || !separators_ok(candidate) {
            return None;
        }
        let digits: Vec<u32> = candidate.chars().filter_map(|c| c.to_digit(10)).collect();
        if !(13..=19).contains(&digits.len()) || !has_brand(&digits) || !luhn(&digits) {
            return None;
        }
        if digits.iter().all(|d| Some(d) == digits.first()) {
            return None;
        }
        let score = if context_near(text, start, 40, CONTEXT) { SCORE_WITH_CONTEXT } else { SCORE };
        Some(Finding { kind: EntityKind::CreditCard, start, end, score, recognizer: NAME })
    }
}

/// Not glued to letters, not part of a longer dotted/dashed/spaced number.
fn neighbours_ok(text: &str, start: usize, end: usize) -> bool {
    let before = text.get(..start).unwrap_or_default();
    let after = text.get(end..).unwrap_or_default();
    let mut back = before.chars().rev();
    let mut ahead = after.chars();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let (b1, b2) = (back.next(), back.next());
    let (a1, a2) = (ahead.next(), ahead.next());
    if glued(b1) || glued(a1) {
        return false;
    }
    let joins = |sep: Option<char>, next: Option<char>| {
        sep.is_some_and(|c| matches!(c, '-' | '.' | ' ' | '/' | ':')) && next.is_some_and(|c| c.is_ascii_digit())
    };
    !joins(b1, b2) && !joins(a1, a2)
}

/// Contiguous, or one kind of single separator in the printed layouts: groups of four (the last
/// one shorter), or 4-6-4 / 4-6-5 (Diners, Amex).
fn separators_ok(candidate: &str) -> bool {
    let mut seps = candidate.chars().filter(|c| !c.is_ascii_digit());
    let Some(first) = seps.next() else { return true };
    if !seps.all(|c| c == first) {
        return false;
    }
    let groups: Vec<usize> = candidate.split(first).map(str::len).collect();
    let fours = groups.split_last().is_some_and(|(last, rest)| (1..=4).contains(last) && rest.iter().all(|g| *g == 4));
    fours || groups == [4, 6, 4] || groups == [4, 6, 5]
}

fn has_brand(digits: &[u32]) -> bool {
    BRANDS.iter().any(|b| {
        b.lengths.contains(&digits.len())
            && digits.get(..b.digits).is_some_and(|p| {
                let prefix = p.iter().fold(0, |acc, d| acc * 10 + d);
                (b.low..=b.high).contains(&prefix)
            })
    })
}

fn luhn(digits: &[u32]) -> bool {
    let sum: u32 = digits
        .iter()
        .rev()
        .enumerate()
        .map(|(i, &d)| {
            if i % 2 == 1 {
                let doubled = d * 2;
                if doubled > 9 { doubled - 9 } else { doubled }
            } else {
                d
            }
        })
        .sum();
    sum.is_multiple_of(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(CreditCard)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn credit_card_finds_brands_with_exact_span() {
        for card in [
            "4111 1111 1111 1111",
            "4111-1111-1111-1111",
            "4111111111111111",
            "5555 5555 5555 4444",
            "2223 0031 2200 3222",
            "3782 822463 10005",
            "378282246310005",
            "6011 1111 1111 1117",
            "3530 1113 3330 0000",
            "3056 9309 0259 04",
            "6200 0000 0000 0005",
            "4222222222222",
        ] {
            let text = format!("Paid with {card}, thanks.");
            assert_eq!(spans(&text), [card], "{card}");
        }
    }

    #[test]
    fn credit_card_context_raises_score() {
        let d = Detector::builder().recognizer(Box::new(CreditCard)).build().unwrap();
        assert_eq!(d.detect("visa card: 4111111111111111")[0].score, SCORE_WITH_CONTEXT);
        assert_eq!(d.detect("ref 4111111111111111")[0].score, SCORE);
    }

    #[test]
    fn credit_card_rejects_hard_negatives() {
        for text in [
            "Order 4111 1111 1111 1112 shipped",
            "order number 1234567890123456",
            "**** **** **** 1234",
            "4111 11111 1111 111",
            "4111 1111-1111 1111",
            "tracking 1Z999AA10123456784",
            "9400 1000 0000 0000 0000 00",
            "4111 1111 1111 1111 2222",
            "ID4111111111111111",
            "978-3-16-148410-0",
            "550e8400-e29b-41d4-a716-446655440000",
            "0000 0000 0000 0000",
            "12345678901234567890123",
            "1700000000123",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn credit_card_luhn() {
        assert!(luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 3]));
        assert!(!luhn(&[7, 9, 9, 2, 7, 3, 9, 8, 7, 1, 4]));
    }
}
