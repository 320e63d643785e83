//! The detector against whole-text scans, on the corpus and at window edges.

use super::*;
use crate::compliance::pii::EntityKind;

/// The labelled corpus's texts (tests/pii/corpus.jsonl).
pub(super) fn corpus() -> Vec<String> {
    include_str!("../../../../tests/pii/corpus.jsonl")
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v.get("text").and_then(serde_json::Value::as_str).map(str::to_owned))
        .collect()
}

/// Values hidden with zero-width characters, full-width or mathematical digits, no-break
/// spaces or typographic dashes are found, and the spans cover them on the original text.
#[test]
fn unicode_disguises_do_not_hide_values() {
    let d = Detector::builtin().unwrap();
    let key = format!("sk-proj-{}", "aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s");
    let cases: [(String, &str, EntityKind); 6] = [
        ("write to ann.lee\u{200B}@corp-mail.io today".to_owned(), "ann.lee\u{200B}@corp-mail.io", EntityKind::Email),
        (
            "card ４１１１ １１１１ １１１１ １１１１ please".to_owned(),
            "４１１１ １１１１ １１１１ １１１１",
            EntityKind::CreditCard,
        ),
        ("my ssn is 536–22–8741.".to_owned(), "536–22–8741", EntityKind::UsSsn),
        ("SSN: 𝟓𝟑𝟔-𝟐𝟐-𝟖𝟕𝟒𝟏".to_owned(), "𝟓𝟑𝟔-𝟐𝟐-𝟖𝟕𝟒𝟏", EntityKind::UsSsn),
        (
            "rappelez-moi au 06\u{202F}12\u{202F}34\u{202F}56\u{202F}78 svp".to_owned(),
            "06\u{202F}12\u{202F}34\u{202F}56\u{202F}78",
            EntityKind::Phone,
        ),
        (format!("OPENAI_API_KEY={}\u{2060}{}", &key[..20], &key[20..]), "", EntityKind::ApiKey),
    ];
    for (text, value, kind) in &cases {
        let found = d.detect(text);
        let f =
            found.iter().find(|f| f.kind == *kind).unwrap_or_else(|| panic!("{kind} not found in {text:?}: {found:?}"));
        let span = text.get(f.start..f.end).unwrap();
        if value.is_empty() {
            assert_eq!(span.replace('\u{2060}', ""), key, "{text:?}");
        } else {
            assert_eq!(span, *value, "{text:?}");
        }
        assert_eq!(d.detect(text), d.detect_whole(text), "{text:?}");
    }
}

/// Scanning only the windows around triggers finds exactly what scanning the whole text with
/// every recognizer finds: on every corpus text, on all of them joined (matches next to each
/// other and to window edges), and on slices cut at arbitrary char boundaries (matches cut by
/// the text's start and end).
#[test]
fn windows_find_what_whole_scans_find() {
    let d = Detector::builtin().unwrap();
    let texts = corpus();
    assert!(texts.len() > 300);
    let mut checked = 0;
    let mut check = |t: &str| {
        assert_eq!(d.detect(t), d.detect_whole(t), "in {t:?}");
        checked += 1;
    };
    for t in &texts {
        check(t);
    }
    let joined = texts.join("\n");
    check(&joined);
    check(&texts.join(" "));
    check(&texts.concat());
    let bounds: Vec<usize> = (0..=joined.len()).filter(|i| joined.is_char_boundary(*i)).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        usize::try_from(state % n as u64).unwrap()
    };
    for _ in 0..400 {
        let from = bounds[next(bounds.len())];
        let len = 1 + next(400);
        let to = bounds.iter().copied().find(|b| *b >= from + len).unwrap_or(joined.len());
        check(&joined[from..to]);
    }
    assert!(checked > 700);
}

/// Values of every kind, hard negatives, and cues without values (from the recognizers'
/// tests), for the window-edge comparisons below.
const SAMPLES: &[&str] = &[
    "jane.doe+tag@acme-corp.co.uk",
    "git@github.com:acme/gw.git",
    "+1 (212) 555-0198",
    "Phone: 2125550198",
    "020 7946 0958",
    "2024-01-15 10:30:00",
    "4111 1111 1111 1111",
    "3782 822463 10005",
    "DE89 3704 0044 0532 0130 00",
    "GB82 WEST 1234 5698 7654 32",
    "SSN: 536-22-8743",
    "my social security number is 536228743",
    "server at 8.8.8.8, fallback 2a00:1450:4001:81b::200e",
    "std::net::Ipv6Addr at 10:30:45",
    "AKIAQWERTYUIOPASDFGH",
    "aws_secret_access_key = wJalrXUtnFEMIK7MDENGbPxRfiCYzEXAMPLEKEYq",
    "TWILIO_API_KEY=SK0123456789abcdef0123456789abcdef",
    "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA7x9Kq3mZt2pL8vN1cJ5hB3fD6gS0aY2eU8iO4tM7nP1qV9\n-----END RSA PRIVATE KEY-----",
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
    "postgres://app:s3cr3t-P4ss@db.internal:5432/app",
    "Server=db;User Id=sa;Password=Q7#mv!2xL;",
    "Date of birth: 1985-03-14.",
    "geboren am 14. März 1985",
    "née le 14 mars 1985 à Lyon",
    "Passport No. 123456789, expires 2030",
    "numéro de passeport : 18AV12345",
    "Dear Mr Marcus Hughes,\n\nthank you",
    "Sehr geehrte Frau Sabine Krüger,\n\nbitte",
    "Hi Sofia Patel, the build is green",
    "Cheers,\nDaniel Brennan\nPlatform Engineering",
    "Mit freundlichen Grüßen\nKatrin Hoffmann\n",
    "From: Hannah Brennan <hannah@brightlane.io>",
    "Hi, my name is Kenji Kowalski and I need help",
    "I'm Priya Okafor from billing",
    "Name: Laura Brennan\nEmail: x",
    "12 Elm Dr. Springfield",
    "The shipment to 1200 Market Street bounced.",
    "office: 500 West 5th Street",
    "wohnhaft Hauptstraße 12, 10115 Berlin.",
    "Lieferung an: Am Markt 3, 28195 Bremen",
    "12 rue de la Paix, 75002 Paris",
    "14 bis rue de l'Église",
    "la nueva dirección es Paseo de Gracia 92, 28014 Madrid.",
    "Calle Mayor, nº 5",
    "Top 10 Best Place to work",
    "Im Kapitel 3, Absatz 2",
];

/// The samples at every distance from the text's edges and from each other that matters to
/// the windows (around 0, 16, 64, 96, 128 and 240 bytes), with fillers of spaces, words,
/// digits and lines.
#[test]
fn windows_find_what_whole_scans_find_at_window_edges() {
    let d = Detector::builtin().unwrap();
    let fillers = [" ", "lorem ipsum ", "7 ", "\n", "x"];
    let lengths = [0, 1, 2, 15, 16, 17, 63, 64, 65, 95, 96, 97, 127, 128, 129, 239, 240, 241, 260];
    for (k, sample) in SAMPLES.iter().enumerate() {
        let filler = fillers[k % fillers.len()];
        for &n in &lengths {
            let pad: String = filler.repeat(n / filler.len() + 1).chars().take(n).collect();
            for text in [
                format!("{pad}{sample}"),
                format!("{sample}{pad}"),
                format!("{pad}{sample}{pad}{}", SAMPLES[(k + 1) % SAMPLES.len()]),
            ] {
                assert_eq!(d.detect(&text), d.detect_whole(&text), "in {text:?}");
            }
        }
    }
}

fn spans(d: &Detector, text: &str) -> Vec<String> {
    d.detect(text).iter().map(|f| text[f.start..f.end].to_owned()).collect()
}

/// Candidates longer than their trigger's window are found whole: the window is searched
/// again up to the end of the text.
#[test]
fn candidates_longer_than_their_window_are_found_whole() {
    let d = Detector::builtin().unwrap();
    let name = format!("Ann{}", "e".repeat(150));
    let text = format!("Dear {name},\nthanks");
    assert_eq!(spans(&d, &text), [name]);
    assert_eq!(d.detect(&text), d.detect_whole(&text));
    let domain = format!("{}example-corp.io", "sub.".repeat(100));
    let text = format!("write to ops@{domain} today");
    assert_eq!(spans(&d, &text), [format!("ops@{domain}")]);
    let text = format!("Passport No.{} 123456789", " :".repeat(80));
    assert_eq!(spans(&d, &text), ["123456789"]);
    let text = format!("Mr{}Smith, hi", " ".repeat(300));
    assert_eq!(spans(&d, &text), ["Smith"]);
    let text = format!("{}Kind regards,\n{}Daniel Brennan\n", " ".repeat(300), "\t".repeat(200));
    assert_eq!(spans(&d, &text), ["Daniel Brennan"]);
    let text = format!("From:{}Hannah Brennan{}<hannah@brightlane.io>", " ".repeat(200), " ".repeat(200));
    assert_eq!(d.detect(&text), d.detect_whole(&text));
    assert_eq!(d.detect(&text).len(), 2);
}

/// Values at the very start and end of a text, and texts that are only a value.
#[test]
fn values_at_text_boundaries() {
    let d = Detector::builtin().unwrap();
    assert_eq!(spans(&d, "4111 1111 1111 1111"), ["4111 1111 1111 1111"]);
    assert_eq!(spans(&d, "8.8.8.8 answered"), ["8.8.8.8"]);
    assert_eq!(spans(&d, "call +49 30 1234567"), ["+49 30 1234567"]);
    assert_eq!(spans(&d, "ann@corp-mail.io"), ["ann@corp-mail.io"]);
    assert_eq!(spans(&d, "Dear John"), ["John"]);
    assert!(d.detect("").is_empty());
    assert!(d.detect("@").is_empty());
}

/// A character that case folding maps onto an ASCII letter sends the text to the whole scan,
/// which finds what the regex crate's `(?i)` finds.
#[test]
fn exotic_case_folding_is_scanned_whole() {
    let d = Detector::builtin().unwrap();
    let text = "pa\u{17F}\u{17F}port number 123456789";
    assert_eq!(spans(&d, text), ["123456789"]);
    assert!(d.windows(text).is_none());
    assert!(d.windows("passport number 123456789").is_some());
}

/// Recognizers that declare no triggers scan the whole text.
#[test]
fn recognizers_without_triggers_scan_whole() {
    struct Digits;
    impl Recognizer for Digits {
        fn name(&self) -> &'static str {
            "digits"
        }
        fn patterns(&self) -> Vec<String> {
            vec![r"\b\d{3}\b".to_owned()]
        }
        fn check(&self, _text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
            let kind = super::super::EntityKind::Custom("THREE".into());
            Some(Finding { kind, start, end, score: 0.9, recognizer: "digits" })
        }
    }
    let d = Detector::builder().recognizer(Box::new(Digits)).build().unwrap();
    let text = "a 123 b 4567 c 890";
    assert_eq!(spans(&d, text), ["123", "890"]);
}

fn clusters(text: &str) -> Vec<(&str, usize)> {
    Clusters::new(text.as_bytes()).map(|(s, e, d)| (&text[s..e], d)).collect()
}

#[test]
fn digit_clusters_join_runs_across_short_separators() {
    assert_eq!(clusters("call +1 (212) 555-0198 now"), [("1 (212) 555-0198", 11)]);
    assert_eq!(clusters("v1.2.3 and 10:30"), [("1.2.3", 3), ("10", 2), ("30", 2)]);
    assert_eq!(clusters("4111 1111 1111 1111"), [("4111 1111 1111 1111", 16)]);
    assert_eq!(clusters("12    34"), [("12", 2), ("34", 2)]);
    assert_eq!(clusters("no digits"), []);
    let long = format!("{}7{}", "x".repeat(70), "y".repeat(40));
    assert_eq!(clusters(&long), [("7", 1)]);
    assert_eq!(clusters("9"), [("9", 1)]);
}
