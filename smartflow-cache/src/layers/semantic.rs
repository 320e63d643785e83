//! L2: semantic retrieval plus verification. A hit needs all of:
//! 1. retrieval: the screen embedder's vector is among the `candidates` nearest in the
//!    partition's index, at or above `screen_threshold`;
//! 2. the same conversation around the last user turn (system prompt, tools, parameters and
//!    earlier turns, by hash): the last user turn alone never decides;
//! 3. the slot guard lets it through (numbers, entities, negation, direction, closed word
//!    classes, one-word substitutions, added modifiers);
//! 4. the deciding similarity — the verifier's when one is configured, else the screen
//!    embedder's — at or above the request's threshold.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use async_trait::async_trait;
use smartflow_core::{CacheLayer, Embedder};

use super::{Found, Layer, Query};
use crate::config::SemanticConfig;
use crate::guard::SlotGuard;
use crate::index::{IndexOptions, VectorIndex};
use crate::store::entry::Header;
use crate::store::vectors::Vectors;
use crate::store::{Store, StoreError, hex};

/// The semantic layer and its per-partition indexes.
pub(crate) struct SemanticLayer {
    config: SemanticConfig,
    guard: SlotGuard,
    indexes: Mutex<HashMap<String, Arc<VectorIndex>>>,
}

fn dot(a: &[f32], b: &[f32]) -> f32 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

async fn embed_one(embedder: &dyn Embedder, text: &str) -> Option<Vec<f32>> {
    match embedder.embed(&[text.to_owned()]).await {
        Ok(mut v) if v.len() == 1 => v.pop().filter(|v| v.len() == embedder.dimension()),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(model = embedder.model_id(), error = %e, "embedding failed; semantic layer skipped");
            None
        }
    }
}

impl SemanticLayer {
    pub(crate) fn new(config: SemanticConfig) -> Self {
        Self { config, guard: SlotGuard::new(), indexes: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn config(&self) -> &SemanticConfig {
        &self.config
    }

    fn indexes(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<VectorIndex>>> {
        self.indexes.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn options(&self) -> IndexOptions {
        IndexOptions { hnsw_above: self.config.hnsw_above, ..IndexOptions::new(self.config.screen.dimension()) }
    }

    /// Whether a request can take part at all: a plain-text last user turn within the size
    /// bound, and a context hash.
    pub(crate) fn eligible(&self, q: &Query<'_>) -> bool {
        q.fp.context.is_some()
            && q.fp.prompt.as_ref().is_some_and(|p| !p.is_empty() && p.len() <= self.config.max_prompt_bytes)
    }

    async fn screen_vector<'q>(&self, q: &'q Query<'_>) -> Option<&'q Vec<f32>> {
        let prompt = q.fp.prompt.as_deref()?;
        q.screen.get_or_init(|| embed_one(self.config.screen.as_ref(), prompt)).await.as_ref()
    }

    async fn verify_vector<'q>(&self, q: &'q Query<'_>) -> Option<&'q Vec<f32>> {
        let prompt = q.fp.prompt.as_deref()?;
        let verify = self.config.verify.as_ref()?;
        q.verify.get_or_init(|| embed_one(verify.as_ref(), prompt)).await.as_ref()
    }

    /// The embeddings to store with a new entry.
    pub(crate) async fn embed_entry(&self, prompt: &str) -> Option<Vectors> {
        let screen = embed_one(self.config.screen.as_ref(), prompt).await?;
        let verify = match &self.config.verify {
            Some(v) => Some((v.model_id().to_owned(), embed_one(v.as_ref(), prompt).await?)),
            None => None,
        };
        Some(Vectors { screen_model: self.config.screen.model_id().to_owned(), screen, verify })
    }

    /// Adds an entry's vector to a partition's index.
    pub(crate) fn index(&self, partition: &str, id: u64, vectors: &Vectors) {
        if vectors.screen_model != self.config.screen.model_id() {
            return;
        }
        let index = {
            let mut map = self.indexes();
            match map.get(partition) {
                Some(i) => i.clone(),
                None => {
                    let i = Arc::new(VectorIndex::new(self.options()));
                    map.insert(partition.to_owned(), i.clone());
                    i
                }
            }
        };
        if let Err(e) = index.insert(id, &vectors.screen) {
            tracing::warn!(id, error = %e, "cannot index a cache entry");
        }
    }

    /// Removes an entry from the indexes it is in.
    pub(crate) fn forget(&self, partitions: &[String], id: u64) {
        let map = self.indexes();
        for p in partitions {
            if let Some(i) = map.get(p) {
                i.remove(id);
            }
        }
    }

    /// Rebuilds every index from stored vectors (start).
    pub(crate) fn load(&self, all: Vec<(u64, Header, Vectors)>) -> usize {
        let model = self.config.screen.model_id();
        let mut by_partition: HashMap<String, Vec<(u64, Vec<f32>)>> = HashMap::new();
        let mut n = 0;
        for (id, header, vectors) in all {
            if vectors.screen_model != model {
                continue;
            }
            n += 1;
            for p in header.vector_partitions {
                by_partition.entry(p).or_default().push((id, vectors.screen.clone()));
            }
        }
        let mut map = self.indexes();
        for (p, entries) in by_partition {
            map.insert(p, VectorIndex::load(self.options(), entries));
        }
        n
    }

    /// Drops every index.
    pub(crate) fn clear(&self) {
        self.indexes().clear();
    }
}

#[async_trait]
impl Layer for SemanticLayer {
    fn kind(&self) -> CacheLayer {
        CacheLayer::L2
    }

    async fn find(&self, store: &Store, q: &Query<'_>, partition: &str) -> Result<Option<Found>, StoreError> {
        if !self.eligible(q) {
            return Ok(None);
        }
        let Some(index) = self.indexes().get(partition).cloned() else { return Ok(None) };
        if index.is_empty() {
            return Ok(None);
        }
        let Some(query) = self.screen_vector(q).await else { return Ok(None) };
        let (Some(prompt), Some(context)) = (q.fp.prompt.as_deref(), q.fp.context.as_ref()) else {
            return Ok(None);
        };
        let context = hex(context);
        let mut best: Option<Found> = None;
        for hit in index.search(query, self.config.candidates) {
            if hit.similarity < self.config.screen_threshold {
                break;
            }
            let Some(entry) = store.get(hit.id)? else {
                index.remove(hit.id);
                continue;
            };
            let h = &entry.header;
            if h.context.as_deref() != Some(context.as_str()) || !h.vector_partitions.iter().any(|p| p == partition) {
                continue;
            }
            let Some(stored) = h.prompt.as_deref() else { continue };
            if let Err(veto) = self.guard.check(stored, prompt) {
                tracing::debug!(
                    candidate = hit.id,
                    similarity = hit.similarity,
                    veto = veto.label(),
                    "semantic candidate vetoed"
                );
                continue;
            }
            let similarity = match &self.config.verify {
                None => hit.similarity,
                Some(verify) => {
                    let Some(qv) = self.verify_vector(q).await else { return Ok(None) };
                    match store.vectors(hit.id)?.and_then(|v| v.verify) {
                        Some((model, ev)) if model == verify.model_id() && ev.len() == qv.len() => dot(qv, &ev),
                        _ => continue,
                    }
                }
            };
            if similarity >= q.threshold && best.as_ref().is_none_or(|b| b.similarity.unwrap_or(0.0) < similarity) {
                best = Some(Found { id: hit.id, entry, similarity: Some(similarity) });
            }
        }
        Ok(best)
    }
}
