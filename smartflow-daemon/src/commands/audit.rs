//! `smartflowd audit verify` (check a verified stream directory: every tampering found, with its
//! segment and line) and `smartflowd audit keygen` (make the HMAC key and Ed25519 signing seed).

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use ring::rand::SecureRandom as _;
use ring::signature::{Ed25519KeyPair, KeyPair as _};
use secrecy::ExposeSecret as _;
use smartflow_policy::audit::verified::{Report, verify};

use crate::config::{Config, Overrides};

/// Where the stream is and how to check it: from a configuration's `[audit.verified]`, or given
/// directly.
#[derive(Debug, Clone)]
pub struct VerifyArgs {
    /// The configuration file (`[audit.verified]` gives the directory and keys).
    pub config: Option<PathBuf>,
    /// The directory, instead of the configuration's.
    pub dir: Option<PathBuf>,
    /// The HMAC key as a reference (`env:NAME` or `file:PATH`), instead of the configuration's.
    pub hmac_key: Option<String>,
    /// The Ed25519 public key (hex) to check checkpoint signatures with.
    pub public_key: Option<String>,
}

/// Verifies and prints the report as JSON; fails (exit 1) when anything does not hold.
pub fn verify_main(args: VerifyArgs) -> anyhow::Result<()> {
    let (dir, key, public) = resolve(&args)?;
    let report = verify(&dir, &key, public.as_deref()).with_context(|| format!("cannot read {}", dir.display()))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&report)?)?;
    summary(&report)
}

fn summary(report: &Report) -> anyhow::Result<()> {
    if !report.ok() {
        let first = &report.findings[0];
        anyhow::bail!(
            "the audit stream does not verify: {} finding(s), the first at {} line {}",
            report.findings.len(),
            first.segment,
            first.line
        );
    }
    if report.unsealed_records > 0 {
        tracing::warn!(records = report.unsealed_records, "records after the last checkpoint: a crash, or a cut tail");
    }
    Ok(())
}

fn resolve(args: &VerifyArgs) -> anyhow::Result<(PathBuf, Vec<u8>, Option<Vec<u8>>)> {
    let configured = match &args.config {
        Some(path) => Config::load(path, &Overrides::default())?.audit.verified.map(|v| v.config),
        None => None,
    };
    let dir = args
        .dir
        .clone()
        .or_else(|| configured.as_ref().map(|c| c.dir.clone()))
        .context("give --dir, or --config with an [audit.verified] section")?;
    let key = match (&args.hmac_key, &configured) {
        (Some(reference), _) => {
            let secret = crate::config::resolve_secret(reference).map_err(|e| anyhow::anyhow!("--hmac-key: {e}"))?;
            crate::config::key_bytes(secret.expose_secret())
        }
        (None, Some(c)) => c.hmac_key.clone(),
        (None, None) => anyhow::bail!("give --hmac-key env:NAME or file:PATH, or --config"),
    };
    let public = match (&args.public_key, &configured) {
        (Some(hex_key), _) => Some(hex::decode(hex_key.trim()).context("--public-key is hex")?),
        (None, Some(c)) => c
            .signing_seed
            .and_then(|seed| Ed25519KeyPair::from_seed_unchecked(&seed).ok().map(|k| k.public_key().as_ref().to_vec())),
        (None, None) => None,
    };
    Ok((dir, key, public))
}

/// Prints a new HMAC key and Ed25519 seed (hex) and the seed's public key.
pub fn keygen() -> anyhow::Result<()> {
    let rng = ring::rand::SystemRandom::new();
    let mut hmac = [0u8; 32];
    let mut seed = [0u8; 32];
    rng.fill(&mut hmac).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    rng.fill(&mut seed).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let public = Ed25519KeyPair::from_seed_unchecked(&seed).map_err(|_| anyhow::anyhow!("bad seed"))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "hmac_key:    {}", hex::encode(hmac))?;
    writeln!(out, "signing_key: {}", hex::encode(seed))?;
    writeln!(out, "public_key:  {}", hex::encode(public.public_key().as_ref()))?;
    writeln!(out, "Keep the first two outside the audit directory (file:PATH or env:NAME references);")?;
    writeln!(out, "give the public key to whoever verifies checkpoints.")?;
    Ok(())
}
