//! Telephone numbers. Candidates are found by shape — a `+` international number, a national
//! number written with separators (`(212) 555-0123`, `030 1234567`, `06 12 34 56 78`,
//! `612 345 678`) or a bare 10–11 digit run — and validated against libphonenumber's numbering
//! plan data (the `phonenumber` crate): `+` numbers as given, national numbers in any of the
//! default regions US, GB, DE, FR, ES, IT, NL, CH.
//!
//! Rejected before validation: dates (`2024-01-15`, `15.01.2024`), times and timestamps, version
//! strings and dotted/dashed runs that continue past the candidate (`1.2.3.4.5`, ISBN
//! `978-3-16-148410-0`), numbers glued to letters (`A1234567890`, `v10.12.14`), and candidates next
//! to identifier words (order, invoice, ISBN, tracking, serial, version...). Bare digit runs score
//! 0.3 unless phone context ("phone", "tel", "mobile", "call", "Telefon", "téléphone", "teléfono",
//! "Handy"...) precedes them, so without context they fall under the default threshold.

use phonenumber::country::Id;

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, context_near};

/// Finds numbering-plan-valid phone numbers (0.7 international, 0.6 national, 0.3 bare digits;
/// +0.3 with phone context, capped at 0.95).
#[derive(Debug, Clone, Copy, Default)]
pub struct Phone;

const NAME: &str = "phone";
const CONTEXT: &[&str] = &[
    "phone",
    "tel",
    "mobile",
    "cell",
    "call",
    "fax",
    "whatsapp",
    "telefon",
    "téléphone",
    "telephone",
    "portable",
    "teléfono",
    "telefono",
    "móvil",
    "movil",
    "handy",
    "ruf",
    "tél",
];
const NEGATIVE_CONTEXT: &[&str] =
    &["order", "invoice", "isbn", "tracking", "serial", "version", "sku", "ref", "ticket", "account", "iban", "id:"];
const REGIONS: &[Id] = &[Id::US, Id::GB, Id::DE, Id::FR, Id::ES, Id::IT, Id::NL, Id::CH];

impl Recognizer for Phone {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![
            // International: `+CC` then up to six digit groups, optionally separated / bracketed.
            r"\+\d{1,3}(?:[ .\-]?\(?\d{1,5}\)?){1,6}".to_owned(),
            // National with separators.
            r"(?:\(\d{2,5}\)[ ]?|\b\d{2,5}[ .\-/])\d{2,8}(?:[ .\-]\d{2,4}){0,4}\b".to_owned(),
            // Bare digit run.
            r"\b\d{10,11}\b".to_owned(),
        ]
    }

    /// Digit clusters of at least 7 digits (a candidate's digits are one cluster: its separators
    /// are at most `) (`), with room for a leading `+` or `(` and a trailing `)`.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![Trigger::digits(7).window(4, 4).accept(not_a_date)])
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        if !neighbours_ok(text, start, end) || looks_like_date(candidate) {
            return None;
        }
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return None;
        }
        let context = context_near(text, start, 30, CONTEXT);
        if !context && context_near(text, start, 30, NEGATIVE_CONTEXT) {
            return None;
        }
        let valid = if pattern == 0 {
            phonenumber::parse(None, candidate).is_ok_and(|n| phonenumber::is_valid(&n))
        } else {
            REGIONS.iter().any(|r| phonenumber::parse(Some(*r), candidate).is_ok_and(|n| phonenumber::is_valid(&n)))
        };
        if !valid {
            return None;
        }
        let base: f32 = match pattern {
            0 => 0.7,
            1 => 0.6,
            _ => 0.3,
        };
        let score = if context { (base + 0.3).min(0.95) } else { base };
        Some(Finding { kind: EntityKind::Phone, start, end, score, recognizer: NAME })
    }
}

/// Whether a digit cluster may hold a phone number: not a plain date (`2024-03-14`, `14.03.2024`,
/// `03/14/2024`: 4-2-2 or 2-2-4 digits with one separator, not after `+` or `(`), whose only
/// candidates are the whole date or runs of too few digits, all rejected.
fn not_a_date(text: &str, start: usize, end: usize) -> bool {
    let Some(cluster) = text.get(start..end) else { return true };
    let before = text.as_bytes().get(start.wrapping_sub(1)).copied();
    let runs: Vec<usize> = cluster.split(|c: char| !c.is_ascii_digit()).map(str::len).collect();
    let seps: Vec<char> = cluster.chars().filter(|c| !c.is_ascii_digit()).collect();
    let shape = matches!(runs.as_slice(), [4, 2, 2] | [2, 2, 4])
        && matches!(seps.as_slice(), [a, b] if a == b && matches!(a, '-' | '.' | '/'));
    !(shape && !matches!(before, Some(b'+' | b'(')) && looks_like_date(cluster))
}

/// Not glued to letters, and not part of a longer dotted/dashed/slashed or timed number.
fn neighbours_ok(text: &str, start: usize, end: usize) -> bool {
    let mut back = text.get(..start).unwrap_or_default().chars().rev();
    let mut ahead = text.get(end..).unwrap_or_default().chars();
    let (b1, b2) = (back.next(), back.next());
    let (a1, a2) = (ahead.next(), ahead.next());
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '+');
    let joins = |sep: Option<char>, next: Option<char>| {
        // A separator then more of the same token: digits, or after `-` also hex (a UUID segment).
        match sep {
            Some('-') => next.is_some_and(|c| c.is_ascii_alphanumeric()),
            Some('.' | '/' | ':' | ',') => next.is_some_and(|c| c.is_ascii_digit()),
            _ => false,
        }
    };
    !glued(b1) && !glued(a1) && !joins(b1, b2) && !joins(a1, a2) && a1 != Some(':') && b1 != Some(':')
}

/// `YYYY-MM-DD`, `DD.MM.YYYY`, `MM/DD/YYYY` and friends, optionally followed by more.
fn looks_like_date(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate.split([' ', '.', '-', '/']).collect();
    let num = |g: Option<&&str>| g.and_then(|g| g.parse::<u32>().ok());
    let (a, b, c) = (num(groups.first()), num(groups.get(1)), num(groups.get(2)));
    let len = |i: usize| groups.get(i).map_or(0, |g| g.len());
    match (a, b, c) {
        (Some(y), Some(m), Some(d)) if len(0) == 4 && (1..=12).contains(&m) && (1..=31).contains(&d) => {
            (1800..=2199).contains(&y)
        }
        (Some(d), Some(m), Some(y)) if len(2) == 4 && (1..=31).contains(&d) && (1..=31).contains(&m) => {
            (1800..=2199).contains(&y) && (d <= 12 || m <= 12)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn findings(text: &str) -> Vec<(&str, f32)> {
        let d = Detector::builder().recognizer(Box::new(Phone)).build().unwrap();
        d.detect(text).iter().map(|f| (&text[f.start..f.end], f.score)).collect()
    }

    fn spans(text: &str) -> Vec<&str> {
        findings(text).into_iter().map(|(s, _)| s).collect()
    }

    #[test]
    fn phone_finds_international_numbers() {
        assert_eq!(spans("reach me at +49 30 1234567."), ["+49 30 1234567"]);
        assert_eq!(spans("+1 (212) 555-0198 is the desk"), ["+1 (212) 555-0198"]);
        assert_eq!(spans("or +33 6 12 34 56 78"), ["+33 6 12 34 56 78"]);
        assert_eq!(spans("+447911123456"), ["+447911123456"]);
    }

    #[test]
    fn phone_finds_national_numbers_with_separators() {
        assert_eq!(spans("ring (212) 555-0198 now"), ["(212) 555-0198"]);
        assert_eq!(spans("Büro: 030 1234567"), ["030 1234567"]);
        assert_eq!(spans("au 06 12 34 56 78 !"), ["06 12 34 56 78"]);
        assert_eq!(spans("llama al 612 345 678"), ["612 345 678"]);
        assert_eq!(spans("020 7946 0958 (London)"), ["020 7946 0958"]);
    }

    #[test]
    fn phone_context_raises_score_and_gates_bare_digits() {
        assert_eq!(findings("2125550198"), []);
        assert_eq!(findings("Phone: 2125550198"), [("2125550198", 0.6)]);
        let with_context = findings("Telefon: 030 1234567");
        assert_eq!(with_context.len(), 1);
        assert!((with_context[0].1 - 0.9).abs() < 1e-6);
    }

    #[test]
    fn phone_rejects_hard_negatives() {
        for text in [
            "released v10.12.14.16 today",
            "version 1.2.3.4",
            "1.2.3.4.5",
            "ISBN 978-3-16-148410-0",
            "978-3-16-148410-0",
            "on 2024-01-15 10:30:00",
            "2024-01-15T10:30:45Z",
            "due 15.01.2024",
            "due 01/15/2024",
            "order 212-555-0198",
            "tracking 1Z999AA10123456784",
            "A2125550198",
            "12345678901234567890",
            "550e8400-e29b-41d4-a716-446655440000",
            "4111 1111 1111 1111",
            "192.168.1.20",
            "+12",
        ] {
            assert!(findings(text).is_empty(), "{text}: {:?}", findings(text));
        }
    }
}
