//! `KeyStore`: one issuer's cached key set, from a file or a URL. A set older than its max age
//! is re-fetched lazily; an unknown `kid` refetches at most once per interval; concurrent
//! refreshes share one fetch; a failed fetch keeps the last good keys.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt as _, Empty, Limited};
use tokio::time::Instant;

use super::config::{JwksSource, JwtConfig, JwtError};
use super::keys::KeySet;

/// Largest JWKS document read from a file or an endpoint.
pub const MAX_JWKS_BYTES: usize = 1 << 20;

/// Connect and whole-exchange timeout of a JWKS fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

type HttpClient = crate::http_client::HttpsClient<Empty<Bytes>>;

/// Where refreshed keys come from.
enum Loader {
    Static,
    File(PathBuf),
    Url { uri: http::Uri, client: Box<HttpClient> },
}

struct State {
    keys: Arc<KeySet>,
    /// Bumped by every fetch attempt, so callers queued behind a fetch reuse its outcome.
    generation: u64,
    /// When the current keys were loaded (`None`: never).
    loaded_at: Option<Instant>,
    /// How long the current keys are used before a lazy re-fetch.
    max_age: Duration,
    /// When the last fetch attempt ended (the initial load at construction does not count).
    last_attempt: Option<Instant>,
}

/// A key set and the generation it was read at.
pub(super) type Snapshot = (Arc<KeySet>, u64);

/// The cached key set of one issuer.
pub(super) struct KeyStore {
    loader: Loader,
    min_interval: Duration,
    max_age: Duration,
    state: Mutex<State>,
    /// Held for the length of a fetch: one fetch at a time, shared by every caller waiting.
    flight: tokio::sync::Mutex<()>,
    fetches: AtomicU64,
}

impl KeyStore {
    /// A store for `config`'s source: a static set is taken as is, a file is read now (so a bad
    /// file fails at startup), a URL is fetched on first use.
    pub(super) fn new(config: &JwtConfig) -> Result<Self, JwtError> {
        let (loader, keys, loaded_at) = match &config.jwks {
            JwksSource::Static(set) => {
                let keys = KeySet::from_set(set);
                if keys.is_empty() {
                    return Err(JwtError::Jwks("the key set holds no usable signature key".to_owned()));
                }
                (Loader::Static, keys, Some(Instant::now()))
            }
            JwksSource::File(path) => {
                let keys = read_file_sync(path).and_then(|b| usable_set(&b)).map_err(JwtError::Jwks)?;
                (Loader::File(path.clone()), keys, Some(Instant::now()))
            }
            JwksSource::Url(uri) => (
                Loader::Url {
                    uri: uri.clone(),
                    client: Box::new(
                        crate::http_client::client(&config.root_certificates, FETCH_TIMEOUT, 1)
                            .map_err(JwtError::Config)?,
                    ),
                },
                KeySet::default(),
                None,
            ),
        };
        Ok(Self {
            loader,
            min_interval: config.refresh_min_interval,
            max_age: config.jwks_max_age,
            state: Mutex::new(State {
                keys: Arc::new(keys),
                generation: 0,
                loaded_at,
                max_age: config.jwks_max_age,
                last_attempt: None,
            }),
            flight: tokio::sync::Mutex::new(()),
            fetches: AtomicU64::new(0),
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Fetch attempts since construction (the initial file load not counted).
    pub(super) fn fetches(&self) -> u64 {
        self.fetches.load(Ordering::Relaxed)
    }

    /// The current keys, re-fetched first if they are older than their max age (or were never
    /// loaded).
    pub(super) async fn keys(&self) -> Snapshot {
        let (snapshot, stale) = {
            let state = self.lock();
            let stale = !matches!(self.loader, Loader::Static)
                && state.loaded_at.is_none_or(|t| Instant::now().duration_since(t) >= state.max_age);
            ((state.keys.clone(), state.generation), stale)
        };
        if stale { self.refresh(snapshot.1).await } else { snapshot }
    }

    /// Re-fetches the keys, unless a fetch ended since `seen` was read (its outcome is shared) or
    /// the last one ended less than the minimum interval ago. A failed fetch keeps the last good
    /// keys.
    pub(super) async fn refresh(&self, seen: u64) -> Snapshot {
        if matches!(self.loader, Loader::Static) {
            let state = self.lock();
            return (state.keys.clone(), state.generation);
        }
        let _flight = self.flight.lock().await;
        {
            let state = self.lock();
            let recent = state.last_attempt.is_some_and(|t| Instant::now().duration_since(t) < self.min_interval);
            if state.generation != seen || recent {
                return (state.keys.clone(), state.generation);
            }
        }
        self.fetches.fetch_add(1, Ordering::Relaxed);
        let loaded = self.load().await;
        let now = Instant::now();
        let mut state = self.lock();
        state.generation = state.generation.wrapping_add(1);
        state.last_attempt = Some(now);
        match loaded {
            Ok((keys, max_age)) => {
                tracing::debug!(keys = keys.len(), "JWKS loaded");
                state.keys = Arc::new(keys);
                state.loaded_at = Some(now);
                state.max_age = max_age.map_or(self.max_age, |m| m.max(self.min_interval).min(self.max_age));
            }
            Err(reason) => tracing::warn!(%reason, "could not refresh the JWKS; keeping the last good keys"),
        }
        (state.keys.clone(), state.generation)
    }

    /// Loads the set from its source, with the endpoint's `Cache-Control: max-age` if any.
    async fn load(&self) -> Result<(KeySet, Option<Duration>), String> {
        match &self.loader {
            Loader::Static => Err("a static key set is never reloaded".to_owned()),
            Loader::File(path) => Ok((usable_set(&read_file(path).await?)?, None)),
            Loader::Url { uri, client } => {
                let (body, max_age) = fetch(client, uri).await?;
                Ok((usable_set(&body)?, max_age))
            }
        }
    }
}

/// A parsed set with at least one usable key (an empty set never replaces good keys).
fn usable_set(bytes: &[u8]) -> Result<KeySet, String> {
    let keys = KeySet::parse(bytes)?;
    if keys.is_empty() {
        return Err("the JWKS holds no usable signature key".to_owned());
    }
    Ok(keys)
}

fn too_large(path: &Path) -> String {
    format!("{} is larger than {MAX_JWKS_BYTES} bytes", path.display())
}

fn read_file_sync(path: &Path) -> Result<Vec<u8>, String> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_JWKS_BYTES as u64 + 1).read_to_end(&mut bytes))
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

async fn read_file(path: &Path) -> Result<Vec<u8>, String> {
    use tokio::io::AsyncReadExt as _;
    let mut bytes = Vec::new();
    let file = tokio::fs::File::open(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
    file.take(MAX_JWKS_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .await
        .map_err(|e| format!("{}: {e}", path.display()))?;
    if bytes.len() > MAX_JWKS_BYTES {
        return Err(too_large(path));
    }
    Ok(bytes)
}

/// GETs a JWKS within the fetch timeout: its body (bounded) and `Cache-Control: max-age`.
async fn fetch(client: &HttpClient, uri: &http::Uri) -> Result<(Vec<u8>, Option<Duration>), String> {
    let request = http::Request::get(uri.clone())
        .header(http::header::ACCEPT, "application/json")
        .body(Empty::new())
        .map_err(|e| format!("could not build the request: {e}"))?;
    let exchange = async {
        let response = client.request(request).await.map_err(|e| format!("request failed: {e}"))?;
        if !response.status().is_success() {
            return Err(format!("the endpoint answered {}", response.status()));
        }
        let max_age = cache_max_age(response.headers());
        let body = Limited::new(response.into_body(), MAX_JWKS_BYTES)
            .collect()
            .await
            .map_err(|e| format!("could not read the body: {e}"))?;
        Ok((body.to_bytes().to_vec(), max_age))
    };
    tokio::time::timeout(FETCH_TIMEOUT, exchange).await.map_err(|_| "the fetch timed out".to_owned())?
}

/// `max-age` of a `Cache-Control` header.
pub(super) fn cache_max_age(headers: &http::HeaderMap) -> Option<Duration> {
    let value = headers.get(http::header::CACHE_CONTROL)?.to_str().ok()?;
    value.split(',').find_map(|directive| {
        let (name, seconds) = directive.trim().split_once('=')?;
        let seconds = seconds.trim().trim_matches('"').parse().ok()?;
        name.trim().eq_ignore_ascii_case("max-age").then(|| Duration::from_secs(seconds))
    })
}
