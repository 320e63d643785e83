//! [`StaticEmbedder`]: a model2vec-style static model (one vector per token, mean, normalise).

use std::fmt;
use std::path::Path;

use async_trait::async_trait;
use safetensors::{Dtype, SafeTensors};
use serde::Deserialize;
use smartflow_core::{Embedder, Error, ErrorKind};
use tokenizers::Tokenizer;

use super::{io_error, normalize_or_basis};

/// The name of the embedding matrix in `model.safetensors`.
const TENSOR_NAME: &str = "embeddings";

/// `config.json` of a static model; unknown fields are ignored.
#[derive(Debug, Deserialize)]
struct StaticConfig {
    /// model2vec's flag; vectors are always normalised here (the contract of this module).
    #[serde(default = "yes")]
    normalize: bool,
    #[serde(default)]
    model_id: Option<String>,
    #[serde(default)]
    source_sha256: Option<String>,
}

fn yes() -> bool {
    true
}

/// A static embedding model in the model2vec layout: a directory with
///
/// - `model.safetensors`: one 2-D f32 tensor `embeddings` of shape `[vocab, dims]`;
/// - `tokenizer.json`: a Hugging Face tokenizer whose ids index the rows;
/// - `config.json` (optional): `{"normalize": true, "model_id": "...", "source_sha256": "..."}`.
///
/// A text's vector is the mean of its tokens' rows, L2-normalised. Tokenisation adds no special
/// tokens and drops any that appear (`[CLS]`, `[SEP]`, `[PAD]`, `[MASK]`...), and drops the
/// unknown token unless nothing else is left; truncation and padding stored in the tokenizer file
/// are turned off, so long prompts are embedded whole. It runs inline: microseconds per prompt.
///
/// A bag of words: word order is invisible ("5 km to miles" = "5 miles to km"). A prefilter,
/// never a hit decision.
pub struct StaticEmbedder {
    tokenizer: Tokenizer,
    /// Row-major `[vocab, dims]`.
    embeddings: Vec<f32>,
    vocab: usize,
    dims: usize,
    /// `skip[id]`: a special token, never embedded.
    skip: Vec<bool>,
    unk: Option<u32>,
    model_id: String,
    normalize_flag: bool,
    source_sha256: Option<String>,
}

impl fmt::Debug for StaticEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("StaticEmbedder")
            .field("model_id", &self.model_id)
            .field("vocab", &self.vocab)
            .field("dims", &self.dims)
            .field("normalize", &self.normalize_flag)
            .field("source_sha256", &self.source_sha256)
            .finish_non_exhaustive()
    }
}

impl StaticEmbedder {
    /// Loads the model in `dir` (reads the whole matrix into memory: vocab × dims × 4 bytes,
    /// ~31 MB for the distilled 256-dimensional MiniLM).
    ///
    /// # Errors
    ///
    /// A missing or unreadable file, a tensor that is not a 2-D f32 `embeddings` matrix, or an
    /// invalid tokenizer or configuration.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        let dir = dir.as_ref();
        let config_path = dir.join("config.json");
        let config: StaticConfig = match std::fs::read(&config_path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map_err(|e| Error::internal(format!("invalid {}: {e}", config_path.display())))?,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                StaticConfig { normalize: true, model_id: None, source_sha256: None }
            }
            Err(e) => return Err(io_error(&config_path, &e)),
        };

        let model_path = dir.join("model.safetensors");
        let bytes = std::fs::read(&model_path).map_err(|e| io_error(&model_path, &e))?;
        let (embeddings, vocab, dims) = read_matrix(&bytes)
            .map_err(|e| Error::internal(format!("invalid {}: {}", model_path.display(), e.message())))?;
        drop(bytes);

        let tokenizer_path = dir.join("tokenizer.json");
        let mut tokenizer = Tokenizer::from_file(&tokenizer_path)
            .map_err(|e| Error::internal(format!("invalid {}: {e}", tokenizer_path.display())))?;
        tokenizer.with_truncation(None).map_err(|e| Error::internal(format!("cannot turn truncation off: {e}")))?;
        tokenizer.with_padding(None);

        let mut skip = vec![false; vocab];
        let unk = tokenizer.token_to_id("[UNK]");
        for (id, token) in tokenizer.get_added_tokens_decoder() {
            if token.special
                && Some(id) != unk
                && let Some(s) = usize::try_from(id).ok().and_then(|i| skip.get_mut(i))
            {
                *s = true;
            }
        }
        for name in ["[CLS]", "[SEP]", "[PAD]", "[MASK]", "<s>", "</s>", "<pad>"] {
            if let Some(s) =
                tokenizer.token_to_id(name).and_then(|id| usize::try_from(id).ok()).and_then(|i| skip.get_mut(i))
            {
                *s = true;
            }
        }
        let tokenizer_vocab = tokenizer.get_vocab_size(true);
        if tokenizer_vocab > vocab {
            tracing::warn!(
                tokenizer_vocab,
                rows = vocab,
                dir = %dir.display(),
                "the static model has fewer rows than the tokenizer has ids; the extra ids are ignored"
            );
        }

        let model_id = config.model_id.filter(|m| !m.trim().is_empty()).unwrap_or_else(|| {
            let name = dir.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            format!("static:{name}")
        });
        tracing::debug!(model_id, vocab, dims, "static embedder loaded");
        Ok(Self {
            tokenizer,
            embeddings,
            vocab,
            dims,
            skip,
            unk,
            model_id,
            normalize_flag: config.normalize,
            source_sha256: config.source_sha256,
        })
    }

    /// The number of rows (token ids) of the matrix.
    pub fn vocab_size(&self) -> usize {
        self.vocab
    }

    /// The SHA-256 of the model this one was distilled from, when `config.json` records it.
    pub fn source_sha256(&self) -> Option<&str> {
        self.source_sha256.as_deref()
    }

    /// The unit vector of one text.
    ///
    /// # Errors
    ///
    /// The tokenizer failed (`Internal`).
    pub fn embed_one(&self, text: &str) -> Result<Vec<f32>, Error> {
        let encoding = self
            .tokenizer
            .encode_fast(text, false)
            .map_err(|e| Error::new(ErrorKind::Internal, format!("tokenizer failed: {e}")))?;
        let mut v = vec![0.0f32; self.dims];
        let mut used = 0usize;
        let mut unknown = 0usize;
        for &id in encoding.get_ids() {
            if Some(id) == self.unk {
                unknown += 1;
            } else if self.add_row(&mut v, id) {
                used += 1;
            }
        }
        if used == 0 && unknown > 0 {
            // Nothing but unknown tokens (emoji, unseen script): better their row than nothing.
            if let Some(unk) = self.unk {
                for _ in 0..unknown {
                    self.add_row(&mut v, unk);
                }
            }
        }
        // The mean's scale does not matter before normalising.
        normalize_or_basis(&mut v);
        Ok(v)
    }

    /// Adds row `id` to `v` unless it is special or out of range.
    fn add_row(&self, v: &mut [f32], id: u32) -> bool {
        let Ok(i) = usize::try_from(id) else { return false };
        if i >= self.vocab || self.skip[i] {
            return false;
        }
        let row = &self.embeddings[i * self.dims..(i + 1) * self.dims];
        v.iter_mut().zip(row).for_each(|(a, b)| *a += b);
        true
    }
}

/// The `embeddings` tensor (or the only tensor) as row-major f32, with its shape.
fn read_matrix(bytes: &[u8]) -> Result<(Vec<f32>, usize, usize), Error> {
    let st = SafeTensors::deserialize(bytes).map_err(|e| Error::internal(format!("not a safetensors file: {e}")))?;
    let view = match st.tensor(TENSOR_NAME) {
        Ok(view) => view,
        Err(_) => {
            let names = st.names();
            let [only] = names.as_slice() else {
                return Err(Error::internal(format!("no tensor named `{TENSOR_NAME}`")));
            };
            st.tensor(only).map_err(|e| Error::internal(format!("unreadable tensor: {e}")))?
        }
    };
    if view.dtype() != Dtype::F32 {
        return Err(Error::internal(format!("the embedding matrix is {:?}; only F32 is supported", view.dtype())));
    }
    let &[vocab, dims] = view.shape() else {
        return Err(Error::internal(format!("the embedding matrix has shape {:?}, not [vocab, dims]", view.shape())));
    };
    if vocab == 0 || dims == 0 {
        return Err(Error::internal("the embedding matrix is empty"));
    }
    let data = view.data();
    if data.len() != vocab * dims * 4 {
        return Err(Error::internal("the embedding matrix has the wrong byte length"));
    }
    let values = data.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])).collect();
    Ok((values, vocab, dims))
}

#[async_trait]
impl Embedder for StaticEmbedder {
    fn model_id(&self) -> &str {
        &self.model_id
    }

    fn dimension(&self) -> usize {
        self.dims
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        texts.iter().map(|t| self.embed_one(t)).collect()
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashMap;

    use super::*;

    /// A WordPiece tokenizer.json over `words` (ids 0..5 are [PAD] [UNK] [CLS] [SEP] [MASK]),
    /// with truncation at 4 and padding to 8 baked in, as the MiniLM file has.
    pub(crate) fn wordpiece_json(words: &[&str]) -> String {
        let specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];
        let mut vocab = serde_json::Map::new();
        for (i, w) in specials.iter().chain(words).enumerate() {
            vocab.insert((*w).to_owned(), i.into());
        }
        let added: Vec<_> = specials
            .iter()
            .enumerate()
            .map(|(i, t)| {
                serde_json::json!({"id": i, "content": t, "single_word": false, "lstrip": false,
                    "rstrip": false, "normalized": false, "special": true})
            })
            .collect();
        serde_json::json!({
            "version": "1.0",
            "truncation": {"max_length": 4, "strategy": "LongestFirst", "stride": 0},
            "padding": {"strategy": {"Fixed": 8}, "direction": "Right", "pad_to_multiple_of": null,
                "pad_id": 0, "pad_type_id": 0, "pad_token": "[PAD]"},
            "added_tokens": added,
            "normalizer": {"type": "BertNormalizer", "clean_text": true, "handle_chinese_chars": true,
                "strip_accents": null, "lowercase": true},
            "pre_tokenizer": {"type": "BertPreTokenizer"},
            "post_processor": {"type": "TemplateProcessing",
                "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
                "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                    {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                    {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
                "special_tokens": {"[CLS]": {"id": "[CLS]", "ids": [2], "tokens": ["[CLS]"]},
                    "[SEP]": {"id": "[SEP]", "ids": [3], "tokens": ["[SEP]"]}}},
            "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": true},
            "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                "max_input_chars_per_word": 100, "vocab": vocab}
        })
        .to_string()
    }

    /// Writes a static model whose row i is `rows[i]`.
    pub(crate) fn write_static(dir: &Path, words: &[&str], rows: &[Vec<f32>], config: Option<&str>) {
        let dims = rows[0].len();
        let bytes: Vec<u8> = rows.iter().flatten().flat_map(|x| x.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(Dtype::F32, vec![rows.len(), dims], &bytes).unwrap();
        safetensors::tensor::serialize_to_file(
            [(TENSOR_NAME, view)],
            None::<HashMap<String, String>>,
            &dir.join("model.safetensors"),
        )
        .unwrap();
        std::fs::write(dir.join("tokenizer.json"), wordpiece_json(words)).unwrap();
        if let Some(config) = config {
            std::fs::write(dir.join("config.json"), config).unwrap();
        }
    }

    const WORDS: &[&str] = &["cat", "dog", "sat", "on", "the", "mat", "##s"];

    /// Row i is the basis vector e_(i mod 8) scaled by (i + 1), so sums are easy to predict.
    fn rows() -> Vec<Vec<f32>> {
        (0..5 + WORDS.len())
            .map(|i| {
                let mut r = vec![0.0f32; 8];
                r[i % 8] = (i + 1) as f32;
                r
            })
            .collect()
    }

    #[test]
    fn mean_of_rows_without_special_tokens_or_truncation() {
        let dir = tempfile::tempdir().unwrap();
        write_static(dir.path(), WORDS, &rows(), Some(r#"{"normalize": true, "model_id": "tiny-static"}"#));
        let m = StaticEmbedder::open(dir.path()).unwrap();
        assert_eq!(m.model_id(), "tiny-static");
        assert_eq!((m.dimension(), m.vocab_size()), (8, 12));
        // "cat" is id 5 → e_5 (the [CLS]/[SEP] rows 2 and 3 would add e_2, e_3).
        let v = m.embed_one("cat").unwrap();
        assert_eq!(v, vec![0.0, 0.0, 0.0, 0.0, 0.0, 1.0, 0.0, 0.0]);
        // Literal special tokens in the text are dropped too.
        assert_eq!(m.embed_one("[CLS] cat [SEP]").unwrap(), v);
        // Five words: the baked-in truncation at 4 tokens is off, so "mat" (id 10 → e_2) counts.
        let long = m.embed_one("the cat sat on the mat").unwrap();
        assert!(long[2] > 0.0, "{long:?}");
        let norm: f32 = long.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-6);
    }

    #[test]
    fn unknown_only_text_uses_the_unknown_row_and_empty_text_the_basis() {
        let dir = tempfile::tempdir().unwrap();
        write_static(dir.path(), WORDS, &rows(), None);
        let m = StaticEmbedder::open(dir.path()).unwrap();
        let name = dir.path().file_name().unwrap().to_string_lossy().into_owned();
        assert_eq!(m.model_id(), format!("static:{name}"));
        // [UNK] is id 1 → e_1; next to a known word it is ignored.
        assert_eq!(m.embed_one("zebra").unwrap()[1], 1.0);
        assert_eq!(m.embed_one("zebra cat").unwrap(), m.embed_one("cat").unwrap());
        assert_eq!(m.embed_one("").unwrap()[0], 1.0);
    }

    #[test]
    fn bad_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = StaticEmbedder::open(dir.path()).unwrap_err();
        assert!(err.message().contains("model.safetensors"), "{}", err.message());
        let bytes: Vec<u8> = [1.0f32; 8].iter().flat_map(|x| x.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(Dtype::F32, vec![8], &bytes).unwrap();
        let views = [("embeddings", view)];
        safetensors::tensor::serialize_to_file(views, None, &dir.path().join("model.safetensors")).unwrap();
        let err = StaticEmbedder::open(dir.path()).unwrap_err();
        assert!(err.message().contains("shape"), "{}", err.message());
    }
}
