//! Configuration: the TOML file is parsed into [`raw::RawConfig`] (unknown keys rejected), then
//! validated into [`Config`], the runtime form with no "not loaded yet" options. Every error
//! names the file, the line and the key.

mod audit;
mod barriers;
mod cache;
mod governance;
mod guardrails;
mod raw;
mod secret;
mod validate;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use smartflow_core::ModelKind;
use smartflow_core::providers::MockConfig;
use smartflow_core::routing::{BreakerConfig, RetryPolicy, Strategy};
use smartflow_policy::identity::{KeyHash, StaticKey};

/// Resolves a secret reference (`env:NAME` or `file:PATH`, relative to the working directory).
pub fn resolve_secret(reference: &str) -> Result<SecretString, String> {
    secret::resolve(Path::new("./."), reference)
}

pub use audit::key_bytes;

/// The validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file it came from.
    pub path: PathBuf,
    /// Listener and HTTP limits.
    pub server: ServerConfig,
    /// Logging.
    pub log: LogConfig,
    /// The admin key's hash; without one the admin API refuses everything.
    pub admin_key: Option<KeyHash>,
    /// Audit sink.
    pub audit: AuditConfig,
    /// Virtual keys.
    pub keys: Vec<StaticKey>,
    /// Upstreams.
    pub providers: Vec<ProviderConfig>,
    /// Virtual models.
    pub models: Vec<ModelConfig>,
    /// Circuit-breaker settings for every target.
    pub breaker: BreakerConfig,
    /// The sled directory (keys, counters, usage); `None`: a temporary store, lost on exit.
    pub storage: Option<PathBuf>,
    /// Tiers, limits, budgets and prices.
    pub governance: GovernanceConfig,
    /// JWT issuers and LDAP.
    pub identity: IdentityConfig,
    /// `[compliance]` and `[[guardrails]]`.
    pub guardrails: GuardrailsConfig,
    /// `[barriers]`.
    pub barriers: BarriersConfig,
    /// `[cache]`; `None`: no response cache.
    pub cache: Option<CacheSettings>,
}

pub use cache::{CacheSettings, EmbedderChoice, SemanticSettings, SharingSettings};

pub use barriers::{BarriersConfig, SegmentConfig};

pub use guardrails::{Actions, Guardrail, GuardrailsConfig};

/// Tiers, limits, budgets, prices and token counting.
#[derive(Debug, Clone)]
pub struct GovernanceConfig {
    /// Model tiers.
    pub tiers: smartflow_policy::identity::Tiers,
    /// `[[limits]]` rules.
    pub rules: Vec<smartflow_policy::governance::rules::LimitRule>,
    /// Prices by virtual model.
    pub prices: smartflow_policy::governance::prices::PriceTable,
    /// Output tokens reserved when a request sets no maximum.
    pub default_max_output: u64,
    /// Limits of configuration keys, by key id.
    pub key_limits: std::collections::HashMap<String, std::sync::Arc<[smartflow_policy::governance::spec::Limit]>>,
    /// Token counters by virtual model.
    pub tokenizers: std::collections::HashMap<String, smartflow_policy::governance::tokens::TokenCounter>,
}

impl GovernanceConfig {
    /// Whether any configured limit counts tokens or spend (so prompts will be tokenized).
    pub fn counts_tokens(&self) -> bool {
        use smartflow_policy::governance::spec::Metric;
        self.rules
            .iter()
            .flat_map(|r| &r.limits)
            .chain(self.key_limits.values().flat_map(|l| l.iter()))
            .any(|l| l.metric != Metric::Requests)
    }
}

/// JWT issuers and LDAP.
#[derive(Debug, Clone, Default)]
pub struct IdentityConfig {
    /// Trusted JWT issuers.
    pub jwt: Vec<smartflow_policy::identity::JwtConfig>,
    /// LDAP for `Basic` logins.
    pub ldap: Option<smartflow_policy::identity::LdapConfig>,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq)]
pub struct ServerConfig {
    /// Data-plane address.
    pub listen: SocketAddr,
    /// Admin address.
    pub admin_listen: SocketAddr,
    /// Host names the admin listener answers to besides loopback ones (`name` or `name:port`,
    /// lower-case; `*` for any). Empty: loopback names on a loopback listener, any elsewhere.
    pub admin_hosts: Vec<String>,
    /// Largest request body (413 above).
    pub max_body_bytes: usize,
    /// Largest request head (431 above).
    pub max_header_bytes: usize,
    /// Most request headers (431 above).
    pub max_headers: usize,
    /// Deepest JSON nesting (400 above).
    pub max_json_depth: usize,
    /// Most open client connections; more wait in the accept queue.
    pub max_connections: usize,
    /// Runtime worker threads (default: the number of CPUs).
    pub worker_threads: usize,
    /// Time allowed to send a request head (slowloris guard). hyper starts this timer as soon as
    /// it waits for a request head, so it is also the longest a keep-alive connection stays idle.
    pub header_read_timeout: Duration,
    /// Time allowed to send a request body.
    pub body_read_timeout: Duration,
    /// Time in-flight requests get to finish on shutdown.
    pub drain_timeout: Duration,
    /// `owned_by` in `/v1/models`.
    pub owned_by: String,
}

/// `[log]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogConfig {
    /// A `tracing` filter (`info`, `smartflow=debug`).
    pub level: String,
    /// Text or JSON lines.
    pub json: bool,
}

/// `[audit]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditConfig {
    /// Where records go.
    pub sink: AuditSink,
    /// Record prompt and completion text.
    pub record_prompts: bool,
    /// The verified (hash-chained) stream, if configured.
    pub verified: Option<VerifiedSettings>,
    /// Remote sinks (Splunk HEC, syslog, OTLP).
    pub remote: RemoteSinks,
}

/// Remote audit sinks and how each is fed. They live as long as the process (their spools must
/// not have two writers), so changing them takes a restart.
#[derive(Debug, Clone, Default)]
pub struct RemoteSinks {
    /// Splunk HTTP Event Collector.
    pub splunk:
        Option<(smartflow_policy::audit::splunk::SplunkConfig, smartflow_policy::audit::delivery::DeliveryConfig)>,
    /// Syslog (RFC 5424 / CEF over UDP, TCP, TLS).
    pub syslog:
        Option<(smartflow_policy::audit::syslog::SyslogConfig, smartflow_policy::audit::delivery::DeliveryConfig)>,
    /// OpenTelemetry over OTLP/HTTP.
    pub otlp: Option<OtlpSettings>,
}

/// `[audit.otlp]`, resolved.
#[derive(Debug, Clone)]
pub struct OtlpSettings {
    /// Collector and headers.
    pub config: smartflow_policy::audit::otlp::OtlpConfig,
    /// Also export the GenAI metrics.
    pub metrics: bool,
    /// Queue, batching, spool (one per signal: traces and metrics spool apart).
    pub delivery: smartflow_policy::audit::delivery::DeliveryConfig,
}

impl PartialEq for RemoteSinks {
    fn eq(&self, other: &Self) -> bool {
        // Secrets are redacted in Debug output; everything else is compared.
        format!("{self:?}") == format!("{other:?}")
    }
}

impl Eq for RemoteSinks {}

/// `[audit.verified]`, resolved (the keys are read; they are never printed).
#[derive(Clone)]
pub struct VerifiedSettings {
    /// The stream's settings.
    pub config: smartflow_policy::audit::verified::VerifiedConfig,
}

impl std::fmt::Debug for VerifiedSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.config.fmt(f)
    }
}

impl PartialEq for VerifiedSettings {
    fn eq(&self, other: &Self) -> bool {
        self.config.dir == other.config.dir
    }
}

impl Eq for VerifiedSettings {}

/// The audit sink.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditSink {
    /// No JSON-lines sink (metrics still count every outcome).
    None,
    /// Standard output.
    Stdout,
    /// A file.
    File(PathBuf),
}

/// One provider.
#[derive(Debug, Clone)]
pub struct ProviderConfig {
    /// Its name, used in targets.
    pub name: String,
    /// Dialect and settings.
    pub kind: ProviderKind,
}

/// A provider's dialect.
#[derive(Debug, Clone)]
pub enum ProviderKind {
    /// In-process mock.
    Mock(MockConfig),
    /// OpenAI-compatible HTTP API.
    OpenAi(Box<OpenAiSettings>),
}

/// Settings of an OpenAI-dialect provider (OpenAI-compatible servers and Azure OpenAI).
#[derive(Debug, Clone)]
pub struct OpenAiSettings {
    /// Base URL (with the version prefix for OpenAI-compatible servers; the resource or APIM
    /// URL for Azure).
    pub base_url: String,
    /// Which wire format and URL scheme it speaks.
    pub dialect: Dialect,
    /// The header carrying the key (default `Authorization: Bearer`; Azure `api-key`).
    pub key_header: Option<http::HeaderName>,
    /// Egress proxy to tunnel through.
    pub proxy: Option<http::Uri>,
    /// `user:password` for the proxy.
    pub proxy_credentials: Option<SecretString>,
    /// Trusted CAs from `ca_file`, instead of the system's.
    pub ca: Option<std::sync::Arc<rustls::RootCertStore>>,
    /// Resolved key, if any.
    pub api_key: Option<SecretString>,
    /// Connect timeout.
    pub connect_timeout: Option<Duration>,
    /// First-byte timeout.
    pub first_byte_timeout: Option<Duration>,
    /// Stream idle timeout.
    pub idle_timeout: Option<Duration>,
    /// Total timeout.
    pub total_timeout: Option<Duration>,
    /// Largest response body.
    pub max_response_bytes: Option<usize>,
}

/// The wire dialect of an HTTP provider.
#[derive(Debug, Clone)]
pub enum Dialect {
    /// OpenAI chat completions at `{base_url}/chat/completions`.
    OpenAi,
    /// Azure OpenAI deployment URLs with this `api-version`.
    Azure(String),
    /// Anthropic Messages at `{base_url}/messages`.
    Anthropic,
    /// Google Gemini `generateContent` at `{base_url}/models/{model}:generateContent`.
    Gemini,
    /// AWS Bedrock Converse, signed with SigV4 for this region and these credentials.
    Bedrock {
        /// The AWS region.
        region: String,
        /// The signing credentials.
        credentials: smartflow_core::providers::bedrock::sigv4::AwsCredentials,
    },
}

/// One virtual model.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelConfig {
    /// The name clients send.
    pub name: String,
    /// Chat or embedding.
    pub kind: ModelKind,
    /// `(provider, upstream model)` in configured order.
    pub targets: Vec<(String, String)>,
    /// How targets are ordered per request.
    pub strategy: Strategy,
    /// One weight per target (weighted strategy).
    pub weights: Vec<u32>,
    /// Attempt budget and backoff.
    pub retry: RetryPolicy,
}

/// A configuration error: file, position and what is wrong (never a secret value).
#[derive(Debug, thiserror::Error)]
#[error("{file}{location}: {message}")]
pub struct ConfigError {
    file: String,
    location: String,
    message: String,
}

impl ConfigError {
    pub(crate) fn at(path: &Path, text: &str, span: Option<std::ops::Range<usize>>, message: String) -> Self {
        let location = span
            .map(|s| {
                let before = &text[..s.start.min(text.len())];
                let line = before.matches('\n').count() + 1;
                let col = before.len() - before.rfind('\n').map_or(0, |i| i + 1) + 1;
                format!(":{line}:{col}")
            })
            .unwrap_or_default();
        Self { file: path.display().to_string(), location, message }
    }
}

/// Command-line overrides applied on top of the file.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    /// `--listen`.
    pub listen: Option<SocketAddr>,
    /// `--admin-listen`.
    pub admin_listen: Option<SocketAddr>,
}

impl Config {
    /// Reads, parses and validates `path`, then applies `overrides`.
    pub fn load(path: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| ConfigError::at(path, "", None, format!("cannot read the file: {}", e.kind())))?;
        let mut config = Self::parse(path, &text)?;
        if let Some(addr) = overrides.listen {
            config.server.listen = addr;
        }
        if let Some(addr) = overrides.admin_listen {
            config.server.admin_listen = addr;
        }
        Ok(config)
    }

    /// Parses and validates configuration text (`path` names it in errors).
    pub fn parse(path: &Path, text: &str) -> Result<Self, ConfigError> {
        let raw: raw::RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::at(path, text, e.span(), e.message().to_owned()))?;
        validate::validate(path, text, raw)
    }
}
