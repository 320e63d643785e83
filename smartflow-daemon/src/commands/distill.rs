//! `smartflowd cache distill`: distils the static embedder (model2vec-style, ~31 MB, µs per
//! prompt) from all-MiniLM-L6-v2, offline. Needs a build with `--features minilm`; without it the
//! command exists, says how to get it, and exits with status 2.

use std::path::PathBuf;
use std::process::ExitCode;

/// Exit status of `cache distill` in a build without the `minilm` feature.
pub const EXIT_FEATURE_MISSING: u8 = 2;

/// `cache distill` options.
#[derive(Debug, Clone, clap::Args)]
pub struct DistillArgs {
    /// The all-MiniLM-L6-v2 directory (config.json, tokenizer.json, model.safetensors), as
    /// `scripts/fetch-minilm.sh` makes it.
    #[arg(long, value_name = "DIR")]
    pub minilm: PathBuf,
    /// Where to write the static model (model.safetensors, tokenizer.json, config.json); created
    /// when missing.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Output dimension (PCA), at most the model's hidden size (384).
    #[arg(long, default_value_t = 256)]
    pub dims: usize,
}

/// Runs `cache distill`: progress on stderr (tracing; `SMARTFLOW_LOG` sets the level), the
/// report as JSON on stdout. Exit status 0 on success, 1 on failure, 2 when this build has no
/// MiniLM support.
pub fn main(args: &DistillArgs) -> ExitCode {
    crate::logging::init(&crate::config::LogConfig { level: "info".to_owned(), json: false });
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::FeatureMissing) => {
            eprintln!(
                "smartflowd: `cache distill` needs the MiniLM embedder, which this build does not include; \
                 rebuild with `--features minilm` (cargo build --release -p smartflow-daemon --features minilm)"
            );
            ExitCode::from(EXIT_FEATURE_MISSING)
        }
        Err(Failure::Failed(e)) => {
            eprintln!("smartflowd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

enum Failure {
    #[cfg_attr(feature = "minilm", expect(dead_code, reason = "only built without the minilm feature"))]
    FeatureMissing,
    #[cfg_attr(not(feature = "minilm"), expect(dead_code, reason = "only built with the minilm feature"))]
    Failed(anyhow::Error),
}

#[cfg(feature = "minilm")]
fn run(args: &DistillArgs) -> Result<(), Failure> {
    use std::io::Write as _;

    let fail = |e: anyhow::Error| Failure::Failed(e);
    let report = smartflow_cache::embed::distill(&args.minilm, &args.out, args.dims)
        .map_err(|e| fail(anyhow::anyhow!("cache distill failed: {e}")))?;
    // Check that what was written loads.
    smartflow_cache::embed::StaticEmbedder::open(&args.out)
        .map_err(|e| fail(anyhow::anyhow!("the distilled model does not load: {e}")))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| fail(e.into()))?;
    writeln!(std::io::stdout().lock(), "{json}").map_err(|e| fail(e.into()))?;
    Ok(())
}

#[cfg(not(feature = "minilm"))]
fn run(_args: &DistillArgs) -> Result<(), Failure> {
    Err(Failure::FeatureMissing)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(dir: &std::path::Path) -> DistillArgs {
        DistillArgs { minilm: dir.join("missing"), out: dir.join("out"), dims: 256 }
    }

    #[cfg(not(feature = "minilm"))]
    #[test]
    fn without_the_feature_it_exits_2() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(main(&args(dir.path())), ExitCode::from(EXIT_FEATURE_MISSING));
        assert!(!dir.path().join("out").exists());
    }

    #[cfg(feature = "minilm")]
    #[test]
    fn a_missing_model_fails_with_status_1() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(main(&args(dir.path())), ExitCode::FAILURE);
    }
}
