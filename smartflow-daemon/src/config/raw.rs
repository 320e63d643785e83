//! `RawConfig`: the TOML file as written. Every table rejects unknown keys, and values that are
//! checked after parsing keep their source span so errors can name the line.

use serde::Deserialize;
use toml::Spanned;

/// The whole file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawConfig {
    #[serde(default)]
    pub(crate) server: RawServer,
    #[serde(default)]
    pub(crate) log: RawLog,
    #[serde(default)]
    pub(crate) admin: RawAdmin,
    #[serde(default)]
    pub(crate) audit: RawAudit,
    #[serde(default)]
    pub(crate) keys: Vec<RawKey>,
    #[serde(default)]
    pub(crate) providers: Vec<RawProvider>,
    #[serde(default)]
    pub(crate) models: Vec<RawModel>,
    #[serde(default)]
    pub(crate) routing: RawRouting,
    #[serde(default)]
    pub(crate) storage: RawStorage,
    #[serde(default)]
    pub(crate) governance: RawGovernance,
    #[serde(default)]
    pub(crate) tiers: std::collections::BTreeMap<String, RawTier>,
    #[serde(default)]
    pub(crate) limits: Vec<RawRule>,
    #[serde(default)]
    pub(crate) prices: std::collections::BTreeMap<String, Spanned<RawPrice>>,
    #[serde(default)]
    pub(crate) jwt: Vec<RawJwt>,
    pub(crate) ldap: Option<RawLdap>,
    #[serde(default)]
    pub(crate) guardrails: Vec<RawGuardrail>,
    #[serde(default)]
    pub(crate) compliance: RawCompliance,
    #[serde(default)]
    pub(crate) barriers: RawBarriers,
    pub(crate) cache: Option<super::cache::RawCache>,
}

/// `[barriers]`: information barriers.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBarriers {
    #[serde(default)]
    pub(crate) segments: Vec<RawSegment>,
    #[serde(default)]
    pub(crate) rules: Vec<RawBarrierRule>,
}

/// `[[barriers.segments]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSegment {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) departments: Vec<String>,
    #[serde(default)]
    pub(crate) groups: Vec<String>,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    #[serde(default)]
    pub(crate) patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) tools: Vec<Spanned<String>>,
}

/// `[[barriers.rules]]`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBarrierRule {
    pub(crate) id: Spanned<String>,
    pub(crate) segments: Spanned<Vec<String>>,
    pub(crate) enforcement: Option<Spanned<String>>,
}

/// `[compliance]`: settings every guardrail shares.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompliance {
    pub(crate) hash_key: Option<Spanned<String>>,
}

/// `[[guardrails]]`: one rule on one or more hooks.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGuardrail {
    pub(crate) id: Spanned<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Spanned<String>,
    pub(crate) hooks: Spanned<Vec<String>>,
    pub(crate) mode: Option<Spanned<String>>,
    pub(crate) enforcement: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) keys: Vec<String>,
    #[serde(default)]
    pub(crate) users: Vec<String>,
    #[serde(default)]
    pub(crate) teams: Vec<String>,
    #[serde(default)]
    pub(crate) departments: Vec<String>,
    #[serde(default)]
    pub(crate) models: Vec<String>,
    #[serde(default)]
    pub(crate) tools: Vec<Spanned<String>>,
    // type = "pii"
    #[serde(default)]
    pub(crate) input_actions: std::collections::BTreeMap<String, Spanned<String>>,
    #[serde(default)]
    pub(crate) output_actions: std::collections::BTreeMap<String, Spanned<String>>,
    pub(crate) pre_tool_actions: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    pub(crate) post_tool_actions: Option<Spanned<std::collections::BTreeMap<String, Spanned<String>>>>,
    pub(crate) min_score: Option<Spanned<f64>>,
    // type = "deny_list"
    #[serde(default)]
    pub(crate) patterns: Vec<Spanned<String>>,
    #[serde(default)]
    pub(crate) keywords: Vec<String>,
    // type = "prompt_injection"
    pub(crate) threshold: Option<Spanned<f64>>,
    // type = "size_limit"
    pub(crate) max_prompt_chars: Option<Spanned<i64>>,
    pub(crate) max_messages: Option<Spanned<i64>>,
    pub(crate) max_output_chars: Option<Spanned<i64>>,
    pub(crate) max_tool_argument_chars: Option<Spanned<i64>>,
    pub(crate) max_tool_result_chars: Option<Spanned<i64>>,
    // type = "json_schema"
    pub(crate) schema: Option<Spanned<toml::Table>>,
    pub(crate) schema_file: Option<Spanned<String>>,
}

/// `[storage]`: the embedded sled store for keys, counters and usage.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStorage {
    pub(crate) path: Option<Spanned<String>>,
}

/// `[governance]`: defaults for limits and budgets.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawGovernance {
    pub(crate) default_max_output_tokens: Option<Spanned<u64>>,
}

/// `[tiers.NAME]`: the models a tier may use.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawTier {
    pub(crate) models: Spanned<Vec<String>>,
}

/// Limit amounts, shared by `[[limits]]` rules and a key's `limits = { ... }`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLimitSet {
    pub(crate) requests_per_minute: Option<Spanned<u64>>,
    pub(crate) requests_per_hour: Option<Spanned<u64>>,
    pub(crate) requests_per_day: Option<Spanned<u64>>,
    pub(crate) tokens_per_minute: Option<Spanned<u64>>,
    pub(crate) tokens_per_hour: Option<Spanned<u64>>,
    pub(crate) tokens_per_day: Option<Spanned<u64>>,
    pub(crate) token_quota: Option<Spanned<u64>>,
    pub(crate) quota_period: Option<Spanned<String>>,
    pub(crate) budget_usd: Option<Spanned<f64>>,
    pub(crate) budget_period: Option<Spanned<String>>,
}

/// `[[limits]]`: a rule — which requests, counted per what, and the amounts.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRule {
    pub(crate) id: Spanned<String>,
    pub(crate) scope: Option<Spanned<Vec<String>>>,
    pub(crate) enforcement: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) keys: Vec<String>,
    #[serde(default)]
    pub(crate) users: Vec<String>,
    #[serde(default)]
    pub(crate) teams: Vec<String>,
    #[serde(default)]
    pub(crate) departments: Vec<String>,
    #[serde(default)]
    pub(crate) tiers: Vec<String>,
    #[serde(default)]
    pub(crate) models: Vec<String>,
    pub(crate) requests_per_minute: Option<Spanned<u64>>,
    pub(crate) requests_per_hour: Option<Spanned<u64>>,
    pub(crate) requests_per_day: Option<Spanned<u64>>,
    pub(crate) tokens_per_minute: Option<Spanned<u64>>,
    pub(crate) tokens_per_hour: Option<Spanned<u64>>,
    pub(crate) tokens_per_day: Option<Spanned<u64>>,
    pub(crate) token_quota: Option<Spanned<u64>>,
    pub(crate) quota_period: Option<Spanned<String>>,
    pub(crate) budget_usd: Option<Spanned<f64>>,
    pub(crate) budget_period: Option<Spanned<String>>,
}

impl RawRule {
    /// The amounts, as a limit set.
    pub(crate) fn amounts(&self) -> RawLimitSet {
        RawLimitSet {
            requests_per_minute: self.requests_per_minute.clone(),
            requests_per_hour: self.requests_per_hour.clone(),
            requests_per_day: self.requests_per_day.clone(),
            tokens_per_minute: self.tokens_per_minute.clone(),
            tokens_per_hour: self.tokens_per_hour.clone(),
            tokens_per_day: self.tokens_per_day.clone(),
            token_quota: self.token_quota.clone(),
            quota_period: self.quota_period.clone(),
            budget_usd: self.budget_usd.clone(),
            budget_period: self.budget_period.clone(),
        }
    }
}

/// `[prices.MODEL]`: dollars per million tokens.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawPrice {
    pub(crate) input: f64,
    pub(crate) output: f64,
    pub(crate) cached_input: Option<f64>,
}

/// `[[jwt]]`: one trusted token issuer.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawJwt {
    pub(crate) issuer: Spanned<String>,
    pub(crate) audiences: Spanned<Vec<String>>,
    pub(crate) algorithms: Option<Spanned<Vec<String>>>,
    pub(crate) jwks_file: Option<Spanned<String>>,
    pub(crate) jwks_url: Option<Spanned<String>>,
    pub(crate) leeway: Option<Spanned<String>>,
    pub(crate) user_claim: Option<String>,
    pub(crate) team_claim: Option<String>,
    pub(crate) department_claim: Option<String>,
    pub(crate) groups_claim: Option<String>,
    pub(crate) tier_claim: Option<String>,
    #[serde(default)]
    pub(crate) admin_groups: Vec<String>,
}

/// `[ldap]`: directory logins over `Authorization: Basic`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLdap {
    pub(crate) url: Spanned<String>,
    #[serde(default)]
    pub(crate) starttls: bool,
    pub(crate) bind_dn: Option<String>,
    pub(crate) bind_password: Option<Spanned<String>>,
    pub(crate) user_dn_template: Option<String>,
    pub(crate) user_base: Option<String>,
    pub(crate) user_filter: Option<String>,
    pub(crate) group_base: Option<String>,
    pub(crate) group_filter: Option<String>,
    pub(crate) group_name_attribute: Option<String>,
    pub(crate) department_attribute: Option<String>,
    pub(crate) team_attribute: Option<String>,
    pub(crate) tier_attribute: Option<String>,
    #[serde(default)]
    pub(crate) admin_groups: Vec<String>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) cache_ttl: Option<Spanned<String>>,
}

/// `[routing]`: circuit breakers shared by every target.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRouting {
    pub(crate) breaker_failures: Option<Spanned<u64>>,
    pub(crate) breaker_failure_rate: Option<Spanned<f64>>,
    pub(crate) breaker_min_requests: Option<Spanned<u64>>,
    pub(crate) breaker_window: Option<Spanned<String>>,
    pub(crate) breaker_open_for: Option<Spanned<String>>,
    pub(crate) breaker_max_open_for: Option<Spanned<String>>,
}

/// `[server]`: listeners and HTTP limits.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawServer {
    pub(crate) listen: Option<Spanned<String>>,
    pub(crate) admin_listen: Option<Spanned<String>>,
    pub(crate) admin_hosts: Option<Vec<Spanned<String>>>,
    pub(crate) max_body_bytes: Option<Spanned<u64>>,
    pub(crate) max_header_bytes: Option<Spanned<u64>>,
    pub(crate) max_headers: Option<Spanned<u64>>,
    pub(crate) max_json_depth: Option<Spanned<u64>>,
    pub(crate) max_connections: Option<Spanned<u64>>,
    pub(crate) worker_threads: Option<Spanned<u64>>,
    pub(crate) header_read_timeout: Option<Spanned<String>>,
    pub(crate) body_read_timeout: Option<Spanned<String>>,
    pub(crate) drain_timeout: Option<Spanned<String>>,
    pub(crate) owned_by: Option<String>,
}

/// `[log]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLog {
    pub(crate) level: Option<Spanned<String>>,
    pub(crate) format: Option<Spanned<String>>,
}

/// `[admin]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAdmin {
    pub(crate) key_hash: Option<Spanned<String>>,
}

/// `[audit]`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawAudit {
    pub(crate) sink: Option<Spanned<String>>,
    pub(crate) path: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) record_prompts: bool,
    pub(crate) verified: Option<RawVerified>,
    pub(crate) splunk: Option<RawSplunk>,
    pub(crate) syslog: Option<RawSyslog>,
    pub(crate) otlp: Option<RawOtlp>,
}

/// `[audit.<sink>.delivery]`: queue, batching and spool of a remote sink.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawDelivery {
    pub(crate) queue: Option<Spanned<u64>>,
    pub(crate) batch: Option<Spanned<u64>>,
    pub(crate) linger: Option<Spanned<String>>,
    pub(crate) spool_dir: Option<Spanned<String>>,
    pub(crate) spool_max_bytes: Option<Spanned<u64>>,
}

/// `[audit.splunk]`: Splunk HTTP Event Collector.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSplunk {
    pub(crate) url: Spanned<String>,
    pub(crate) token: Spanned<String>,
    pub(crate) index: Option<String>,
    pub(crate) source: Option<String>,
    pub(crate) sourcetype: Option<String>,
    pub(crate) host: Option<String>,
    #[serde(default)]
    pub(crate) ack: bool,
    pub(crate) ack_timeout: Option<Spanned<String>>,
    pub(crate) timeout: Option<Spanned<String>>,
    pub(crate) ca_file: Option<Spanned<String>>,
    #[serde(default)]
    pub(crate) delivery: RawDelivery,
}

/// `[audit.syslog]`: RFC 5424 over UDP, TCP or TLS.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawSyslog {
    pub(crate) address: Spanned<String>,
    pub(crate) transport: Option<Spanned<String>>,
    pub(crate) format: Option<Spanned<String>>,
    pub(crate) facility: Option<Spanned<String>>,
    pub(crate) app_name: Option<String>,
    pub(crate) hostname: Option<String>,
    pub(crate) ca_file: Option<Spanned<String>>,
    pub(crate) server_name: Option<String>,
    #[serde(default)]
    pub(crate) delivery: RawDelivery,
}

/// `[audit.otlp]`: OpenTelemetry traces over OTLP/HTTP.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOtlp {
    pub(crate) endpoint: Spanned<String>,
    #[serde(default)]
    pub(crate) headers: std::collections::BTreeMap<String, Spanned<String>>,
    pub(crate) service_name: Option<String>,
    pub(crate) ca_file: Option<Spanned<String>>,
    pub(crate) metrics: Option<bool>,
    #[serde(default)]
    pub(crate) delivery: RawDelivery,
}

/// `[audit.verified]`: the tamper-evident stream.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVerified {
    pub(crate) dir: Spanned<String>,
    pub(crate) hmac_key: Spanned<String>,
    pub(crate) signing_key: Option<Spanned<String>>,
    pub(crate) fsync: Option<Spanned<String>>,
    pub(crate) fsync_every: Option<Spanned<u64>>,
    pub(crate) fsync_interval: Option<Spanned<String>>,
    pub(crate) on_failure: Option<Spanned<String>>,
    pub(crate) max_segment_bytes: Option<Spanned<u64>>,
    pub(crate) max_segment_age: Option<Spanned<String>>,
    pub(crate) checkpoint_every: Option<Spanned<u64>>,
    pub(crate) retention: Option<Spanned<String>>,
}

/// `[[keys]]`: a virtual key, by hash.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawKey {
    pub(crate) id: Spanned<String>,
    pub(crate) hash: Spanned<String>,
    pub(crate) user: Option<String>,
    pub(crate) team: Option<String>,
    pub(crate) department: Option<String>,
    #[serde(default)]
    pub(crate) groups: Vec<String>,
    pub(crate) tier: Option<String>,
    #[serde(default)]
    pub(crate) tags: std::collections::BTreeMap<String, String>,
    pub(crate) models: Option<Spanned<Vec<String>>>,
    #[serde(default)]
    pub(crate) admin: bool,
    pub(crate) limits: Option<RawLimitSet>,
}

/// `[[providers]]`: one upstream. Which fields apply depends on `type`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProvider {
    pub(crate) name: Spanned<String>,
    #[serde(rename = "type")]
    pub(crate) kind: Spanned<String>,
    // openai, azure
    pub(crate) base_url: Option<Spanned<String>>,
    pub(crate) api_version: Option<Spanned<String>>,
    pub(crate) proxy: Option<Spanned<String>>,
    pub(crate) proxy_credentials: Option<Spanned<String>>,
    // bedrock
    pub(crate) region: Option<Spanned<String>>,
    pub(crate) access_key_id: Option<Spanned<String>>,
    pub(crate) secret_access_key: Option<Spanned<String>>,
    pub(crate) session_token: Option<Spanned<String>>,
    pub(crate) ca_file: Option<Spanned<String>>,
    pub(crate) key_header: Option<Spanned<String>>,
    pub(crate) api_key: Option<Spanned<String>>,
    pub(crate) connect_timeout: Option<Spanned<String>>,
    pub(crate) first_byte_timeout: Option<Spanned<String>>,
    pub(crate) idle_timeout: Option<Spanned<String>>,
    pub(crate) total_timeout: Option<Spanned<String>>,
    pub(crate) max_response_bytes: Option<Spanned<u64>>,
    // mock
    pub(crate) behavior: Option<Spanned<String>>,
    pub(crate) reply: Option<Spanned<String>>,
    pub(crate) latency: Option<Spanned<String>>,
    pub(crate) chunk_delay: Option<Spanned<String>>,
    pub(crate) stream_chunks: Option<Spanned<u64>>,
    pub(crate) stream_chunk_chars: Option<Spanned<u64>>,
    pub(crate) embedding_dimension: Option<Spanned<u64>>,
}

/// `[[models]]`: a virtual model and its targets (`provider/upstream-model`), in failover order.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawModel {
    pub(crate) name: Spanned<String>,
    pub(crate) kind: Option<Spanned<String>>,
    pub(crate) targets: Spanned<Vec<Spanned<String>>>,
    pub(crate) strategy: Option<Spanned<String>>,
    pub(crate) weights: Option<Spanned<Vec<u64>>>,
    pub(crate) max_attempts: Option<Spanned<u64>>,
    pub(crate) retry_backoff: Option<Spanned<String>>,
    pub(crate) max_retry_after: Option<Spanned<String>>,
    pub(crate) tokenizer: Option<Spanned<String>>,
}
