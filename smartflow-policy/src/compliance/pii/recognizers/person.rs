//! Person names, found without a model: only where a strong cue says a name follows, and only
//! as 1–3 capitalised name words (letters incl. accents, inner hyphens and apostrophes, at least
//! two letters and one lower-case letter each). The span is the name, never the cue. Cues:
//!
//! - titles: `Mr`, `Mrs`, `Ms`, `Mx`, `Dr`, `Prof` (with or without `.`), `Herr`, `Herrn`,
//!   `Frau`, `M.`, `Mme`, `Mlle`, `Sr.`, `Sra.`, `Srta.`, `Don`, `Doña` (so also `Sehr geehrte
//!   Frau …`, `Dear Mr …`, `Estimado Sr. …`);
//! - salutations ending in `,` `:` `;` `!` or the line end: `Dear`, `Liebe`/`Lieber`,
//!   `Cher`/`Chère`, `Estimado`/`Estimada`, `Querido`/`Querida` + 1–3 words; `Hello`, `Hi`, `Hey`,
//!   `Hallo`, `Hola`, `Bonjour` + 2–3 words;
//! - signatures: a closing line (`Regards,`, `Best regards,`, `Best,`, `Cheers,`, `Thanks,`,
//!   `Sincerely,`, `Mit freundlichen Grüßen`, `Viele Grüße`, `Cordialement,`, `Bien à vous,`,
//!   `Atentamente,`, `Saludos,`, `Un saludo,`...) followed by a line that is exactly a 2–3-word
//!   name;
//! - `From:`/`To:`/`Cc:` (and `Von:`/`An:`/`De:`/`À:`/`Para:`) headers: a 2–3-word display name
//!   before `<address>`;
//! - `my name is`, `mein Name ist`, `ich heiße`, `je m'appelle`, `me llamo`, `mi nombre es` + 1–3
//!   words; `I am`/`I'm` + 2–3 words; `Name:`/`Full name:`/`Nom :`/`Nombre:` fields + a 2–3-word
//!   value that ends the field;
//! - record keys (JSON, YAML, INI) naming a person — `fullName`, `full_name`, `patient_name`,
//!   `cardholder_name`, `applicant_name`... — with a 2–3-word value; a bare `name` key only when
//!   the record around it is a person's (it also holds an e-mail, phone, birth date, address...).
//!
//! Capitalised words that are not names (`Team`, `Support`, `Customer`, `Sir`, `Madam`, `All`,
//! `World`, weekdays, months, job titles, department words, German nouns of address such as
//! `Kollegen` or `Grüße`...) reject the candidate. Names without a cue are not recognised.

use std::collections::HashSet;
use std::sync::LazyLock;

use regex::Regex;

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// Finds person names after titles, salutations, signatures, mail headers and name cues (score
/// 0.7–0.85); the span is the name only.
#[derive(Debug, Clone, Copy, Default)]
pub struct Person;

const NAME: &str = "person";

/// One capitalised name word: `Anna`, `Élodie`, `O'Brien`, `McDonald`, `Jean-Luc`.
const WORD: &str = r"\p{Lu}[\p{Ll}\p{M}]*(?:['’\-]?\p{Lu}?[\p{Ll}\p{M}]+)*";

/// The score of each pattern, by index: titles 0.85, salutations, greetings, signatures, headers
/// and "my name is" 0.8, `I am` 0.7, name fields 0.75, name keys of records 0.75.
const SCORES: [f32; 9] = [0.85, 0.8, 0.8, 0.8, 0.8, 0.8, 0.7, 0.75, 0.75];
/// Index of the title pattern (where `Dr` may be a street type instead).
const TITLE: usize = 0;
/// Index of the `I am` pattern (no gerunds: `I'm Looking Forward`).
const I_AM: usize = 6;
/// Index of the name-field pattern.
const FIELD: usize = 7;
/// Index of the record-key pattern (`"fullName": "…"`, `patient_name: …`).
const KEY: usize = 8;

/// Words near a bare `name` key that say the record is a person's (its e-mail, phone, birth
/// date...), not a service's, a file's or a company's.
const PERSON_RECORD: &[&str] = &[
    "email",
    "e-mail",
    "phone",
    "mobile",
    "dob",
    "birth",
    "ssn",
    "address",
    "patient",
    "customer",
    "applicant",
    "employee",
    "passport",
    "nationality",
    "gender",
    "salutation",
];

fn names(min: usize, max: usize) -> String {
    format!(r"(?P<name>{WORD}(?:[ ]{WORD}){{{},{}}})", min.saturating_sub(1), max.saturating_sub(1))
}

/// The patterns. Word boundaries before the (ASCII) cues are ASCII `\b`, and the end of a name
/// is "not a letter" rather than a Unicode `\b`: Unicode word boundaries keep the regex crate off
/// its fast engines (100 µs per KiB against a few).
fn person_patterns() -> Vec<String> {
    let (one, two) = (names(1, 3), names(2, 3));
    let end = r"[ \t]*(?:[,:;!]|\r?\n|\z)";
    vec![
        // 0: titles.
        format!(
            r"(?-u:\b)(?:(?:(?:Mrs|Mr|Ms|Mx|Dr|Prof|Mme|Mlle|Herrn|Herr|Frau|Doña|Don)\.?|Srta\.|Sra\.|Sr\.)[ ]+|M\.[ ]){one}(?:[^\p{{L}}\p{{M}}\p{{N}}]|\z)"
        ),
        // 1: salutations with 1–3 words.
        format!(r"(?-u:\b)(?i:dear|liebe|lieber|cher|chère|estimado|estimada|querido|querida)[ ]+{one}{end}"),
        // 2: greetings with a full name.
        format!(r"(?-u:\b)(?i:hello|hi|hey|hallo|hola|bonjour)[ ]+{two}{end}"),
        // 3: signatures.
        format!(
            r"(?m)^[ \t]*(?i:(?:(?:best|kind|warm|warmest|many)[ ]+)?regards|best|cheers|(?:many[ ]+)?thanks|thank[ ]+you|(?:yours[ ]+)?sincerely|yours[ ]+truly|atentamente|(?:un[ ]+)?saludos?(?:[ ]+cordiales)?|(?:bien[ ]+)?cordialement|bien[ ]+à[ ]+vous|mit[ ]+freundlichen[ ]+grü(?:ß|ss)en|(?:viele|beste|liebe|freundliche)[ ]+grü(?:ß|ss)e)[ \t]*[,.!]?[ \t]*\r?\n[ \t]*{two}[ \t]*(?:\r?\n|\z)"
        ),
        // 4: mail headers with a display name.
        format!(r#"(?m)^(?:From|To|Cc|Bcc|Reply-To|Von|An|De|À|Para)[ \t]*:[ \t]*"?{two}"?[ \t]*<"#),
        // 5: "my name is".
        format!(
            r"(?-u:\b)(?i:my[ ]+name[ ]+is|mein[ ]+name[ ]+ist|ich[ ]+hei(?:ß|ss)e|je[ ]+m['’]appelle|me[ ]+llamo|mi[ ]+nombre[ ]+es)[ ]+{one}(?:[^\p{{L}}\p{{M}}\p{{N}}]|\z)"
        ),
        // 6: "I am" / "I'm" with a full name.
        format!(r"(?-u:\b)(?:I[ ]+am|I['’]m)[ ]+{two}(?:[^\p{{L}}\p{{M}}\p{{N}}]|\z)"),
        // 7: name fields.
        format!(
            r"(?m)(?:^|[ \t])(?:Name|Full[ ]+[Nn]ame|Customer[ ]+[Nn]ame|Contact[ ]+[Nn]ame|Nom|Nombre|Nombre[ ]+completo|Vollständiger[ ]+Name)[ \t]*:[ \t]*{two}[ \t]*(?:[,;]|\r?\n|\z)"
        ),
        // 8: record keys (JSON, YAML, INI) naming a person, then a 2–3-word value.
        format!(
            r#"(?i:["']?(?:full_?name|(?:customer|patient|employee|contact|display|card_?holder|account_?holder|holder|applicant|insured|member|beneficiary)_?name|name)["']?)[ \t]*[:=][ \t]*["']?{two}["']?[ \t]*(?:[,;}}\]]|\r?\n|\z)"#
        ),
    ]
}

static COMPILED: LazyLock<Vec<Option<Regex>>> =
    LazyLock::new(|| person_patterns().iter().map(|p| Regex::new(p).ok()).collect());

/// Capitalised words that are not names (lower-case, whitespace-separated): titles and cues,
/// generic addressees, weekdays and months, department and organisation words, job titles, and
/// other words that follow the cues in ordinary prose.
const NOT_NAMES: &str = "\
    mr mrs ms mx dr prof herr herrn frau mme mlle sr sra srta don doña dear hello hi hey hallo hola bonjour \
    regards thanks thank best kind cheers sincerely liebe lieber cher chère estimado estimada name i'm i’m \
    sir sirs madam madame mademoiselle monsieur messieurs mesdames all there everyone everybody folks guys \
    friends friend colleagues colleague world user users valued member members customer customers client \
    clients team teams support service services reader readers recipient applicant candidate patient student \
    guest visitor partner partners owner contact subscriber hiring \
    damen herren kollegen kolleginnen kollege kollegin kunde kunden kundin leute freunde zusammen alle \
    mitarbeiter mitarbeiterinnen grüße grüsse gruß abteilung buchhaltung vertrieb personalabteilung \
    kundenservice kundendienst geschäftsführung verwaltung équipe collègues amis tous toutes comptabilité \
    facturation señor señora señores amigo amigos todos equipo cliente clientes atención soporte servicio \
    departamento compañeros \
    the a an this that these those our your my his her their we you it welcome please sorry good morning \
    afternoon evening night happy new yes no ok okay not just here back still also very really so sure glad \
    and or for with from to in on at by if when then see note delete add remove use set get \
    monday tuesday wednesday thursday friday saturday sunday montag dienstag mittwoch donnerstag freitag \
    samstag sonntag lundi mardi mercredi jeudi vendredi samedi dimanche lunes martes miércoles jueves viernes \
    sábado domingo january february march april may june july august september october november december \
    januar februar märz juni juli oktober dezember janvier février mars avril mai juin juillet août septembre \
    octobre novembre décembre enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre \
    diciembre \
    accounts account receivable payable billing sales marketing operations engineering platform management \
    staff human resources hr recruiting security legal finance office department dept desk help helpdesk inc \
    ltd llc gmbh ag corp company group bank notifications notification alerts alert newsletter news updates \
    update info noreply bot mail mailer delivery subsystem postmaster daemon internet system admin \
    administrator software cloud app api product products portal store shop online digital solutions \
    technologies tech labs systems network data analytics insurance health hospital university school \
    foundation committee board council agency center centre street avenue road suite apt unit floor \
    manager director engineer developer dev devops frontend backend fullstack qa lead head chief officer \
    president vice analyst consultant specialist associate assistant architect representative agent \
    coordinator executive editor designer scientist intern senior junior principal technician supervisor \
    secretary accountant treasury ops intake claims payroll compliance risk procurement audit legal \
    version release project order invoice ticket case request issue error report final file document deploy \
    build test";

/// Whether `word` (as matched by [`WORD`]) can be a name word.
fn name_word(word: &str) -> bool {
    let word = word.strip_suffix("'s").or_else(|| word.strip_suffix("’s")).unwrap_or(word);
    let letters = word.chars().filter(|c| c.is_alphabetic()).count();
    let lower = word.to_lowercase();
    letters >= 2 && word.chars().any(char::is_lowercase) && !NOT_NAME_SET.contains(lower.as_str())
}

/// [`NOT_NAMES`] as a set.
static NOT_NAME_SET: LazyLock<HashSet<&'static str>> = LazyLock::new(|| NOT_NAMES.split_whitespace().collect());

/// The byte length of a possessive `'s` ending `name` (0 when there is none).
fn possessive_len(name: &str) -> usize {
    ["'s", "’s"].iter().find(|p| name.ends_with(*p)).map_or(0, |p| p.len())
}

/// Checks the title starting at `title_start` before a name of `words` words: `Dr` must not
/// close a street line (`12 Elm Dr. …`); `M.` must not be glued to what precedes it (`CTRL-M.`)
/// nor, before a single word that does not end the line or field, be a list label at a line
/// start (`M. Delete any section`, but `M. Dupont,`).
fn title_ok(text: &str, title_start: usize, words: usize, name_end: usize) -> bool {
    let title = text.get(title_start..).unwrap_or_default();
    let before = text.get(..title_start).unwrap_or_default();
    if title.starts_with("Dr") {
        let mut previous = before.trim_end().rsplit(' ');
        let street = previous.next().is_some_and(|w| w.chars().next().is_some_and(char::is_uppercase));
        let number = previous.next().is_some_and(|w| w.chars().next().is_some_and(|c| c.is_ascii_digit()));
        return !(street && number);
    }
    if title.starts_with("M.") {
        if before.chars().next_back().is_some_and(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '/')) {
            return false;
        }
        let at_line_start = before.rsplit('\n').next().unwrap_or_default().trim().is_empty();
        let ends_field = text.get(name_end..).is_some_and(|r| r.is_empty() || r.starts_with([',', '\n', '\r']));
        return words >= 2 || !at_line_start || ends_field;
    }
    true
}

/// Bytes after a cue where a match can end: up to three name words and the field's or line's end.
const NAME_SPAN: usize = 96;

/// The cues, a trigger for each pattern (see [`person_patterns`]): a cue is where every match
/// starts or, for signatures, headers, `my name is` and name fields, what every match holds.
fn person_triggers() -> Vec<Trigger> {
    let titles = [
        "Mrs ", "Mrs.", "Mr ", "Mr.", "Ms ", "Ms.", "Mx ", "Mx.", "Dr ", "Dr.", "Prof ", "Prof.", "Mme ", "Mme.",
        "Mlle ", "Mlle.", "Herrn ", "Herrn.", "Herr ", "Herr.", "Frau ", "Frau.", "Doña ", "Doña.", "Don ", "Don.",
        "Srta.", "Sra.", "Sr.", "M. ",
    ];
    let salutations =
        ["dear ", "liebe ", "lieber ", "cher ", "chère ", "estimado ", "estimada ", "querido ", "querida "];
    let greetings = ["hello ", "hi ", "hey ", "hallo ", "hola ", "bonjour "];
    // Every closing phrase holds one of these words (`Best regards`, `Thank you`, `Viele Grüße`).
    let closers = [
        "regards",
        "best",
        "cheers",
        "thank",
        "sincerely",
        "yours",
        "atentamente",
        "saludo",
        "cordialement",
        "bien",
        "grü",
    ];
    vec![
        Trigger::literals(&titles).word_start().window(0, NAME_SPAN).extend(space).patterns(&[TITLE]),
        Trigger::literals_ignore_case(&salutations).word_start().window(0, NAME_SPAN).extend(space).patterns(&[1]),
        Trigger::literals_ignore_case(&greetings).word_start().window(0, NAME_SPAN).extend(space).patterns(&[2]),
        // A closing line (from its start: `Mit freundlichen Grüßen`) and the name line under it.
        Trigger::literals_ignore_case(&closers).word_start().lines(1).accept(closing_line).patterns(&[3]),
        Trigger::literals(&["From", "To", "Cc", "Bcc", "Reply-To", "Von", "An", "De", "À", "Para"])
            .line_start()
            .lines(0)
            .accept(colon_follows)
            .patterns(&[4]),
        Trigger::literals_ignore_case(&["my ", "mein ", "ich ", "je ", "me ", "mi "])
            .word_start()
            .window(0, 32 + NAME_SPAN)
            .accept(name_phrase)
            .patterns(&[5]),
        Trigger::literals(&["I am", "I'm", "I’m"]).word_start().window(0, NAME_SPAN).extend(space).patterns(&[I_AM]),
        // `I   am` with more than one space.
        Trigger::literals(&["I  "])
            .word_start()
            .window(0, NAME_SPAN)
            .extend(space)
            .accept(am_follows)
            .patterns(&[I_AM]),
        Trigger::literals(&["Name", "Full", "Customer", "Contact", "Nom", "Vollständiger"])
            .window(1, 32 + NAME_SPAN)
            .accept(field_label)
            .patterns(&[FIELD]),
        // A key ends in `name` and a quote, `:` or `=` follows (past blanks); the key starts at
        // most 24 bytes before.
        Trigger::literals_ignore_case(&["name"]).window(24, NAME_SPAN).accept(key_follows).patterns(&[KEY]),
    ]
}

/// A space (the cues are followed by `[ ]+`: a window reaches past all of them).
fn space(b: u8) -> bool {
    b == b' '
}

/// The rest of a closing line after the hit: more of the phrase (letters and blanks), an optional
/// `,` `.` or `!`, blanks, then the line break.
fn closing_line(text: &str, _start: usize, end: usize) -> bool {
    let rest = text.as_bytes().get(end..).unwrap_or_default();
    let phrase =
        rest.iter().take_while(|b| b.is_ascii_alphabetic() || matches!(b, b' ' | b'\t') || **b >= 0x80).count();
    let rest = rest.get(phrase..).unwrap_or_default();
    let rest =
        rest.strip_prefix(b",").or_else(|| rest.strip_prefix(b".")).or_else(|| rest.strip_prefix(b"!")).unwrap_or(rest);
    let blanks = rest.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
    let rest = rest.get(blanks..).unwrap_or_default();
    rest.strip_prefix(b"\r").unwrap_or(rest).first() == Some(&b'\n')
}

/// A `:` after the hit, past blanks (`From:`, `To :`).
fn colon_follows(text: &str, _start: usize, end: usize) -> bool {
    text.as_bytes().get(end..).unwrap_or_default().iter().find(|b| !matches!(b, b' ' | b'\t')) == Some(&b':')
}

/// After `my `, `mein `, `ich `, `je `, `me `, `mi ` and more spaces, the rest of the phrase:
/// `name`, `heiße`/`heisse`, `m'appelle`, `llamo`, `nombre` (in any case).
fn name_phrase(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let cue = bytes.get(start..end).unwrap_or_default().trim_ascii_end().to_ascii_lowercase();
    let rest = bytes.get(end..).unwrap_or_default();
    let rest = rest.get(rest.iter().take_while(|b| **b == b' ').count()..).unwrap_or_default();
    let follows = |w: &str| rest.get(..w.len()).is_some_and(|r| r.eq_ignore_ascii_case(w.as_bytes()));
    match cue.as_slice() {
        b"my" | b"mein" => follows("name"),
        b"ich" => follows("heiße") || follows("heisse"),
        b"je" => follows("m'appelle") || follows("m’appelle"),
        b"me" => follows("llamo"),
        b"mi" => follows("nombre"),
        _ => false,
    }
}

/// A name field's label: after a line start or a blank, `Name`, `Full name`, `Customer name`,
/// `Contact name`, `Nom`, `Nombre`, `Nombre completo` or `Vollständiger Name`, then `:` past
/// blanks.
fn field_label(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    if start.checked_sub(1).and_then(|i| bytes.get(i)).is_some_and(|b| !matches!(b, b'\n' | b' ' | b'\t')) {
        return false;
    }
    let rest = bytes.get(end..).unwrap_or_default();
    let skip = |r: &[u8], set: &[u8]| r.iter().take_while(|b| set.contains(b)).count();
    let rest = match bytes.get(start..end).unwrap_or_default() {
        // (`Vollständiger` in UTF-8.)
        b"Full" | b"Customer" | b"Contact" | b"Vollst\xc3\xa4ndiger" => {
            let n = skip(rest, b" ");
            match rest.get(n..n + 4) {
                Some(b"Name" | b"name") if n > 0 => rest.get(n + 4..).unwrap_or_default(),
                _ => return false,
            }
        }
        b"Nom" => {
            let r = rest.strip_prefix(b"bre").unwrap_or(rest);
            let n = skip(r, b" ");
            match r.get(n..n + 8) {
                Some(b"completo") if n > 0 => r.get(n + 8..).unwrap_or_default(),
                _ => r,
            }
        }
        _ => rest,
    };
    rest.get(skip(rest, b" \t")..).and_then(|r| r.first()) == Some(&b':')
}

/// A quote, `:` or `=` right after `name` (past blanks and a closing quote): a record key.
fn key_follows(text: &str, _start: usize, end: usize) -> bool {
    let rest = text.as_bytes().get(end..).unwrap_or_default();
    let rest = rest.strip_prefix(b"\"").or_else(|| rest.strip_prefix(b"'")).unwrap_or(rest);
    rest.iter().find(|b| !matches!(b, b' ' | b'\t')).is_some_and(|b| matches!(b, b':' | b'='))
}

/// Whether the record around a bare `name` key at `start` is a person's (see [`PERSON_RECORD`]).
fn person_record(text: &str, start: usize, end: usize) -> bool {
    let (mut from, mut to) = (start.saturating_sub(200), (end + 200).min(text.len()));
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    while !text.is_char_boundary(to) {
        to += 1;
    }
    let around = text.get(from..to).unwrap_or_default().to_lowercase();
    PERSON_RECORD.iter().any(|w| around.contains(w))
}

/// `am` after the spaces that follow the hit (`I   am`).
fn am_follows(text: &str, _start: usize, end: usize) -> bool {
    text.get(end..).unwrap_or_default().trim_start_matches(' ').starts_with("am")
}

impl Recognizer for Person {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        person_patterns()
    }

    /// Titles, salutations and greetings, closing lines, mail headers, `my name is` and its
    /// translations, `I am`, name fields: each for its own pattern.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(person_triggers())
    }

    fn check(&self, text: &str, pattern: usize, start: usize, _end: usize) -> Option<Finding> {
        let caps = COMPILED.get(pattern)?.as_ref()?.captures_at(text, start)?;
        let name = caps.name("name")?;
        if caps.get(0)?.start() != start {
            return None;
        }
        let words: Vec<&str> = name.as_str().split(' ').collect();
        if !words.iter().all(|w| name_word(w)) {
            return None;
        }
        if pattern == I_AM && words.first().is_some_and(|w| w.ends_with("ing")) {
            return None;
        }
        if pattern == TITLE && !title_ok(text, start, words.len(), name.end()) {
            return None;
        }
        if pattern == KEY {
            let key = text.get(start..name.start())?.trim_start_matches(['"', '\'']).to_ascii_lowercase();
            // A key of its own, and a bare `name` only in a person's record.
            if text.get(..start)?.chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_')
                || (key.starts_with("name") && !person_record(text, start, name.end()))
            {
                return None;
            }
        }
        let end = name.end().saturating_sub(possessive_len(name.as_str()));
        let score = *SCORES.get(pattern)?;
        Some(Finding { kind: EntityKind::Person, start: name.start(), end, score, recognizer: NAME })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(Person)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn person_patterns_compile() {
        assert!(COMPILED.iter().all(Option::is_some));
        assert_eq!(COMPILED.len(), SCORES.len());
    }

    #[test]
    fn person_finds_names_after_titles() {
        assert_eq!(spans("Dear Mr Marcus Hughes,\n\nthank you"), ["Marcus Hughes"]);
        assert_eq!(spans("Dear Ms. Priya Tanaka, hi"), ["Priya Tanaka"]);
        assert_eq!(spans("Please ask Dr. O'Brien about it."), ["O'Brien"]);
        assert_eq!(spans("Prof Jean-Luc McDonald will talk"), ["Jean-Luc McDonald"]);
        assert_eq!(spans("Sehr geehrte Frau Sabine Krüger,\n\nbitte"), ["Sabine Krüger"]);
        assert_eq!(spans("Vertrag für Herrn Jürgen Becker, geboren"), ["Jürgen Becker"]);
        assert_eq!(spans("Dossier : M. Mathieu Garnier, né le"), ["Mathieu Garnier"]);
        assert_eq!(spans("Bonjour Mme Élodie Lefèvre,"), ["Élodie Lefèvre"]);
        assert_eq!(spans("Estimado Sr. Carlos García:"), ["Carlos García"]);
        assert_eq!(spans("Un saludo,\nSra. Lucía Ortega"), ["Lucía Ortega"]);
        assert_eq!(spans("Doña Inés vendrá mañana"), ["Inés"]);
        assert_eq!(spans("passes Dr. Lemire's tests"), ["Lemire"]);
        assert_eq!(spans("Bonjour, M. Dupont a appelé"), ["Dupont"]);
        assert_eq!(spans("M. Dupont,\n12 rue de la Paix"), ["Dupont"]);
    }

    #[test]
    fn person_finds_names_after_salutations_and_greetings() {
        assert_eq!(spans("Dear John,\nplease"), ["John"]);
        assert_eq!(spans("Liebe Anna Schmidt,\nwie geht's?"), ["Anna Schmidt"]);
        assert_eq!(spans("Chère Claire,"), ["Claire"]);
        assert_eq!(spans("Estimada Laura Moreno:"), ["Laura Moreno"]);
        assert_eq!(spans("Hi Sofia Patel, the build is green"), ["Sofia Patel"]);
        assert_eq!(spans("Hello Grace Sullivan!"), ["Grace Sullivan"]);
    }

    #[test]
    fn person_finds_signatures_headers_and_name_cues() {
        assert_eq!(spans("Do not share.\n\nCheers,\nDaniel Brennan\nPlatform Engineering"), ["Daniel Brennan"]);
        assert_eq!(spans("see you\n\nBest,\nJames Tanaka"), ["James Tanaka"]);
        assert_eq!(spans("Mit freundlichen Grüßen\nKatrin Hoffmann\n"), ["Katrin Hoffmann"]);
        assert_eq!(spans("Cordialement,\r\nÉlodie Lefèvre"), ["Élodie Lefèvre"]);
        assert_eq!(spans("Atentamente,\nPablo Jiménez"), ["Pablo Jiménez"]);
        assert_eq!(spans("From: Hannah Brennan <hannah@brightlane.io>"), ["Hannah Brennan"]);
        assert_eq!(spans("To: \"Omar Brennan\" <omar@outlook.com>"), ["Omar Brennan"]);
        assert_eq!(spans("Hi, my name is Kenji Kowalski and I need help"), ["Kenji Kowalski"]);
        assert_eq!(spans("I'm Priya Okafor from billing"), ["Priya Okafor"]);
        assert_eq!(spans("Ich heiße Lukas."), ["Lukas"]);
        assert_eq!(spans("Name: Laura Brennan\nEmail: x"), ["Laura Brennan"]);
    }

    #[test]
    fn person_finds_names_under_person_keys_of_records() {
        assert_eq!(spans(r#"{"customer":{"fullName":"Olivia Grant","email":"o@x.io"}}"#), ["Olivia Grant"]);
        assert_eq!(spans("patient_name: Helga Brandt\nward: 4B"), ["Helga Brandt"]);
        assert_eq!(spans(r#"{"applicant":{"name":"Grace Adeyemi","dob":"1991-02-28"}}"#), ["Grace Adeyemi"]);
        // A bare `name` outside a person's record, and keys that only end in `name`.
        assert!(spans(r#"{"name": "Ledger Core", "replicas": 3}"#).is_empty());
        assert!(spans(r#"{"file_name": "Quarterly Report", "email": "x@y.io"}"#).is_empty());
        assert!(spans(r#"{"hostname": "Build Agent", "phone": 1}"#).is_empty());
    }

    #[test]
    fn person_rejects_non_names_after_cues() {
        for text in [
            "Dear Customer,",
            "Dear Valued Customer,",
            "Dear Sir or Madam,",
            "Dear All,",
            "Dear Team,",
            "Hi there, how are you?",
            "Hi Team Lead,",
            "Hello World!",
            "Hello,\nplease help",
            "Kind regards,\nAccounts Receivable\n",
            "Cordialement,\nService facturation",
            "Atentamente,\nAtención al cliente",
            "Mit freundlichen Grüßen\nBuchhaltung",
            "Liebe Grüße\nDein Team",
            "Sehr geehrte Damen und Herren,",
            "From: Support Team <support@acme.io>",
            "From: GitHub <noreply@github.com>",
            "Sr. Software Engineer at Acme",
            "Our Team Lead is Mr TODO",
            "I'm Looking Forward to it",
            "I am Very Happy",
            "Dear Monday,",
            "- name: deploy app",
            "Regards,\nThe Team",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
    }

    #[test]
    fn person_does_not_cross_lines_or_take_the_cue() {
        assert!(spans("Dear\nJohn Smith,").is_empty());
        assert!(spans("Regards,\nJohn Smith is on leave").is_empty());
        assert!(spans("12 Elm Dr. Springfield").is_empty());
        assert_eq!(spans("Mr SMITH"), Vec::<&str>::new());
        assert!(spans("L. Keep it short.\nM. Delete any section").is_empty());
        assert!(spans("press CTRL-M.  For Vi this means").is_empty());
        assert!(spans("From: Mail Delivery Subsystem <MAILER-DAEMON@x.org>").is_empty());
    }
}
