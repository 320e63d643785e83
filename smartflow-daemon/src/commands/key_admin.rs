//! `smartflowd keys create|list|revoke|rotate`: manage stored virtual keys through the running
//! daemon's admin API (the daemon holds the store; the CLI never opens it). The admin address
//! comes from the configuration file (or `--admin-url`), the admin credential from the
//! `SMARTFLOW_ADMIN_KEY` environment variable — never from the command line.

use std::io::Write as _;
use std::path::Path;

use anyhow::Context as _;
use bytes::Bytes;
use http::{Method, Request, header};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use serde_json::{Value, json};

use crate::config::{Config, Overrides};

/// The environment variable holding the admin credential.
pub const ADMIN_KEY_ENV: &str = crate::env::ADMIN_KEY;

/// Where and how to reach the admin API.
#[derive(Debug, Clone)]
pub struct Target {
    base: String,
    key: String,
}

impl Target {
    /// From `--admin-url`, else the configuration's `server.admin_listen`.
    pub fn resolve(config: &Path, admin_url: Option<String>) -> anyhow::Result<Self> {
        let base = match admin_url {
            Some(u) => u.trim_end_matches('/').to_owned(),
            None => {
                let c = Config::load(config, &Overrides::default())?;
                format!("http://{}", c.server.admin_listen)
            }
        };
        let key = crate::env::var(ADMIN_KEY_ENV)
            .filter(|k| !k.is_empty())
            .with_context(|| format!("set {ADMIN_KEY_ENV} to an admin key"))?;
        Ok(Self { base, key })
    }
}

/// What to create a key with (the admin API's `KeySpec`).
#[derive(Debug, Clone, Default)]
pub struct CreateArgs {
    /// A label.
    pub name: Option<String>,
    /// End user.
    pub user: Option<String>,
    /// Team.
    pub team: Option<String>,
    /// Department.
    pub department: Option<String>,
    /// Tier.
    pub tier: Option<String>,
    /// Groups.
    pub groups: Vec<String>,
    /// Allowed models (empty: all, or the tier's).
    pub models: Vec<String>,
    /// Admin rights.
    pub admin: bool,
    /// Requests per minute.
    pub requests_per_minute: Option<u64>,
    /// Tokens per minute.
    pub tokens_per_minute: Option<u64>,
    /// Monthly budget in dollars.
    pub budget_usd: Option<f64>,
    /// Lifetime in seconds.
    pub expires_in: Option<std::time::Duration>,
}

impl CreateArgs {
    fn spec(&self) -> Value {
        let mut limits = Vec::new();
        if let Some(n) = self.requests_per_minute {
            limits.push(json!({"metric": "requests", "period": "minute", "amount": n, "kind": "rate"}));
        }
        if let Some(n) = self.tokens_per_minute {
            limits.push(json!({"metric": "tokens", "period": "minute", "amount": n, "kind": "rate"}));
        }
        if let Some(usd) = self.budget_usd {
            let nano = (usd * 1e9).round() as u64;
            limits.push(json!({"metric": "spend", "period": "month", "amount": nano, "kind": "quota"}));
        }
        let expires_at = self.expires_in.map(|d| {
            std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |n| n.as_secs()) + d.as_secs()
        });
        let mut spec = json!({
            "name": self.name, "user": self.user, "team": self.team, "department": self.department,
            "tier": self.tier, "groups": self.groups, "admin": self.admin, "limits": limits, "expires_at": expires_at,
        });
        if !self.models.is_empty() {
            spec["models"] = json!(self.models);
        }
        spec
    }
}

/// The key commands.
#[derive(Debug, Clone)]
pub enum KeyCommand {
    /// Create a key; prints the secret once.
    Create(Box<CreateArgs>),
    /// List keys.
    List {
        /// Include revoked keys.
        include_revoked: bool,
    },
    /// Revoke a key by id.
    Revoke(String),
    /// Rotate a key by id; prints the new secret once.
    Rotate(String),
}

/// Runs one key command against the admin API and prints its JSON answer.
pub fn main(target: Target, command: KeyCommand) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (method, path, body) = match &command {
        KeyCommand::Create(args) => (Method::POST, "/api/keys".to_owned(), Some(args.spec())),
        KeyCommand::List { include_revoked } => {
            (Method::GET, format!("/api/keys?include_revoked={include_revoked}"), None)
        }
        KeyCommand::Revoke(id) => (Method::DELETE, format!("/api/keys/{}", segment(id)?), None),
        KeyCommand::Rotate(id) => (Method::POST, format!("/api/keys/{}/rotate", segment(id)?), None),
    };
    let (status, answer) = runtime.block_on(call(&target, method, &path, body))?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{}", serde_json::to_string_pretty(&answer)?)?;
    if !status.is_success() {
        anyhow::bail!("the admin API answered {status}");
    }
    if matches!(command, KeyCommand::Create(_) | KeyCommand::Rotate(_)) {
        writeln!(out, "The key is shown only now; store it safely.")?;
    }
    Ok(())
}

/// Sends one admin API request and prints its JSON answer; a non-2xx answer is an error
/// (`smartflowd cache stats|flush`).
pub fn request(target: &Target, method: Method, path: &str, body: Option<Value>) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let (status, answer) = runtime.block_on(call(target, method, path, body))?;
    writeln!(std::io::stdout().lock(), "{}", serde_json::to_string_pretty(&answer)?)?;
    anyhow::ensure!(status.is_success(), "the admin API answered {status}");
    Ok(())
}

fn segment(id: &str) -> anyhow::Result<&str> {
    anyhow::ensure!(
        !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-'),
        "a key id is letters, digits, '_' and '-'"
    );
    Ok(id)
}

async fn call(
    target: &Target,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> anyhow::Result<(http::StatusCode, Value)> {
    let client: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let bytes = body.map(|b| Bytes::from(b.to_string())).unwrap_or_default();
    let req = Request::builder()
        .method(method)
        .uri(format!("{}{path}", target.base))
        .header(header::AUTHORIZATION, format!("Bearer {}", target.key))
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(bytes))?;
    let resp = tokio::time::timeout(std::time::Duration::from_secs(30), client.request(req))
        .await
        .context("the admin API did not answer in 30 s")?
        .with_context(|| format!("cannot reach the admin API at {}", target.base))?;
    let status = resp.status();
    let body = resp.into_body().collect().await?.to_bytes();
    let value = serde_json::from_slice(&body).unwrap_or_else(|_| json!({"raw": String::from_utf8_lossy(&body)}));
    Ok((status, value))
}
