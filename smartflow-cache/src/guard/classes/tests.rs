//! Tests of rule 5: class words, aliases, context conditions and the request-language guess.

use super::super::SlotGuard;
use super::super::Veto;
use super::super::words::{normalize, tokenize};
use super::*;

fn class_veto(a: &str, b: &str) -> Option<&'static str> {
    match SlotGuard::new().check(a, b) {
        Err(Veto::Class(label)) => Some(label),
        _ => None,
    }
}

#[test]
fn class_words_must_match() {
    assert_eq!(class_veto("Write a haiku about autumn", "Write a limerick about autumn"), Some("format"));
    assert_eq!(
        class_veto("What was the weather in Oslo today", "What was the weather in Oslo yesterday"),
        Some("time")
    );
    assert_eq!(class_veto("Sort the names in ascending order", "Sort the names in descending order"), Some("order"));
    assert_eq!(
        class_veto("Write a formal email asking for a day off", "Write a casual email asking for a day off"),
        Some("tone")
    );
    assert_eq!(
        class_veto("Write a Python function that reverses a string", "Write a Ruby function that reverses a string"),
        Some("programming_language")
    );
    assert_eq!(class_veto("Translate 'thank you' into German", "Translate 'thank you' into Dutch"), Some("language"));
    assert_eq!(class_veto("Summarize this article", "Summarize this article briefly"), Some("verbosity"));
    assert_eq!(class_veto("Explain recursion to a child", "Explain recursion to an expert"), Some("tone"));
    assert_eq!(class_veto("Why did revenue fall in Q3?", "When did revenue fall in Q3?"), Some("question"));
}

#[test]
fn aliases_share_a_key() {
    assert_eq!(class_veto("Convert this JS snippet to TypeScript", "Convert this JavaScript snippet to TS"), None);
    assert_eq!(class_veto("Show the result as a bulleted list", "Show the result as bullet points"), None);
    assert_eq!(class_veto("How far is 10 kilometres", "How far is 10 km"), None);
}

#[test]
fn ambiguous_words_need_context() {
    // "go" the verb and "may" the modal are not classes.
    assert_eq!(class_veto("Where should I go for lunch?", "Where should I head for lunch?"), None);
    assert_eq!(class_veto("May I ask what SSO is?", "Can I ask what SSO is?"), None);
    // Capitalised mid-sentence, they are.
    assert_eq!(class_veto("Write a web server in Go", "Write a web server in Rust"), Some("programming_language"));
    assert_eq!(class_veto("Is the office open on May 1?", "Is the office open on June 1?"), Some("time"));
}

#[test]
fn request_language_guess() {
    let lang = |s: &str| request_language(&tokenize(&normalize(s)));
    assert_eq!(lang("Write a short story about a dragon"), Some("en"));
    assert_eq!(lang("Escribe una historia corta sobre un dragón"), Some("es"));
    assert_eq!(lang("Schreibe eine kurze Geschichte über einen Drachen"), Some("de"));
    assert_eq!(lang("Напиши короткий рассказ о драконе"), Some("cyrillic"));
    assert_eq!(lang("What does 'el perro es grande' mean in English?"), Some("en"));
    assert_eq!(lang("ok"), None);
}
