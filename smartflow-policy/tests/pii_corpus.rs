//! The PII detector against a labelled corpus (`tests/pii/*.jsonl`, see `tests/pii/README.md`):
//! every text is scanned by `Detector::builtin()`, findings are matched to the labels by kind and
//! overlapping span, and precision/recall per kind are printed and held to targets.
//!
//! The corpus is checked first: every label must be a substring of its text and must be valid by
//! the rules the recognizers implement (Luhn, mod-97, SSN ranges, numbering plans), so a failure
//! here is the detector's, not the corpus's.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test helpers: a malformed corpus fails the test")]

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use serde::Deserialize;
use smartflow_policy::compliance::pii::{Detector, EntityKind, Finding};

#[derive(Debug, Deserialize)]
struct Label {
    kind: String,
    value: String,
}

#[derive(Debug, Deserialize)]
struct Sample {
    id: String,
    lang: String,
    category: String,
    text: String,
    entities: Vec<Label>,
    /// The file it came from (`corpus`, `handwritten`...), set on loading.
    #[serde(skip)]
    source: String,
}

/// Kinds whose recall is held to the structured-identifier target.
const STRUCTURED: [&str; 10] = [
    "EMAIL",
    "PHONE",
    "CREDIT_CARD",
    "IBAN",
    "US_SSN",
    "IP_ADDRESS",
    "API_KEY",
    "PRIVATE_KEY",
    "JWT",
    "URL_CREDENTIALS",
];
const CATEGORIES: [&str; 8] = ["support_ticket", "code", "email", "log", "csv", "json", "chat", "negative"];
const LANGS: [&str; 4] = ["en", "de", "fr", "es"];
const RECALL_TARGET: f64 = 0.99;
const PRECISION_TARGET: f64 = 0.97;

fn load() -> Vec<Sample> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/pii");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus files in {}", dir.display());
    let mut out = Vec::new();
    for file in files {
        let body = std::fs::read_to_string(&file).unwrap();
        for (n, line) in body.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let s: Sample = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}:{}: {e}", file.display(), n + 1));
            let mut s = s;
            s.source = file.file_stem().map(|f| f.to_string_lossy().into_owned()).unwrap_or_default();
            out.push(s);
        }
    }
    out
}

fn luhn(digits: &str) -> bool {
    let mut sum = 0;
    for (i, c) in digits.chars().rev().enumerate() {
        let mut d = c.to_digit(10).unwrap();
        if i % 2 == 1 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    sum % 10 == 0
}

fn iban_ok(compact: &str) -> bool {
    let lengths = [
        ("DE", 22),
        ("FR", 27),
        ("ES", 24),
        ("GB", 22),
        ("NL", 18),
        ("AT", 20),
        ("BE", 16),
        ("CH", 21),
        ("IT", 27),
        ("PL", 28),
    ];
    let Some(&(_, len)) = lengths.iter().find(|(c, _)| compact.starts_with(c)) else { return false };
    if compact.len() != len || !compact.chars().all(|c| c.is_ascii_alphanumeric()) {
        return false;
    }
    let rearranged = format!("{}{}", &compact[4..], &compact[..4]);
    let mut rem = 0u32;
    for c in rearranged.chars() {
        let v = c.to_digit(36).unwrap();
        rem = if v >= 10 { (rem * 100 + v) % 97 } else { (rem * 10 + v) % 97 };
    }
    rem == 1
}

fn ssn_ok(v: &str) -> bool {
    let d: String = v.chars().filter(char::is_ascii_digit).collect();
    if d.len() != 9 {
        return false;
    }
    let (area, group, serial) = (&d[..3], &d[3..5], &d[5..]);
    area != "000" && area != "666" && !area.starts_with('9') && group != "00" && serial != "0000" && d != "078051120"
}

fn phone_ok(v: &str, lang: &str) -> bool {
    use phonenumber::country::Id;
    let region = match lang {
        "de" => Id::DE,
        "fr" => Id::FR,
        "es" => Id::ES,
        _ => Id::US,
    };
    phonenumber::parse(Some(region), v).is_ok_and(|n| n.is_valid())
}

/// Checks one label against the validity rules of its kind; returns why it is wrong.
fn label_problem(s: &Sample, l: &Label) -> Option<String> {
    if EntityKind::parse(&l.kind).is_none() {
        return Some(format!("unknown kind {}", l.kind));
    }
    if l.value.is_empty() || !s.text.contains(&l.value) {
        return Some("value is not a substring of the text".into());
    }
    let compact: String = l.value.chars().filter(|c| !c.is_whitespace() && *c != '-').collect();
    let ok = match l.kind.as_str() {
        "CREDIT_CARD" => {
            compact.chars().all(|c| c.is_ascii_digit()) && (13..=19).contains(&compact.len()) && luhn(&compact)
        }
        "IBAN" => iban_ok(&compact),
        "US_SSN" => ssn_ok(&l.value),
        "PHONE" => phone_ok(&l.value, &s.lang),
        "EMAIL" => l.value.contains('@') && !l.value.ends_with("example.com") && !l.value.ends_with("example.org"),
        "JWT" => l.value.starts_with("eyJ") && l.value.split('.').count() == 3,
        "PRIVATE_KEY" => l.value.starts_with("-----BEGIN ") && l.value.contains("PRIVATE KEY-----"),
        "URL_CREDENTIALS" => l.value.contains("://") && l.value.contains('@') && !l.value.contains("localhost"),
        _ => true,
    };
    (!ok).then(|| format!("{} {:?} is not valid for its kind", l.kind, l.value))
}

/// Byte spans of the labels: the n-th label with a given value takes the n-th occurrence.
fn spans(s: &Sample) -> Vec<(String, usize, usize)> {
    let mut used: Vec<(usize, usize)> = Vec::new();
    let mut out = Vec::new();
    for l in &s.entities {
        let mut from = 0;
        while let Some(i) = s.text[from..].find(&l.value) {
            let (start, end) = (from + i, from + i + l.value.len());
            if !used.contains(&(start, end)) {
                used.push((start, end));
                out.push((l.kind.clone(), start, end));
                break;
            }
            from = start + 1;
            while !s.text.is_char_boundary(from) {
                from += 1;
            }
        }
    }
    out
}

#[derive(Default, Clone, Copy)]
struct Score {
    tp: usize,
    fp: usize,
    fn_: usize,
}

fn ratio(num: usize, den: usize) -> f64 {
    if den == 0 { 1.0 } else { num as f64 / den as f64 }
}

fn excerpt(text: &str, start: usize, end: usize) -> String {
    let s: String = text[start..end].chars().take(60).collect();
    s.replace('\n', "\\n")
}

#[test]
fn corpus_is_well_formed() {
    let corpus = load();
    let mut problems = Vec::new();
    let mut ids = std::collections::HashSet::new();
    for s in &corpus {
        if !ids.insert(s.id.as_str()) {
            problems.push(format!("{}: duplicate id", s.id));
        }
        if !LANGS.contains(&s.lang.as_str()) {
            problems.push(format!("{}: unknown lang {}", s.id, s.lang));
        }
        if !CATEGORIES.contains(&s.category.as_str()) {
            problems.push(format!("{}: unknown category {}", s.id, s.category));
        }
        if s.category == "negative" && !s.entities.is_empty() {
            problems.push(format!("{}: category negative but has labels", s.id));
        }
        for l in &s.entities {
            if let Some(p) = label_problem(s, l) {
                problems.push(format!("{}: {p}", s.id));
            }
        }
    }
    assert!(problems.is_empty(), "corpus problems:\n{}", problems.join("\n"));

    let total = corpus.len();
    let negatives = corpus.iter().filter(|s| s.category == "negative" || s.entities.is_empty()).count();
    let foreign = corpus.iter().filter(|s| s.lang != "en").count();
    assert!(total >= 300, "corpus has {total} texts, want >= 300");
    assert!(negatives * 3 >= total, "{negatives} hard negatives of {total}, want >= 1/3");
    assert!(foreign * 100 >= total * 15, "{foreign} non-English texts of {total}, want >= 15 %");
}

/// Scores of the detector on `samples`, per kind, and the list of misses.
fn score(detector: &Detector, samples: &[&Sample]) -> (BTreeMap<String, Score>, String) {
    let mut scores: BTreeMap<String, Score> = BTreeMap::new();
    let mut misses = String::new();
    for s in samples {
        let expected = spans(s);
        let mut matched = vec![false; expected.len()];
        let found: Vec<Finding> = detector.detect(&s.text);
        for f in &found {
            let label = f.kind.label().to_owned();
            let hit = expected
                .iter()
                .enumerate()
                .position(|(i, (k, a, b))| !matched[i] && *k == label && f.start < *b && *a < f.end);
            if let Some(i) = hit {
                matched[i] = true;
                scores.entry(label).or_default().tp += 1;
            } else {
                scores.entry(label.clone()).or_default().fp += 1;
                let _ = writeln!(
                    misses,
                    "  FP {:<22} {:<15} {:?} ({})",
                    s.id,
                    label,
                    excerpt(&s.text, f.start, f.end),
                    f.recognizer
                );
            }
        }
        for (i, (k, a, b)) in expected.iter().enumerate() {
            if !matched[i] {
                scores.entry(k.clone()).or_default().fn_ += 1;
                let _ = writeln!(misses, "  FN {:<22} {:<15} {:?}", s.id, k, excerpt(&s.text, *a, *b));
            }
        }
    }
    (scores, misses)
}

/// The per-kind table of `scores`, with the precision over all kinds and the recall over the
/// structured ones.
fn table(title: &str, texts: usize, scores: &BTreeMap<String, Score>) -> (String, f64, f64) {
    let mut table = format!(
        "\n{title}: {texts} texts\n{:<16} {:>5} {:>5} {:>5} {:>9} {:>7}\n",
        "kind", "TP", "FP", "FN", "precision", "recall"
    );
    let (mut all, mut structured) = (Score::default(), Score::default());
    for (kind, sc) in scores {
        let _ = writeln!(
            table,
            "{kind:<16} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}",
            sc.tp,
            sc.fp,
            sc.fn_,
            ratio(sc.tp, sc.tp + sc.fp),
            ratio(sc.tp, sc.tp + sc.fn_)
        );
        all.tp += sc.tp;
        all.fp += sc.fp;
        all.fn_ += sc.fn_;
        if STRUCTURED.contains(&kind.as_str()) {
            structured.tp += sc.tp;
            structured.fp += sc.fp;
            structured.fn_ += sc.fn_;
        }
    }
    let precision = ratio(all.tp, all.tp + all.fp);
    let recall = ratio(structured.tp, structured.tp + structured.fn_);
    let _ = writeln!(
        table,
        "{:<16} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}\n{:<16} {:>5} {:>5} {:>5} {:>9.3} {:>7.3}",
        "ALL",
        all.tp,
        all.fp,
        all.fn_,
        precision,
        ratio(all.tp, all.tp + all.fn_),
        "STRUCTURED",
        structured.tp,
        structured.fp,
        structured.fn_,
        ratio(structured.tp, structured.tp + structured.fp),
        recall
    );
    (table, precision, recall)
}

/// The targets hold on the whole corpus and on each of its files on its own: a hand-written
/// set is not carried by the generated one.
#[test]
fn detector_meets_targets_on_corpus() {
    let corpus = load();
    let detector = Detector::builtin().expect("built-in recognizers compile");
    let mut sources: Vec<&str> = corpus.iter().map(|s| s.source.as_str()).collect();
    sources.dedup();
    let mut failures = Vec::new();
    let mut report = String::new();
    let mut all_misses = String::new();
    for source in sources.iter().map(|s| Some(*s)).chain([None]) {
        let samples: Vec<&Sample> = corpus.iter().filter(|s| source.is_none_or(|f| s.source == f)).collect();
        let (scores, misses) = score(&detector, &samples);
        let title = source.map_or_else(|| "PII corpus (all files)".to_owned(), |f| format!("{f}.jsonl"));
        let (text, precision, recall) = table(&title, samples.len(), &scores);
        report.push_str(&text);
        if source.is_none() {
            all_misses = misses;
        }
        if recall < RECALL_TARGET {
            failures.push(format!("{title}: recall over structured identifiers {recall:.3} < {RECALL_TARGET}"));
        }
        if precision < PRECISION_TARGET {
            failures.push(format!("{title}: precision over all kinds {precision:.3} < {PRECISION_TARGET}"));
        }
    }
    eprintln!("{report}");
    if !all_misses.is_empty() {
        eprintln!("misses:\n{all_misses}");
    }
    assert!(failures.is_empty(), "{} (see the FP/FN list above)", failures.join("; "));
}
