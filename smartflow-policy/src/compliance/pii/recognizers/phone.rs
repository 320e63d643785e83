//! Telephone numbers. Candidates are found by shape — a `+` international number, a national
//! number written with separators (`(212) 439-0123`, `030 1234567`, `06 12 34 56 78`,
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
/// Identifier words (substrings of the 30 bytes before a number, so each is specific enough not
/// to occur inside ordinary words): a number after one is that identifier — an order, a VAT or
/// company registration number, a social security number, a customer or case number.
const NEGATIVE_CONTEXT: &[&str] = &[
    "order",
    "invoice",
    "isbn",
    "tracking",
    "serial",
    "version",
    "sku",
    "ref",
    "ticket",
    "account",
    "iban",
    "id:",
    "vat n",
    "vat:",
    "vat id",
    "vat reg",
    "tva",
    "ust-id",
    "ustid",
    "siret",
    "siren",
    "nif:",
    "nif ",
    "cif:",
    "cif ",
    "nir ",
    "ssn",
    "social security",
    "sécurité sociale",
    "customer no",
    "customer number",
    "customer id",
    "kundennr",
    "kundennummer",
    "client n",
    "case no",
    "case number",
    "case id",
    "rechnung nr",
    "rechnungsnummer",
    "facture n",
    "factura n",
    "member id",
    "routing",
    "fiscal",
    "vat ",
    "employer ein",
    "ein:",
    "tax id",
    "nhs",
];
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
        let mut candidate = text.get(start..end)?;
        // A closing bracket without its opening one closes the text around the number.
        if candidate.ends_with(')') && !candidate.contains('(') {
            candidate = candidate.get(..candidate.len() - 1)?;
        }
        let end = start + candidate.len();
        if !neighbours_ok(text, start, end) || looks_like_date(candidate) {
            return None;
        }
        let digits = candidate.chars().filter(char::is_ascii_digit).count();
        if !(7..=15).contains(&digits) {
            return None;
        }
        if pattern != 0 && (ssn_shaped(candidate) || ipv4_shaped(candidate) || starts_with_year(candidate)) {
            return None;
        }
        if after_iban_head(text, start) || fictional_nanp(candidate) {
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
    // A colon before is a label's (`Tel:+49…`), not a time's or an address's (`10:30`, `fe80:`);
    // one after ends a clause (`call +1 415 444 5912: any time`).
    let colon_before = b1 == Some(':') && !b2.is_some_and(char::is_alphabetic);
    let colon_after = a1 == Some(':') && !a2.is_none_or(char::is_whitespace);
    !glued(b1) && !glued(a1) && !joins(b1, b2) && !joins(a1, a2) && !colon_before && !colon_after
}

/// `123-45-6789`: the US social security number's shape, which no national numbering plan here
/// writes its numbers in; the value is an SSN (valid or not), never a phone number.
fn ssn_shaped(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate.split('-').collect();
    matches!(groups.as_slice(), [a, b, c] if a.len() == 3 && b.len() == 2 && c.len() == 4
        && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_digit())))
}

/// `2024-061-1187`, `2024/10871`: a reference number that starts with a year. No national
/// numbering plan here starts a number with a four-digit group of 19xx or 20xx.
fn starts_with_year(candidate: &str) -> bool {
    let bytes = candidate.as_bytes();
    matches!(bytes, [b'1', b'9', c, d, b'-' | b'/', ..] | [b'2', b'0', c, d, b'-' | b'/', ..]
        if c.is_ascii_digit() && d.is_ascii_digit())
}

/// Whether the digits at `start` continue an IBAN written in groups (`GB29 NWBK 7252 2772 3437 30`):
/// the words before them on the line are groups of four letters or digits after a country code
/// and check digits (`GB29`). Valid IBANs are the IBAN recognizer's; these are its decoys.
fn after_iban_head(text: &str, start: usize) -> bool {
    let line = text.get(..start).unwrap_or_default().rsplit('\n').next().unwrap_or_default();
    for word in line.split_whitespace().rev().take(8) {
        let b = word.trim_matches(|c: char| !c.is_ascii_alphanumeric()).as_bytes();
        if b.len() == 4 && b[..2].iter().all(u8::is_ascii_uppercase) && b[2..].iter().all(u8::is_ascii_digit) {
            return true;
        }
        if !(b.len() == 4 && b.iter().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())) {
            return false;
        }
    }
    false
}

/// `(555) 555-0100`: North American numbers 555-0100 to 555-0199 are reserved for fiction.
fn fictional_nanp(candidate: &str) -> bool {
    let digits: Vec<u8> = candidate.bytes().filter(u8::is_ascii_digit).collect();
    let national = match digits.as_slice() {
        [b'1', rest @ ..] if rest.len() == 10 => rest,
        all if all.len() == 10 => all,
        _ => return false,
    };
    national.get(3..6) == Some(b"555") && national.get(6..8) == Some(b"01")
}

/// `198.51.100.10`: four dot-separated groups of one to three digits is an IPv4 address (valid or
/// not), never a phone number.
fn ipv4_shaped(candidate: &str) -> bool {
    let groups: Vec<&str> = candidate.split('.').collect();
    groups.len() == 4 && groups.iter().all(|g| (1..=3).contains(&g.len()) && g.bytes().all(|b| b.is_ascii_digit()))
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
        assert_eq!(spans("+1 (212) 439-0198 is the desk"), ["+1 (212) 439-0198"]);
        assert_eq!(spans("or +33 6 12 34 56 78"), ["+33 6 12 34 56 78"]);
        assert_eq!(spans("+447911123456"), ["+447911123456"]);
    }

    #[test]
    fn labels_and_clause_colons_do_not_hide_numbers() {
        assert_eq!(findings("Tel:+49 30 21456789").len(), 1);
        assert_eq!(findings("call +1 415 444 5912: any time").len(), 1);
        assert_eq!(spans("(+1-415-444-5912)"), vec!["+1-415-444-5912"]);
    }

    #[test]
    fn phone_finds_national_numbers_with_separators() {
        assert_eq!(spans("ring (212) 439-0198 now"), ["(212) 439-0198"]);
        assert_eq!(spans("Büro: 030 1234567"), ["030 1234567"]);
        assert_eq!(spans("au 06 12 34 56 78 !"), ["06 12 34 56 78"]);
        assert_eq!(spans("llama al 612 345 678"), ["612 345 678"]);
        assert_eq!(spans("020 7946 0958 (London)"), ["020 7946 0958"]);
        // UK geographic numbers with four-digit area codes (Manchester, Liverpool) and mobiles.
        assert_eq!(spans("Manchester office: 0161 496 0000"), ["0161 496 0000"]);
        assert_eq!(spans("ring 0151 234 5678 today"), ["0151 234 5678"]);
        assert_eq!(spans("mobile 07700 900123"), ["07700 900123"]);
    }

    #[test]
    fn phone_context_raises_score_and_gates_bare_digits() {
        assert_eq!(findings("2124390198"), []);
        assert_eq!(findings("Phone: 2124390198"), [("2124390198", 0.6)]);
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
            "upstream 198.51.100.10 and 203.0.113.254 down",
            "SSN field rejected value 989-70-2076: not valid",
            "check GB29 NWBK 7252 2772 3437 30 again",
            r#"for v in ["GB29 NWBK 7252 2772 3437 30"]:"#,
            "call (555) 555-0100 in the demo",
            "case 2024-061-1187 reopened",
            "Rechnung Nr. 2024-10871",
            "SIRET : 613 659 145 89232",
            "Our VAT number GB 284 1937 06 is unchanged",
            "USt-IdNr.: DE 284 719 356",
            "Kunde (Kundennr. 4471-2290) ruft an",
            "Numéro fiscal : 1 23 45 678 901 23",
            "Supplier: Castlegate Ltd, VAT GB 123 4567 89",
            "Employer EIN 94-3216850 (not the SSN)",
            "NHS No. :  943 476 5919",
            "+12",
        ] {
            assert!(findings(text).is_empty(), "{text}: {:?}", findings(text));
        }
    }
}
