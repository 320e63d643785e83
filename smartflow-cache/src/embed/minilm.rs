//! [`MiniLmEmbedder`]: all-MiniLM-L6-v2 (or another BERT encoder) in pure Rust with candle.

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use candle_core::{DType, Device, Tensor};
use candle_nn::VarBuilder;
use candle_transformers::models::bert::{BertModel, Config};
use smartflow_core::{Embedder, Error, ErrorKind};
use tokenizers::{PaddingParams, PaddingStrategy, Tokenizer, TruncationParams};

use super::{
    EmbedPool, MINILM_MODEL_ID, MINILM_SAFETENSORS_SHA256, MINILM_TOKENIZER_SHA256, io_error, normalize_or_basis,
    sha256_hex,
};

/// The longest input, in tokens (with `[CLS]` and `[SEP]`): the model's `max_seq_length`.
/// Longer prompts are cut; the tokenizer file's own limit (128) is overridden.
pub const MINILM_MAX_TOKENS: usize = 256;

/// The most texts run through the model in one forward pass (longer inputs are split, sorted by
/// length so that little padding is computed).
const MAX_BATCH: usize = 32;

pub(crate) fn candle_err(e: &candle_core::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("embedding model failed: {e}"))
}

/// all-MiniLM-L6-v2 sentence embeddings (384 dimensions): BERT forward pass, mean of the token
/// outputs under the attention mask, L2 normalisation.
///
/// Loads `config.json`, `tokenizer.json` and `model.safetensors` from a directory
/// (`scripts/fetch-minilm.sh`). The tokenizer file's baked-in truncation (128) and fixed padding
/// (128) are replaced by truncation at [`MINILM_MAX_TOKENS`] and padding to the longest text of
/// a batch. The weights' SHA-256 is checked: the known files give the model id
/// `all-MiniLM-L6-v2`; any other compatible BERT is accepted with a warning and the id
/// `bert:<first 12 hex digits of the weights' SHA-256>` (plus `+tok:<8 hex>` when the tokenizer
/// differs too), so vectors of different models never meet.
///
/// Inference costs ~16 ms of CPU for a short prompt and ~170 ms for 300 tokens (2 cores), so
/// [`Embedder::embed`] runs it on an [`EmbedPool`] (bounded, with a deadline);
/// [`embed_blocking`](Self::embed_blocking) runs it on the calling thread.
#[derive(Clone)]
pub struct MiniLmEmbedder {
    model: Arc<Model>,
    pool: EmbedPool,
}

pub(crate) struct Model {
    bert: BertModel,
    tokenizer: Tokenizer,
    hidden: usize,
    model_id: String,
    sha256: String,
    pad_id: u32,
}

impl fmt::Debug for MiniLmEmbedder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MiniLmEmbedder")
            .field("model_id", &self.model.model_id)
            .field("dimension", &self.model.hidden)
            .field("sha256", &self.model.sha256)
            .field("pool", &self.pool)
            .finish()
    }
}

impl MiniLmEmbedder {
    /// Loads the model in `dir` on the CPU, with a default [`EmbedPool`]. Blocking: reads ~91 MB.
    ///
    /// # Errors
    ///
    /// A missing or unreadable file, a configuration that is not a BERT one, weights that do not
    /// fit the configuration, or an invalid tokenizer.
    pub fn open(dir: impl AsRef<Path>) -> Result<Self, Error> {
        Ok(Self { model: Arc::new(Model::open(dir.as_ref())?), pool: EmbedPool::default() })
    }

    /// Runs inference on `pool` instead of the default one.
    #[must_use]
    pub fn with_pool(mut self, pool: EmbedPool) -> Self {
        self.pool = pool;
        self
    }

    /// The SHA-256 of the loaded `model.safetensors`.
    pub fn sha256(&self) -> &str {
        &self.model.sha256
    }

    /// The model's token ids of `text` as it is embedded: `[CLS]`, the text's tokens (cut at
    /// [`MINILM_MAX_TOKENS`] in all), `[SEP]`, no padding.
    ///
    /// # Errors
    ///
    /// The tokenizer failed.
    pub fn token_ids(&self, text: &str) -> Result<Vec<u32>, Error> {
        let encoding = self.model.tokenizer.encode(text, true).map_err(|e| tokenizer_err(&e))?;
        Ok(encoding
            .get_ids()
            .iter()
            .zip(encoding.get_attention_mask())
            .filter(|(_, m)| **m != 0)
            .map(|(i, _)| *i)
            .collect())
    }

    /// Embeds `texts` on the calling thread (blocking; CPU-heavy). Use from a blocking context.
    ///
    /// # Errors
    ///
    /// The tokenizer or the model failed (`Internal`).
    pub fn embed_blocking(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        self.model.embed(texts)
    }

    pub(crate) fn model(&self) -> &Model {
        &self.model
    }
}

fn tokenizer_err(e: &tokenizers::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("tokenizer failed: {e}"))
}

impl Model {
    fn open(dir: &Path) -> Result<Self, Error> {
        let config_path = dir.join("config.json");
        let config_bytes = std::fs::read(&config_path).map_err(|e| io_error(&config_path, &e))?;
        let config: Config = serde_json::from_slice(&config_bytes)
            .map_err(|e| Error::internal(format!("{} is not a BERT configuration: {e}", config_path.display())))?;

        let tokenizer_path = dir.join("tokenizer.json");
        let tokenizer_bytes = std::fs::read(&tokenizer_path).map_err(|e| io_error(&tokenizer_path, &e))?;
        let tokenizer_sha = sha256_hex(&tokenizer_bytes);
        let mut tokenizer = Tokenizer::from_bytes(&tokenizer_bytes)
            .map_err(|e| Error::internal(format!("invalid {}: {e}", tokenizer_path.display())))?;
        drop(tokenizer_bytes);
        let pad_id = tokenizer
            .get_padding()
            .map(|p| p.pad_id)
            .or_else(|| tokenizer.token_to_id("[PAD]"))
            .or_else(|| u32::try_from(config.pad_token_id).ok())
            .unwrap_or(0);
        let pad_token = tokenizer.id_to_token(pad_id).unwrap_or_else(|| "[PAD]".to_owned());
        let max_tokens = MINILM_MAX_TOKENS.min(config.max_position_embeddings);
        tokenizer
            .with_truncation(Some(TruncationParams { max_length: max_tokens, ..TruncationParams::default() }))
            .map_err(|e| Error::internal(format!("cannot set truncation: {e}")))?;
        tokenizer.with_padding(Some(PaddingParams {
            strategy: PaddingStrategy::BatchLongest,
            pad_id,
            pad_token,
            ..PaddingParams::default()
        }));

        let model_path = dir.join("model.safetensors");
        let weights = std::fs::read(&model_path).map_err(|e| io_error(&model_path, &e))?;
        let sha256 = sha256_hex(&weights);
        let tensors = candle_core::safetensors::load_buffer(&weights, &Device::Cpu)
            .map_err(|e| Error::internal(format!("invalid {}: {e}", model_path.display())))?;
        drop(weights);
        let vb = VarBuilder::from_tensors(tensors, DType::F32, &Device::Cpu);
        let bert = BertModel::load(vb, &config).map_err(|e| {
            Error::internal(format!("{} does not fit {}: {e}", model_path.display(), config_path.display()))
        })?;

        let model_id = match (sha256 == MINILM_SAFETENSORS_SHA256, tokenizer_sha == MINILM_TOKENIZER_SHA256) {
            (true, true) => MINILM_MODEL_ID.to_owned(),
            (weights_known, tokenizer_known) => {
                let mut id = format!("bert:{}", &sha256[..12]);
                if !tokenizer_known {
                    id.push_str("+tok:");
                    id.push_str(&tokenizer_sha[..8]);
                }
                tracing::warn!(
                    dir = %dir.display(),
                    sha256,
                    tokenizer_sha256 = tokenizer_sha,
                    weights_known,
                    tokenizer_known,
                    model_id = id,
                    "the embedding model is not the known all-MiniLM-L6-v2 files; using it under its own id"
                );
                id
            }
        };
        tracing::info!(
            model_id,
            hidden = config.hidden_size,
            layers = config.num_hidden_layers,
            "BERT embedder loaded"
        );
        Ok(Self { bert, tokenizer, hidden: config.hidden_size, model_id, sha256, pad_id })
    }

    pub(crate) fn hidden(&self) -> usize {
        self.hidden
    }

    pub(crate) fn tokenizer(&self) -> &Tokenizer {
        &self.tokenizer
    }

    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        // Padded to the longest text of the whole input (padding is on the right).
        let encodings = self.tokenizer.encode_batch(texts.to_vec(), true).map_err(|e| tokenizer_err(&e))?;
        let lengths: Vec<usize> =
            encodings.iter().map(|e| e.get_attention_mask().iter().filter(|m| **m != 0).count()).collect();
        let mut order: Vec<usize> = (0..texts.len()).collect();
        order.sort_by_key(|&i| lengths[i]);
        let mut out: Vec<Vec<f32>> = vec![Vec::new(); texts.len()];
        for chunk in order.chunks(MAX_BATCH) {
            // Cut the columns to this chunk's longest text: only padding is cut.
            let seq = chunk.iter().map(|&i| lengths[i]).max().unwrap_or(0).max(1);
            let mut ids = Vec::with_capacity(chunk.len() * seq);
            let mut mask = Vec::with_capacity(chunk.len() * seq);
            for &i in chunk {
                let e = &encodings[i];
                for p in 0..seq {
                    ids.push(e.get_ids().get(p).copied().unwrap_or(self.pad_id));
                    mask.push(u32::from(p < lengths[i]));
                }
            }
            let pooled = self.forward_mean(ids, mask, chunk.len(), seq)?;
            for (row, &i) in pooled.chunks_exact(self.hidden).zip(chunk) {
                let mut v = row.to_vec();
                normalize_or_basis(&mut v);
                out[i] = v;
            }
        }
        Ok(out)
    }

    /// The mean of the model's outputs under `mask` for `batch` rows of `seq` token ids
    /// (row-major), flat `[batch × hidden]`, not normalised.
    pub(crate) fn forward_mean(
        &self,
        ids: Vec<u32>,
        mask: Vec<u32>,
        batch: usize,
        seq: usize,
    ) -> Result<Vec<f32>, Error> {
        let run = || -> candle_core::Result<Vec<f32>> {
            let ids = Tensor::from_vec(ids, (batch, seq), &Device::Cpu)?;
            let mask = Tensor::from_vec(mask, (batch, seq), &Device::Cpu)?;
            let types = ids.zeros_like()?;
            let hidden = self.bert.forward(&ids, &types, Some(&mask))?;
            let mask = mask.to_dtype(DType::F32)?.unsqueeze(2)?;
            let sum = hidden.broadcast_mul(&mask)?.sum(1)?;
            let count = mask.sum(1)?.clamp(1e-9f32, f32::MAX)?;
            sum.broadcast_div(&count)?.flatten_all()?.to_vec1::<f32>()
        };
        run().map_err(|e| candle_err(&e))
    }
}

#[async_trait]
impl Embedder for MiniLmEmbedder {
    fn model_id(&self) -> &str {
        &self.model.model_id
    }

    fn dimension(&self) -> usize {
        self.model.hidden
    }

    async fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, Error> {
        if texts.is_empty() {
            return Ok(Vec::new());
        }
        let model = Arc::clone(&self.model);
        let texts = texts.to_vec();
        self.pool.run(move || model.embed(&texts)).await
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use candle_nn::VarMap;

    use super::*;
    use crate::embed::SKIP_SEMANTIC;
    use crate::embed::static_model::tests::wordpiece_json;

    pub(crate) const WORDS: &[&str] = &[
        "convert", "5", "km", "to", "miles", "how", "many", "is", "?", "the", "cat", "sat", "on", "mat", "a", "dog",
        "runs", "fast", "hello", "world", "##s", "##ing",
    ];

    /// Writes a tiny random BERT (hidden 32, 2 layers, 2 heads, max 64 positions) with a
    /// WordPiece tokenizer over [`WORDS`] into `dir`.
    pub(crate) fn write_tiny_bert(dir: &Path) {
        let vocab = 5 + WORDS.len();
        let config = serde_json::json!({
            "vocab_size": vocab, "hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2,
            "intermediate_size": 64, "hidden_act": "gelu", "hidden_dropout_prob": 0.0,
            "max_position_embeddings": 64, "type_vocab_size": 2, "initializer_range": 0.02,
            "layer_norm_eps": 1e-12, "pad_token_id": 0, "classifier_dropout": null, "model_type": "bert"
        });
        std::fs::write(dir.join("config.json"), config.to_string()).unwrap();
        let config: Config = serde_json::from_value(config).unwrap();
        let varmap = VarMap::new();
        let vb = VarBuilder::from_varmap(&varmap, DType::F32, &Device::Cpu);
        BertModel::load(vb, &config).unwrap();
        varmap.save(dir.join("model.safetensors")).unwrap();
        std::fs::write(dir.join("tokenizer.json"), wordpiece_json(WORDS)).unwrap();
    }

    fn cos(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    #[tokio::test]
    async fn tiny_bert_shapes_norms_determinism_and_padding() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path());
        let m = MiniLmEmbedder::open(dir.path()).unwrap();
        assert!(m.model_id().starts_with("bert:") && m.model_id().contains("+tok:"), "{}", m.model_id());
        assert_eq!(m.dimension(), 32);
        let texts: Vec<String> = ["the cat sat on the mat", "hello", "how many miles is 5 km ?", ""]
            .iter()
            .map(|s| (*s).to_owned())
            .collect();
        let batch = m.embed(&texts).await.unwrap();
        assert_eq!(batch.len(), 4);
        for v in &batch {
            assert_eq!(v.len(), 32);
            assert!((v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-5);
        }
        assert_eq!(m.embed(&texts).await.unwrap(), batch, "deterministic");
        for (i, t) in texts.iter().enumerate() {
            let alone = m.embed_blocking(std::slice::from_ref(t)).unwrap();
            assert!(cos(&alone[0], &batch[i]) > 0.99999, "padding changed {t:?}");
        }
        assert!(m.embed(&[]).await.unwrap().is_empty());
    }

    #[test]
    fn baked_in_truncation_and_padding_are_overridden() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path());
        let m = MiniLmEmbedder::open(dir.path()).unwrap();
        // The file says: truncate at 4, pad to 8. Ours: cut at 64 (the positions), no fixed pad.
        assert_eq!(m.token_ids("hello").unwrap().len(), 3);
        let long = "the cat sat on the mat ".repeat(20);
        assert_eq!(m.token_ids(&long).unwrap().len(), 64);
        let a = m.embed_blocking(&["the cat sat on the mat hello".to_owned()]).unwrap();
        let b = m.embed_blocking(&["the cat sat on the mat dog".to_owned()]).unwrap();
        assert_ne!(a, b, "the 7th word must count");
    }

    #[test]
    fn many_texts_are_split_in_sorted_batches_in_input_order() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path());
        let m = MiniLmEmbedder::open(dir.path()).unwrap();
        let texts: Vec<String> = (0..(MAX_BATCH * 2 + 3))
            .map(|i| ["hello", "the cat sat on the mat", "convert 5 km to miles ?"][i % 3].repeat(1 + i % 4))
            .collect();
        let all = m.embed_blocking(&texts).unwrap();
        for i in [0, 1, 2, MAX_BATCH + 1, MAX_BATCH * 2 + 2] {
            let one = m.embed_blocking(std::slice::from_ref(&texts[i])).unwrap();
            assert!(cos(&one[0], &all[i]) > 0.99999, "text {i}");
        }
    }

    #[tokio::test]
    async fn a_deadline_miss_is_skip_semantic() {
        let dir = tempfile::tempdir().unwrap();
        write_tiny_bert(dir.path());
        let m = MiniLmEmbedder::open(dir.path()).unwrap().with_pool(EmbedPool::new(1, Duration::ZERO));
        let err = m.embed(&["hello".to_owned()]).await.unwrap_err();
        assert_eq!(err.kind(), SKIP_SEMANTIC);
    }

    #[test]
    fn missing_files_are_clear_errors() {
        let dir = tempfile::tempdir().unwrap();
        let err = MiniLmEmbedder::open(dir.path()).unwrap_err();
        assert!(err.message().contains("config.json"), "{}", err.message());
    }
}
