//! Validation of the governance and identity sections: `[storage]`, `[governance]`, `[tiers]`,
//! `[[limits]]`, `[prices]`, key limits, model tokenizers, `[[jwt]]` and `[ldap]`.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::str::FromStr as _;
use std::sync::Arc;

use smartflow_core::{Enforcement, ModelKind};
use smartflow_policy::governance::prices::{Price, PriceTable};
use smartflow_policy::governance::rules::{LimitRule, ScopeAttr, Subjects};
use smartflow_policy::governance::spec::{Limit, Metric, NanoUsd, Period};
use smartflow_policy::governance::tokens::{Encoding, TokenCounter};
use smartflow_policy::identity::jwt::SUPPORTED_ALGORITHMS;
use smartflow_policy::identity::{ClaimMapping, JwksSource, JwtConfig, LdapConfig, Tiers};
use toml::Spanned;

use super::raw::{RawConfig, RawLimitSet};
use super::validate::Ctx;
use super::{ConfigError, GovernanceConfig, IdentityConfig, ModelConfig, secret};

/// Resolves a path from the configuration relative to the file's directory.
pub(super) fn relative_to(config_path: &Path, value: &str) -> PathBuf {
    let p = PathBuf::from(value);
    if p.is_absolute() { p } else { config_path.parent().unwrap_or_else(|| Path::new(".")).join(p) }
}

/// `[storage] path`.
pub(super) fn storage(c: &Ctx<'_>, raw: &RawConfig) -> Result<Option<PathBuf>, ConfigError> {
    match &raw.storage.path {
        None => Ok(None),
        Some(p) if p.get_ref().trim().is_empty() => c.err(p.span(), "storage.path", "must not be empty"),
        Some(p) => Ok(Some(relative_to(c.path, p.get_ref()))),
    }
}

/// Limits from a limit set; `key` names the table in errors.
pub(super) fn limit_set(c: &Ctx<'_>, set: &RawLimitSet, key: &str) -> Result<Vec<Limit>, ConfigError> {
    let mut out = Vec::new();
    let rates = [
        (&set.requests_per_minute, Metric::Requests, Period::Minute, "requests_per_minute"),
        (&set.requests_per_hour, Metric::Requests, Period::Hour, "requests_per_hour"),
        (&set.requests_per_day, Metric::Requests, Period::Day, "requests_per_day"),
        (&set.tokens_per_minute, Metric::Tokens, Period::Minute, "tokens_per_minute"),
        (&set.tokens_per_hour, Metric::Tokens, Period::Hour, "tokens_per_hour"),
        (&set.tokens_per_day, Metric::Tokens, Period::Day, "tokens_per_day"),
    ];
    for (value, metric, period, field) in rates {
        if let Some(v) = value {
            if *v.get_ref() == 0 {
                return c.err(v.span(), &format!("{key}.{field}"), "must be at least 1");
            }
            out.push(Limit::rate(metric, period, *v.get_ref()));
        }
    }
    let quota_period = |p: &Option<Spanned<String>>, field: &str| -> Result<Period, ConfigError> {
        match p {
            None => Ok(Period::Month),
            Some(s) => match Period::parse(s.get_ref()) {
                Some(Period::Minute) | None => c.err(
                    s.span(),
                    &format!("{key}.{field}"),
                    "must be \"hour\", \"day\", \"week\", \"month\" or \"total\"",
                ),
                Some(p) => Ok(p),
            },
        }
    };
    match (&set.token_quota, &set.quota_period) {
        (Some(q), p) => {
            if *q.get_ref() == 0 {
                return c.err(q.span(), &format!("{key}.token_quota"), "must be at least 1");
            }
            out.push(Limit::quota(Metric::Tokens, quota_period(p, "quota_period")?, *q.get_ref()));
        }
        (None, Some(p)) => return c.err(p.span(), &format!("{key}.quota_period"), "needs token_quota"),
        (None, None) => {}
    }
    match (&set.budget_usd, &set.budget_period) {
        (Some(b), p) => {
            let Some(amount) = NanoUsd::from_usd(*b.get_ref()).filter(|n| n.0 > 0) else {
                return c.err(b.span(), &format!("{key}.budget_usd"), "must be a positive dollar amount");
            };
            out.push(Limit::budget(amount, quota_period(p, "budget_period")?));
        }
        (None, Some(p)) => return c.err(p.span(), &format!("{key}.budget_period"), "needs budget_usd"),
        (None, None) => {}
    }
    Ok(out)
}

/// Everything `[governance]`, `[tiers]`, `[[limits]]` and `[prices]` say, checked against the
/// models. `key_limits` are the limits of configuration keys, by key id.
pub(super) fn governance(
    c: &Ctx<'_>,
    raw: &RawConfig,
    models: &[ModelConfig],
    key_limits: HashMap<String, Arc<[Limit]>>,
) -> Result<GovernanceConfig, ConfigError> {
    let model_names: HashSet<&str> = models.iter().map(|m| m.name.as_str()).collect();
    let known = |list: &Spanned<Vec<String>>, key: &str| -> Result<BTreeSet<String>, ConfigError> {
        match list.get_ref().iter().find(|m| !model_names.contains(m.as_str())) {
            Some(unknown) => c.err(list.span(), key, format!("no model named `{unknown}` is configured")),
            None => Ok(list.get_ref().iter().cloned().collect()),
        }
    };

    let mut tiers = Tiers::new();
    for (name, tier) in &raw.tiers {
        tiers.insert(name.clone(), known(&tier.models, &format!("tiers.{name}.models"))?);
    }

    let mut prices = PriceTable::new();
    for (model, price) in &raw.prices {
        let key = format!("prices.{model}");
        if !model_names.contains(model.as_str()) {
            return c.err(price.span(), &key, format!("no model named `{model}` is configured"));
        }
        let p = price.get_ref();
        let parsed = Price::per_million(p.input, p.output, p.cached_input).or_else(|e| c.err(price.span(), &key, e))?;
        prices.insert(model.clone(), parsed);
    }

    let mut rules = Vec::new();
    let mut ids = HashSet::new();
    for (i, r) in raw.limits.iter().enumerate() {
        let key = format!("limits[{i}]");
        let id = r.id.get_ref();
        if id.is_empty() || id.contains('|') || id == "key" || !ids.insert(id.clone()) {
            return c.err(
                r.id.span(),
                &format!("{key}.id"),
                "rule ids must be unique, non-empty, not `key`, without '|'",
            );
        }
        let mut scope = Vec::new();
        for s in r.scope.iter().flat_map(|s| s.get_ref()) {
            match ScopeAttr::parse(s) {
                Some(a) if !scope.contains(&a) => scope.push(a),
                _ => {
                    return c.err(
                        r.scope.as_ref().map_or(r.id.span(), Spanned::span),
                        &format!("{key}.scope"),
                        "each of \"key\", \"user\", \"team\", \"department\", \"tier\", \"model\" at most once",
                    );
                }
            }
        }
        let enforcement = match r.enforcement.as_ref() {
            None => Enforcement::Enforce,
            Some(e) if e.get_ref() == "enforce" => Enforcement::Enforce,
            Some(e) if e.get_ref() == "audit" => Enforcement::Audit,
            Some(e) => return c.err(e.span(), &format!("{key}.enforcement"), "must be \"enforce\" or \"audit\""),
        };
        let limits = limit_set(c, &r.amounts(), &key)?;
        if limits.is_empty() {
            return c.err(r.id.span(), &key, "a rule needs at least one limit (requests_per_minute, budget_usd...)");
        }
        if let Some(unknown) = r.models.iter().find(|m| !model_names.contains(m.as_str())) {
            return c.err(r.id.span(), &format!("{key}.models"), format!("no model named `{unknown}` is configured"));
        }
        let set = |v: &Vec<String>| v.iter().cloned().collect::<BTreeSet<_>>();
        let subjects = Subjects {
            keys: set(&r.keys),
            users: set(&r.users),
            teams: set(&r.teams),
            departments: set(&r.departments),
            tiers: set(&r.tiers),
            models: set(&r.models),
            tools: BTreeSet::new(),
        };
        rules.push(LimitRule { id: id.clone(), scope, subjects, limits, enforcement });
    }

    // A budget over an unpriced model would never be charged: refuse that configuration.
    let budgets = rules.iter().flat_map(|r| &r.limits).chain(key_limits.values().flat_map(|l| l.iter()));
    if budgets.clone().any(|l| l.metric == Metric::Spend)
        && let Some(m) = models.iter().find(|m| m.kind == ModelKind::Chat && !prices.contains(&m.name))
    {
        return c.err(
            0..0,
            "prices",
            format!("budgets are configured but model `{}` has no [prices.\"{}\"] entry", m.name, m.name),
        );
    }

    let mut tokenizers = HashMap::new();
    for (m, raw_model) in models.iter().zip(&raw.models) {
        let Some(t) = &raw_model.tokenizer else { continue };
        let counter = match t.get_ref().as_str() {
            "o200k" => TokenCounter::Bpe(Encoding::O200k),
            "cl100k" => TokenCounter::Bpe(Encoding::Cl100k),
            "estimate" => TokenCounter::Estimate,
            path => TokenCounter::from_tokenizer_json(relative_to(c.path, path)).or_else(|e| {
                c.err(
                    t.span(),
                    &format!("models.{}.tokenizer", m.name),
                    format!("{e} (or \"o200k\", \"cl100k\", \"estimate\")"),
                )
            })?,
        };
        tokenizers.insert(m.name.clone(), counter);
    }

    let default_max_output = c.number(
        &raw.governance.default_max_output_tokens,
        "governance.default_max_output_tokens",
        1_024,
        1,
        1_000_000,
    )? as u64;
    Ok(GovernanceConfig { tiers, rules, prices, default_max_output, key_limits, tokenizers })
}

/// `[[jwt]]` and `[ldap]`.
pub(super) fn identity(c: &Ctx<'_>, raw: &RawConfig) -> Result<IdentityConfig, ConfigError> {
    let mut jwt = Vec::new();
    for (i, j) in raw.jwt.iter().enumerate() {
        let key = format!("jwt[{i}]");
        let source = match (&j.jwks_file, &j.jwks_url) {
            (Some(f), None) => JwksSource::File(relative_to(c.path, f.get_ref())),
            (None, Some(u)) => JwksSource::Url(
                http::Uri::from_str(u.get_ref())
                    .or_else(|_| c.err(u.span(), &format!("{key}.jwks_url"), "not a URL"))?,
            ),
            _ => return c.err(j.issuer.span(), &key, "give exactly one of jwks_file and jwks_url"),
        };
        let mut config = JwtConfig::new(j.issuer.get_ref().clone(), j.audiences.get_ref().clone(), source);
        if let Some(algs) = &j.algorithms {
            let mut chosen = Vec::new();
            for name in algs.get_ref() {
                match SUPPORTED_ALGORITHMS.iter().find(|a| format!("{a:?}") == *name) {
                    Some(a) => chosen.push(*a),
                    None => {
                        let names: Vec<String> = SUPPORTED_ALGORITHMS.iter().map(|a| format!("{a:?}")).collect();
                        return c.err(
                            algs.span(),
                            &format!("{key}.algorithms"),
                            format!("one of {}", names.join(", ")),
                        );
                    }
                }
            }
            config.algorithms = chosen;
        }
        if j.leeway.is_some() {
            config.leeway = c.duration(&j.leeway, &format!("{key}.leeway"), config.leeway)?;
        }
        config.claims = ClaimMapping {
            user: j.user_claim.clone().unwrap_or_else(|| config.claims.user.clone()),
            team: j.team_claim.clone(),
            department: j.department_claim.clone(),
            groups: j.groups_claim.clone(),
            tier: j.tier_claim.clone(),
            admin_groups: j.admin_groups.clone(),
            key_id_prefix: config.claims.key_id_prefix.clone(),
        };
        if matches!(config.jwks, JwksSource::Url(ref u) if u.scheme_str() == Some("https")) {
            config.root_certificates = crate::tls::system_roots();
        }
        // Constructing checks the settings (algorithm allow-list, audiences, leeway).
        smartflow_policy::identity::JwtAuthenticator::new(config.clone())
            .or_else(|e| c.err(j.issuer.span(), &key, e))?;
        jwt.push(config);
    }

    let ldap = match &raw.ldap {
        None => None,
        Some(l) => {
            let mut config = match (&l.user_dn_template, &l.bind_dn) {
                (Some(t), None) => LdapConfig::direct_bind(l.url.get_ref().clone(), t.clone()),
                (None, Some(dn)) => LdapConfig::search_then_bind(
                    l.url.get_ref().clone(),
                    dn.clone(),
                    l.user_base.clone().unwrap_or_default(),
                ),
                _ => return c.err(l.url.span(), "ldap", "give exactly one of user_dn_template and bind_dn"),
            };
            config.starttls = l.starttls;
            if let Some(p) = &l.bind_password {
                config.bind_password =
                    Some(secret::resolve(c.path, p.get_ref()).or_else(|e| c.err(p.span(), "ldap.bind_password", e))?);
            }
            if let Some(f) = &l.user_filter {
                config.user_filter.clone_from(f);
            }
            config.group_base.clone_from(&l.group_base);
            if let Some(f) = &l.group_filter {
                config.group_filter.clone_from(f);
            }
            if let Some(a) = &l.group_name_attribute {
                config.group_name_attribute.clone_from(a);
            }
            config.department_attribute.clone_from(&l.department_attribute);
            config.team_attribute.clone_from(&l.team_attribute);
            config.tier_attribute.clone_from(&l.tier_attribute);
            config.admin_groups.clone_from(&l.admin_groups);
            config.timeout = c.duration(&l.timeout, "ldap.timeout", config.timeout)?;
            if let Some(ttl) = &l.cache_ttl {
                config.cache_ttl = if ttl.get_ref() == "0s" || ttl.get_ref() == "0" {
                    std::time::Duration::ZERO
                } else {
                    c.duration(&l.cache_ttl, "ldap.cache_ttl", config.cache_ttl)?
                };
            }
            config.validate().or_else(|e| c.err(l.url.span(), "ldap", e))?;
            Some(config)
        }
    };
    Ok(IdentityConfig { jwt, ldap })
}
