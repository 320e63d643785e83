//! US social security numbers: `AAA-GG-SSSS` with dashes or spaces (the same separator both
//! times), or nine bare digits only next to "ssn" / "social security" context (words before
//! it, or the name of the table column it is in).
//!
//! Invalid per SSA rules and rejected: area `000`, `666`, `900`–`999`; group `00`; serial `0000`;
//! all digits the same; `123-45-6789`; the famous published numbers `078-05-1120` (Woolworth) and
//! `219-09-9999` (SSA advertisement). Masked forms (`XXX-XX-XXXX`, `***-**-1234`) do not match.

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, column_name, context_near};

/// Finds US SSNs (dashed 0.85, spaced 0.6, bare digits only with context; 1.0 with context).
#[derive(Debug, Clone, Copy, Default)]
pub struct UsSsn;

const NAME: &str = "us_ssn";
const CONTEXT: &[&str] = &["ssn", "social security", "sozialversicherungs", "ss#", "ssid", "taxpayer"];
const KNOWN_FAKE: &[&str] = &["078051120", "219099999", "123456789"];

impl Recognizer for UsSsn {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![r"\b\d{3}[ \-]\d{2}[ \-]\d{4}\b".to_owned(), r"\b\d{9}\b".to_owned()]
    }

    /// Digit clusters of at least 9 digits.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![Trigger::digits(9).window(2, 2)])
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        if !neighbours_ok(text, start, end) {
            return None;
        }
        // Context words before it, or a table column named for it (`ssn`, `social_security`).
        let column = column_name(text, start).is_some_and(|c| {
            let c = c.replace(['_', '-'], " ");
            CONTEXT.iter().any(|w| c.contains(w))
        });
        let context = column || context_near(text, start, 40, CONTEXT);
        let digits: String = candidate.chars().filter(char::is_ascii_digit).collect();
        let base = match pattern {
            0 => {
                let (s1, s2) = (candidate.get(3..4)?, candidate.get(6..7)?);
                if s1 != s2 {
                    return None;
                }
                if s1 == "-" { 0.85 } else { 0.6 }
            }
            _ if context => 0.85,
            _ => return None,
        };
        if !valid(&digits) {
            return None;
        }
        let score = if context { 1.0 } else { base };
        Some(Finding { kind: EntityKind::UsSsn, start, end, score, recognizer: NAME })
    }
}

fn valid(digits: &str) -> bool {
    let (Some(area), Some(group), Some(serial)) = (digits.get(..3), digits.get(3..5), digits.get(5..9)) else {
        return false;
    };
    let area_ok = area != "000" && area != "666" && !area.starts_with('9');
    let same = digits.chars().all(|c| digits.starts_with(c));
    area_ok && group != "00" && serial != "0000" && !same && !KNOWN_FAKE.contains(&digits)
}

/// Not glued to letters and not part of a longer number (`1-555-12-3456`, `123-45-6789-0`).
fn neighbours_ok(text: &str, start: usize, end: usize) -> bool {
    let mut back = text.get(..start).unwrap_or_default().chars().rev();
    let mut ahead = text.get(end..).unwrap_or_default().chars();
    let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let joins = |sep: Option<char>, next: Option<char>| {
        sep.is_some_and(|c| matches!(c, '-' | '.' | '/' | ':' | ' ')) && next.is_some_and(|c| c.is_ascii_digit())
    };
    let (b1, b2) = (back.next(), back.next());
    let (a1, a2) = (ahead.next(), ahead.next());
    !glued(b1) && !glued(a1) && !joins(b1, b2) && !joins(a1, a2)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn findings(text: &str) -> Vec<(&str, f32)> {
        let d = Detector::builder().recognizer(Box::new(UsSsn)).build().unwrap();
        d.detect(text).iter().map(|f| (&text[f.start..f.end], f.score)).collect()
    }

    #[test]
    fn us_ssn_finds_valid_numbers_with_exact_span() {
        assert_eq!(findings("id 536-22-8743."), [("536-22-8743", 0.85)]);
        assert_eq!(findings("id 536 22 8743"), [("536 22 8743", 0.6)]);
        assert_eq!(findings("SSN: 536-22-8743"), [("536-22-8743", 1.0)]);
        assert_eq!(findings("my social security number is 536228743"), [("536228743", 1.0)]);
    }

    #[test]
    fn us_ssn_rejects_invalid_and_masked() {
        for text in [
            "SSN 000-12-3456",
            "SSN 666-12-3456",
            "SSN 912-34-5678",
            "SSN 123-00-4567",
            "SSN 123-45-0000",
            "SSN 078-05-1120",
            "SSN 219-09-9999",
            "SSN 123-45-6789",
            "SSN 111-11-1111",
            "SSN XXX-XX-XXXX",
            "SSN ***-**-1234",
            "SSN 536-22 8743",
        ] {
            assert!(findings(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn us_ssn_rejects_bare_digits_and_longer_numbers_without_context() {
        for text in [
            "order 536228743",
            "call 1-536-22-8743",
            "536-22-8743-1",
            "A536-22-8743",
            "978-3-16-148410-0",
            "2024-01-15 10:30:00",
            "550e8400-e29b-41d4-a716-446655440000",
        ] {
            assert!(findings(text).is_empty(), "{text}");
        }
    }
}
