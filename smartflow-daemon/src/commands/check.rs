//! `smartflowd check`: validates a configuration like `nginx -t`, building every part the daemon
//! would build, without listening.

use std::io::Write as _;
use std::path::Path;

use crate::config::{Config, Overrides};

/// Validates `path` on a small runtime; prints a summary on success.
pub fn main(path: &Path) -> anyhow::Result<()> {
    tokio::runtime::Builder::new_current_thread().enable_all().build()?.block_on(run(path))
}

/// Validates `path`; prints a summary on success.
pub async fn run(path: &Path) -> anyhow::Result<()> {
    let config = Config::load(path, &Overrides::default())?;
    let (metrics, _, _) = crate::state::metrics(Default::default(), None);
    // A temporary store and no audit stream: the real ones may be held by the running daemon,
    // and checking must not change them.
    let stores = crate::stores::Stores::open(None, None)?.with_cache(crate::cache::open(&config, true)?);
    crate::assemble::gateway(&config, metrics, &stores).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "{}: configuration OK ({} models, {} providers, {} keys)",
        path.display(),
        config.models.len(),
        config.providers.len(),
        config.keys.len()
    )?;
    Ok(())
}
