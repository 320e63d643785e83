//! Street addresses, the street line only (house number and street; a following postcode and city
//! are not part of the span):
//!
//! - English: a house number, 1–3 capitalised street-name words (or an ordinal such as `5th`) and
//!   a known street type: `1200 Market Street`, `221B Baker St.`, `350 Fifth Avenue`,
//!   `12 N Elm Dr.` (`Street`/`St`, `Avenue`/`Ave`, `Road`/`Rd`, `Lane`/`Ln`,
//!   `Boulevard`/`Blvd`, `Drive`/`Dr`, `Way`, `Place`/`Pl`, `Court`/`Ct`, `Terrace`, `Parkway`,
//!   `Highway`, `Crescent`);
//! - German: a street word with a street suffix and the number after it (`Hauptstraße 12`,
//!   `Bahnhofstr. 5`, `Lindenallee 7`, `Birkenweg 4`, `Marktplatz 1`, `Kaiser-Wilhelm-Straße 3`,
//!   `Jungfernstieg 7`, `Sandtorkai 3`, `Berliner Straße 12`, `Neuer Wall 54`, `Alter Markt 5`),
//!   or a preposition form ending the phrase (`Am Markt 3,`);
//! - French: a number and a street type (`12 rue de la Paix`, `27 boulevard Haussmann`,
//!   `5 avenue Victor Hugo`; `place`, `route`, `cours` only with an article: `3 place de la
//!   Concorde`);
//! - Spanish: a street type, a capitalised name and the number (`Calle Mayor 10`,
//!   `Calle de Alcalá 48`, `Paseo de Gracia 92`, `Avenida de la Constitución 5`, `Plaza Mayor 1`;
//!   Catalan `Carrer de Mallorca 214`).
//!
//! Rejected: numbers glued to punctuation or other digits (`1.200`, `v2`), numbers after words
//! that make them a count or an index (`Top 5 …`, `Step 3 …`, `Chapter 2 …`), quantity words as
//! the street name (`5 Best Way`), lower-case street names, German compounds that are not
//! streets (`Parkplatz 3`, `Arbeitsplatz 2`) and German preposition phrases about time or
//! documents (`Im Kapitel 3`, `Am Montag 2`).

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// Finds street addresses (score 0.7–0.85); the span is the street line (number and street).
#[derive(Debug, Clone, Copy, Default)]
pub struct Address;

const NAME: &str = "address";

/// A capitalised street-name word: `Market`, `Alcalá`, `Saint-Honoré`, `O'Connell`.
const WORD: &str = r"\p{Lu}[\p{Ll}\p{M}]+(?:['’\-]\p{Lu}?[\p{Ll}\p{M}]+)*";

const ENGLISH: usize = 0;
const GERMAN_SUFFIX: usize = 1;
const GERMAN_ADJECTIVE: usize = 2;
const GERMAN_PREPOSITION: usize = 3;

/// The score of each pattern, by index.
const SCORES: [f32; 6] = [0.8, 0.85, 0.85, 0.7, 0.85, 0.85];

/// Words before a number that make it a count, rank or index rather than a house number
/// (lower-case, whitespace-separated; so are the lists below).
const COUNT_CUES: &str = "\
    top step steps version v chapter page section level phase part item rule tip tips figure fig table day \
    days week weeks year years episode season vol volume no number issue room floor gate platform track row \
    seat slide lesson module unit grade class round game match stage sprint release build the over about \
    approximately around only just than of x ×";

/// Capitalised words that make a quantity, not a street name (`5 Best Way`, `3 Simple Steps`).
const NOT_STREET_NAMES: &str = "\
    best top easy simple quick great better good bad wrong right only other same different smart fast safe \
    perfect ultimate secret key more less most few many proven essential important common surprising \
    amazing awesome cool fun free cheap powerful effective practical useful ways things reasons tips steps \
    lessons rules facts minute minutes hour hours day days week weeks month months year years times percent \
    million billion thousand hundred";

/// German compounds with a street suffix that are not streets.
const NOT_GERMAN_STREETS: &str = "\
    arbeitsplatz parkplatz stellplatz sitzplatz spielplatz speicherplatz steckplatz liegeplatz startplatz \
    studienplatz ausbildungsplatz messeplatz rückweg hinweg umweg ausweg zahlungsweg rechtsweg lieferweg \
    dienstweg heimweg lösungsweg fluchtweg arbeitsweg schulweg versandweg kommunikationsweg staudamm deichdamm \
    einstieg aufstieg anstieg abstieg ausstieg umstieg wiedereinstieg quereinstieg firewall paywall drywall \
    schutzwall erdwall lärmschutzwall schützengraben";

/// Nouns after a German preposition (`Am …`, `Im …`) that are not street names.
const NOT_GERMAN_PLACES: &str = "\
    ende anfang beginn tag jahr monat woche wochenende kapitel abschnitt punkt schritt teil seite team moment \
    beispiel prinzip grunde rahmen vergleich durchschnitt schnitt abend morgen mittag nachmittag vormittag \
    ticket projekt version level zeitraum gesamt vorfeld system server fall falle bereich test betrieb lager \
    büro raum stock erdgeschoss gebäude haus zimmer sektor bild text absatz satz paragraph artikel anhang \
    einsatz quartal halbjahr release sprint montag dienstag mittwoch donnerstag freitag samstag sonntag januar \
    februar märz april mai juni juli august september oktober november dezember schnitt original netz internet \
    display menü feld formular detail einzelnen allgemeinen zeit stunde minute sekunde uhr grad prozent stufe \
    runde spiel folge staffel band heft nummer reihe zeile spalte tabelle abbildung kategorie gruppe klasse \
    schicht phase etappe weg";

fn address_patterns() -> Vec<String> {
    let art_fr = r"(?:(?:de[ ]la|des|du|de|la|le|les)[ ]|(?:de[ ])?[dl]['’])";
    let art_es = r"(?:(?:de[ ]la|de[ ]los|de[ ]las|del|de|la|las|los|el)[ ])";
    let number = r"\d{1,4}[a-zA-Z]?(?:[-–/]\d{1,4}[a-zA-Z]?)?";
    vec![
        // 0: English, number first.
        format!(
            r"\b\d{{1,5}}[A-Za-z]?[ ](?:(?:N|S|E|W|NE|NW|SE|SW)\.?[ ])?(?:(?:{WORD}|\d{{1,3}}(?:st|nd|rd|th))[ ]){{1,3}}(?:Street|Avenue|Road|Lane|Boulevard|Drive|Way|Place|Court|Terrace|Parkway|Highway|Crescent|(?:St|Ave|Rd|Ln|Blvd|Dr|Pl|Ct|Pkwy|Hwy)\.?)"
        ),
        // 1: German compound street word, number after.
        format!(
            r"\b\p{{Lu}}[\p{{Ll}}\p{{M}}]*(?:-\p{{Lu}}[\p{{Ll}}\p{{M}}]*)*-?(?:[Ss]tra(?:ß|ss)e|[Ss]tr\.|[Aa]llee|[Ww]eg|[Pp]latz|[Gg]asse|[Dd]amm|[Uu]fer|[Cc]haussee|[Ss]tieg|[Ww]all|[Gg]raben|[Kk]ai)[ ]?{number}"
        ),
        // 2: German adjective and separate street word (`Berliner Straße 12`).
        format!(
            r"\b\p{{Lu}}[\p{{Ll}}\p{{M}}]+(?:er|e|sche)[ ](?:Stra(?:ß|ss)e|Str\.|Allee|Weg|Platz|Gasse|Damm|Ufer|Chaussee|Ring|Stieg|Wall|Graben|Kai|Markt)[ ]{number}"
        ),
        // 3: German preposition form (`Am Markt 3`).
        format!(
            r"\b(?:Am|An[ ]der|An[ ]den|Im|In[ ]der|In[ ]den|Auf[ ]der|Auf[ ]dem|Zum|Zur|Unter[ ]den|Hinter[ ]der|Vor[ ]dem)[ ]\p{{Lu}}[\p{{Ll}}\p{{M}}]+(?:-\p{{Lu}}[\p{{Ll}}\p{{M}}]+)?[ ]\d{{1,3}}[a-z]?"
        ),
        // 4: French, number first.
        format!(
            r"\b\d{{1,4}}(?:[ ]?(?:bis|ter)|[A-Za-z])?,?[ ](?:(?i:rue|avenue|boulevard|bd|boul\.|av\.|allée|impasse|chemin|quai)[ ]{art_fr}?|(?i:place|route|cours|square|passage)[ ]{art_fr}){WORD}(?:[ ]{art_fr}?{WORD}){{0,3}}"
        ),
        // 5: Spanish, number last.
        format!(
            r"\b(?:(?:Calle|Avenida|Avda\.|Av\.|Plaza|Paseo|Camino|Carrera|Ronda|Travesía|Glorieta|Carretera|Rambla|Vía|Pasaje|Carrer|Avinguda|Passeig|Plaça)[ ]|C/[ ]?){art_es}?{WORD}(?:[ ](?:{art_es}|y[ ])?{WORD}){{0,3}},?[ ](?:n\.?[ºo°]\.?[ ]?|núm\.?[ ]?)?{number}"
        ),
    ]
}

/// Whether `word` is one of the whitespace-separated `words`.
fn listed(words: &str, word: &str) -> bool {
    words.split_whitespace().any(|w| w == word)
}

/// The previous word before `start`, lower-cased, without surrounding punctuation.
fn previous_word(text: &str, start: usize) -> String {
    let before = text.get(..start).unwrap_or_default().trim_end();
    let word = before.rsplit(char::is_whitespace).next().unwrap_or_default();
    word.trim_matches(|c: char| !c.is_alphanumeric()).to_lowercase()
}

/// Whether the match is glued to what stands before or after it (`1.200 …`, `…12.5`, `…Streetcar`).
fn glued(text: &str, start: usize, end: usize) -> bool {
    let prev = text.get(..start).and_then(|s| s.chars().next_back());
    let mut after = text.get(end..).unwrap_or_default().chars();
    let (next, next2) = (after.next(), after.next());
    prev.is_some_and(|c| c.is_alphanumeric() || matches!(c, '.' | ',' | '/' | '-' | '#' | '$' | '€' | '£' | '+' | '_'))
        || next.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == '%')
        || (next.is_some_and(|c| matches!(c, '.' | ',' | ':' | '/' | '-')) && next2.is_some_and(|c| c.is_ascii_digit()))
}

/// Checks an English street line: no count cue before the number, no quantity word as the name.
fn english_ok(text: &str, start: usize, candidate: &str) -> bool {
    if listed(COUNT_CUES, &previous_word(text, start)) || candidate.starts_with('0') {
        return false;
    }
    candidate.split(' ').skip(1).all(|w| !listed(NOT_STREET_NAMES, &w.to_lowercase()))
}

/// Checks a German preposition form: a place noun and the phrase ends after the number.
fn german_preposition_ok(text: &str, candidate: &str, end: usize) -> bool {
    let noun = candidate.rsplit(' ').nth(1).unwrap_or_default().to_lowercase();
    if listed(NOT_GERMAN_PLACES, &noun) {
        return false;
    }
    let rest = text.get(end..).unwrap_or_default();
    let rest = rest.trim_start_matches([' ', '\t']);
    rest.is_empty()
        || rest.starts_with([',', ';', ')', '\n', '\r'])
        || rest.starts_with(". ")
        || rest == "."
        || rest.starts_with(".\n")
        || rest.split(' ').next().is_some_and(|w| w.len() == 5 && w.bytes().all(|b| b.is_ascii_digit()))
}

/// Bytes a street line can span on either side of its house number (up to four capitalised words
/// and articles).
const SPAN: usize = 240;

/// English street types as the first letters of a word (`St` also stands for `Street`...).
const ENGLISH_TYPES: &[&str] = &[
    "St",
    "Ave",
    "Road",
    "Rd",
    "Lane",
    "Ln",
    "Boulevard",
    "Blvd",
    "Dr",
    "Way",
    "Place",
    "Pl",
    "Court",
    "Ct",
    "Terrace",
    "Parkway",
    "Pkwy",
    "Highway",
    "Hwy",
    "Crescent",
];
/// German street words, lower-case, as word endings (`Hauptstraße`, `Bahnhofstr.`). `markt` is a
/// street only as a word of its own after an adjective (`Alter Markt 5`), never as a compound
/// (`Kapitalmarkt 2024`).
const GERMAN_SUFFIXES: &[&str] = &[
    "straße", "strasse", "str.", "allee", "weg", "platz", "gasse", "damm", "ufer", "chaussee", "ring", "stieg", "wall",
    "graben", "kai", "markt",
];
/// French street types, lower-case.
const FRENCH_TYPES: &[&str] = &[
    "rue",
    "avenue",
    "boulevard",
    "bd",
    "boul.",
    "av.",
    "allée",
    "impasse",
    "chemin",
    "quai",
    "place",
    "route",
    "cours",
    "square",
    "passage",
];
/// The first two bytes of the French street types.
const FRENCH_STARTS: [[u8; 2]; 13] =
    [*b"ru", *b"av", *b"bo", *b"bd", *b"al", *b"im", *b"ch", *b"qu", *b"pl", *b"ro", *b"co", *b"sq", *b"pa"];
/// Spanish street types (a word of their own; `C/` may be glued to the name).
const SPANISH_TYPES: &[&str] = &[
    "Calle",
    "Avenida",
    "Avda.",
    "Av.",
    "Plaza",
    "Paseo",
    "Camino",
    "Carrera",
    "Ronda",
    "Travesía",
    "Glorieta",
    "Carretera",
    "Rambla",
    "Vía",
    "Pasaje",
    "Carrer",
    "Avinguda",
    "Passeig",
    "Plaça",
];

/// Every pattern holds a house number: a digit cluster, with the street vocabulary some pattern
/// needs next to it. Every digit cluster of a text is checked, so the checks look at a few bytes
/// first.
fn address_triggers() -> Vec<Trigger> {
    vec![Trigger::digits(1).window(SPAN, SPAN).accept(street_number)]
}

/// Whether the digit cluster `start..end` can be the house number of a street line.
fn street_number(text: &str, start: usize, end: usize) -> bool {
    let bytes = text.as_bytes();
    let after = bytes.get(end..).unwrap_or_default();
    let before = bytes.get(..start).unwrap_or_default();
    english_follows(after) || french_follows(after) || german_street_before(before) || words_before(text, before)
}

/// English: the number's letter or ordinal suffix (`221B`, `5th`), a space, a capitalised word or
/// a number, and a street type among the next five words.
fn english_follows(after: &[u8]) -> bool {
    let letters = after.iter().take(2).take_while(|b| b.is_ascii_alphabetic()).count();
    let Some(rest) = after.get(letters..).and_then(|r| r.strip_prefix(b" ")) else { return false };
    if !rest.first().is_some_and(|b| b.is_ascii_uppercase() || b.is_ascii_digit() || *b >= 0x80) {
        return false;
    }
    let rest = rest.get(..rest.len().min(SPAN)).unwrap_or_default();
    rest.split(|b| *b == b' ').take(5).any(|w| ENGLISH_TYPES.iter().any(|t| w.starts_with(t.as_bytes())))
}

/// French: a street type (then a space) after the first or second space within the next six
/// bytes (`12 rue`, `14 bis, rue`).
fn french_follows(after: &[u8]) -> bool {
    let head = after.get(..after.len().min(7)).unwrap_or_default();
    head.iter().enumerate().filter(|(_, b)| **b == b' ').take(2).any(|(i, _)| {
        let word = after.get(i + 1..).unwrap_or_default();
        let (Some(a), Some(b)) = (word.first(), word.get(1)) else { return false };
        if !FRENCH_STARTS.contains(&[a.to_ascii_lowercase(), b.to_ascii_lowercase()]) {
            return false;
        }
        let word =
            word.get(..word.iter().take(11).position(|b| *b == b' ').unwrap_or(word.len().min(11))).unwrap_or_default();
        FRENCH_TYPES.iter().any(|t| {
            t.len() == word.len()
                && (word.eq_ignore_ascii_case(t.as_bytes())
                    || (!word.is_ascii() && std::str::from_utf8(word).is_ok_and(|w| w.to_lowercase() == *t)))
        })
    })
}

/// German: the word before the number (past one space) ends with a street word (`Hauptstraße 12`,
/// `Bahnhofstr.5`, `Berliner Straße 12`).
fn german_street_before(before: &[u8]) -> bool {
    let before = before.get(before.len().saturating_sub(12)..).unwrap_or_default();
    let before = before.strip_suffix(b" ").unwrap_or(before);
    // Every street word ends in one of these.
    before.last().is_some_and(|b| b"egzmr.lnitEGZMRLNIT".contains(b))
        && GERMAN_SUFFIXES.iter().any(|s| {
            before.len() >= s.len()
                && before.get(before.len() - s.len()..).is_some_and(|t| t.eq_ignore_ascii_case(s.as_bytes()))
        })
}

/// German preposition forms (`Am Markt 3`) and Spanish street lines (`Calle Mayor 10`,
/// `Paseo de Gracia 92`, `Calle Mayor, nº 5`): capitalised words, articles or number marks run back
/// from the number to the preposition or the street type.
fn words_before(text: &str, before: &[u8]) -> bool {
    // A space before the number, or a number mark glued to it (`núm.5`, `nº5`).
    if !before.last().is_some_and(|b| matches!(b, b' ' | b'.' | b'o' | b'm' | b'/') || *b >= 0x80) {
        return false;
    }
    let trimmed = before.strip_suffix(b" ").unwrap_or(before);
    let token = trimmed.get(trimmed.iter().rposition(|b| *b == b' ').map_or(0, |i| i + 1)..).unwrap_or_default();
    let capitalised = token.first().is_some_and(|b| b.is_ascii_uppercase() || *b >= 0x80);
    let small = matches!(token, b"de" | b"la" | b"del" | b"los" | b"las" | b"el" | b"y")
        || (token.first() == Some(&b'n') && token.len() <= 6);
    (capitalised || small) && (german_preposition_before(text, before.len()) || spanish_before(text, before.len()))
}

/// A German preposition form two or three words before the number at `start` (`Am Markt 3`,
/// `An der Alster 5`).
fn german_preposition_before(text: &str, start: usize) -> bool {
    let Some(before) = text.get(ceil_char(text, start.saturating_sub(SPAN))..start).and_then(|b| b.strip_suffix(' '))
    else {
        return false;
    };
    let mut words = before.rsplit(' ');
    let noun = words.next().unwrap_or_default();
    // The preposition may follow any non-word character (`\nAm Markt 3`, `(Am Markt 3`).
    noun.starts_with(char::is_uppercase)
        && words.next().is_some_and(|w| {
            let bare = w.trim_start_matches(|c: char| !c.is_alphanumeric());
            ["Am", "Im", "Zum", "Zur", "der", "den", "dem"].contains(&bare)
        })
}

/// A Spanish street type before the number at `start`, among the capitalised words, articles and
/// number marks (`nº`, `núm.`) that run back from it.
fn spanish_before(text: &str, start: usize) -> bool {
    let before = text.get(ceil_char(text, start.saturating_sub(SPAN))..start).unwrap_or_default();
    for w in before.rsplit(char::is_whitespace).take(16) {
        let capitalised = w.starts_with(char::is_uppercase);
        // The street type may follow any non-word character (`(Calle Mayor 10`), and may start
        // a line after a capitalised one (`Banco Meridiano\nCalle de Serrano 41`).
        // The word after any punctuation glued before it (`"Calle`, `[{"text":"Calle`).
        let glued = w.trim_end_matches('.').rfind(|c: char| !(c.is_alphanumeric() || c == '/'));
        let bare = glued.and_then(|i| w.get(i + 1..)).unwrap_or(w);
        if bare.starts_with(char::is_uppercase) && (SPANISH_TYPES.contains(&bare) || bare.starts_with("C/")) {
            return true;
        }
        let walkable = w.is_empty()
            || capitalised
            || ["de", "la", "del", "los", "las", "el", "y"].contains(&w)
            || (w.starts_with('n') && w.len() <= 6);
        if !walkable {
            return false;
        }
    }
    false
}

/// The nearest char boundary at or after `i`.
fn ceil_char(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

impl Recognizer for Address {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        address_patterns()
    }

    /// House numbers with the street words each pattern needs next to them.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(address_triggers())
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        if glued(text, start, end) {
            return None;
        }
        let ok = match pattern {
            ENGLISH => english_ok(text, start, candidate),
            GERMAN_SUFFIX => {
                let street = candidate.split(' ').next().unwrap_or_default().to_lowercase();
                !NOT_GERMAN_STREETS.split_whitespace().any(|s| street.starts_with(s))
            }
            GERMAN_ADJECTIVE => {
                let adjective = candidate.split(' ').next().unwrap_or_default().to_lowercase();
                !["die", "eine", "keine", "meine", "deine", "seine", "ihre", "unsere", "diese", "jede", "nächste"]
                    .contains(&adjective.as_str())
            }
            GERMAN_PREPOSITION => german_preposition_ok(text, candidate, end),
            _ => true,
        };
        if !ok {
            return None;
        }
        let score = *SCORES.get(pattern)?;
        Some(Finding { kind: EntityKind::Address, start, end, score, recognizer: NAME })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(Address)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn address_patterns_compile_and_are_scored() {
        let patterns = address_patterns();
        assert_eq!(patterns.len(), SCORES.len());
        for p in patterns {
            regex::Regex::new(&p).unwrap();
        }
    }

    #[test]
    fn french_starts_are_the_types_first_bytes() {
        for t in FRENCH_TYPES {
            assert!(FRENCH_STARTS.iter().any(|s| t.as_bytes().starts_with(s)), "{t}");
        }
    }

    #[test]
    fn address_finds_english_street_lines() {
        assert_eq!(spans("The shipment to 1200 Market Street bounced."), ["1200 Market Street"]);
        assert_eq!(spans("ship to 350 Fifth Avenue, New York, NY 10118"), ["350 Fifth Avenue"]);
        assert_eq!(spans("221B Baker St. London"), ["221B Baker St."]);
        assert_eq!(spans("at 12 N Elm Dr. today"), ["12 N Elm Dr."]);
        assert_eq!(spans("1600 Pennsylvania Ave NW"), ["1600 Pennsylvania Ave"]);
        assert_eq!(spans("office: 500 West 5th Street"), ["500 West 5th Street"]);
        assert_eq!(spans("1 Infinite Loop Way"), ["1 Infinite Loop Way"]);
        assert_eq!(spans("42 Wallaby Way, Sydney"), ["42 Wallaby Way"]);
    }

    #[test]
    fn address_finds_german_street_lines() {
        assert_eq!(spans("wohnhaft Hauptstraße 12, 10115 Berlin."), ["Hauptstraße 12"]);
        assert_eq!(spans("Bahnhofstr. 5, 80335 München"), ["Bahnhofstr. 5"]);
        assert_eq!(spans("wohnhaft Lindenallee 7, 10115 Berlin"), ["Lindenallee 7"]);
        assert_eq!(spans("Birkenweg 4a"), ["Birkenweg 4a"]);
        assert_eq!(spans("Kaiser-Wilhelm-Straße 3-5"), ["Kaiser-Wilhelm-Straße 3-5"]);
        assert_eq!(spans("Berliner Straße 12"), ["Berliner Straße 12"]);
        assert_eq!(spans("Lieferung an: Am Markt 3, 28195 Bremen"), ["Am Markt 3"]);
        assert_eq!(spans("Marktplatz 1"), ["Marktplatz 1"]);
        assert_eq!(spans("Neuer Wall 54, 20354 Hamburg"), ["Neuer Wall 54"]);
        assert_eq!(spans("Jungfernstieg 7, 20354 Hamburg"), ["Jungfernstieg 7"]);
        assert_eq!(spans("Am Sandtorkai 3"), ["Sandtorkai 3"]);
        assert_eq!(spans("Alter Markt 5, 50667 Köln"), ["Alter Markt 5"]);
        assert_eq!(spans("Hirschgraben 11"), ["Hirschgraben 11"]);
    }

    #[test]
    fn address_finds_french_and_spanish_street_lines() {
        assert_eq!(
            spans("merci d'envoyer le colis au 27 boulevard Haussmann, 75001 Paris."),
            ["27 boulevard Haussmann"]
        );
        assert_eq!(spans("12 rue de la Paix, 75002 Paris"), ["12 rue de la Paix"]);
        assert_eq!(spans("5 avenue Victor Hugo"), ["5 avenue Victor Hugo"]);
        assert_eq!(spans("3 place de la Concorde"), ["3 place de la Concorde"]);
        assert_eq!(spans("14 bis rue de l'Église"), ["14 bis rue de l'Église"]);
        assert_eq!(spans("la nueva dirección es Paseo de Gracia 92, 28014 Madrid."), ["Paseo de Gracia 92"]);
        assert_eq!(spans("Calle de Alcalá 48, 28014 Madrid"), ["Calle de Alcalá 48"]);
        assert_eq!(spans("Calle Mayor 10"), ["Calle Mayor 10"]);
        assert_eq!(spans("Banco Meridiano\nCalle de Serrano 41, 28001 Madrid"), ["Calle de Serrano 41"]);
        assert_eq!(spans(r#"{"address":[{"text":"Calle de Alcalá 48, 28014 Madrid"}]}"#), ["Calle de Alcalá 48"]);
        assert_eq!(spans("Carrer de Mallorca 214, 08008 Barcelona"), ["Carrer de Mallorca 214"]);
        assert_eq!(spans("Avda. de América 3"), ["Avda. de América 3"]);
        assert_eq!(spans("Avenida de la Constitución 5"), ["Avenida de la Constitución 5"]);
        assert_eq!(spans("Plaza Mayor 1, Madrid"), ["Plaza Mayor 1"]);
    }

    #[test]
    fn address_rejects_counts_products_and_non_streets() {
        for text in [
            "Version 2 Street",
            "3 Street Fighter",
            "Top 10 Best Place to work",
            "5 Best Way to learn Rust",
            "Step 3 Main Road",
            "Chapter 2 Baker Street",
            "1.200 Market Street",
            "v2 Market Street",
            "12 main street",
            "Team Lead",
            "3 Easy Steps",
            "Parkplatz 3",
            "Arbeitsplatz 2 ist frei",
            "Im Kapitel 3, Absatz 2",
            "Am Montag 2 Termine",
            "Im Jahr 2024",
            "Am Ende 3 Tage",
            "Zur Zeit 3, sonst",
            "Auf dem Weg 2 Tage",
            "Weg 4",
            "Straße 5",
            "I took 2 place Holders",
            "route 66 Diner",
            "Porsche Carrera 4",
            "Spring 2024",
            "Hauptstraße 12345",
            "Lindenallee 7.5",
            "12 Market Streetcar",
            "0 Market Street",
            "Firewall 2 blockiert Port 443",
            "Der Einstieg 2024 war schwer",
            "Kapitalmarkt 2024",
            "Wochenmarkt 3 Stände",
            "Der Anstieg 12 Prozent",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
    }
}
