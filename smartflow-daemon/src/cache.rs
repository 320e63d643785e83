//! Builds the layered response cache from `[cache]`: once per process (like the other stores),
//! so entries, indexes and analytics survive configuration reloads.

use std::path::Path;
use std::sync::Arc;

use anyhow::Context as _;
use smartflow_cache::embed::{EmbedPool, EmbedderSpec, open_embedder};
use smartflow_cache::{CacheConfig, LayeredCache, SemanticConfig};
use smartflow_core::Embedder;

use crate::config::{CacheSettings, Config, EmbedderChoice};

fn embedder(config: &Config, choice: &EmbedderChoice, pool: &EmbedPool) -> anyhow::Result<Arc<dyn Embedder>> {
    let spec = match choice {
        EmbedderChoice::Builtin => EmbedderSpec::Builtin,
        EmbedderChoice::Static(dir) => EmbedderSpec::Static { dir: dir.clone() },
        EmbedderChoice::MiniLm(dir) => EmbedderSpec::MiniLm { dir: dir.clone() },
        EmbedderChoice::Provider { provider, model, dimension } => {
            let p = config
                .providers
                .iter()
                .find(|p| p.name == *provider)
                .with_context(|| format!("[cache.semantic] provider {provider} is not configured"))?;
            let roots = crate::assemble::roots_for(std::slice::from_ref(p));
            EmbedderSpec::Provider {
                provider: crate::assemble::provider(p, &roots)?,
                model: model.clone(),
                dimension: *dimension,
            }
        }
    };
    open_embedder(&spec, pool).map_err(|e| anyhow::anyhow!("[cache.semantic] embedder: {}", e.message()))
}

/// The library configuration for `settings`.
fn library_config(config: &Config, settings: &CacheSettings) -> anyhow::Result<CacheConfig> {
    let semantic = match &settings.semantic {
        None => None,
        Some(s) => {
            // One job at a time: candle already spreads one MiniLM forward pass over every core.
            let pool = EmbedPool::new(1, s.budget.max(std::time::Duration::from_secs(2)));
            let mut sc = SemanticConfig::new(embedder(config, &s.embedder, &pool)?, s.threshold);
            sc.verify = s.verify.as_ref().map(|v| embedder(config, v, &pool)).transpose()?;
            sc.screen_threshold = s.screen_threshold;
            sc.candidates = s.candidates;
            sc.budget = s.budget;
            sc.hnsw_above = s.hnsw_above;
            sc.max_prompt_bytes = s.max_prompt_bytes;
            Some((s.mode, sc))
        }
    };
    let prices = config.governance.prices.clone();
    Ok(CacheConfig {
        exact: settings.exact,
        canonical: settings.canonical,
        semantic,
        sharing: settings.sharing.policy(),
        scope: settings.scope,
        ttl: settings.ttl,
        max_bytes: settings.max_bytes,
        max_entry_bytes: settings.max_entry_bytes,
        pricer: Some(Arc::new(move |model, usage| prices.get(model).map_or(0, |p| p.cost(usage).0))),
        ..CacheConfig::default()
    })
}

/// Opens the cache `config` asks for, on its configured directory or on `path` when given
/// (`check` uses a temporary one so it never touches the running daemon's). A damaged cache
/// directory is moved aside inside; only an embedder that cannot be loaded fails here.
pub fn open(config: &Config, temporary: bool) -> anyhow::Result<Option<Arc<LayeredCache>>> {
    let Some(settings) = &config.cache else { return Ok(None) };
    let library = library_config(config, settings)?;
    let path: Option<&Path> = if temporary { None } else { settings.path.as_deref() };
    let cache = LayeredCache::open(library, path).map_err(|e| anyhow::anyhow!("[cache]: {}", e.message()))?;
    let report = cache.open_report();
    if let Some(aside) = &report.quarantined {
        tracing::error!(moved_to = %aside.display(), "the cache store was damaged and moved aside; the cache started empty");
    }
    if report.temporary && !temporary {
        tracing::warn!("the cache runs on a temporary store: entries last only until exit");
    }
    tracing::info!(
        entries = report.loaded,
        dropped_corrupt = report.dropped_corrupt,
        dropped_expired = report.dropped_expired,
        "response cache ready"
    );
    Ok(Some(Arc::new(cache)))
}
