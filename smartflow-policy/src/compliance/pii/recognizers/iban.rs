//! IBANs (ISO 13616): two-letter country code, two check digits and a BBAN, contiguous or in
//! groups of four separated by single spaces; the length must match the country's registry entry
//! and the mod-97 remainder of the rearranged number must be 1.
//!
//! Only upper-case IBANs are recognised (the printed and electronic forms); the per-country BBAN
//! structure beyond length and alphabet is not checked (the checksum catches nearly all typos).

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, context_near};

/// Finds IBANs (score 0.95; 1.0 next to "iban"/"bank"/"account" context).
#[derive(Debug, Clone, Copy, Default)]
pub struct Iban;

const NAME: &str = "iban";
const SCORE: f32 = 0.95;
const SCORE_WITH_CONTEXT: f32 = 1.0;
const CONTEXT: &[&str] = &["iban", "bank", "account", "konto", "compte", "cuenta", "transfer", "überweisung"];

/// IBAN lengths by country (SWIFT IBAN registry).
const LENGTHS: &[(&str, usize)] = &[
    ("AD", 24),
    ("AE", 23),
    ("AL", 28),
    ("AT", 20),
    ("AZ", 28),
    ("BA", 20),
    ("BE", 16),
    ("BG", 22),
    ("BH", 22),
    ("BR", 29),
    ("CH", 21),
    ("CR", 22),
    ("CY", 28),
    ("CZ", 24),
    ("DE", 22),
    ("DK", 18),
    ("DO", 28),
    ("EE", 20),
    ("EG", 29),
    ("ES", 24),
    ("FI", 18),
    ("FO", 18),
    ("FR", 27),
    ("GB", 22),
    ("GE", 22),
    ("GI", 23),
    ("GL", 18),
    ("GR", 27),
    ("GT", 28),
    ("HR", 21),
    ("HU", 28),
    ("IE", 22),
    ("IL", 23),
    ("IS", 26),
    ("IT", 27),
    ("JO", 30),
    ("KW", 30),
    ("KZ", 20),
    ("LB", 28),
    ("LI", 21),
    ("LT", 20),
    ("LU", 20),
    ("LV", 21),
    ("MC", 27),
    ("MD", 24),
    ("ME", 22),
    ("MK", 19),
    ("MR", 27),
    ("MT", 31),
    ("MU", 30),
    ("NL", 18),
    ("NO", 15),
    ("PK", 24),
    ("PL", 28),
    ("PS", 29),
    ("PT", 25),
    ("QA", 29),
    ("RO", 24),
    ("RS", 22),
    ("SA", 24),
    ("SE", 24),
    ("SI", 19),
    ("SK", 24),
    ("SM", 27),
    ("TN", 24),
    ("TR", 26),
    ("UA", 29),
    ("VA", 22),
    ("VG", 24),
    ("XK", 20),
];

impl Recognizer for Iban {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?\b".to_owned()]
    }

    /// The check digits: a digit cluster right after two upper-case letters; the IBAN (at most 34
    /// characters and 8 spaces) follows.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        let after_country = |text: &str, start: usize, _end: usize| {
            start
                .checked_sub(2)
                .and_then(|s| text.as_bytes().get(s..start))
                .is_some_and(|c| c.iter().all(u8::is_ascii_uppercase))
        };
        Some(vec![Trigger::digits(2).window(3, 48).accept(after_country)])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        let country = candidate.get(..2)?;
        let &(_, length) = LENGTHS.iter().find(|(c, _)| *c == country)?;
        // The regex is greedy: cut the candidate at the country's length (on a group boundary).
        let mut seen = 0;
        let mut cut = None;
        for (i, c) in candidate.char_indices() {
            if c != ' ' {
                seen += 1;
                if seen == length {
                    cut = Some(i + c.len_utf8());
                    break;
                }
            }
        }
        let end = start + cut?;
        if text.get(end..).and_then(|s| s.chars().next()).is_some_and(|c| c.is_alphanumeric()) {
            return None;
        }
        let compact: String = text.get(start..end)?.chars().filter(|c| *c != ' ').collect();
        if !spacing_ok(text.get(start..end)?) || mod97(&compact)? != 1 {
            return None;
        }
        let score = if context_near(text, start, 40, CONTEXT) { SCORE_WITH_CONTEXT } else { SCORE };
        Some(Finding { kind: EntityKind::Iban, start, end, score, recognizer: NAME })
    }
}

/// Either no spaces, or a space after every fourth character.
fn spacing_ok(candidate: &str) -> bool {
    if !candidate.contains(' ') {
        return true;
    }
    candidate
        .split(' ')
        .enumerate()
        .all(|(i, g)| g.len() == 4 || (g.len() <= 4 && i == candidate.split(' ').count() - 1))
}

/// The ISO 7064 mod-97-10 remainder of the rearranged IBAN (letters as 10..35).
fn mod97(iban: &str) -> Option<u32> {
    let (head, tail) = (iban.get(..4)?, iban.get(4..)?);
    let mut rem = 0u32;
    for c in tail.chars().chain(head.chars()) {
        let value = c.to_digit(36)?;
        rem = if value < 10 { (rem * 10 + value) % 97 } else { (rem * 100 + value) % 97 };
    }
    Some(rem)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(Iban)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn iban_finds_valid_ibans_with_exact_span() {
        for iban in [
            "DE89 3704 0044 0532 0130 00",
            "DE89370400440532013000",
            "GB82 WEST 1234 5698 7654 32",
            "FR14 2004 1010 0505 0001 3M02 606",
            "CH93 0076 2011 6238 5295 7",
            "NO93 8601 1117 947",
            "NL91ABNA0417164300",
            "SA03 8000 0000 6080 1016 7519",
            "AE07 0331 2345 6789 0123 456",
            "TR33 0006 1005 1978 6457 8413 26",
            "BR97 0036 0305 0000 1000 9795 493P 1",
            "MT84 MALT 0110 0001 2345 MTLC AST0 01S",
        ] {
            let text = format!("Please pay to {iban}. Thanks");
            assert_eq!(spans(&text), [iban], "{iban}");
        }
    }

    #[test]
    fn iban_cuts_greedy_match_at_country_length() {
        assert_eq!(spans("IBAN DE89 3704 0044 0532 0130 00 ABCD"), ["DE89 3704 0044 0532 0130 00"]);
        assert!(spans("IBAN DE89 3704 0044 0532 0130 00AB").is_empty());
        assert_eq!(spans("IBAN: DE89370400440532013000, BIC COBADEFFXXX"), ["DE89370400440532013000"]);
    }

    #[test]
    fn iban_rejects_hard_negatives() {
        for text in [
            "DE89 3704 0044 0532 0130 01",
            "DE88370400440532013000",
            "XX89370400440532013000",
            "DE8937040044053201300",
            "DE89 37040 04405 32013 000",
            "DE89 **** **** **** **30 00",
            "ISBN 978-3-16-148410-0",
            "AB12CD34EF56GH78",
            "v1.2.3.4",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }
}
