//! `[cache]`, `[cache.semantic]` and `[cache.sharing]`: the layered response cache.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::time::Duration;

use serde::Deserialize;
use smartflow_cache::{LayerMode, ScopeBy, ShareWithin, SharingPolicy};
use toml::Spanned;

use super::ConfigError;
use super::governance::relative_to;
use super::raw::RawConfig;
use super::validate::Ctx;

/// `[cache]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCache {
    enabled: Option<bool>,
    path: Option<Spanned<String>>,
    scope: Option<Spanned<String>>,
    ttl: Option<Spanned<String>>,
    max_bytes: Option<Spanned<u64>>,
    max_entry_bytes: Option<Spanned<u64>>,
    exact: Option<Spanned<String>>,
    canonical: Option<Spanned<String>>,
    semantic: Option<RawSemantic>,
    #[serde(default)]
    sharing: RawSharing,
}

/// `[cache.semantic]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSemantic {
    mode: Option<Spanned<String>>,
    embedder: Option<Spanned<String>>,
    model_dir: Option<Spanned<String>>,
    provider: Option<Spanned<String>>,
    model: Option<Spanned<String>>,
    dimension: Option<Spanned<u64>>,
    verify: Option<Spanned<String>>,
    verify_dir: Option<Spanned<String>>,
    threshold: Option<Spanned<f64>>,
    screen_threshold: Option<Spanned<f64>>,
    candidates: Option<Spanned<u64>>,
    budget: Option<Spanned<String>>,
    hnsw_above: Option<Spanned<u64>>,
    max_prompt_bytes: Option<Spanned<u64>>,
}

/// `[cache.sharing]` as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSharing {
    enabled: Option<bool>,
    mode: Option<Spanned<String>>,
    within: Option<Spanned<String>>,
    semantic: Option<bool>,
    models: Option<Vec<String>>,
}

/// Which embedder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EmbedderChoice {
    /// The built-in one: no files.
    Builtin,
    /// A static (distilled) model directory.
    Static(PathBuf),
    /// all-MiniLM-L6-v2 from a directory (needs the `minilm` build feature).
    MiniLm(PathBuf),
    /// An OpenAI-compatible embeddings endpoint through a configured provider.
    Provider {
        /// The `[[providers]]` name.
        provider: String,
        /// The upstream model.
        model: String,
        /// The vector dimension, when known.
        dimension: Option<usize>,
    },
}

/// `[cache.semantic]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SemanticSettings {
    /// Enforce, audit (shadow) or off.
    pub mode: LayerMode,
    /// Screens (retrieves candidates).
    pub embedder: EmbedderChoice,
    /// Verifies, when set.
    pub verify: Option<EmbedderChoice>,
    /// The deciding similarity.
    pub threshold: f32,
    /// The screen's candidate similarity.
    pub screen_threshold: f32,
    /// Candidates per lookup.
    pub candidates: usize,
    /// Time budget of a semantic lookup.
    pub budget: Duration,
    /// Flat scan up to this many entries per partition, HNSW above.
    pub hnsw_above: usize,
    /// Longer prompts are not embedded.
    pub max_prompt_bytes: usize,
}

/// `[cache]`, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct CacheSettings {
    /// The cache's own sled directory (`None`: temporary).
    pub path: Option<PathBuf>,
    /// Scope.
    pub scope: ScopeBy,
    /// Entry lifetime.
    pub ttl: Duration,
    /// Byte bound.
    pub max_bytes: u64,
    /// Largest entry.
    pub max_entry_bytes: usize,
    /// L1.
    pub exact: LayerMode,
    /// L3.
    pub canonical: LayerMode,
    /// L2.
    pub semantic: Option<SemanticSettings>,
    /// L4.
    pub sharing: SharingSettings,
}

/// `[cache.sharing]`, validated (a comparable copy of [`SharingPolicy`]).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SharingSettings {
    /// On.
    pub enabled: bool,
    /// Enforce or audit.
    pub mode: LayerMode,
    /// Across whom.
    pub within: ShareWithin,
    /// Semantic hits too.
    pub semantic: bool,
    /// Only these models.
    pub models: Option<BTreeSet<String>>,
}

impl SharingSettings {
    /// The library's policy.
    pub fn policy(&self) -> SharingPolicy {
        SharingPolicy {
            enabled: self.enabled,
            within: self.within,
            semantic: self.semantic,
            models: self.models.clone(),
            mode: self.mode,
        }
    }
}

fn mode(c: &Ctx<'_>, v: &Option<Spanned<String>>, key: &str, default: LayerMode) -> Result<LayerMode, ConfigError> {
    match v.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None => Ok(default),
        Some(("enforce", _)) => Ok(LayerMode::Enforce),
        Some(("audit", _)) => Ok(LayerMode::Audit),
        Some(("off", _)) => Ok(LayerMode::Off),
        Some((_, span)) => c.err(span, key, "must be \"enforce\", \"audit\" (shadow mode) or \"off\""),
    }
}

fn similarity(c: &Ctx<'_>, v: &Option<Spanned<f64>>, key: &str, default: f32) -> Result<f32, ConfigError> {
    match v {
        None => Ok(default),
        Some(t) if *t.get_ref() > 0.0 && *t.get_ref() <= 1.0 => Ok(*t.get_ref() as f32),
        Some(t) => c.err(t.span(), key, "must be above 0 and at most 1"),
    }
}

fn embedder(
    c: &Ctx<'_>,
    raw: &RawConfig,
    kind: &Spanned<String>,
    dir: &Option<Spanned<String>>,
    s: &RawSemantic,
    key: &str,
) -> Result<EmbedderChoice, ConfigError> {
    let need_dir = |what: &str| -> Result<PathBuf, ConfigError> {
        match dir {
            Some(d) if !d.get_ref().trim().is_empty() => Ok(relative_to(c.path, d.get_ref())),
            _ => c.err(kind.span(), key, format!("the {what} embedder needs a model directory")),
        }
    };
    Ok(match kind.get_ref().as_str() {
        "builtin" => EmbedderChoice::Builtin,
        "static" => EmbedderChoice::Static(need_dir("static")?),
        "minilm" => EmbedderChoice::MiniLm(need_dir("minilm")?),
        "provider" => {
            let (Some(p), Some(m)) = (&s.provider, &s.model) else {
                return c.err(kind.span(), key, "the provider embedder needs `provider` and `model`");
            };
            if !raw.providers.iter().any(|rp| rp.name.get_ref() == p.get_ref()) {
                return c.err(p.span(), "cache.semantic.provider", format!("no provider named `{}`", p.get_ref()));
            }
            EmbedderChoice::Provider {
                provider: p.get_ref().clone(),
                model: m.get_ref().clone(),
                dimension: s.dimension.as_ref().map(|d| *d.get_ref() as usize),
            }
        }
        _ => return c.err(kind.span(), key, "must be \"builtin\", \"static\", \"minilm\" or \"provider\""),
    })
}

/// The default deciding threshold of an embedder (measured on tests/data/paraphrases.jsonl; see
/// docs/cache.md).
fn default_threshold(e: &EmbedderChoice) -> f32 {
    use smartflow_cache::thresholds;
    match e {
        EmbedderChoice::MiniLm(_) => thresholds::MINILM,
        EmbedderChoice::Provider { .. } => thresholds::PROVIDER,
        EmbedderChoice::Static(_) => thresholds::STATIC,
        EmbedderChoice::Builtin => thresholds::BUILTIN,
    }
}

pub(super) fn cache(
    c: &Ctx<'_>,
    raw: &RawConfig,
    storage: Option<&PathBuf>,
) -> Result<Option<CacheSettings>, ConfigError> {
    let Some(r) = &raw.cache else { return Ok(None) };
    if r.enabled == Some(false) {
        return Ok(None);
    }
    let path = match &r.path {
        Some(p) if p.get_ref().trim().is_empty() => return c.err(p.span(), "cache.path", "must not be empty"),
        Some(p) => Some(relative_to(c.path, p.get_ref())),
        None => storage.map(|s| PathBuf::from(format!("{}-cache", s.display()))),
    };
    if let (Some(p), Some(s)) = (&path, storage)
        && p == s
    {
        return c.err(r.path.as_ref().map_or(0..0, Spanned::span), "cache.path", "must differ from [storage] path");
    }
    let scope = match r.scope.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None | Some(("key", _)) => ScopeBy::Key,
        Some(("user", _)) => ScopeBy::User,
        Some(("team", _)) => ScopeBy::Team,
        Some(("department", _)) => ScopeBy::Department,
        Some((_, span)) => return c.err(span, "cache.scope", "must be \"key\", \"user\", \"team\" or \"department\""),
    };
    let semantic = match &r.semantic {
        None => None,
        Some(s) => {
            let m = mode(c, &s.mode, "cache.semantic.mode", LayerMode::Enforce)?;
            let builtin = Spanned::new(0..0, "builtin".to_owned());
            let kind = s.embedder.as_ref().unwrap_or(&builtin);
            let screen = embedder(c, raw, kind, &s.model_dir, s, "cache.semantic.embedder")?;
            let verify = match &s.verify {
                None => None,
                Some(v) => Some(embedder(c, raw, v, &s.verify_dir, s, "cache.semantic.verify")?),
            };
            let threshold = similarity(
                c,
                &s.threshold,
                "cache.semantic.threshold",
                default_threshold(verify.as_ref().unwrap_or(&screen)),
            )?;
            let default_screen = if verify.is_some() { 0.5 } else { threshold };
            let screen_threshold =
                similarity(c, &s.screen_threshold, "cache.semantic.screen_threshold", default_screen)?;
            Some(SemanticSettings {
                mode: m,
                embedder: screen,
                verify,
                threshold,
                screen_threshold,
                candidates: c.number(&s.candidates, "cache.semantic.candidates", 5, 1, 100)?,
                budget: c.duration(&s.budget, "cache.semantic.budget", Duration::from_millis(250))?,
                hnsw_above: c.number(&s.hnsw_above, "cache.semantic.hnsw_above", 10_000, 16, 10_000_000)?,
                max_prompt_bytes: c.number(
                    &s.max_prompt_bytes,
                    "cache.semantic.max_prompt_bytes",
                    8192,
                    16,
                    1 << 20,
                )?,
            })
        }
    };
    let sh = &r.sharing;
    let within = match sh.within.as_ref().map(|s| (s.get_ref().as_str(), s.span())) {
        None | Some(("segment", _)) => ShareWithin::Segment,
        Some(("department", _)) => ShareWithin::Department,
        Some(("team", _)) => ShareWithin::Team,
        Some((_, span)) => {
            return c.err(span, "cache.sharing.within", "must be \"segment\", \"department\" or \"team\"");
        }
    };
    let sharing = SharingSettings {
        enabled: sh.enabled.unwrap_or(false),
        mode: mode(c, &sh.mode, "cache.sharing.mode", LayerMode::Enforce)?,
        within,
        semantic: sh.semantic.unwrap_or(false),
        models: sh.models.as_ref().map(|m| m.iter().cloned().collect()),
    };
    if within == ShareWithin::Segment && sharing.enabled && raw.barriers.segments.is_empty() {
        return c.err(0..0, "cache.sharing.within", "sharing within a segment needs [barriers] segments");
    }
    Ok(Some(CacheSettings {
        path,
        scope,
        ttl: c.duration(&r.ttl, "cache.ttl", Duration::from_secs(3600))?,
        max_bytes: c.number(&r.max_bytes, "cache.max_bytes", 256 << 20, 1 << 20, 1 << 40)? as u64,
        max_entry_bytes: c.number(&r.max_entry_bytes, "cache.max_entry_bytes", 1 << 20, 1024, 64 << 20)?,
        exact: mode(c, &r.exact, "cache.exact", LayerMode::Enforce)?,
        canonical: mode(c, &r.canonical, "cache.canonical", LayerMode::Enforce)?,
        semantic,
        sharing,
    }))
}
