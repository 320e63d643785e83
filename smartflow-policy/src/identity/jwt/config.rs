//! `JwtConfig`, `JwksSource` and `ClaimMapping`: what a JWT authenticator trusts and how it maps
//! claims to a principal; `JwtError` for a configuration it refuses.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use jsonwebtoken::Algorithm;
use jsonwebtoken::jwk::JwkSet;
use rustls::RootCertStore;

/// The algorithms a configuration may allow: asymmetric only, so a public key can never be used
/// as an HMAC secret.
pub const SUPPORTED_ALGORITHMS: [Algorithm; 7] = [
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::EdDSA,
];

/// The largest clock-skew leeway honoured; a longer configured leeway is capped to it.
pub const MAX_LEEWAY: Duration = Duration::from_secs(60);

/// Where the issuer's signing keys come from.
#[derive(Debug, Clone)]
pub enum JwksSource {
    /// A JWKS document on disk (at most 1 MiB), read at construction and re-read on rotation.
    File(PathBuf),
    /// A JWKS endpoint (`https://`, or `http://` on a loopback address only), fetched lazily.
    Url(http::Uri),
    /// A fixed key set (library users and tests); never refreshed.
    Static(JwkSet),
}

/// How token claims become a `Principal`. Each name is a top-level claim, else a dotted path
/// into nested objects (`realm_access.roles`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimMapping {
    /// The claim naming the user (required in every token); default `sub`.
    pub user: String,
    /// The claim holding the team.
    pub team: Option<String>,
    /// The claim holding the department.
    pub department: Option<String>,
    /// The claim holding the groups: an array of strings or a space-separated string.
    pub groups: Option<String>,
    /// The claim holding the model tier.
    pub tier: Option<String>,
    /// Members of any of these groups are admins.
    pub admin_groups: Vec<String>,
    /// Prefix of the principal's key id (`jwt:` gives `jwt:alice`).
    pub key_id_prefix: String,
}

impl Default for ClaimMapping {
    fn default() -> Self {
        Self {
            user: "sub".to_owned(),
            team: None,
            department: None,
            groups: None,
            tier: None,
            admin_groups: Vec::new(),
            key_id_prefix: "jwt:".to_owned(),
        }
    }
}

/// Settings of one JWT issuer.
#[derive(Debug, Clone)]
pub struct JwtConfig {
    /// The issuer: a token's `iss` must equal it exactly.
    pub issuer: String,
    /// Accepted audiences: a token's `aud` must contain one of them.
    pub audiences: Vec<String>,
    /// Allowed signing algorithms (a subset of [`SUPPORTED_ALGORITHMS`]).
    pub algorithms: Vec<Algorithm>,
    /// Where the signing keys come from.
    pub jwks: JwksSource,
    /// Clock-skew leeway for `exp`, `nbf` and `iat` (default 30 s, capped at [`MAX_LEEWAY`]).
    pub leeway: Duration,
    /// Shortest time between two JWKS fetches (default 60 s): an unknown `kid` refetches at most
    /// once per interval, so tokens cannot force a fetch storm.
    pub refresh_min_interval: Duration,
    /// Longest time a fetched key set is used before it is lazily re-fetched (default 10 min; a
    /// shorter `Cache-Control: max-age` from a JWKS endpoint wins).
    pub jwks_max_age: Duration,
    /// Longest token accepted, in bytes (default 16 KiB); longer ones are refused unparsed.
    pub max_token_bytes: usize,
    /// How claims map to the principal.
    pub claims: ClaimMapping,
    /// Certificate authorities trusted for an `https` JWKS endpoint (empty by default: the
    /// caller supplies the system's roots or its own CA).
    pub root_certificates: Arc<RootCertStore>,
}

impl JwtConfig {
    /// A configuration with the defaults: RS256, ES256 and EdDSA allowed, leeway 30 s, refetch at
    /// most every 60 s, keys kept 10 min, tokens up to 16 KiB, user from `sub`.
    pub fn new(issuer: impl Into<String>, audiences: Vec<String>, jwks: JwksSource) -> Self {
        Self {
            issuer: issuer.into(),
            audiences,
            algorithms: vec![Algorithm::RS256, Algorithm::ES256, Algorithm::EdDSA],
            jwks,
            leeway: Duration::from_secs(30),
            refresh_min_interval: Duration::from_secs(60),
            jwks_max_age: Duration::from_secs(600),
            max_token_bytes: 16 << 10,
            claims: ClaimMapping::default(),
            root_certificates: Arc::new(RootCertStore::empty()),
        }
    }

    /// Checks the settings; returns the leeway to use (capped at [`MAX_LEEWAY`]).
    pub(super) fn validate(&self) -> Result<Duration, JwtError> {
        let bad = |what: &str| Err(JwtError::Config(what.to_owned()));
        if self.issuer.trim().is_empty() {
            return bad("issuer is empty");
        }
        if self.audiences.is_empty() || self.audiences.iter().any(|a| a.trim().is_empty()) {
            return bad("audiences must be non-empty strings");
        }
        if self.algorithms.is_empty() {
            return bad("no algorithm is allowed");
        }
        if let Some(alg) = self.algorithms.iter().find(|a| !SUPPORTED_ALGORITHMS.contains(a)) {
            return Err(JwtError::Config(format!("algorithm {alg:?} is not allowed (asymmetric algorithms only)")));
        }
        if self.max_token_bytes == 0 {
            return bad("max_token_bytes is zero");
        }
        if self.claims.user.is_empty() {
            return bad("the user claim name is empty");
        }
        if let JwksSource::Url(uri) = &self.jwks {
            check_jwks_url(uri)?;
        }
        Ok(self.leeway.min(MAX_LEEWAY))
    }
}

/// A JWKS URL must be `https`, or `http` to a loopback address (a key server on the same host).
fn check_jwks_url(uri: &http::Uri) -> Result<(), JwtError> {
    let host = uri.host().unwrap_or_default().trim_start_matches('[').trim_end_matches(']');
    let loopback = host == "localhost" || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback());
    match uri.scheme_str() {
        _ if host.is_empty() => Err(JwtError::Config("the JWKS URL has no host".to_owned())),
        Some("https") => Ok(()),
        Some("http") if loopback => Ok(()),
        _ => Err(JwtError::Config("the JWKS URL must be https (http only on a loopback address)".to_owned())),
    }
}

/// Why a JWT authenticator could not be built.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// The configuration is invalid.
    #[error("invalid JWT configuration: {0}")]
    Config(String),
    /// The key set could not be loaded.
    #[error("could not load the JWKS: {0}")]
    Jwks(String),
}
