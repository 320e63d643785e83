//! `Stores`: what lives as long as the process, shared by every configuration generation — the
//! embedded sled database (virtual keys, limit counters, usage totals; sled holds a lock on its
//! directory) and the audit sinks that own files or queues (the verified stream's chain head,
//! remote sinks' spools): two generations must never write them at once.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context as _;
use smartflow_policy::audit::delivery::Delivery;
use smartflow_policy::audit::delivery::DeliveryConfig;
use smartflow_policy::audit::otlp::{OtlpMetrics, OtlpTraces};
use smartflow_policy::audit::sink_metrics::SinkSources;
use smartflow_policy::audit::splunk::SplunkHec;
use smartflow_policy::audit::syslog::Syslog;
use smartflow_policy::audit::verified::VerifiedAudit;
use smartflow_policy::governance::ledger::Ledger;

use crate::config::AuditConfig;
use smartflow_policy::governance::usage::UsageBook;
use smartflow_policy::identity::KeyStore;

/// The open stores.
pub struct Stores {
    /// Where they live (`None`: a temporary database removed on exit).
    pub path: Option<PathBuf>,
    /// Virtual keys.
    pub keys: KeyStore,
    /// Limit and budget counters.
    pub ledger: Arc<Ledger>,
    /// Usage totals per day.
    pub usage: Arc<UsageBook>,
    /// The verified audit stream, when configured.
    pub verified: Option<Arc<VerifiedAudit>>,
    /// Remote audit sinks (Splunk, syslog, OTLP), each behind its queue and spool.
    pub remote: Vec<Arc<Delivery>>,
    /// The key of the guardrails' `hash` action when `[compliance] hash_key` is not set: random,
    /// for the life of the process (hashes are then comparable only within it).
    pub hash_key: [u8; 32],
    /// The layered response cache, when `[cache]` is configured.
    pub cache: Option<Arc<smartflow_cache::LayeredCache>>,
    db: sled::Db,
}

impl std::fmt::Debug for Stores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the hash key.
        f.debug_struct("Stores")
            .field("path", &self.path)
            .field("keys", &self.keys)
            .field("verified", &self.verified.is_some())
            .field("remote", &self.remote.len())
            .finish_non_exhaustive()
    }
}

impl Stores {
    /// Opens (creating if needed) the database at `path`, or a temporary one. A database that
    /// cannot be opened — corrupt, or locked by another running daemon — stops the start with
    /// an error naming the directory: keys and counters are never silently replaced.
    pub fn open(path: Option<&Path>, audit: Option<&AuditConfig>) -> anyhow::Result<Self> {
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
        let verified =
            audit.and_then(|a| a.verified.as_ref()).map(|v| VerifiedAudit::open(v.config.clone())).transpose()?;
        let mut remote = Vec::new();
        if let Some((config, delivery)) = audit.and_then(|a| a.remote.splunk.clone()) {
            let hec = SplunkHec::new(config).map_err(|e| anyhow::anyhow!("splunk: {e}"))?;
            remote.push(Arc::new(Delivery::start(Arc::new(hec), delivery).context("splunk spool")?));
        }
        if let Some((config, delivery)) = audit.and_then(|a| a.remote.syslog.clone()) {
            let syslog = Syslog::new(config).map_err(|e| anyhow::anyhow!("syslog: {e}"))?;
            remote.push(Arc::new(Delivery::start(Arc::new(syslog), delivery).context("syslog spool")?));
        }
        if let Some(o) = audit.and_then(|a| a.remote.otlp.clone()) {
            let traces = OtlpTraces::new(&o.config).map_err(|e| anyhow::anyhow!("otlp: {e}"))?;
            remote.push(Arc::new(
                Delivery::start(Arc::new(traces), spool_for(&o.delivery, "traces")).context("otlp spool")?,
            ));
            if o.metrics {
                let metrics = OtlpMetrics::new(&o.config).map_err(|e| anyhow::anyhow!("otlp: {e}"))?;
                remote.push(Arc::new(
                    Delivery::start(Arc::new(metrics), spool_for(&o.delivery, "metrics")).context("otlp spool")?,
                ));
            }
        }
        let mut hash_key = [0u8; 32];
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut hash_key)
            .map_err(|_| anyhow::anyhow!("no system randomness"))?;
        Ok(Self { path: path.map(Path::to_path_buf), keys, ledger, usage, verified, remote, hash_key, cache: None, db })
    }

    /// What `/metrics` reports about the audit sinks.
    pub fn sink_sources(&self) -> SinkSources {
        SinkSources {
            remote: self
                .remote
                .iter()
                .map(|d| (smartflow_core::Audit::name(d.as_ref()).to_owned(), d.stats()))
                .collect(),
            verified: self.verified.clone(),
        }
    }

    /// With the response cache `cache`.
    pub fn with_cache(mut self, cache: Option<Arc<smartflow_cache::LayeredCache>>) -> Self {
        self.cache = cache;
        self
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

/// One signal's delivery settings: its own subdirectory of the configured spool.
fn spool_for(d: &DeliveryConfig, signal: &str) -> DeliveryConfig {
    DeliveryConfig { spool_dir: d.spool_dir.as_ref().map(|p| p.join(signal)), ..d.clone() }
}
