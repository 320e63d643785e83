//! `LayeredCache`: the layers composed cheapest first — L1 exact, L3 canonical, L2 semantic —
//! each tried in the request's own partition and then, where the sharing policy allows, in the
//! shared partition (an L4 hit). A layer in shadow mode records what it would have served and
//! the lookup goes on.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use smartflow_core::policy::Action;
use smartflow_core::{
    Cache, CacheDirectives, CacheHit, CacheLayer, CacheLookup, CacheScope, CacheStats, ChatRequest, ChatResponse,
    DataLabels, Error, ErrorKind, PolicyDecision, RequestContext, TokenUsage,
};

use crate::config::{CacheConfig, LayerMode};
use crate::fingerprint::Fingerprint;
use crate::layers::{Found, KeyLayer, Layer, Query, SemanticLayer};
use crate::scope::Partitions;
use crate::stats::{Analytics, LookupOutcome};
use crate::store::entry::{self, Header};
use crate::store::{OpenReport, Store, StoreError, hex, now_ms};

/// Background embeddings of new entries in flight at most; beyond it new entries are still
/// stored (L1/L3) but not indexed for L2.
const MAX_PENDING_EMBEDS: usize = 64;

/// The layered response cache.
pub struct LayeredCache {
    config: CacheConfig,
    store: Arc<Store>,
    exact: KeyLayer,
    canonical: KeyLayer,
    semantic: Option<Arc<SemanticLayer>>,
    analytics: Analytics,
    report: OpenReport,
    embeds: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for LayeredCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LayeredCache")
            .field("config", &self.config)
            .field("report", &self.report)
            .finish_non_exhaustive()
    }
}

fn store_error(e: StoreError) -> Error {
    Error::new(ErrorKind::Internal, format!("cache: {e}"))
}

fn decision(rule: String, action: Action) -> PolicyDecision {
    PolicyDecision { policy: "cache".to_owned(), rule, action, phase: "cache" }
}

impl LayeredCache {
    /// Opens the cache on the sled directory `path` (a temporary store when `None`). A store
    /// that cannot be opened is moved aside and the cache starts empty (see
    /// [`open_report`](Self::open_report)); this fails only when not even a temporary store
    /// can be made.
    pub fn open(config: CacheConfig, path: Option<&Path>) -> Result<Self, Error> {
        let (store, report) = Store::open(path).map_err(store_error)?;
        let store = Arc::new(store);
        let semantic = match &config.semantic {
            Some((mode, s)) if mode.is_on() => {
                let layer = Arc::new(SemanticLayer::new(s.clone()));
                let vectors = store.all_vectors().map_err(store_error)?;
                let n = layer.load(vectors);
                tracing::info!(entries = n, "semantic cache index restored");
                Some(layer)
            }
            _ => None,
        };
        Ok(Self {
            analytics: Analytics::new(config.max_tracked_scopes),
            exact: KeyLayer::exact(),
            canonical: KeyLayer::canonical(),
            semantic,
            store,
            report,
            embeds: Arc::new(tokio::sync::Semaphore::new(MAX_PENDING_EMBEDS)),
            config,
        })
    }

    /// How opening the store went (quarantine, dropped entries).
    pub fn open_report(&self) -> &OpenReport {
        &self.report
    }

    /// The configuration.
    pub fn config(&self) -> &CacheConfig {
        &self.config
    }

    /// The layers in lookup order with their modes.
    fn layers(&self) -> impl Iterator<Item = (&dyn Layer, LayerMode)> {
        let semantic = self.config.semantic.as_ref().map_or(LayerMode::Off, |(m, _)| *m);
        [
            Some((&self.exact as &dyn Layer, self.config.exact)),
            Some((&self.canonical as &dyn Layer, self.config.canonical)),
            self.semantic.as_deref().map(|s| (s as &dyn Layer, semantic)),
        ]
        .into_iter()
        .flatten()
        .filter(|(_, mode)| mode.is_on())
    }

    /// One layer in one partition; `Ok(None)` when the layer ran past its time budget.
    async fn find(&self, layer: &dyn Layer, q: &Query<'_>, partition: &str) -> Result<Option<Option<Found>>, Error> {
        if layer.kind() != CacheLayer::L2 {
            return layer.find(&self.store, q, partition).await.map(Some).map_err(store_error);
        }
        let budget = self.semantic.as_ref().map_or(std::time::Duration::ZERO, |s| s.config().budget);
        match tokio::time::timeout(budget, layer.find(&self.store, q, partition)).await {
            Ok(r) => r.map(Some).map_err(store_error),
            Err(_) => Ok(None),
        }
    }

    /// Removes expired entries and, past the byte bound, the least recently used ones (down to
    /// 90 % of it). Run periodically; `put` also runs it when over the bound.
    pub fn maintain(&self) -> u64 {
        let target = if self.store.bytes() > self.config.max_bytes { self.config.max_bytes / 10 * 9 } else { u64::MAX };
        let victims = self.store.victims(target);
        let n = victims.len() as u64;
        for id in victims {
            self.remove(id);
        }
        self.analytics.evicted(n);
        n
    }

    fn remove(&self, id: u64) {
        match self.store.remove_entry(id, None) {
            Ok(Some(h)) => {
                if let Some(s) = &self.semantic {
                    s.forget(&h.vector_partitions, id);
                }
            }
            Ok(None) => {}
            Err(e) => tracing::warn!(id, error = %e, "cannot remove a cache entry"),
        }
    }

    /// Writes the store to disk (shutdown).
    pub async fn flush(&self) {
        if let Err(e) = self.store.flush().await {
            tracing::warn!(error = %e, "cannot flush the cache store");
        }
    }

    /// Waits until every background embedding of a stored entry has finished (tests, shutdown).
    pub async fn settle(&self) {
        if let Ok(all) = self.embeds.acquire_many(MAX_PENDING_EMBEDS as u32).await {
            drop(all);
        }
    }

    fn served(&self, found: Found, layer: CacheLayer) -> (CacheHit, u64, u64) {
        let h = &found.entry.header;
        let usage = TokenUsage { input: h.usage.0, output: h.usage.1, ..TokenUsage::default() };
        let cost = self.config.pricer.as_ref().map_or(0, |p| p(&h.model, &usage));
        let tokens = h.tokens;
        (CacheHit { response: found.entry.response, layer, similarity: found.similarity }, tokens, cost)
    }
}

#[async_trait]
impl Cache for LayeredCache {
    async fn get(&self, ctx: &RequestContext, req: &ChatRequest) -> Result<CacheLookup, Error> {
        let directives = ctx.extensions.get::<CacheDirectives>().copied().unwrap_or_default();
        if directives.no_cache {
            self.analytics.bypassed();
            return Ok(CacheLookup::miss());
        }
        let fp = Fingerprint::of(req).map_err(|e| Error::new(ErrorKind::Internal, format!("cache key: {e}")))?;
        let parts = Partitions::of(ctx, &fp.model, self.config.scope, &self.config.sharing);
        let sensitive = ctx.extensions.get::<DataLabels>().is_some_and(|l| l.sensitive);
        let floor = self.config.semantic.as_ref().map_or(1.0, |(_, s)| s.threshold);
        let threshold = directives.threshold.map_or(floor, |t| t.max(floor));
        let q = Query::new(&fp, threshold);
        let sharing = &self.config.sharing;
        let shared = parts.shared.as_deref().filter(|_| !sensitive && sharing.mode.is_on());
        let mut lookup = CacheLookup::default();
        let mut outcome = LookupOutcome::default();
        'layers: for (layer, mode) in self.layers() {
            let kind = layer.kind();
            let mut candidates = vec![(parts.own.as_str(), false)];
            if let Some(shared) = shared.filter(|_| kind != CacheLayer::L2 || sharing.semantic) {
                candidates.push((shared, true));
            }
            for (partition, is_shared) in candidates {
                let Some(found) = self.find(layer, &q, partition).await? else {
                    outcome.bypassed = true;
                    continue 'layers;
                };
                let Some(found) = found else { continue };
                let served_as = if is_shared { CacheLayer::L4 } else { kind };
                let enforce = mode == LayerMode::Enforce && (!is_shared || sharing.mode == LayerMode::Enforce);
                let similarity = found.similarity.map(|s| format!(" similarity={s:.3}")).unwrap_or_default();
                if !enforce {
                    outcome.shadow[served_as.index()] = true;
                    lookup.decisions.push(decision(
                        format!("{} would_hit candidate={}{similarity}", served_as.label(), found.id),
                        Action::WouldHit,
                    ));
                    continue;
                }
                if is_shared {
                    lookup.decisions.push(decision(
                        format!("l4 shared_from={} via={}{similarity}", found.entry.header.scope, kind.label()),
                        Action::Share,
                    ));
                }
                let (hit, tokens, cost) = self.served(found, served_as);
                outcome.hit = Some(served_as);
                outcome.tokens_saved = tokens;
                outcome.cost_saved = cost;
                lookup.hit = Some(hit);
                break 'layers;
            }
        }
        self.analytics.lookup(&fp.model, &parts.scope, &outcome);
        Ok(lookup)
    }

    async fn put(&self, ctx: &RequestContext, req: &ChatRequest, resp: &ChatResponse) -> Result<(), Error> {
        let directives = ctx.extensions.get::<CacheDirectives>().copied().unwrap_or_default();
        let labels = ctx.extensions.get::<DataLabels>();
        let ttl = directives.ttl.map_or(self.config.ttl, |t| t.min(self.config.ttl));
        if directives.no_store || labels.is_some_and(|l| l.no_store) || ttl.is_zero() {
            self.analytics.skipped();
            return Ok(());
        }
        let fp = Fingerprint::of(req).map_err(|e| Error::new(ErrorKind::Internal, format!("cache key: {e}")))?;
        let parts = Partitions::of(ctx, &fp.model, self.config.scope, &self.config.sharing);
        let sensitive = labels.is_some_and(|l| l.sensitive);
        let sharing = &self.config.sharing;
        let shared = parts.shared.clone().filter(|_| !sensitive && sharing.mode.is_on());
        let q = Query::new(&fp, 1.0);
        let mut keys = Vec::new();
        for (layer, _) in self.layers() {
            for partition in std::iter::once(&parts.own).chain(shared.as_ref()) {
                if let Some(k) = layer.key(&q, partition) {
                    keys.push(hex(&k));
                }
            }
        }
        let mut vector_partitions = Vec::new();
        if let Some(s) = self.semantic.as_ref().filter(|s| s.eligible(&q)) {
            vector_partitions.push(parts.own.clone());
            if let Some(shared) = shared.as_ref().filter(|_| sharing.semantic) {
                vector_partitions.push(shared.clone());
            }
            let _ = s;
        }
        let usage = resp.usage.as_ref().map(|u| (u.prompt_tokens, u.completion_tokens)).unwrap_or_default();
        let now = now_ms();
        let header = Header {
            partition: parts.own.clone(),
            scope: parts.scope.clone(),
            model: fp.model.clone(),
            created_ms: now,
            expires_ms: now.saturating_add(u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX)),
            keys,
            vector_partitions,
            context: fp.context.as_ref().map(hex),
            prompt: fp.prompt.clone(),
            tokens: usage.0 + usage.1,
            usage,
        };
        let value = entry::encode(&header, resp).map_err(|e| Error::new(ErrorKind::Internal, format!("cache: {e}")))?;
        if value.len() > self.config.max_entry_bytes {
            self.analytics.skipped();
            return Ok(());
        }
        let (id, displaced) = self.store.insert(&header, &value).map_err(store_error)?;
        for old in displaced {
            self.remove(old);
        }
        self.analytics.stored();
        if self.store.bytes() > self.config.max_bytes {
            self.maintain();
        }
        if let (Some(semantic), Some(prompt), false) =
            (self.semantic.clone(), header.prompt.clone(), header.vector_partitions.is_empty())
        {
            let Ok(permit) = self.embeds.clone().try_acquire_owned() else {
                tracing::debug!("semantic indexing is saturated; entry stored for L1/L3 only");
                return Ok(());
            };
            let store = self.store.clone();
            let partitions = header.vector_partitions;
            let work = async move {
                let _permit = permit;
                let Some(vectors) = semantic.embed_entry(&prompt).await else { return };
                match store.put_vectors(id, &vectors) {
                    Ok(true) => {
                        for p in &partitions {
                            semantic.index(p, id, &vectors);
                        }
                    }
                    Ok(false) => {}
                    Err(e) => tracing::warn!(id, error = %e, "cannot store a cache entry's vectors"),
                }
            };
            // In the background on a tokio runtime; inline on any other executor.
            match tokio::runtime::Handle::try_current() {
                Ok(handle) => drop(handle.spawn(work)),
                Err(_) => work.await,
            }
        }
        Ok(())
    }

    async fn invalidate(&self, scope: &CacheScope) -> Result<u64, Error> {
        if *scope == CacheScope::All {
            let n = self.store.clear().map_err(store_error)?;
            if let Some(s) = &self.semantic {
                s.clear();
            }
            return Ok(n);
        }
        let headers = self.store.headers().map_err(store_error)?;
        let mut n = 0;
        for (id, h) in headers {
            let hit = match scope {
                CacheScope::Scope(s) => h.scope == *s,
                CacheScope::Model(m) => h.model == *m,
                CacheScope::All => true,
            };
            if hit {
                self.remove(id);
                n += 1;
            }
        }
        Ok(n)
    }

    fn stats(&self) -> CacheStats {
        self.analytics.snapshot(self.store.len() as u64, self.store.bytes())
    }
}
