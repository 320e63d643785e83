//! Dates of birth: a calendar date (`1985-03-14`, `14/03/1985`, `03/14/1985`, `14.03.1985`,
//! `14 March 1985`, `March 14, 1985`, `14. März 1985`, `14 mars 1985`, `14 de marzo de 1985`) that
//! has birth context ("born", "date of birth", `dateOfBirth`, "DOB", "birthday", "geboren", "geb.", "Geburtsdatum",
//! "né le", "née le", "date de naissance", "fecha de nacimiento", "nacido"...) within 40 bytes
//! before it, or in a table column named for it (`| Date of birth |`, `dob,`). A date without such
//! context is not a finding; two-digit years are not recognised.

use crate::compliance::pii::triggers::digit_in;
use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, column_name, context_near};

/// Finds dates of birth (score 0.85, only next to birth context).
#[derive(Debug, Clone, Copy, Default)]
pub struct DateOfBirth;

const NAME: &str = "date_of_birth";
const SCORE: f32 = 0.85;
/// How far after the end of a birth-context word a date of birth can end.
const WINDOW: usize = 96;
const CONTEXT: &[&str] = &[
    "born",
    "date of birth",
    "birth date",
    "birthdate",
    "birth_date",
    "dateofbirth",
    "date_of_birth",
    "dob",
    "d.o.b",
    "birthday",
    "geboren",
    "geb.",
    "geburtsdatum",
    "geburtstag",
    "né le",
    "née le",
    "né(e) le",
    "date de naissance",
    "fecha de nacimiento",
    "nacido",
    "nacida",
];

/// Month names (English, German, French, Spanish, incl. common abbreviations) to month numbers.
const MONTHS: &[(&str, u32)] = &[
    ("january", 1),
    ("jan", 1),
    ("januar", 1),
    ("janvier", 1),
    ("enero", 1),
    ("february", 2),
    ("feb", 2),
    ("februar", 2),
    ("février", 2),
    ("fevrier", 2),
    ("febrero", 2),
    ("march", 3),
    ("mar", 3),
    ("märz", 3),
    ("maerz", 3),
    ("mars", 3),
    ("marzo", 3),
    ("april", 4),
    ("apr", 4),
    ("avril", 4),
    ("abril", 4),
    ("may", 5),
    ("mai", 5),
    ("mayo", 5),
    ("june", 6),
    ("jun", 6),
    ("juni", 6),
    ("juin", 6),
    ("junio", 6),
    ("july", 7),
    ("jul", 7),
    ("juli", 7),
    ("juillet", 7),
    ("julio", 7),
    ("august", 8),
    ("aug", 8),
    ("août", 8),
    ("aout", 8),
    ("agosto", 8),
    ("september", 9),
    ("sep", 9),
    ("sept", 9),
    ("septembre", 9),
    ("septiembre", 9),
    ("setiembre", 9),
    ("october", 10),
    ("oct", 10),
    ("oktober", 10),
    ("octobre", 10),
    ("octubre", 10),
    ("november", 11),
    ("nov", 11),
    ("novembre", 11),
    ("noviembre", 11),
    ("december", 12),
    ("dec", 12),
    ("dezember", 12),
    ("décembre", 12),
    ("decembre", 12),
    ("diciembre", 12),
];

fn month_alternation() -> String {
    let mut names: Vec<&str> = MONTHS.iter().map(|(n, _)| *n).collect();
    names.sort_by_key(|n| std::cmp::Reverse(n.len()));
    names.join("|")
}

impl Recognizer for DateOfBirth {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        let months = month_alternation();
        vec![
            // 0: ISO `YYYY-MM-DD` (also `/` and `.`).
            r"\b\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\b".to_owned(),
            // 1: `DD/MM/YYYY`, `MM/DD/YYYY`, `DD.MM.YYYY`, `DD-MM-YYYY`.
            r"\b\d{1,2}[-/.]\d{1,2}[-/.]\d{4}\b".to_owned(),
            // 2: `14 March 1985`, `14. März 1985`, `14 de marzo de 1985`.
            format!(r"(?i)\b\d{{1,2}}\.?(?:er)? (?:de )?(?:{months})\.?,? (?:de )?\d{{4}}\b"),
            // 3: `March 14, 1985`.
            format!(r"(?i)\b(?:{months})\.? \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"),
        ]
    }

    /// The birth context: a date of birth starts at most 43 bytes after the context word starts
    /// (40 bytes, widened to a char boundary) and is at most ~35 bytes long; it holds a digit.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        let digit_follows = |text: &str, _start: usize, end: usize| digit_in(text, end, end + WINDOW);
        Some(vec![
            Trigger::literals_ignore_case(CONTEXT).window(0, WINDOW).accept(digit_follows),
            // A table's column header: every row under it (`column_name` names the column).
            Trigger::literals_ignore_case(CONTEXT).lines(usize::MAX).accept(in_table_line),
        ])
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        let mut ahead = text.get(end..).unwrap_or_default().chars();
        let (next, after) = (ahead.next(), ahead.next());
        let continues = next.is_some_and(|c| matches!(c, '.' | '-' | '/')) && after.is_some_and(|c| c.is_ascii_digit());
        if continues
            || next.is_some_and(|c| c.is_alphanumeric())
            || text.get(..start).is_some_and(|s| s.ends_with(['.', '-', '/']))
        {
            return None;
        }
        let valid = match pattern {
            0 => numeric(candidate).is_some_and(|[y, m, d]| date_ok(y, m, d)),
            1 => numeric(candidate).is_some_and(|[a, b, y]| date_ok(y, b, a) || date_ok(y, a, b)),
            _ => textual(candidate).is_some_and(|(d, m, y)| date_ok(y, m, d)),
        };
        // Birth context right before it, or a table column named for it (`Date of birth`, `dob`).
        let column = column_name(text, start).is_some_and(|c| {
            let c = c.replace(['_', '-'], " ");
            CONTEXT.iter().any(|w| c.contains(w))
        });
        if !valid || !(column || (context_near(text, start, 40, CONTEXT) && first_date_after_context(text, start))) {
            return None;
        }
        Some(Finding { kind: EntityKind::DateOfBirth, start, end, score: SCORE, recognizer: NAME })
    }
}

/// Whether the line holding the hit `start..end` is a table row (it has a `,` `;` `|` or tab).
fn in_table_line(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let from = bytes.get(..start).and_then(|b| b.iter().rposition(|c| *c == b'\n')).map_or(0, |i| i + 1);
    let to = bytes.get(end..).and_then(|b| b.iter().position(|c| *c == b'\n')).map_or(bytes.len(), |i| end + i);
    bytes.get(from..to).is_some_and(|line| line.iter().any(|c| matches!(c, b',' | b';' | b'|' | b'\t')))
}

/// Whether no digit stands between the nearest birth-context word and the date at `start`: only
/// the first date after "born", "DOB"... is a date of birth (not a deadline that follows it).
fn first_date_after_context(text: &str, start: usize) -> bool {
    let mut from = start.saturating_sub(40);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text.get(from..start).unwrap_or_default().to_lowercase();
    let cue_end = CONTEXT.iter().filter_map(|w| before.rfind(w).map(|i| i + w.len())).max();
    cue_end.is_some_and(|end| !before.get(end..).unwrap_or_default().bytes().any(|b| b.is_ascii_digit()))
}

fn numeric(candidate: &str) -> Option<[u32; 3]> {
    let mut parts = candidate.split(['-', '/', '.']).map(|p| p.parse::<u32>().ok());
    Some([parts.next()??, parts.next()??, parts.next()??])
}

/// Day, month and year of a textual date.
fn textual(candidate: &str) -> Option<(u32, u32, u32)> {
    let lower = candidate.to_lowercase();
    let words: Vec<&str> = lower
        .split(|c: char| c.is_whitespace() || c == ',' || c == '.')
        .filter(|w| !w.is_empty() && *w != "de")
        .collect();
    let month = words.iter().find_map(|w| MONTHS.iter().find(|(n, _)| n == w).map(|(_, m)| *m))?;
    let numbers: Vec<u32> =
        words.iter().filter_map(|w| w.trim_end_matches(|c: char| c.is_alphabetic()).parse().ok()).collect();
    let (day, year) = (*numbers.first()?, *numbers.get(1)?);
    Some((day, month, year))
}

fn date_ok(year: u32, month: u32, day: u32) -> bool {
    let days = match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        _ => return false,
    };
    (1900..=2100).contains(&year) && (1..=days).contains(&day)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(DateOfBirth)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn date_of_birth_finds_dates_after_birth_context() {
        assert_eq!(spans("Date of birth: 1985-03-14."), ["1985-03-14"]);
        assert_eq!(spans("DOB 14/03/1985"), ["14/03/1985"]);
        assert_eq!(spans("born on 03/14/1985 in Ohio"), ["03/14/1985"]);
        assert_eq!(spans("Geburtsdatum: 14.03.1985"), ["14.03.1985"]);
        assert_eq!(spans("She was born 14 March 1985."), ["14 March 1985"]);
        assert_eq!(spans("birthday: March 14, 1985"), ["March 14, 1985"]);
        assert_eq!(spans("geboren am 14. März 1985"), ["14. März 1985"]);
        assert_eq!(spans("née le 14 mars 1985 à Lyon"), ["14 mars 1985"]);
        assert_eq!(spans("fecha de nacimiento: 14 de marzo de 1985"), ["14 de marzo de 1985"]);
    }

    #[test]
    fn dates_in_a_birth_date_column_are_dates_of_birth() {
        let table = "| Employee | Date of birth | Hired |\n|---|---|---|\n| C. M. | 1988-07-30 | 2019-03-01 |\n";
        assert_eq!(spans(table), ["1988-07-30"]);
        let csv = "id,dob,joined\n1,03/04/1971,2020-01-01\n2,1979-12-03,2021-05-05\n";
        assert_eq!(spans(csv), ["03/04/1971", "1979-12-03"]);
    }

    #[test]
    fn date_of_birth_needs_context() {
        for text in [
            "Meeting on 1985-03-14.",
            "invoice dated 14/03/1985",
            "released 14 March 1985",
            "2024-01-15T10:30:45Z",
            "version 2024.01.15",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn date_of_birth_rejects_invalid_dates_and_non_dates() {
        for text in [
            "DOB: 1985-02-30",
            "DOB: 31/31/1985",
            "DOB: 1985-13-01",
            "DOB: 14/03/1885",
            "DOB: 978-3-16-148410-0",
            "DOB: v1.2.3.4",
            "DOB: 1.2.1985.4",
            "DOB: 14/03/85",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }
}
