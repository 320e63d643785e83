//! The labelled paraphrase set (`tests/data/paraphrases.jsonl`), shared by the evaluations.

use serde::Deserialize;

/// One earlier turn.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Turn {
    pub(crate) role: String,
    pub(crate) content: String,
}

/// One labelled pair.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Pair {
    pub(crate) id: u64,
    pub(crate) kind: String,
    pub(crate) same: bool,
    pub(crate) a: String,
    pub(crate) b: String,
    #[serde(default)]
    pub(crate) history_a: Vec<Turn>,
    #[serde(default)]
    pub(crate) history_b: Vec<Turn>,
}

/// Every pair, or the first line that does not parse.
pub(crate) fn load() -> Result<Vec<Pair>, String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/paraphrases.jsonl");
    let text = std::fs::read_to_string(path).map_err(|e| format!("{path}: {e}"))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(n, l)| serde_json::from_str::<Pair>(l).map_err(|e| format!("line {}: {e}", n + 1)))
        .collect()
}
