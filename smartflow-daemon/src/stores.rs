//! `Stores`: the embedded sled database and what lives in it — virtual keys, limit counters and
//! usage totals. Opened once per process (sled holds a lock on its directory) and shared by
//! every configuration generation, so reloads keep keys and counts.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use smartflow_policy::governance::ledger::Ledger;
use smartflow_policy::governance::usage::UsageBook;
use smartflow_policy::identity::KeyStore;

/// The open stores.
#[derive(Debug)]
pub struct Stores {
    /// Where they live (`None`: a temporary database removed on exit).
    pub path: Option<PathBuf>,
    /// Virtual keys.
    pub keys: KeyStore,
    /// Limit and budget counters.
    pub ledger: Arc<Ledger>,
    /// Usage totals per day.
    pub usage: Arc<UsageBook>,
    db: sled::Db,
}

impl Stores {
    /// Opens (creating if needed) the database at `path`, or a temporary one. A database that
    /// cannot be opened — corrupt, or locked by another running daemon — stops the start with
    /// an error naming the directory: keys and counters are never silently replaced.
    pub fn open(path: Option<&Path>) -> anyhow::Result<Self> {
        let db = match path {
            Some(p) => sled::Config::new().path(p).flush_every_ms(Some(200)).open().with_context(|| {
                format!(
                    "cannot open the store at {} (is another smartflowd using it? is it damaged? move it aside to start \
                     empty)",
                    p.display()
                )
            })?,
            None => sled::Config::new().temporary(true).open().context("cannot create a temporary store")?,
        };
        let keys = KeyStore::open(&db).map_err(|e| anyhow::anyhow!("cannot load the key store: {e}"))?;
        let ledger = Ledger::persistent(db.open_tree("limits")?)?;
        let usage = UsageBook::persistent(db.open_tree("usage")?)?;
        Ok(Self { path: path.map(Path::to_path_buf), keys, ledger, usage, db })
    }

    /// Writes everything to disk (shutdown).
    pub fn flush(&self) {
        self.ledger.flush();
        self.usage.flush();
        if let Err(e) = self.db.flush() {
            tracing::error!(error = %e, "cannot flush the store");
        }
    }
}
