//! `Shared`: what every connection handler sees — the current gateway (swapped whole on reload),
//! metrics, request ids and the draining flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use arc_swap::ArcSwap;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use smartflow_core::Gateway;
use smartflow_policy::audit::MetricsAudit;
use smartflow_policy::audit::sink_metrics::{SinkCollector, SinkSources};

use crate::config::{Config, Overrides};

/// State shared by all handlers.
pub struct Shared {
    /// The gateway of the current configuration generation.
    pub gateway: ArcSwap<Gateway>,
    /// The current configuration.
    pub config: ArcSwap<Config>,
    /// The CLI overrides, re-applied on reload.
    pub overrides: Overrides,
    /// Metrics (kept across reloads).
    pub metrics: Arc<MetricsAudit>,
    /// `smartflow_config_reloads_total{result}`.
    pub reloads: Family<ReloadLabels, Counter>,
    /// Configuration generation, 1 at start.
    pub generation: AtomicU64,
    /// Set once shutdown begins: `/readyz` turns 503.
    pub draining: AtomicBool,
    /// Keys, counters and usage (one per process; kept across reloads).
    pub stores: Arc<crate::stores::Stores>,
    ids: RequestIds,
}

/// Labels of the reload counter.
#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct ReloadLabels {
    /// `ok` or `invalid`.
    pub result: &'static str,
}

/// Where the metrics collector finds the running daemon once it exists.
pub type SharedSlot = Arc<std::sync::OnceLock<std::sync::Weak<Shared>>>;

/// A metrics registry with the daemon's own metrics registered beside the gateway's: the reload
/// counter, and target health read from the current gateway through `slot` at scrape time.
pub fn metrics(
    sinks: SinkSources,
    cache: Option<Arc<smartflow_cache::LayeredCache>>,
) -> (Arc<MetricsAudit>, Family<ReloadLabels, Counter>, SharedSlot) {
    let mut metrics = MetricsAudit::new();
    metrics.registry_mut().register_collector(Box::new(SinkCollector::new(sinks)));
    if let Some(cache) = cache {
        metrics.registry_mut().register_collector(Box::new(crate::cache_metrics::CacheCollector::new(cache)));
    }
    let reloads = Family::<ReloadLabels, Counter>::default();
    metrics.registry_mut().register("config_reloads", "Configuration reloads by result", reloads.clone());
    let slot: SharedSlot = Arc::default();
    let source = slot.clone();
    metrics.register_target_health(Arc::new(move || {
        source.get().and_then(std::sync::Weak::upgrade).map(|s| s.gateway.load().target_health()).unwrap_or_default()
    }));
    (Arc::new(metrics), reloads, slot)
}

impl Shared {
    /// State for the first configuration.
    pub fn new(
        gateway: Gateway,
        config: Config,
        overrides: Overrides,
        metrics: Arc<MetricsAudit>,
        reloads: Family<ReloadLabels, Counter>,
        stores: Arc<crate::stores::Stores>,
    ) -> Self {
        Self {
            gateway: ArcSwap::from_pointee(gateway),
            config: ArcSwap::from_pointee(config),
            overrides,
            metrics,
            reloads,
            generation: AtomicU64::new(1),
            draining: AtomicBool::new(false),
            stores,
            ids: RequestIds::new(),
        }
    }

    /// A fresh request id.
    pub fn next_request_id(&self) -> String {
        self.ids.next()
    }
}

/// Request ids: a random per-process prefix and a counter — unique, cheap, and no clock.
struct RequestIds {
    prefix: String,
    counter: AtomicU64,
}

impl RequestIds {
    fn new() -> Self {
        use ring::rand::SecureRandom;
        let mut bytes = [0u8; 6];
        let _ = ring::rand::SystemRandom::new().fill(&mut bytes);
        Self { prefix: hex::encode(bytes), counter: AtomicU64::new(0) }
    }

    fn next(&self) -> String {
        let n = self.counter.fetch_add(1, Ordering::Relaxed);
        format!("req_{}{:010x}", self.prefix, n)
    }
}
