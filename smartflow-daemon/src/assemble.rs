//! Turns a validated [`Config`] into a [`Gateway`] through the library's public builder — the
//! daemon has no flow of its own.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context as _;
use smartflow_core::providers::{
    AnthropicConfig, AnthropicProvider, BedrockConfig, BedrockProvider, GeminiConfig, GeminiProvider, HttpConfig,
    MockProvider, OpenAiConfig, OpenAiProvider,
};
use smartflow_core::routing::{ModelTable, VirtualModel};
use smartflow_core::{Audit, Gateway, GatewayOptions, Provider, Target};
use smartflow_policy::audit::{JsonLinesAudit, JsonLinesTarget};
use smartflow_policy::governance::spec::Limit;
use smartflow_policy::governance::{Governor, GovernorConfig, KeyLimits};
use smartflow_policy::identity::{Identity, JwtAuthenticator, KeyStore, LdapAuthenticator, StaticKeys};

use smartflow_core::{Enforcement, GatewayBuilder};
use smartflow_policy::compliance::barrier::{InformationBarriers, Segment};
use smartflow_policy::compliance::pii::{Detector, DetectorBuilder, recognizers};
use smartflow_policy::compliance::redact::Redactor;
use smartflow_policy::compliance::{DenyList, PiiPolicy};

use crate::config::{Actions, AuditSink, Config, Dialect, Guardrail, ProviderConfig, ProviderKind};
use crate::stores::Stores;

/// Per-key limits: configuration keys first, then stored keys.
struct KeyLimitSource {
    fixed: HashMap<String, Arc<[Limit]>>,
    store: KeyStore,
}

impl KeyLimits for KeyLimitSource {
    fn limits(&self, key_id: &str) -> Option<Arc<[Limit]>> {
        self.fixed.get(key_id).cloned().or_else(|| self.store.limits(key_id).filter(|l| !l.is_empty()))
    }
}

/// Builds the gateway for `config`. `metrics` and `stores` are shared across reloads so counters
/// survive them.
pub async fn gateway(config: &Config, metrics: Arc<dyn Audit>, stores: &Stores) -> anyhow::Result<Gateway> {
    let mut providers: HashMap<&str, Arc<dyn Provider>> = HashMap::new();
    let roots = roots_for(&config.providers);
    for p in &config.providers {
        let provider = provider(p, &roots)?;
        providers.insert(p.name.as_str(), provider);
    }

    let mut table = ModelTable::with_breaker(config.server.owned_by.clone(), config.breaker.clone());
    for m in &config.models {
        let mut targets = Vec::with_capacity(m.targets.len());
        for (provider, model) in &m.targets {
            let p = providers
                .get(provider.as_str())
                .with_context(|| format!("model {}: unknown provider {provider}", m.name))?;
            targets.push(Arc::new(Target::new(p.clone(), model.clone())));
        }
        table
            .insert(
                VirtualModel::new(m.name.clone(), m.kind, targets)
                    .strategy(m.strategy)
                    .weights(m.weights.clone())
                    .retry(m.retry.clone()),
            )
            .map_err(|e| anyhow::anyhow!("{}", e.message()))?;
    }

    let mut identity = Identity {
        static_keys: StaticKeys::new(config.keys.iter().cloned()),
        store: Some(stores.keys.clone()),
        jwt: Vec::new(),
        ldap: None,
        tiers: config.governance.tiers.clone(),
    };
    for j in &config.identity.jwt {
        identity.jwt.push(JwtAuthenticator::new(j.clone()).map_err(|e| anyhow::anyhow!("jwt {}: {e}", j.issuer))?);
    }
    if let Some(l) = &config.identity.ldap {
        identity.ldap = Some(LdapAuthenticator::new(l.clone()).map_err(|e| anyhow::anyhow!("ldap: {e}"))?);
    }
    let g = &config.governance;
    let governor = Governor::new(
        GovernorConfig {
            rules: g.rules.clone(),
            prices: g.prices.clone(),
            default_max_output: g.default_max_output,
            counters: g.tokenizers.clone(),
        },
        stores.ledger.clone(),
        stores.usage.clone(),
    )
    .with_key_limits(Arc::new(KeyLimitSource { fixed: g.key_limits.clone(), store: stores.keys.clone() }));

    let mut builder = Gateway::builder();
    if let Some(v) = &stores.verified {
        // First: a fail-closed stream refuses before any other sink records.
        builder = builder.shared_audit(v.clone());
    }
    for sink in &stores.remote {
        builder = builder.shared_audit(sink.clone());
    }
    let mut builder = builder
        .authenticator(identity)
        .router(table)
        .policy(governor)
        .shared_audit(metrics)
        .options(GatewayOptions { record_prompts: config.audit.record_prompts });
    for rule in &config.guardrails.rules {
        builder = guardrail(builder, rule, config.guardrails.hash_key.as_deref().unwrap_or(&stores.hash_key))?;
    }
    // After PII detection, as DESIGN.md orders pre-flight: PII, then barriers. With segments
    // but no barriers the policy only labels requests with their segments (cache scope).
    if !config.barriers.segments.is_empty() {
        let mut segments = Vec::new();
        for s in &config.barriers.segments {
            segments.push(
                Segment::new(s.name.clone(), s.departments.clone(), s.groups.clone(), &s.patterns, &s.keywords)
                    .with_context(|| format!("barrier segment {}", s.name))?
                    .with_tools(s.tools.iter().cloned()),
            );
        }
        builder = builder.policy(InformationBarriers::new(segments, config.barriers.barriers.clone()));
    }
    if let Some(cache) = &stores.cache {
        builder = builder.shared_cache(cache.clone());
    }
    match &config.audit.sink {
        AuditSink::None => {}
        AuditSink::Stdout => builder = builder.audit(JsonLinesAudit::open(JsonLinesTarget::Stdout).await?),
        AuditSink::File(path) => {
            let sink = JsonLinesAudit::open(JsonLinesTarget::File(path.clone()))
                .await
                .with_context(|| format!("cannot open the audit log {}", path.display()))?;
            builder = builder.audit(sink);
        }
    }
    Ok(builder.build()?)
}

/// Builds the provider `p` describes (`roots`: the trust store for HTTPS upstreams without
/// their own CA).
pub(crate) fn provider(p: &ProviderConfig, roots: &Arc<rustls::RootCertStore>) -> anyhow::Result<Arc<dyn Provider>> {
    Ok(match &p.kind {
        ProviderKind::Mock(mock) => Arc::new(MockProvider::new(p.name.clone(), mock.clone())),
        ProviderKind::OpenAi(s) => {
            let fail = |e: smartflow_core::Error| anyhow::anyhow!("provider {}: {}", p.name, e.message());
            let mut http = HttpConfig::new(&s.base_url).map_err(fail)?;
            http.root_certificates = s.ca.clone().unwrap_or_else(|| roots.clone());
            http.proxy.clone_from(&s.proxy);
            http.proxy_credentials.clone_from(&s.proxy_credentials);
            if let Some(d) = s.connect_timeout {
                http.connect_timeout = d;
            }
            if let Some(d) = s.first_byte_timeout {
                http.first_byte_timeout = d;
            }
            if let Some(d) = s.idle_timeout {
                http.idle_timeout = d;
            }
            if let Some(d) = s.total_timeout {
                http.total_timeout = d;
            }
            if let Some(n) = s.max_response_bytes {
                http.max_response_bytes = n;
            }
            match &s.dialect {
                Dialect::Bedrock { region, credentials } => {
                    let mut bc = BedrockConfig::new(region, credentials.clone()).map_err(fail)?;
                    bc.http = http;
                    Arc::new(BedrockProvider::new(p.name.clone(), bc).map_err(fail)?)
                }
                Dialect::Gemini => {
                    let mut gc = GeminiConfig::new(&s.base_url).map_err(fail)?;
                    gc.http = http;
                    gc.api_key.clone_from(&s.api_key);
                    Arc::new(GeminiProvider::new(p.name.clone(), gc).map_err(fail)?)
                }
                Dialect::Anthropic => {
                    let mut ac = AnthropicConfig::new(&s.base_url).map_err(fail)?;
                    ac.http = http;
                    ac.api_key.clone_from(&s.api_key);
                    Arc::new(AnthropicProvider::new(p.name.clone(), ac).map_err(fail)?)
                }
                dialect => {
                    let mut oc = match dialect {
                        Dialect::Azure(version) => OpenAiConfig::azure(&s.base_url, version).map_err(fail)?,
                        _ => OpenAiConfig::new(&s.base_url).map_err(fail)?,
                    };
                    oc.http = http;
                    oc.api_key.clone_from(&s.api_key);
                    if let Some(h) = &s.key_header {
                        oc.key_header = Some(h.clone());
                    }
                    Arc::new(OpenAiProvider::new(p.name.clone(), oc).map_err(fail)?)
                }
            }
        }
    })
}

/// The trust store for HTTPS upstreams: the system roots, loaded only when some provider needs them.
pub(crate) fn roots_for(providers: &[ProviderConfig]) -> Arc<rustls::RootCertStore> {
    let needs_tls = providers
        .iter()
        .any(|p| matches!(&p.kind, ProviderKind::OpenAi(s) if s.base_url.starts_with("https:") && s.ca.is_none()));
    if needs_tls { crate::tls::system_roots() } else { Arc::new(rustls::RootCertStore::empty()) }
}

/// Adds one `[[guardrails]]` rule to the policy stack.
fn guardrail(builder: GatewayBuilder, rule: &Guardrail, hash_key: &[u8]) -> anyhow::Result<GatewayBuilder> {
    Ok(match rule {
        Guardrail::Pii { id, input, output, pre_tool, post_tool, min_score, enforcement, subjects } => {
            let detector = recognizers::all()
                .into_iter()
                .fold(Detector::builder(), DetectorBuilder::recognizer)
                .min_score(*min_score)
                .build()
                .with_context(|| format!("guardrail {id}"))?;
            let redactor = |(map, default): &Actions| Redactor::new(map.clone(), *default, hash_key);
            let mut p = PiiPolicy::new(
                id.clone(),
                Arc::new(detector),
                input.as_ref().map(redactor),
                output.as_ref().map(redactor),
            )
            .with_tool_actions(pre_tool.as_ref().map(redactor), post_tool.as_ref().map(redactor))
            .for_subjects(subjects.clone());
            if *enforcement == Enforcement::Audit {
                p = p.audit_only();
            }
            builder.policy(p)
        }
        Guardrail::DenyList { id, patterns, input, output, pre_tool, post_tool, enforcement, subjects } => {
            let mut p = DenyList::new(id.clone(), patterns, *input, *output)
                .with_context(|| format!("guardrail {id}"))?
                .on_tools(*pre_tool, *post_tool)
                .for_subjects(subjects.clone());
            if *enforcement == Enforcement::Audit {
                p = p.audit_only();
            }
            builder.policy(p)
        }
        Guardrail::PromptInjection { id, threshold, input, post_tool, enforcement, subjects } => {
            let mut p = smartflow_policy::compliance::PromptInjection::new(id.clone(), *threshold)
                .with_context(|| format!("guardrail {id}"))?
                .on_hooks(*input, *post_tool)
                .for_subjects(subjects.clone());
            if *enforcement == Enforcement::Audit {
                p = p.audit_only();
            }
            builder.policy(p)
        }
        Guardrail::SizeLimit {
            id,
            max_prompt_chars,
            max_messages,
            max_output_chars,
            max_tool_argument_chars,
            max_tool_result_chars,
            enforcement,
            subjects,
        } => {
            let mut p = smartflow_policy::compliance::SizeLimit::new(
                id.clone(),
                *max_prompt_chars,
                *max_messages,
                *max_output_chars,
            )
            .with_tool_limits(*max_tool_argument_chars, *max_tool_result_chars)
            .for_subjects(subjects.clone());
            if *enforcement == Enforcement::Audit {
                p = p.audit_only();
            }
            builder.policy(p)
        }
        Guardrail::JsonSchema { id, schema, enforcement, subjects } => {
            let mut p = smartflow_policy::compliance::JsonSchema::new(id.clone(), schema.clone())
                .with_context(|| format!("guardrail {id}"))?
                .for_subjects(subjects.clone());
            if *enforcement == Enforcement::Audit {
                p = p.audit_only();
            }
            builder.policy(p)
        }
    })
}
