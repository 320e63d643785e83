//! [`distill`]: a static (model2vec-style) embedder distilled from all-MiniLM-L6-v2, offline, in
//! Rust, without torch. The recipe of model2vec's default `distill` (see the embeddings-cache
//! study, §2b):
//!
//! 1. every vocabulary token goes through the model as `[CLS] token [SEP]`; its vector is the
//!    mean of the three outputs;
//! 2. PCA (centred, eigenvectors of the covariance) down to `dims` dimensions;
//! 3. row `i` is multiplied by the SIF weight `1e-4 / (1e-4 + p_i)`, where `p_i ∝ 1 / (i + 2)`
//!    (Zipf's law on the token id as a frequency rank);
//! 4. the directory gets `model.safetensors` (tensor `embeddings`, f32 `[vocab, dims]`),
//!    `tokenizer.json` (the model's, with its stored truncation and padding removed) and
//!    `config.json`, loadable by [`StaticEmbedder`](super::StaticEmbedder) and `model2vec-rs`.
//!
//! Unlike model2vec, `[unused*]` tokens are kept and the tokenizer is not otherwise cleaned.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use candle_core::{DType, Device, Tensor};
use nalgebra::{DMatrix, SymmetricEigen};
use serde::Serialize;
use smartflow_core::{Error, ErrorKind};
use tokio::time::Instant;

use super::minilm::{MiniLmEmbedder, candle_err};

/// The default output dimension.
pub const DEFAULT_DISTILL_DIMS: usize = 256;

/// Tokens per forward pass (each is 3 positions long).
const BATCH: usize = 256;

/// The SIF coefficient of model2vec.
const SIF: f64 = 1e-4;

/// What [`distill`] did.
#[derive(Debug, Clone, Serialize)]
pub struct DistillReport {
    /// Rows written (token ids `0..vocab_size`).
    pub vocab_size: usize,
    /// Dimensions written.
    pub dims: usize,
    /// Wall-clock time of the whole run, in seconds.
    pub seconds: f64,
    /// Of which the model's forward passes.
    pub embed_seconds: f64,
    /// Share of the (centred) variance the kept dimensions explain, 0..=1.
    pub explained_variance: f64,
    /// The model id written to `config.json`.
    pub model_id: String,
    /// The source model's id (`all-MiniLM-L6-v2` for the known files).
    pub source_model_id: String,
    /// The SHA-256 of the source `model.safetensors`.
    pub source_sha256: String,
    /// The output directory.
    pub out_dir: PathBuf,
}

/// Distils the BERT model in `minilm_dir` into a static model of `dims` dimensions in `out_dir`
/// (created when missing; existing files of the same names are replaced). Blocking and
/// CPU-heavy: about a minute for MiniLM's 30,522 tokens on 2 cores in a release build.
///
/// # Errors
///
/// `InvalidRequest` when `dims` is 0 or above the model's hidden size; the model cannot be
/// loaded; the tokenizer has no `[CLS]`/`[SEP]`; the output cannot be written.
pub fn distill(minilm_dir: &Path, out_dir: &Path, dims: usize) -> Result<DistillReport, Error> {
    let started = Instant::now();
    let embedder = MiniLmEmbedder::open(minilm_dir)?;
    let model = embedder.model();
    let hidden = model.hidden();
    if dims == 0 || dims > hidden {
        return Err(Error::new(
            ErrorKind::InvalidRequest,
            format!("--dims must be between 1 and the model's hidden size {hidden}, not {dims}"),
        ));
    }
    let tokenizer = model.tokenizer();
    let (Some(cls), Some(sep)) = (tokenizer.token_to_id("[CLS]"), tokenizer.token_to_id("[SEP]")) else {
        return Err(Error::internal("the tokenizer has no [CLS] or [SEP] token"));
    };
    let vocab = tokenizer.get_vocab_size(true);
    if vocab == 0 {
        return Err(Error::internal("the tokenizer has an empty vocabulary"));
    }
    let vocab_u32 = u32::try_from(vocab).map_err(|_| Error::internal("the vocabulary is too large"))?;
    tracing::info!(vocab, hidden, dims, batch = BATCH, "distilling: embedding every token as [CLS] token [SEP]");

    // 1. One mean-pooled vector per token.
    let mut raw: Vec<f32> = Vec::with_capacity(vocab * hidden);
    let batches = vocab.div_ceil(BATCH);
    let mut last_logged = 0;
    let mut start = 0u32;
    while start < vocab_u32 {
        let end = start.saturating_add(BATCH as u32).min(vocab_u32);
        let ids: Vec<u32> = (start..end).flat_map(|t| [cls, t, sep]).collect();
        let rows = (end - start) as usize;
        raw.extend(model.forward_mean(ids, vec![1; rows * 3], rows, 3)?);
        let done = (end as usize).div_ceil(BATCH);
        if done * 10 / batches > last_logged || done == batches {
            last_logged = done * 10 / batches;
            tracing::info!(
                tokens = end,
                of = vocab,
                elapsed_s = format!("{:.1}", started.elapsed().as_secs_f64()),
                "distilling: embedded"
            );
        }
        start = end;
    }
    let embed_seconds = started.elapsed().as_secs_f64();

    // 2. PCA; 3. SIF weights.
    let (projected, explained_variance) = pca(&raw, vocab, hidden, dims)?;
    drop(raw);
    let weighted = sif_weight(projected, vocab, dims);
    tracing::info!(explained_variance = format!("{explained_variance:.3}"), "distilling: PCA and SIF weights done");

    // 4. Output.
    let model_id = format!("static-minilm-distilled-{dims}");
    let source_model_id = smartflow_core::Embedder::model_id(&embedder).to_owned();
    Output {
        dir: out_dir,
        rows: &weighted,
        vocab,
        dims,
        model_id: &model_id,
        source_model_id: &source_model_id,
        source_sha256: embedder.sha256(),
        source_dir: minilm_dir,
    }
    .write()?;
    let report = DistillReport {
        vocab_size: vocab,
        dims,
        seconds: started.elapsed().as_secs_f64(),
        embed_seconds,
        explained_variance,
        model_id,
        source_model_id,
        source_sha256: embedder.sha256().to_owned(),
        out_dir: out_dir.to_path_buf(),
    };
    tracing::info!(seconds = format!("{:.1}", report.seconds), out = %out_dir.display(), "distilled");
    Ok(report)
}

/// Centres the `n × h` rows, projects them on the `dims` leading eigenvectors of their
/// covariance. Returns the `n × dims` projection (row-major) and the explained variance share.
fn pca(raw: &[f32], n: usize, h: usize, dims: usize) -> Result<(Vec<f32>, f64), Error> {
    let run = || -> candle_core::Result<(Tensor, Tensor)> {
        let x = Tensor::from_slice(raw, (n, h), &Device::Cpu)?.to_dtype(DType::F64)?;
        let mean = x.mean_keepdim(0)?;
        let centred = x.broadcast_sub(&mean)?;
        let cov = centred.t()?.contiguous()?.matmul(&centred)?;
        #[expect(clippy::cast_precision_loss, reason = "a vocabulary is far below 2^52")]
        let cov = (cov / (n.max(2) - 1) as f64)?;
        Ok((centred, cov))
    };
    let (centred, cov) = run().map_err(|e| candle_err(&e))?;
    let cov: Vec<f64> = cov.flatten_all().and_then(|t| t.to_vec1()).map_err(|e| candle_err(&e))?;
    let matrix = DMatrix::from_row_slice(h, h, &cov);
    let eigen = SymmetricEigen::try_new(matrix, 1e-12, 100_000)
        .ok_or_else(|| Error::internal("the covariance eigendecomposition did not converge"))?;
    let mut order: Vec<usize> = (0..h).collect();
    order.sort_by(|&a, &b| eigen.eigenvalues[b].total_cmp(&eigen.eigenvalues[a]));
    let total: f64 = eigen.eigenvalues.iter().map(|v| v.max(0.0)).sum();
    let kept: f64 = order[..dims].iter().map(|&i| eigen.eigenvalues[i].max(0.0)).sum();
    // Components as columns of an h × dims matrix, each signed so that its largest-magnitude
    // entry is positive (eigenvectors have no sign; this makes the output reproducible).
    let mut components = vec![0.0f64; h * dims];
    for (k, &i) in order[..dims].iter().enumerate() {
        let column = eigen.eigenvectors.column(i);
        let largest = column.iter().copied().fold(0.0f64, |acc, x| if x.abs() > acc.abs() { x } else { acc });
        let sign = if largest < 0.0 { -1.0 } else { 1.0 };
        for r in 0..h {
            components[r * dims + k] = sign * column[r];
        }
    }
    let project = || -> candle_core::Result<Vec<f32>> {
        let w = Tensor::from_vec(components, (h, dims), &Device::Cpu)?;
        centred.matmul(&w)?.to_dtype(DType::F32)?.flatten_all()?.to_vec1()
    };
    let projected = project().map_err(|e| candle_err(&e))?;
    let explained = if total > 0.0 { kept / total } else { 0.0 };
    Ok((projected, explained))
}

/// Multiplies row i by `SIF / (SIF + p_i)`, `p_i = (1/(i+2)) / Σ_j 1/(j+2)`.
fn sif_weight(mut rows: Vec<f32>, n: usize, dims: usize) -> Vec<f32> {
    #[expect(clippy::cast_precision_loss, reason = "token ids are far below 2^52")]
    let inv_rank = |i: usize| 1.0 / (i as f64 + 2.0);
    let z: f64 = (0..n).map(inv_rank).sum();
    for (i, row) in rows.chunks_exact_mut(dims).enumerate() {
        let p = inv_rank(i) / z;
        #[expect(clippy::cast_possible_truncation, reason = "a weight in (0, 1]")]
        let w = (SIF / (SIF + p)) as f32;
        row.iter_mut().for_each(|x| *x *= w);
    }
    rows
}

/// What [`distill`] writes.
struct Output<'a> {
    dir: &'a Path,
    /// Row-major `[vocab, dims]`.
    rows: &'a [f32],
    vocab: usize,
    dims: usize,
    model_id: &'a str,
    source_model_id: &'a str,
    source_sha256: &'a str,
    source_dir: &'a Path,
}

impl Output<'_> {
    fn write(&self) -> Result<(), Error> {
        let write_err = |what: &Path, e: &dyn std::fmt::Display| {
            Error::new(ErrorKind::Internal, format!("cannot write {}: {e}", what.display()))
        };
        std::fs::create_dir_all(self.dir).map_err(|e| write_err(self.dir, &e))?;

        let bytes: Vec<u8> = self.rows.iter().flat_map(|x| x.to_le_bytes()).collect();
        let view = safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![self.vocab, self.dims], &bytes)
            .map_err(|e| Error::internal(format!("cannot build the output tensor: {e}")))?;
        // One entry only: the header serialises a HashMap, whose order would vary between runs
        // (config.json carries the rest).
        let metadata = HashMap::from([("model_id".to_owned(), self.model_id.to_owned())]);
        let model_path = self.dir.join("model.safetensors");
        let file = safetensors::tensor::serialize([("embeddings", view)], Some(metadata))
            .map_err(|e| write_err(&model_path, &e))?;
        drop(bytes);
        write_file(&model_path, &file).map_err(|e| write_err(&model_path, &e))?;

        // The tokenizer as the source has it, minus its stored truncation (128) and padding.
        let source_tokenizer = self.source_dir.join("tokenizer.json");
        let text = std::fs::read(&source_tokenizer).map_err(|e| super::io_error(&source_tokenizer, &e))?;
        let mut json: serde_json::Value = serde_json::from_slice(&text)
            .map_err(|e| Error::internal(format!("invalid {}: {e}", source_tokenizer.display())))?;
        if let Some(object) = json.as_object_mut() {
            object.insert("truncation".into(), serde_json::Value::Null);
            object.insert("padding".into(), serde_json::Value::Null);
        }
        let tokenizer_json = serde_json::to_vec_pretty(&json).map_err(|e| Error::internal(e.to_string()))?;
        let tokenizer_path = self.dir.join("tokenizer.json");
        write_file(&tokenizer_path, &tokenizer_json).map_err(|e| write_err(&tokenizer_path, &e))?;

        let config = serde_json::json!({
            "model_type": "model2vec",
            "normalize": true,
            "model_id": self.model_id,
            "hidden_dim": self.dims,
            "vocab_size": self.vocab,
            "source_model_id": self.source_model_id,
            "source_sha256": self.source_sha256,
            "recipe": "[CLS] token [SEP] mean pooling; PCA (centred); SIF 1e-4 with Zipf p = 1/(id+2) normalised",
        });
        let config = serde_json::to_vec_pretty(&config).map_err(|e| Error::internal(e.to_string()))?;
        let config_path = self.dir.join("config.json");
        write_file(&config_path, &config).map_err(|e| write_err(&config_path, &e))?;
        Ok(())
    }
}

/// Writes through a `.partial` file and a rename, so a reader never sees half a file.
fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(".partial");
    std::fs::write(&partial, bytes)?;
    std::fs::rename(&partial, path)
}

#[cfg(test)]
mod tests {
    use smartflow_core::Embedder as _;

    use super::*;
    use crate::embed::StaticEmbedder;
    use crate::embed::minilm::tests::{WORDS, write_tiny_bert};

    #[test]
    fn a_tiny_bert_distils_into_a_loadable_static_model() {
        let src = tempfile::tempdir().unwrap();
        write_tiny_bert(src.path());
        let out = tempfile::tempdir().unwrap();
        let out_dir = out.path().join("static");
        let report = distill(src.path(), &out_dir, 8).unwrap();
        assert_eq!((report.vocab_size, report.dims), (5 + WORDS.len(), 8));
        assert_eq!(report.model_id, "static-minilm-distilled-8");
        assert!(report.explained_variance > 0.0 && report.explained_variance <= 1.0 + 1e-9);
        assert!(report.source_model_id.starts_with("bert:"));

        let s = StaticEmbedder::open(&out_dir).unwrap();
        assert_eq!(s.model_id(), "static-minilm-distilled-8");
        assert_eq!((s.dimension(), s.vocab_size()), (8, 5 + WORDS.len()));
        assert_eq!(s.source_sha256(), Some(report.source_sha256.as_str()));
        let v = s.embed_one("the cat sat on the mat").unwrap();
        assert!((v.iter().map(|x| x * x).sum::<f32>().sqrt() - 1.0).abs() < 1e-5);
        let tokenizer: serde_json::Value =
            serde_json::from_slice(&std::fs::read(out_dir.join("tokenizer.json")).unwrap()).unwrap();
        assert!(tokenizer["truncation"].is_null() && tokenizer["padding"].is_null());
        assert!(!out_dir.join("model.safetensors.partial").exists());

        // Deterministic: a second run writes the same matrix.
        let again = out.path().join("again");
        distill(src.path(), &again, 8).unwrap();
        assert_eq!(
            std::fs::read(out_dir.join("model.safetensors")).unwrap(),
            std::fs::read(again.join("model.safetensors")).unwrap()
        );
    }

    #[test]
    fn dims_must_fit_the_model() {
        let src = tempfile::tempdir().unwrap();
        write_tiny_bert(src.path());
        let out = tempfile::tempdir().unwrap();
        for dims in [0, 33] {
            let err = distill(src.path(), out.path(), dims).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::InvalidRequest, "{dims}");
        }
    }

    #[test]
    fn pca_finds_the_leading_direction() {
        // Points along (1, 1) with a small (1, -1) wobble.
        let raw: Vec<f32> = (0..50)
            .flat_map(|i| {
                let t = i as f32 - 25.0;
                let e = if i % 2 == 0 { 0.1 } else { -0.1 };
                [t + e, t - e]
            })
            .collect();
        let (p, explained) = pca(&raw, 50, 2, 1).unwrap();
        assert_eq!(p.len(), 50);
        assert!(explained > 0.99, "{explained}");
        // Centred point 49 is (24.4, 24.6); on (1, 1)/√2 that is 49/√2.
        assert!((p[49] - 49.0 / 2f32.sqrt()).abs() < 1e-3, "{}", p[49]);
    }

    #[test]
    fn sif_weights_follow_zipf() {
        let w = sif_weight(vec![1.0; 4 * 2], 4, 2);
        let z = 1.0 / 2.0 + 1.0 / 3.0 + 1.0 / 4.0 + 1.0 / 5.0;
        let expect0 = 1e-4 / (1e-4 + 0.5 / z);
        assert!((f64::from(w[0]) - expect0).abs() < 1e-9, "{}", w[0]);
        assert_eq!(w[0], w[1]);
        assert!(w[0] < w[2] && w[2] < w[4] && w[4] < w[6]);
    }
}
