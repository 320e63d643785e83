//! Write-behind persistence of counters: settlement on the request path only marks a counter
//! dirty (under the lock it already holds), and a background thread writes the latest value of
//! every dirty counter to sled once per [`INTERVAL`], in one batch. A hot counter therefore
//! costs one sled write per interval however busy it is, and the request path never waits for
//! sled. `flush` (shutdown) writes what is dirty and syncs the tree at once.

use std::sync::{Arc, Weak};
use std::time::Duration;

/// How often dirty counters are written.
pub const INTERVAL: Duration = Duration::from_millis(100);

/// Something with dirty state to write to sled.
pub trait Persist: Send + Sync + 'static {
    /// Writes every dirty value (one batch) and clears the dirty marks.
    fn persist(&self);
}

/// Starts the thread that calls `target.persist()` every [`INTERVAL`]; it ends once `target`
/// is dropped.
pub fn spawn<T: Persist>(target: &Arc<T>, name: &str) -> std::io::Result<()> {
    let weak: Weak<T> = Arc::downgrade(target);
    std::thread::Builder::new().name(name.to_owned()).spawn(move || {
        loop {
            std::thread::sleep(INTERVAL);
            match weak.upgrade() {
                Some(t) => t.persist(),
                None => return,
            }
        }
    })?;
    Ok(())
}

/// Writes `(key, value)` pairs to `tree` in one batch.
pub fn write_batch<'a>(tree: &sled::Tree, rows: impl IntoIterator<Item = (&'a str, Vec<u8>)>) {
    let mut batch = sled::Batch::default();
    let mut any = false;
    for (k, v) in rows {
        batch.insert(k.as_bytes(), v);
        any = true;
    }
    if any && let Err(e) = tree.apply_batch(batch) {
        tracing::error!(error = %e, "cannot persist counters");
    }
}
