//! Tests of tokenising, contractions, quotes, stemming and synonym keys.

use super::*;

fn lowers(text: &str) -> Vec<String> {
    tokenize(&normalize(text)).into_iter().map(|t| t.lower).collect()
}

#[test]
fn tokens_keep_meaningful_joins() {
    assert_eq!(lowers("Use C++ or C# with node.js, not C."), ["use", "c++", "or", "c#", "with", "node.js", "not", "c"]);
    assert_eq!(lowers("Convert 5km to miles"), ["convert", "5", "km", "to", "miles"]);
    assert_eq!(lowers("It's -3.5 or 1,000 at 12:30"), ["it", "-3.5", "or", "1,000", "at", "12:30"]);
    assert_eq!(lowers("the 2nd and 21st item"), ["the", "second", "and", "21", "item"]);
    assert_eq!(lowers("x >= 3 and 15%"), ["x", ">=", "3", "and", "15", "%"]);
    assert_eq!(lowers("the 1990s"), ["the", "1990s"]);
    assert_eq!(lowers("what is 5 - 3"), ["what", "is", "5", "-", "3"]);
    assert_eq!(lowers("a well-known e-mail"), ["a", "well-known", "e-mail"]);
}

#[test]
fn contractions_mark_negation() {
    let toks = tokenize(&normalize("I don’t think it can't, cannot or isnt"));
    let negs: Vec<_> = toks.iter().filter(|t| t.neg).map(|t| t.lower.as_str()).collect();
    assert_eq!(negs, ["do", "can", "can", "is"]);
    assert_eq!(lowers("France's capital"), ["france", "capital"]);
}

#[test]
fn quotes_and_sentence_starts() {
    let toks = tokenize(&normalize("Translate 'good morning' into Spanish. Then don't stop"));
    let quoted: Vec<_> = toks.iter().filter(|t| t.span.is_some()).map(|t| t.lower.as_str()).collect();
    assert_eq!(quoted, ["good", "morning"]);
    let initial: Vec<_> = toks.iter().filter(|t| t.initial).map(|t| t.lower.as_str()).collect();
    assert_eq!(initial, ["translate", "then"]);
    // An apostrophe is not a quote; an unclosed quote quotes nothing.
    let toks = tokenize(&normalize("don't say \"hi"));
    assert!(toks.iter().all(|t| t.span.is_none()));
}

#[test]
fn stems() {
    for (a, b) in [
        ("cookies", "cookie"),
        ("policies", "policy"),
        ("sorting", "sort"),
        ("sorted", "sort"),
        ("running", "run"),
        ("boxes", "box"),
        ("reversed", "reverse"),
        ("makes", "make"),
        ("meaning", "mean"),
    ] {
        assert_eq!(stem(a), stem(b), "{a} vs {b}");
    }
    assert_ne!(stem("status"), stem("statu"));
    assert_eq!(stem("c++"), "c++");
}

#[test]
fn synonym_keys() {
    let w = Words::new();
    assert_eq!(w.key("wrote"), w.key("compose"));
    assert_eq!(w.key("differ"), w.key("difference"));
    assert_ne!(w.key("install"), w.key("uninstall"));
    assert_eq!(w.key("describe"), w.key("explain"));
    assert!(w.is_stop("the") && w.is_stop("please") && !w.is_stop("recursion"));
}
