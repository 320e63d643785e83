//! Every entity kind is found with its exact span whatever punctuation or markup surrounds it:
//! a sentence's full stop, a comma, brackets, quotes, markdown emphasis and code spans. The span
//! never swallows the punctuation (a redaction keeps the sentence intact) and the value is never
//! lost to it.

use smartflow_policy::compliance::pii::Detector;

/// (kind, the cue before the value, the value).
const VALUES: &[(&str, &str, &str)] = &[
    ("EMAIL", "my e-mail is ", "p.whitaker@kestrel-analytics.co.uk"),
    ("PHONE", "call me on ", "+1-415-444-5912"),
    ("PHONE", "Tel:", "+49 30 21456789"),
    ("CREDIT_CARD", "card ", "6521 3557 7601 4321"),
    ("IBAN", "IBAN ", "NL51ABNA3751807837"),
    ("US_SSN", "SSN ", "545-35-4865"),
    ("IP_ADDRESS", "login from ", "62.220.24.210"),
    ("API_KEY", "the token ", "xoxb-379563094546-3382606058651-QA6TCvY4dhKMlRdZQ9QsTXUu"),
    ("API_KEY", "key ", "sk-proj-aB3dE5gH7jK9mN1pQ3sT5vX7zA9cE1gI3kM5oQ7s"),
    ("API_KEY", "key ", "AKIAZ7QW3ERT5YUI8OPA"),
    (
        "JWT",
        "token ",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY2N0X29keHJxdGF2bWYiLCJpYXQiOjE3Mjg0MTE0NDEsImV4cCI6MTcyODQ5Nzg0MSwic2NvcGUiOiJhZG1pbiJ9.UvoGZZ1uxYdHABrFqLqPBi7OQUW35pnDgrfJlYjBXYk",
    ),
    ("URL_CREDENTIALS", "cache at ", "redis://default:BcnwDDOOAZvw6d3eK3pxFk@cache-3.hafenkontor.de:6379/0"),
    ("DATE_OF_BIRTH", "date of birth ", "12 March 1964"),
    ("PASSPORT", "passport number ", "649106549"),
    ("PERSON", "Dear Ms ", "Priya Tanaka"),
    ("ADDRESS", "We ship to ", "1200 Market Street"),
];

/// Closing punctuation after a value.
const AFTER: &[&str] = &[".", ",", ";", ":", "!", "?", ".\n", ")."];

/// Wrappers around a value (opening, closing).
const AROUND: &[(&str, &str)] = &[("(", ")"), ("\"", "\""), ("'", "'"), ("<", ">"), ("[", "]"), ("*", "*"), ("`", "`")];

fn misses(d: &Detector, kind: &str, text: &str, value: &str) -> Option<String> {
    let found = d.detect(text);
    if found.iter().any(|f| f.kind.label() == kind && &text[f.start..f.end] == value) {
        return None;
    }
    let seen: Vec<(&str, &str)> = found.iter().map(|f| (f.kind.label(), &text[f.start..f.end])).collect();
    Some(format!("{kind} in {text:?}: found {seen:?}"))
}

#[test]
fn values_are_found_exactly_next_to_punctuation_and_markup() {
    let d = Detector::builtin().unwrap();
    let mut failures = Vec::new();
    for (kind, cue, value) in VALUES {
        for after in AFTER {
            let text = format!("{cue}{value}{after} More text follows.");
            failures.extend(misses(&d, kind, &text, value));
        }
        // A name is not put in brackets or quotes after its title.
        if *kind == "PERSON" {
            continue;
        }
        for (open, close) in AROUND {
            let text = format!("{cue}{open}{value}{close} and more text.");
            failures.extend(misses(&d, kind, &text, value));
        }
    }
    assert!(failures.is_empty(), "{} misses:\n{}", failures.len(), failures.join("\n"));
}
