//! `/metrics` for the response cache: lookups, hits and shadow hits per layer, tokens and cost
//! saved — per model and per scope — and the store's size, read from the cache at scrape time.

use std::sync::Arc;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeLabelSet, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;
use smartflow_cache::LayeredCache;
use smartflow_core::{Cache, CacheCounters, CacheLayer};

/// The collector.
#[derive(Debug)]
pub struct CacheCollector {
    cache: Arc<LayeredCache>,
}

impl CacheCollector {
    /// Reports `cache` on every scrape.
    pub fn new(cache: Arc<LayeredCache>) -> Self {
        Self { cache }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLabel {
    model: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ModelLayerLabel {
    model: String,
    layer: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLabel {
    scope: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ScopeLayerLabel {
    scope: String,
    layer: &'static str,
}

type Read = fn(&CacheCounters) -> u64;
type ReadLayers = fn(&CacheCounters) -> [u64; 4];

impl Collector for CacheCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        let s = self.cache.stats();
        let per_model: [(&str, &str, Read); 3] = [
            ("cache_lookups", "Cache lookups per virtual model", |c| c.lookups),
            ("cache_tokens_saved", "Tokens not sent upstream thanks to cache hits", |c| c.tokens_saved),
            ("cache_cost_saved_nano_usd", "What cache hits saved, in nano-dollars", |c| c.cost_saved_nano_usd),
        ];
        for (name, help, read) in per_model {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (model, c) in &s.by_model {
                ConstCounter::new(read(c)).encode(family.encode_family(&ModelLabel { model: model.clone() })?)?;
            }
        }
        let layered: [(&str, &str, ReadLayers); 2] = [
            ("cache_hits", "Cache hits served per layer and virtual model", |c| c.hits),
            ("cache_shadow_hits", "Hits a shadow (audit) layer would have served", |c| c.shadow_hits),
        ];
        for (name, help, read) in layered {
            let mut family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            for (model, c) in &s.by_model {
                for layer in CacheLayer::ALL {
                    let labels = ModelLayerLabel { model: model.clone(), layer: layer.label() };
                    ConstCounter::new(read(c)[layer.index()]).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "cache_scope_lookups",
                "Cache lookups per scope",
                None,
                MetricType::Counter,
            )?;
            for (scope, c) in &s.by_scope {
                ConstCounter::new(c.lookups).encode(family.encode_family(&ScopeLabel { scope: scope.clone() })?)?;
            }
        }
        {
            let mut family = encoder.encode_descriptor(
                "cache_scope_hits",
                "Cache hits per scope and layer",
                None,
                MetricType::Counter,
            )?;
            for (scope, c) in &s.by_scope {
                for layer in CacheLayer::ALL {
                    let labels = ScopeLayerLabel { scope: scope.clone(), layer: layer.label() };
                    ConstCounter::new(c.hits[layer.index()]).encode(family.encode_family(&labels)?)?;
                }
            }
        }
        let totals: [(&str, &str, u64); 5] = [
            ("cache_misses", "Lookups that found nothing to serve", s.misses),
            ("cache_bypassed", "Lookups skipped (no-cache, or the semantic layer past its budget)", s.bypassed),
            ("cache_stores", "Answers stored", s.stores),
            ("cache_stores_skipped", "Answers not stored (no-store, personal data, too large)", s.stores_skipped),
            ("cache_evictions", "Entries removed by expiry or the byte bound", s.evictions),
        ];
        for (name, help, value) in totals {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Counter)?;
            ConstCounter::new(value).encode(family)?;
        }
        let quarantined = u64::from(self.cache.open_report().quarantined.is_some());
        let gauges: [(&str, &str, u64); 3] = [
            ("cache_entries", "Entries stored", s.entries),
            ("cache_bytes", "Bytes stored", s.bytes),
            ("cache_quarantined", "1 when the cache store was damaged at start and moved aside", quarantined),
        ];
        for (name, help, value) in gauges {
            let family = encoder.encode_descriptor(name, help, None, MetricType::Gauge)?;
            ConstGauge::new(i64::try_from(value).unwrap_or(i64::MAX)).encode(family)?;
        }
        Ok(())
    }
}
