//! [`BuiltinEmbedder`]: signed feature hashing of words, word pairs and character trigrams.
//! No files, no set-up, deterministic across processes and machines, a few µs per prompt.

use async_trait::async_trait;
use smartflow_core::{Embedder, Error};
use unicode_normalization::UnicodeNormalization as _;

use super::normalize_or_basis;

/// The model id of [`BuiltinEmbedder`]. Any change to the algorithm below (normalisation,
/// features, weights, hash, dimension, stop words) must change this id, so that vectors of the
/// old algorithm are never compared with new ones.
pub const BUILTIN_MODEL_ID: &str = "builtin-hash-v1";

/// The dimension of [`BuiltinEmbedder`]'s vectors.
pub const BUILTIN_DIMENSION: usize = 512;

/// Weight of a content word.
const W_WORD: f32 = 1.0;
/// Weight of a stop word (an IDF-like down-weighting: stop words occur in most prompts).
const W_STOP: f32 = 0.2;
/// Weight of a pair of consecutive content words (stop words in between are skipped, so "a
/// hash map" and "the hash maps" share the pair; "km … miles" and "miles … km" do not).
const W_PAIR: f32 = 0.7;
/// The combined weight (L2) of all character trigrams of one content word: each trigram gets
/// `W_TRIGRAMS / sqrt(n)`, so long words do not outweigh short ones.
const W_TRIGRAMS: f32 = 0.7;

/// Feature tags mixed into the hash so a word, a pair and a trigram never share a feature.
const TAG_WORD: u64 = 0x01;
const TAG_PAIR: u64 = 0x02;
const TAG_TRIGRAM: u64 = 0x03;
const TAG_RAW: u64 = 0x04;

/// Word boundary markers for trigrams (never inside a word: words are alphanumeric runs).
const BOW: char = '\u{2}';
const EOW: char = '\u{3}';

/// English stop words (sorted; `binary_search`). Negations (no, not, never...) are deliberately
/// absent: they change a prompt's meaning.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "of",
    "off",
    "on",
    "once",
    "only",
    "or",
    "other",
    "our",
    "ours",
    "ourselves",
    "out",
    "over",
    "own",
    "please",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "these",
    "they",
    "this",
    "those",
    "through",
    "to",
    "too",
    "under",
    "until",
    "up",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "which",
    "while",
    "who",
    "whom",
    "why",
    "will",
    "with",
    "would",
    "you",
    "your",
    "yours",
    "yourself",
    "yourselves",
];

/// Text to a 512-dimensional unit vector by signed feature hashing.
///
/// Algorithm (`builtin-hash-v1`):
/// 1. normalise: Unicode NFKC, lower case, apostrophes removed ("don't" → "dont");
/// 2. words: maximal runs of alphanumeric characters;
/// 3. features: each stop word (weighted 0.2: stop words are in most prompts), each content
///    word with a final plural `s` removed (1.0), each pair of consecutive content words, stop
///    words skipped (0.7: some word order, "km … miles" ≠ "miles … km"), and the character
///    trigrams of each content word with boundary markers (`^ca`, `cat`, `at$`; together 0.7,
///    none for numbers), which lets "function" and "functional" overlap;
/// 4. term frequency is sublinear: a feature seen n times counts `1 + ln n`;
/// 5. each feature adds ± its weight to one of 512 dimensions, both chosen by a fixed, seedless
///    64-bit hash (FNV-1a with a SplitMix64 finaliser), so vectors are the same in every process;
/// 6. L2 normalisation. A text with no words (empty, punctuation only) hashes the trimmed text
///    itself as one feature.
///
/// It knows no synonyms and weighs word overlap: a candidate generator and weak scorer, not a
/// hit decision (the cache's slot guard verifies candidates).
#[derive(Debug, Clone, Copy, Default)]
pub struct BuiltinEmbedder;

impl BuiltinEmbedder {
    /// The embedder (it has no state).
    pub fn new() -> Self {
        Self
    }

    /// The unit vector of one text (what [`Embedder::embed`] returns per text).
    pub fn embed_one(&self, text: &str) -> Vec<f32> {
        embed_text(text)
    }
}

#[async_trait]
impl Embedder for BuiltinEmbedder {
    fn model_id(&self) -> &str {
        BUILTIN_MODEL_ID
    }

    fn dimension(&self) -> usize {
        BUILTIN_DIMENSION
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        Ok(texts.iter().map(|t| embed_text(t)).collect())
    }
}

/// NFKC, lower case, apostrophes dropped.
fn normalise(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    if text.is_ascii() {
        out.extend(text.bytes().filter(|b| *b != b'\'').map(|b| char::from(b.to_ascii_lowercase())));
    } else {
        for c in text.nfkc() {
            if c != '\'' && c != '\u{2019}' {
                out.extend(c.to_lowercase());
            }
        }
    }
    out
}

fn is_stop(word: &str) -> bool {
    STOP_WORDS.binary_search(&word).is_ok()
}

/// A plural/third-person `s` removed ("maps" → "map", "works" → "work"; not "class", "status",
/// "analysis", nor words of three letters or fewer).
fn stem(word: &str) -> &str {
    match word.strip_suffix('s') {
        Some(rest) if word.len() > 3 && !rest.ends_with(['s', 'u', 'i']) => rest,
        _ => word,
    }
}

fn is_number(word: &str) -> bool {
    word.chars().all(|c| c.is_numeric())
}

/// SplitMix64's finaliser: spreads every input bit over the whole output.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// FNV-1a over `parts` (separated by 0xff, which UTF-8 never contains), seeded by `tag`.
fn hash_parts(tag: u64, parts: &[&str]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325 ^ tag;
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            h = (h ^ 0xff).wrapping_mul(0x0100_0000_01b3);
        }
        for b in part.bytes() {
            h = (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
        }
    }
    mix64(h)
}

/// Three code points (21 bits each) packed into one injective key, then mixed.
fn hash_trigram(a: char, b: char, c: char) -> u64 {
    let key = (u64::from(a) << 42) | (u64::from(b) << 21) | u64::from(c);
    mix64(key ^ TAG_TRIGRAM.rotate_right(8) ^ 0x9e37_79b9_7f4a_7c15)
}

fn embed_text(text: &str) -> Vec<f32> {
    let normalised = normalise(text);
    let words: Vec<&str> = normalised.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()).collect();
    let mut features: Vec<(u64, f32)> = Vec::with_capacity(words.len() * 8);
    let mut chars: Vec<char> = Vec::new();
    let mut prev: Option<&str> = None;
    for &word in &words {
        if is_stop(word) {
            features.push((hash_parts(TAG_WORD, &[word]), W_STOP));
            continue;
        }
        let stem = stem(word);
        features.push((hash_parts(TAG_WORD, &[stem]), W_WORD));
        if let Some(p) = prev {
            features.push((hash_parts(TAG_PAIR, &[p, stem]), W_PAIR));
        }
        prev = Some(stem);
        if !is_number(word) {
            chars.clear();
            chars.push(BOW);
            chars.extend(word.chars());
            chars.push(EOW);
            let n = chars.len() - 2;
            #[expect(clippy::cast_precision_loss, reason = "a word's length is far below 2^24")]
            let weight = W_TRIGRAMS / (n as f32).sqrt();
            for w in chars.windows(3) {
                features.push((hash_trigram(w[0], w[1], w[2]), weight));
            }
        }
    }
    if features.is_empty() {
        features.push((hash_parts(TAG_RAW, &[text.trim()]), W_WORD));
    }

    features.sort_unstable_by_key(|f| f.0);
    let mut v = vec![0.0f32; BUILTIN_DIMENSION];
    let mut i = 0;
    while i < features.len() {
        let hash = features[i].0;
        let mut j = i;
        let mut sum = 0.0f32;
        while j < features.len() && features[j].0 == hash {
            sum += features[j].1;
            j += 1;
        }
        #[expect(clippy::cast_precision_loss, reason = "a feature count is far below 2^24")]
        let count = (j - i) as f32;
        let value = sum / count * (1.0 + count.ln());
        #[expect(clippy::cast_possible_truncation, reason = "the modulus is below 512")]
        let index = (hash % BUILTIN_DIMENSION as u64) as usize;
        v[index] += if hash >> 63 == 1 { -value } else { value };
        i = j;
    }
    normalize_or_basis(&mut v);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    fn e(t: &str) -> Vec<f32> {
        BuiltinEmbedder::new().embed_one(t)
    }

    #[test]
    fn stop_words_are_sorted_and_unique() {
        assert!(STOP_WORDS.windows(2).all(|w| w[0] < w[1]));
        assert!(!is_stop("not") && !is_stop("no") && !is_stop("never"));
    }

    #[test]
    fn vectors_are_unit_and_deterministic() {
        for t in ["", "   ", "?!", "Hello", "Convert 5 km to miles", "日本語のテキスト", "Ünïcödé ﬁle"] {
            let v = e(t);
            assert_eq!(v.len(), BUILTIN_DIMENSION);
            let norm: f32 = v.iter().map(|x| x * x).sum::<f32>().sqrt();
            assert!((norm - 1.0).abs() < 1e-5, "{t:?}: {norm}");
            assert_eq!(v, e(t));
        }
    }

    #[test]
    fn the_hash_is_fixed_across_processes() {
        // Pinned values: a change here means a change of algorithm, hence of BUILTIN_MODEL_ID.
        assert_eq!(hash_parts(TAG_WORD, &["cat"]), 3_455_793_495_644_703_214);
        let v = e("cat");
        let nonzero = v.iter().filter(|x| **x != 0.0).count();
        assert!(nonzero >= 4, "a word and its trigrams: {nonzero}");
    }

    #[test]
    fn normalisation_ignores_case_width_and_apostrophes() {
        assert_eq!(e("Don't PANIC"), e("dont panic"));
        assert_eq!(e("ｆｕｌｌ width"), e("full width"));
        assert_eq!(e("hello,   world!"), e("hello world"));
    }

    #[test]
    fn related_texts_score_above_unrelated_ones() {
        let a = e("How do I reverse a linked list in Python?");
        let b = e("reverse a linked list in python");
        let c = e("What is the capital of France?");
        let d = e("Explain how hash maps work");
        let f = e("Explain how a hash map works");
        assert!(cos(&a, &b) > 0.7, "{}", cos(&a, &b));
        assert!(cos(&d, &f) > 0.6, "{}", cos(&d, &f));
        assert!(cos(&a, &c) < 0.3, "{}", cos(&a, &c));
        assert!(cos(&d, &c) < 0.3, "{}", cos(&d, &c));
    }

    #[test]
    fn word_order_is_partly_visible() {
        let a = e("convert 5 km to miles");
        let b = e("convert 5 miles to km");
        assert!(cos(&a, &b) < 0.99, "pairs differ: {}", cos(&a, &b));
    }

    #[test]
    fn stop_words_count_little() {
        let a = e("the weather in paris");
        let b = e("weather paris");
        let c = e("the of in to");
        assert!(cos(&a, &b) > 0.8, "{}", cos(&a, &b));
        assert!(cos(&a, &c) < 0.3, "{}", cos(&a, &c));
    }

    #[test]
    fn plurals_share_the_word_feature() {
        assert_eq!(stem("maps"), "map");
        assert_eq!(stem("works"), "work");
        for keep in ["class", "status", "analysis", "bus", "its", "s"] {
            assert_eq!(stem(keep), keep);
        }
    }

    #[test]
    fn punctuation_only_texts_differ_from_each_other() {
        assert_ne!(e("???"), e("!!!"));
    }
}
