//! Validation of the audit sinks beyond JSON lines: `[audit.verified]` (the hash-chained
//! stream) and the remote sinks `[audit.splunk]`, `[audit.syslog]`, `[audit.otlp]`.

use std::time::Duration;

use secrecy::ExposeSecret as _;
use smartflow_policy::audit::verified::{FsyncPolicy, OnFailure, VerifiedConfig};

use super::governance::relative_to;
use std::sync::Arc;

use smartflow_policy::audit::delivery::DeliveryConfig;
use smartflow_policy::audit::splunk::{SplunkConfig, SplunkHec};
use smartflow_policy::audit::syslog::{Facility, Syslog, SyslogConfig, SyslogFormat, SyslogTransport};

use smartflow_policy::audit::otlp::{OtlpConfig, OtlpTraces};

use super::raw::{RawDelivery, RawOtlp, RawSplunk, RawSyslog, RawVerified};
use super::validate::Ctx;
use super::{ConfigError, OtlpSettings, VerifiedSettings, secret};

/// Decodes key material: 64+ hex digits are hex, anything else is taken as raw bytes.
pub fn key_bytes(text: &str) -> Vec<u8> {
    let t = text.trim();
    if t.len() >= 64 && t.len().is_multiple_of(2) && t.bytes().all(|b| b.is_ascii_hexdigit()) {
        hex::decode(t).unwrap_or_default()
    } else {
        t.as_bytes().to_vec()
    }
}

/// `[audit.verified]`.
pub(super) fn verified(c: &Ctx<'_>, raw: Option<&RawVerified>) -> Result<Option<VerifiedSettings>, ConfigError> {
    let Some(v) = raw else { return Ok(None) };
    let key = "audit.verified";
    let hmac = secret::resolve(c.path, v.hmac_key.get_ref())
        .or_else(|e| c.err(v.hmac_key.span(), &format!("{key}.hmac_key"), e))?;
    let hmac_key = key_bytes(hmac.expose_secret());
    if hmac_key.len() < 32 {
        return c.err(
            v.hmac_key.span(),
            &format!("{key}.hmac_key"),
            "needs at least 32 bytes (64 hex digits); see `smartflowd audit keygen`",
        );
    }
    let signing_seed = match &v.signing_key {
        None => None,
        Some(s) => {
            let seed =
                secret::resolve(c.path, s.get_ref()).or_else(|e| c.err(s.span(), &format!("{key}.signing_key"), e))?;
            let bytes: [u8; 32] =
                hex::decode(seed.expose_secret().trim()).ok().and_then(|b| b.try_into().ok()).map_or_else(
                    || c.err(s.span(), &format!("{key}.signing_key"), "must be a 32-byte Ed25519 seed in hex"),
                    Ok,
                )?;
            Some(bytes)
        }
    };
    let mut config = VerifiedConfig::new(relative_to(c.path, v.dir.get_ref()), hmac_key);
    config.signing_seed = signing_seed;
    config.fsync = match v.fsync.as_ref().map(|f| f.get_ref().as_str()) {
        None | Some("every_n") => {
            FsyncPolicy::EveryN(c.number(&v.fsync_every, &format!("{key}.fsync_every"), 100, 1, 1_000_000)? as u32)
        }
        Some("every_record") => FsyncPolicy::EveryRecord,
        Some("interval") => FsyncPolicy::Interval(c.duration(
            &v.fsync_interval,
            &format!("{key}.fsync_interval"),
            Duration::from_secs(1),
        )?),
        Some(_) => {
            let span = v.fsync.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.fsync"), "must be \"every_record\", \"every_n\" or \"interval\"");
        }
    };
    config.on_failure = match v.on_failure.as_ref().map(|f| f.get_ref().as_str()) {
        None | Some("reject") => OnFailure::Reject,
        Some("degrade") => OnFailure::Degrade,
        Some(_) => {
            let span = v.on_failure.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.on_failure"), "must be \"reject\" or \"degrade\"");
        }
    };
    config.max_segment_bytes =
        c.number(&v.max_segment_bytes, &format!("{key}.max_segment_bytes"), 64 << 20, 4096, 1 << 40)? as u64;
    config.max_segment_age =
        c.duration(&v.max_segment_age, &format!("{key}.max_segment_age"), Duration::from_secs(3600))?;
    config.checkpoint_every =
        c.number(&v.checkpoint_every, &format!("{key}.checkpoint_every"), 1_000, 1, 10_000_000)? as u64;
    config.retention = c.opt_duration(&v.retention, &format!("{key}.retention"))?;
    Ok(Some(VerifiedSettings { config }))
}

/// `[audit.<sink>.delivery]`.
pub(super) fn delivery(c: &Ctx<'_>, raw: &RawDelivery, key: &str) -> Result<DeliveryConfig, ConfigError> {
    let d = DeliveryConfig::default();
    Ok(DeliveryConfig {
        queue: c.number(&raw.queue, &format!("{key}.delivery.queue"), d.queue as u64, 1, 10_000_000)?,
        batch: c.number(&raw.batch, &format!("{key}.delivery.batch"), d.batch as u64, 1, 10_000)?,
        linger: c.duration(&raw.linger, &format!("{key}.delivery.linger"), d.linger)?,
        spool_dir: raw.spool_dir.as_ref().map(|p| relative_to(c.path, p.get_ref())),
        spool_max_bytes: c.number(
            &raw.spool_max_bytes,
            &format!("{key}.delivery.spool_max_bytes"),
            d.spool_max_bytes,
            4096,
            1 << 40,
        )? as u64,
        ..d
    })
}

fn ca(c: &Ctx<'_>, file: &Option<toml::Spanned<String>>, key: &str) -> Result<Arc<rustls::RootCertStore>, ConfigError> {
    match file {
        Some(f) => crate::tls::load_ca_file(&relative_to(c.path, f.get_ref())).or_else(|e| c.err(f.span(), key, e)),
        None => Ok(crate::tls::system_roots()),
    }
}

/// `[audit.splunk]`.
pub(super) fn splunk(
    c: &Ctx<'_>,
    raw: Option<&RawSplunk>,
) -> Result<Option<(SplunkConfig, DeliveryConfig)>, ConfigError> {
    let Some(s) = raw else { return Ok(None) };
    let key = "audit.splunk";
    let token =
        secret::resolve(c.path, s.token.get_ref()).or_else(|e| c.err(s.token.span(), &format!("{key}.token"), e))?;
    let mut config = SplunkConfig::new(s.url.get_ref().clone(), token);
    config.index.clone_from(&s.index);
    if let Some(v) = &s.source {
        config.source.clone_from(v);
    }
    if let Some(v) = &s.sourcetype {
        config.sourcetype.clone_from(v);
    }
    if let Some(v) = &s.host {
        config.host.clone_from(v);
    }
    config.ack = s.ack;
    config.ack_timeout = c.duration(&s.ack_timeout, &format!("{key}.ack_timeout"), config.ack_timeout)?;
    config.timeout = c.duration(&s.timeout, &format!("{key}.timeout"), config.timeout)?;
    if s.url.get_ref().starts_with("https:") {
        config.root_certificates = ca(c, &s.ca_file, &format!("{key}.ca_file"))?;
    }
    SplunkHec::new(config.clone()).or_else(|e| c.err(s.url.span(), key, e))?;
    Ok(Some((config, delivery(c, &s.delivery, key)?)))
}

/// `[audit.syslog]`.
pub(super) fn syslog(
    c: &Ctx<'_>,
    raw: Option<&RawSyslog>,
) -> Result<Option<(SyslogConfig, DeliveryConfig)>, ConfigError> {
    let Some(s) = raw else { return Ok(None) };
    let key = "audit.syslog";
    let transport = match s.transport.as_ref().map(|t| t.get_ref().as_str()) {
        None | Some("udp") => SyslogTransport::Udp,
        Some("tcp") => SyslogTransport::Tcp,
        Some("tls") => SyslogTransport::Tls {
            root_certificates: ca(c, &s.ca_file, &format!("{key}.ca_file"))?,
            server_name: s
                .server_name
                .clone()
                .or_else(|| s.address.get_ref().rsplit_once(':').map(|(h, _)| h.trim_matches(['[', ']']).to_owned()))
                .unwrap_or_default(),
        },
        Some(_) => {
            let span = s.transport.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.transport"), "must be \"udp\", \"tcp\" or \"tls\"");
        }
    };
    let mut config = SyslogConfig::new(s.address.get_ref().clone(), transport);
    config.format = match s.format.as_ref().map(|f| f.get_ref().as_str()) {
        None | Some("rfc5424") => SyslogFormat::Rfc5424,
        Some("cef") => SyslogFormat::Cef,
        Some(_) => {
            let span = s.format.as_ref().map_or(0..0, toml::Spanned::span);
            return c.err(span, &format!("{key}.format"), "must be \"rfc5424\" or \"cef\"");
        }
    };
    if let Some(f) = &s.facility {
        config.facility = Facility::from_name(f.get_ref()).map_or_else(
            || c.err(f.span(), &format!("{key}.facility"), "local0..local7, auth, authpriv, daemon or user"),
            Ok,
        )?;
    }
    if let Some(a) = &s.app_name {
        config.app_name.clone_from(a);
    }
    if let Some(h) = &s.hostname {
        config.hostname.clone_from(h);
    }
    Syslog::new(config.clone()).or_else(|e| c.err(s.address.span(), key, e))?;
    Ok(Some((config, delivery(c, &s.delivery, key)?)))
}

/// `[audit.otlp]`: traces (and GenAI metrics unless `metrics = false`).
pub(super) fn otlp(c: &Ctx<'_>, raw: Option<&RawOtlp>) -> Result<Option<OtlpSettings>, ConfigError> {
    let Some(o) = raw else { return Ok(None) };
    let key = "audit.otlp";
    let mut config = OtlpConfig::new(o.endpoint.get_ref().clone());
    for (name, value) in &o.headers {
        let secret = secret::resolve(c.path, value.get_ref())
            .or_else(|e| c.err(value.span(), &format!("{key}.headers.{name}"), e))?;
        config.headers.push((name.clone(), secret));
    }
    if let Some(n) = &o.service_name {
        config.service_name.clone_from(n);
    }
    if o.endpoint.get_ref().starts_with("https:") {
        config.root_certificates = ca(c, &o.ca_file, &format!("{key}.ca_file"))?;
    }
    OtlpTraces::new(&config).or_else(|e| c.err(o.endpoint.span(), key, e))?;
    Ok(Some(OtlpSettings { config, metrics: o.metrics.unwrap_or(true), delivery: delivery(c, &o.delivery, key)? }))
}
