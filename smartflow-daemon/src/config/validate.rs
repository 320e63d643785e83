//! From `RawConfig` to `Config`: defaults, ranges, references between sections, secrets.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::time::Duration;

use smartflow_core::ModelKind;
use smartflow_core::Principal;
use smartflow_core::providers::{MockBehavior, MockConfig};
use smartflow_core::routing::{BreakerConfig, RetryPolicy, Strategy};
use smartflow_policy::identity::{KeyHash, StaticKey};
use toml::Spanned;

use super::raw::{RawConfig, RawProvider};
use super::{
    AuditConfig, AuditSink, Config, ConfigError, Dialect, LogConfig, ModelConfig, OpenAiSettings, ProviderConfig,
    ProviderKind, ServerConfig, secret,
};

pub(super) struct Ctx<'a> {
    pub(super) path: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    pub(super) fn err<T>(
        &self,
        span: std::ops::Range<usize>,
        key: &str,
        message: impl std::fmt::Display,
    ) -> Result<T, ConfigError> {
        Err(ConfigError::at(self.path, self.text, Some(span), format!("{key}: {message}")))
    }

    pub(super) fn duration(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        default: Duration,
    ) -> Result<Duration, ConfigError> {
        match v {
            None => Ok(default),
            Some(s) => humantime::parse_duration(s.get_ref())
                .or_else(|e| {
                    self.err(s.span(), key, format!("not a duration ({e}); write e.g. \"500ms\", \"10s\", \"5m\""))
                })
                .and_then(|d| if d.is_zero() { self.err(s.span(), key, "must be greater than zero") } else { Ok(d) }),
        }
    }

    pub(super) fn opt_duration(&self, v: &Option<Spanned<String>>, key: &str) -> Result<Option<Duration>, ConfigError> {
        v.as_ref().map(|_| self.duration(v, key, Duration::ZERO)).transpose()
    }

    pub(super) fn number(
        &self,
        v: &Option<Spanned<u64>>,
        key: &str,
        default: u64,
        min: u64,
        max: u64,
    ) -> Result<usize, ConfigError> {
        match v {
            None => Ok(default as usize),
            Some(n) if (min..=max).contains(n.get_ref()) => Ok(*n.get_ref() as usize),
            Some(n) => self.err(n.span(), key, format!("must be between {min} and {max}")),
        }
    }

    pub(super) fn addr(
        &self,
        v: &Option<Spanned<String>>,
        key: &str,
        default: &str,
    ) -> Result<std::net::SocketAddr, ConfigError> {
        match v {
            None => default.parse().or_else(|_| self.err(0..0, key, "bad default")),
            Some(s) => s
                .get_ref()
                .parse()
                .or_else(|_| self.err(s.span(), key, "not an address; write IP:PORT, e.g. \"127.0.0.1:8080\"")),
        }
    }
}

pub(super) fn validate(path: &Path, text: &str, raw: RawConfig) -> Result<Config, ConfigError> {
    let c = Ctx { path, text };
    let s = &raw.server;
    let server = ServerConfig {
        listen: c.addr(&s.listen, "server.listen", "127.0.0.1:8080")?,
        admin_listen: c.addr(&s.admin_listen, "server.admin_listen", "127.0.0.1:8081")?,
        admin_hosts: admin_hosts(&c, s.admin_hosts.as_deref().unwrap_or_default())?,
        max_body_bytes: c.number(&s.max_body_bytes, "server.max_body_bytes", 10 << 20, 1024, 1 << 30)?,
        max_header_bytes: c.number(&s.max_header_bytes, "server.max_header_bytes", 64 << 10, 8192, 1 << 20)?,
        max_headers: c.number(&s.max_headers, "server.max_headers", 100, 8, 1000)?,
        max_json_depth: c.number(&s.max_json_depth, "server.max_json_depth", 64, 4, 128)?,
        max_connections: c.number(&s.max_connections, "server.max_connections", 10_000, 1, 1_000_000)?,
        worker_threads: c.number(
            &s.worker_threads,
            "server.worker_threads",
            std::thread::available_parallelism().map_or(2, |n| n.get() as u64),
            1,
            1024,
        )?,
        header_read_timeout: c.duration(
            &s.header_read_timeout,
            "server.header_read_timeout",
            Duration::from_secs(10),
        )?,
        body_read_timeout: c.duration(&s.body_read_timeout, "server.body_read_timeout", Duration::from_secs(30))?,
        drain_timeout: c.duration(&s.drain_timeout, "server.drain_timeout", Duration::from_secs(30))?,
        owned_by: s.owned_by.clone().unwrap_or_else(|| "smartflow".to_owned()),
    };

    let log = LogConfig {
        level: raw.log.level.as_ref().map_or_else(|| "info".to_owned(), |l| l.get_ref().clone()),
        json: match raw.log.format.as_ref() {
            None => false,
            Some(f) if f.get_ref() == "text" => false,
            Some(f) if f.get_ref() == "json" => true,
            Some(f) => return c.err(f.span(), "log.format", "must be \"text\" or \"json\""),
        },
    };

    let admin_key = match &raw.admin.key_hash {
        None => None,
        Some(h) => Some(KeyHash::parse(h.get_ref()).or_else(|e| c.err(h.span(), "admin.key_hash", e))?),
    };

    let audit = AuditConfig {
        sink: match (raw.audit.sink.as_ref(), raw.audit.path.as_ref()) {
            (None, None) => AuditSink::None,
            (Some(s), None) if s.get_ref() == "none" => AuditSink::None,
            (Some(s), None) if s.get_ref() == "stdout" => AuditSink::Stdout,
            (Some(s), Some(p)) if s.get_ref() == "file" => AuditSink::File(PathBuf::from(p.get_ref())),
            (None, Some(p)) => AuditSink::File(PathBuf::from(p.get_ref())),
            (Some(s), None) if s.get_ref() == "file" => {
                return c.err(s.span(), "audit.sink", "\"file\" needs audit.path");
            }
            (Some(s), _) => {
                return c.err(s.span(), "audit.sink", "must be \"none\", \"stdout\" or \"file\" (with audit.path)");
            }
        },
        record_prompts: raw.audit.record_prompts,
        verified: super::audit::verified(&c, raw.audit.verified.as_ref())?,
        remote: super::RemoteSinks {
            splunk: super::audit::splunk(&c, raw.audit.splunk.as_ref())?,
            syslog: super::audit::syslog(&c, raw.audit.syslog.as_ref())?,
            otlp: super::audit::otlp(&c, raw.audit.otlp.as_ref())?,
        },
    };

    let mut key_limits = std::collections::HashMap::new();
    let mut key_ids = HashSet::new();
    let mut key_hashes = HashSet::new();
    let mut keys = Vec::new();
    for (i, k) in raw.keys.iter().enumerate() {
        let id = k.id.get_ref();
        if id.is_empty() || id == "admin" || !key_ids.insert(id.clone()) {
            return c.err(k.id.span(), &format!("keys[{i}].id"), "key ids must be unique, non-empty and not `admin`");
        }
        let hash = KeyHash::parse(k.hash.get_ref()).or_else(|e| c.err(k.hash.span(), &format!("keys[{i}].hash"), e))?;
        if !key_hashes.insert(hash) {
            return c.err(k.hash.span(), &format!("keys[{i}].hash"), "the same key is configured twice");
        }
        let mut principal = Principal::new(id.clone());
        principal.user.clone_from(&k.user);
        principal.team.clone_from(&k.team);
        principal.department.clone_from(&k.department);
        principal.groups.clone_from(&k.groups);
        principal.tier.clone_from(&k.tier);
        principal.tags.clone_from(&k.tags);
        principal.models = k.models.as_ref().map(|m| m.get_ref().iter().cloned().collect());
        principal.admin = k.admin;
        if let Some(set) = &k.limits {
            let limits = super::governance::limit_set(&c, set, &format!("keys[{i}].limits"))?;
            key_limits.insert(id.clone(), limits.into());
        }
        keys.push(StaticKey { hash, principal });
    }
    if let Some(hash) = admin_key {
        if !key_hashes.insert(hash) {
            return c.err(0..0, "admin.key_hash", "the admin key is also configured as a [[keys]] entry");
        }
        let mut principal = Principal::new("admin");
        principal.admin = true;
        keys.push(StaticKey { hash, principal });
    }

    let mut providers = Vec::new();
    let mut provider_names = HashSet::new();
    for (i, p) in raw.providers.iter().enumerate() {
        let name = p.name.get_ref();
        if name.is_empty() || name.contains('/') || !provider_names.insert(name.clone()) {
            return c.err(
                p.name.span(),
                &format!("providers[{i}].name"),
                "provider names must be unique, non-empty and contain no '/'",
            );
        }
        providers.push(ProviderConfig { name: name.clone(), kind: provider_kind(&c, i, p)? });
    }

    let mut models = Vec::new();
    let mut model_names = HashSet::new();
    for (i, m) in raw.models.iter().enumerate() {
        let name = m.name.get_ref();
        if name.is_empty() || !model_names.insert(name.clone()) {
            return c.err(m.name.span(), &format!("models[{i}].name"), "model names must be unique and non-empty");
        }
        let kind = match m.kind.as_ref() {
            None => ModelKind::Chat,
            Some(k) if k.get_ref() == "chat" => ModelKind::Chat,
            Some(k) if k.get_ref() == "embedding" => ModelKind::Embedding,
            Some(k) => return c.err(k.span(), &format!("models[{i}].kind"), "must be \"chat\" or \"embedding\""),
        };
        if m.targets.get_ref().is_empty() {
            return c.err(m.targets.span(), &format!("models[{i}].targets"), "a model needs at least one target");
        }
        let mut targets = Vec::new();
        for (j, t) in m.targets.get_ref().iter().enumerate() {
            let key = format!("models[{i}].targets[{j}]");
            let Some((provider, model)) = t.get_ref().split_once('/').filter(|(p, m)| !p.is_empty() && !m.is_empty())
            else {
                return c.err(t.span(), &key, "a target is \"provider/upstream-model\"");
            };
            if !provider_names.contains(provider) {
                return c.err(t.span(), &key, format!("no provider named `{provider}` is configured"));
            }
            let azure = providers.iter().any(|p: &ProviderConfig| {
                p.name == provider
                    && matches!(&p.kind, ProviderKind::OpenAi(s) if matches!(s.dialect, Dialect::Azure(_)))
            });
            if azure && !smartflow_core::providers::openai::is_safe_segment(model) {
                return c.err(
                    t.span(),
                    &key,
                    "an azure deployment name may only use letters, digits, '.', '_' and '-'",
                );
            }
            targets.push((provider.to_owned(), model.to_owned()));
        }
        let strategy = match m.strategy.as_ref() {
            None => Strategy::Priority,
            Some(s) => match s.get_ref().as_str() {
                "priority" => Strategy::Priority,
                "weighted" => Strategy::Weighted,
                "round_robin" => Strategy::RoundRobin,
                "least_latency" => Strategy::LeastLatency,
                _ => {
                    return c.err(
                        s.span(),
                        &format!("models[{i}].strategy"),
                        "must be \"priority\", \"weighted\", \"round_robin\" or \"least_latency\"",
                    );
                }
            },
        };
        let weights = match m.weights.as_ref() {
            None => vec![1; targets.len()],
            Some(w)
                if w.get_ref().len() == targets.len() && w.get_ref().iter().all(|&x| (1..=1_000_000).contains(&x)) =>
            {
                w.get_ref().iter().map(|&x| x as u32).collect()
            }
            Some(w) => {
                return c.err(w.span(), &format!("models[{i}].weights"), "one weight from 1 to 1000000 per target");
            }
        };
        if let Some(w) = m.weights.as_ref()
            && strategy != Strategy::Weighted
        {
            return c.err(w.span(), &format!("models[{i}].weights"), "weights need strategy = \"weighted\"");
        }
        let defaults = RetryPolicy::default();
        let retry = RetryPolicy {
            max_attempts: c.number(
                &m.max_attempts,
                &format!("models[{i}].max_attempts"),
                u64::from(defaults.max_attempts),
                1,
                20,
            )? as u32,
            backoff_base: c.duration(&m.retry_backoff, &format!("models[{i}].retry_backoff"), defaults.backoff_base)?,
            max_retry_after: c.duration(
                &m.max_retry_after,
                &format!("models[{i}].max_retry_after"),
                defaults.max_retry_after,
            )?,
            ..defaults
        };
        models.push(ModelConfig { name: name.clone(), kind, targets, strategy, weights, retry });
    }

    for (i, k) in raw.keys.iter().enumerate() {
        if let Some(list) = k.models.as_ref()
            && let Some(unknown) = list.get_ref().iter().find(|m| !model_names.contains(*m))
        {
            return c.err(
                list.span(),
                &format!("keys[{i}].models"),
                format!("no model named `{unknown}` is configured"),
            );
        }
    }

    let r = &raw.routing;
    let bd = BreakerConfig::default();
    let breaker = BreakerConfig {
        consecutive_failures: c.number(
            &r.breaker_failures,
            "routing.breaker_failures",
            u64::from(bd.consecutive_failures),
            1,
            10_000,
        )? as u32,
        failure_rate: match r.breaker_failure_rate.as_ref() {
            None => bd.failure_rate,
            Some(f) if (0.01..=1.0).contains(f.get_ref()) => *f.get_ref(),
            Some(f) => return c.err(f.span(), "routing.breaker_failure_rate", "must be between 0.01 and 1.0"),
        },
        min_requests: c.number(
            &r.breaker_min_requests,
            "routing.breaker_min_requests",
            u64::from(bd.min_requests),
            1,
            1_000_000,
        )? as u32,
        window: c.duration(&r.breaker_window, "routing.breaker_window", bd.window)?,
        open_for: c.duration(&r.breaker_open_for, "routing.breaker_open_for", bd.open_for)?,
        max_open_for: c.duration(&r.breaker_max_open_for, "routing.breaker_max_open_for", bd.max_open_for)?,
        probe_interval: bd.probe_interval,
    };

    for (i, k) in raw.keys.iter().enumerate() {
        if let Some(tier) = &k.tier
            && !raw.tiers.contains_key(tier)
        {
            return c.err(k.id.span(), &format!("keys[{i}].tier"), format!("no tier named `{tier}` is configured"));
        }
    }
    let storage = super::governance::storage(&c, &raw)?;
    let governance = super::governance::governance(&c, &raw, &models, key_limits)?;
    let identity = super::governance::identity(&c, &raw)?;
    let guardrails = super::guardrails::guardrails(&c, &raw)?;
    let barriers = super::barriers::barriers(&c, &raw)?;
    let cache = super::cache::cache(&c, &raw, storage.as_ref())?;
    Ok(Config {
        path: path.to_path_buf(),
        server,
        log,
        admin_key,
        audit,
        keys,
        providers,
        models,
        breaker,
        storage,
        governance,
        identity,
        guardrails,
        barriers,
        cache,
    })
}

/// Region and credentials of a bedrock provider; the secrets must be references.
fn bedrock_settings(c: &Ctx<'_>, i: usize, p: &RawProvider) -> Result<Dialect, ConfigError> {
    let key = |field: &str| format!("providers[{i}].{field}");
    let Some(region) = p.region.as_ref() else {
        return c.err(p.name.span(), &key("region"), "a bedrock provider needs region, e.g. \"us-east-1\"");
    };
    if region.get_ref().is_empty()
        || !region.get_ref().bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return c.err(region.span(), &key("region"), "not an AWS region name");
    }
    let secret = |v: &Option<Spanned<String>>, field: &str| -> Result<secrecy::SecretString, ConfigError> {
        match v {
            None => c.err(p.name.span(), &key(field), "a bedrock provider needs it (env:NAME or file:PATH)"),
            Some(r) => secret::resolve(c.path, r.get_ref()).or_else(|e| c.err(r.span(), &key(field), e)),
        }
    };
    use secrecy::ExposeSecret as _;
    let id = secret(&p.access_key_id, "access_key_id")?;
    let secret_key = secret(&p.secret_access_key, "secret_access_key")?;
    let mut credentials =
        smartflow_core::providers::bedrock::sigv4::AwsCredentials::new(id.expose_secret(), secret_key.expose_secret());
    if p.session_token.is_some() {
        credentials = credentials.with_session_token(secret(&p.session_token, "session_token")?.expose_secret());
    }
    Ok(Dialect::Bedrock { region: region.get_ref().clone(), credentials })
}

fn provider_kind(c: &Ctx<'_>, i: usize, p: &RawProvider) -> Result<ProviderKind, ConfigError> {
    let key = |field: &str| format!("providers[{i}].{field}");
    let only_for = |span: Option<std::ops::Range<usize>>, field: &str, kind: &str| -> Result<(), ConfigError> {
        match span {
            Some(s) => c.err(s, &key(field), format!("only applies to providers of type \"{kind}\"")),
            None => Ok(()),
        }
    };
    match p.kind.get_ref().as_str() {
        "mock" => {
            for (span, field) in [
                (p.base_url.as_ref().map(Spanned::span), "base_url"),
                (p.api_key.as_ref().map(Spanned::span), "api_key"),
                (p.connect_timeout.as_ref().map(Spanned::span), "connect_timeout"),
                (p.first_byte_timeout.as_ref().map(Spanned::span), "first_byte_timeout"),
                (p.idle_timeout.as_ref().map(Spanned::span), "idle_timeout"),
                (p.total_timeout.as_ref().map(Spanned::span), "total_timeout"),
                (p.max_response_bytes.as_ref().map(Spanned::span), "max_response_bytes"),
                (p.api_version.as_ref().map(Spanned::span), "api_version"),
                (p.key_header.as_ref().map(Spanned::span), "key_header"),
                (p.proxy.as_ref().map(Spanned::span), "proxy"),
                (p.proxy_credentials.as_ref().map(Spanned::span), "proxy_credentials"),
                (p.ca_file.as_ref().map(Spanned::span), "ca_file"),
            ] {
                only_for(span, field, "openai")?;
            }
            let defaults = MockConfig::default();
            let behavior = match (p.behavior.as_ref(), p.reply.as_ref()) {
                (Some(b), Some(r)) if b.get_ref() == "echo" => {
                    return c.err(r.span(), &key("reply"), "`reply` is for behavior = \"fixed\"");
                }
                (Some(b), _) if b.get_ref() == "echo" => MockBehavior::Echo,
                (Some(b), None) if b.get_ref() == "tools" => MockBehavior::Tools,
                (Some(b), reply) if b.get_ref() == "fixed" => MockBehavior::Fixed(
                    reply.map_or(smartflow_core::providers::mock::DEFAULT_REPLY.to_owned(), |r| r.get_ref().clone()),
                ),
                (None, reply) => MockBehavior::Fixed(
                    reply.map_or(smartflow_core::providers::mock::DEFAULT_REPLY.to_owned(), |r| r.get_ref().clone()),
                ),
                (Some(b), _) => return c.err(b.span(), &key("behavior"), "must be \"echo\", \"fixed\" or \"tools\""),
            };
            let latency =
                p.latency.as_ref().map(|_| c.duration(&p.latency, &key("latency"), Duration::ZERO)).transpose()?;
            let chunk_delay = p
                .chunk_delay
                .as_ref()
                .map(|_| c.duration(&p.chunk_delay, &key("chunk_delay"), Duration::ZERO))
                .transpose()?;
            Ok(ProviderKind::Mock(MockConfig {
                behavior,
                latency: latency.unwrap_or(defaults.latency),
                chunk_delay: chunk_delay.unwrap_or(defaults.chunk_delay),
                stream_chunks: c.number(
                    &p.stream_chunks,
                    &key("stream_chunks"),
                    defaults.stream_chunks as u64,
                    1,
                    10_000,
                )?,
                stream_chunk_chars: p
                    .stream_chunk_chars
                    .as_ref()
                    .map(|_| c.number(&p.stream_chunk_chars, &key("stream_chunk_chars"), 1, 1, 4096))
                    .transpose()?,
                embedding_dimension: c.number(
                    &p.embedding_dimension,
                    &key("embedding_dimension"),
                    defaults.embedding_dimension as u64,
                    1,
                    65_536,
                )?,
            }))
        }
        kind @ ("openai" | "azure" | "anthropic" | "gemini" | "bedrock") => {
            if kind != "bedrock" {
                for (span, field) in [
                    (p.region.as_ref().map(Spanned::span), "region"),
                    (p.access_key_id.as_ref().map(Spanned::span), "access_key_id"),
                    (p.secret_access_key.as_ref().map(Spanned::span), "secret_access_key"),
                    (p.session_token.as_ref().map(Spanned::span), "session_token"),
                ] {
                    only_for(span, field, "bedrock")?;
                }
            }
            let azure = kind == "azure";
            if let Some(h) = p.key_header.as_ref()
                && matches!(kind, "anthropic" | "gemini" | "bedrock")
            {
                return c.err(h.span(), &key("key_header"), "only openai and azure providers take key_header");
            }
            if let Some(v) = p.api_version.as_ref()
                && !azure
            {
                return c.err(v.span(), &key("api_version"), "only applies to providers of type \"azure\"");
            }
            for (span, field) in [
                (p.behavior.as_ref().map(Spanned::span), "behavior"),
                (p.reply.as_ref().map(Spanned::span), "reply"),
                (p.latency.as_ref().map(Spanned::span), "latency"),
                (p.chunk_delay.as_ref().map(Spanned::span), "chunk_delay"),
                (p.stream_chunks.as_ref().map(Spanned::span), "stream_chunks"),
                (p.stream_chunk_chars.as_ref().map(Spanned::span), "stream_chunk_chars"),
                (p.embedding_dimension.as_ref().map(Spanned::span), "embedding_dimension"),
            ] {
                only_for(span, field, "mock")?;
            }
            let bedrock = match kind {
                "bedrock" => Some(bedrock_settings(c, i, p)?),
                _ => None,
            };
            let base_url_text = match (p.base_url.as_ref(), &bedrock) {
                (Some(b), _) => {
                    if let Err(e) = smartflow_core::providers::http::validate_base_url(b.get_ref()) {
                        return c.err(b.span(), &key("base_url"), e.message());
                    }
                    b.get_ref().clone()
                }
                (None, Some(Dialect::Bedrock { region, .. })) => {
                    format!("https://bedrock-runtime.{region}.amazonaws.com")
                }
                (None, _) => {
                    return c.err(
                        p.name.span(),
                        &key("base_url"),
                        format!("a provider of type \"{kind}\" needs base_url"),
                    );
                }
            };
            let dialect = match (azure, p.api_version.as_ref()) {
                (false, _) if bedrock.is_some() => bedrock.unwrap_or(Dialect::OpenAi),
                (false, _) if kind == "anthropic" => Dialect::Anthropic,
                (false, _) if kind == "gemini" => Dialect::Gemini,
                (false, _) => Dialect::OpenAi,
                (true, None) => {
                    return c.err(
                        p.name.span(),
                        &key("api_version"),
                        "an azure provider needs api_version, e.g. \"2024-10-21\"",
                    );
                }
                (true, Some(v)) => {
                    if let Err(e) = smartflow_core::providers::OpenAiConfig::azure(&base_url_text, v.get_ref()) {
                        return c.err(v.span(), &key("api_version"), e.message());
                    }
                    Dialect::Azure(v.get_ref().clone())
                }
            };
            let key_header = match p.key_header.as_ref() {
                None => None,
                Some(h) => Some(
                    http::HeaderName::try_from(h.get_ref().as_str())
                        .or_else(|_| c.err(h.span(), &key("key_header"), "not a valid header name"))?,
                ),
            };
            let api_key = match p.api_key.as_ref() {
                None => None,
                Some(r) => Some(secret::resolve(c.path, r.get_ref()).or_else(|e| c.err(r.span(), &key("api_key"), e))?),
            };
            let proxy = match p.proxy.as_ref() {
                None => None,
                Some(u) => Some(
                    smartflow_core::providers::http::validate_proxy_url(u.get_ref())
                        .or_else(|e| c.err(u.span(), &key("proxy"), e.message()))?,
                ),
            };
            let proxy_credentials = match (p.proxy_credentials.as_ref(), proxy.is_some()) {
                (None, _) => None,
                (Some(r), false) => return c.err(r.span(), &key("proxy_credentials"), "needs proxy"),
                (Some(r), true) => {
                    let secret = secret::resolve(c.path, r.get_ref())
                        .or_else(|e| c.err(r.span(), &key("proxy_credentials"), e))?;
                    if !secrecy::ExposeSecret::expose_secret(&secret).contains(':') {
                        return c.err(r.span(), &key("proxy_credentials"), "the secret must be user:password");
                    }
                    Some(secret)
                }
            };
            let ca = match p.ca_file.as_ref() {
                None => None,
                Some(f) => Some(
                    crate::tls::load_ca_file(std::path::Path::new(f.get_ref()))
                        .or_else(|e| c.err(f.span(), &key("ca_file"), e))?,
                ),
            };
            Ok(ProviderKind::OpenAi(Box::new(OpenAiSettings {
                base_url: base_url_text,
                dialect,
                key_header,
                proxy,
                proxy_credentials,
                ca,
                api_key,
                connect_timeout: c.opt_duration(&p.connect_timeout, &key("connect_timeout"))?,
                first_byte_timeout: c.opt_duration(&p.first_byte_timeout, &key("first_byte_timeout"))?,
                idle_timeout: c.opt_duration(&p.idle_timeout, &key("idle_timeout"))?,
                total_timeout: c.opt_duration(&p.total_timeout, &key("total_timeout"))?,
                max_response_bytes: p
                    .max_response_bytes
                    .as_ref()
                    .map(|_| c.number(&p.max_response_bytes, &key("max_response_bytes"), 0, 1024, 1 << 31))
                    .transpose()?,
            })))
        }
        other => c.err(
            p.kind.span(),
            &key("type"),
            format!(
                "unknown provider type `{other}`; expected \"openai\", \"azure\", \"anthropic\", \"gemini\" or \"mock\""
            ),
        ),
    }
}

/// `server.admin_hosts`: host names (`name` or `name:port`) or `*`; no scheme, path or spaces.
fn admin_hosts(c: &Ctx<'_>, hosts: &[Spanned<String>]) -> Result<Vec<String>, ConfigError> {
    let mut out = Vec::with_capacity(hosts.len());
    for h in hosts {
        let v = h.get_ref().trim();
        let ok = v == "*"
            || (!v.is_empty()
                && v.len() <= 253
                && v.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']')));
        if !ok {
            return c.err(h.span(), "server.admin_hosts", "each entry is a host name, `name:port` or \"*\"");
        }
        out.push(v.to_ascii_lowercase());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::super::{Config, ProviderKind};

    fn mock(extra: &str) -> String {
        format!("[[providers]]\nname = \"m\"\ntype = \"mock\"\nbehavior = \"echo\"\n{extra}\n")
    }

    #[test]
    fn stream_chunk_chars_is_a_mock_only_setting_from_1_to_4096() {
        let chars = |text: &str| {
            let c = Config::parse(Path::new("m.toml"), text).unwrap();
            let ProviderKind::Mock(m) = &c.providers[0].kind else { panic!("a mock provider") };
            m.stream_chunk_chars
        };
        assert_eq!(chars(&mock("")), None, "off unless set");
        assert_eq!(chars(&mock("stream_chunk_chars = 3")), Some(3));
        assert_eq!(chars(&mock("stream_chunk_chars = 4096")), Some(4096));
        for bad in ["0", "4097"] {
            let e = Config::parse(Path::new("m.toml"), &mock(&format!("stream_chunk_chars = {bad}"))).unwrap_err();
            let e = e.to_string();
            assert!(e.contains("providers[0].stream_chunk_chars") && e.contains("between 1 and 4096"), "{e}");
        }
        let openai = "[[providers]]\nname = \"o\"\ntype = \"openai\"\nbase_url = \"http://127.0.0.1:1/v1\"\n\
                      stream_chunk_chars = 3\n";
        let e = Config::parse(Path::new("m.toml"), openai).unwrap_err().to_string();
        assert!(e.contains("stream_chunk_chars") && e.contains("only applies to providers of type \"mock\""), "{e}");
    }
}
