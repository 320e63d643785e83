//! `JwtAuthenticator`: bearer JWTs from one issuer, verified against its JWKS (RS*, PS256, ES256,
//! ES384, EdDSA), with `exp`/`nbf`/`iat`/`iss`/`aud` checked and claims mapped to a `Principal`.

mod claims;
mod config;
mod keys;
mod store;
#[cfg(test)]
mod tests;

use std::sync::Arc;

use async_trait::async_trait;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind as JwtErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use smartflow_core::{Authenticator, Credentials, Error, ErrorKind, Principal};

pub use config::{ClaimMapping, JwksSource, JwtConfig, JwtError, MAX_LEEWAY, SUPPORTED_ALGORITHMS};
pub use store::MAX_JWKS_BYTES;

use keys::Selected;
use store::KeyStore;

/// Longest JWT header segment [`JwtAuthenticator::looks_like_jwt`] decodes.
const MAX_HEADER_SEGMENT: usize = 4096;

/// An authenticator for bearer JWTs from one issuer.
pub struct JwtAuthenticator {
    config: JwtConfig,
    leeway_secs: u64,
    /// The claim checks shared by every token (`algorithms` is set per token).
    validation: Validation,
    store: KeyStore,
}

impl std::fmt::Debug for JwtAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JwtAuthenticator").field("issuer", &self.config.issuer).finish_non_exhaustive()
    }
}

/// The 401 for every refusal (no token, or a token that fails any check): it never says which
/// check failed.
fn invalid_token() -> Error {
    Error::new(ErrorKind::Authentication, "the bearer token is invalid or expired").with_code("invalid_token")
}

/// Why `jsonwebtoken` refused a token, for the debug log (never the token or its claims).
fn refusal(kind: &JwtErrorKind) -> &'static str {
    match kind {
        JwtErrorKind::InvalidSignature => "bad signature",
        JwtErrorKind::ExpiredSignature => "expired",
        JwtErrorKind::ImmatureSignature => "not yet valid (nbf)",
        JwtErrorKind::InvalidIssuer => "issuer mismatch",
        JwtErrorKind::InvalidAudience => "audience mismatch",
        JwtErrorKind::MissingRequiredClaim(_) => "a required claim (exp, iss, aud) is missing",
        JwtErrorKind::InvalidClaimFormat(_) => "a time claim is malformed",
        JwtErrorKind::InvalidAlgorithm => "algorithm does not fit the key",
        _ => "malformed token or key",
    }
}

impl JwtAuthenticator {
    /// An authenticator for `config`. Refuses symmetric or unknown algorithms, an empty issuer or
    /// audience list, and a JWKS URL that is neither `https` nor loopback `http`; reads a JWKS
    /// file now (a URL is fetched on first use).
    pub fn new(config: JwtConfig) -> Result<Self, JwtError> {
        let leeway = config.validate()?;
        let mut validation = Validation::new(Algorithm::RS256);
        validation.leeway = leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        validation.set_required_spec_claims(&["exp", "iss", "aud"]);
        validation.set_issuer(&[&config.issuer]);
        validation.set_audience(&config.audiences);
        let store = KeyStore::new(&config)?;
        Ok(Self { leeway_secs: leeway.as_secs(), validation, store, config })
    }

    /// Whether `token` has the shape of a JWT: three base64url segments (the signature may be
    /// empty) whose first decodes to a JSON object with a string `alg`. Lets a chain of
    /// authenticators route tokens; it verifies nothing.
    pub fn looks_like_jwt(token: &str) -> bool {
        let b64url = |s: &str| s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        let mut parts = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return false;
        };
        if header.is_empty()
            || header.len() > MAX_HEADER_SEGMENT
            || payload.is_empty()
            || ![header, payload, signature].into_iter().all(b64url)
        {
            return false;
        }
        URL_SAFE_NO_PAD
            .decode(header)
            .ok()
            .and_then(|bytes| serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&bytes).ok())
            .is_some_and(|h| h.get("alg").is_some_and(serde_json::Value::is_string))
    }

    /// The issuer this authenticator accepts tokens from.
    pub fn issuer(&self) -> &str {
        &self.config.issuer
    }

    /// JWKS fetch attempts since construction (the initial file load not counted): for metrics
    /// and tests.
    pub fn jwks_fetches(&self) -> u64 {
        self.store.fetches()
    }

    /// Verifies `token` and maps its claims; the error is the reason, for the debug log.
    async fn verify(&self, token: &str) -> Result<Principal, &'static str> {
        if token.len() > self.config.max_token_bytes {
            return Err("token too large");
        }
        let header = jsonwebtoken::decode_header(token).map_err(|_| "malformed token or header")?;
        let alg = header.alg;
        if !self.config.algorithms.contains(&alg) {
            return Err("algorithm not allowed");
        }
        if header.crit.is_some() {
            return Err("critical header extensions are not supported");
        }
        let kid = header.kid.as_deref();
        let (mut keys, generation) = self.store.keys().await;
        if matches!(keys.select(kid, alg), Selected::UnknownKid) {
            // The issuer may have rotated its keys: refetch (rate-limited, shared) and retry once.
            keys = self.store.refresh(generation).await.0;
        }
        let key = match keys.select(kid, alg) {
            Selected::Key(key) => key,
            Selected::UnknownKid => return Err("unknown kid"),
            Selected::NoMatch => return Err("no key fits the token's kid and algorithm"),
        };
        let mut validation = self.validation.clone();
        validation.algorithms = vec![alg];
        let data = jsonwebtoken::decode::<serde_json::Value>(token, key, &validation).map_err(|e| refusal(e.kind()))?;
        claims::check(&data.claims, &self.config.issuer, self.leeway_secs, claims::now())?;
        claims::principal(&data.claims, &self.config.claims).ok_or("the user claim is missing or malformed")
    }
}

#[async_trait]
impl Authenticator for JwtAuthenticator {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        let Some(token) = credentials.bearer.as_deref() else {
            tracing::debug!(issuer = %self.config.issuer, "no bearer token");
            return Err(invalid_token());
        };
        match self.verify(token).await {
            Ok(principal) => Ok(Arc::new(principal)),
            Err(reason) => {
                tracing::debug!(issuer = %self.config.issuer, reason, "JWT refused");
                Err(invalid_token())
            }
        }
    }
}
