//! The `Authenticator` trait and `Credentials`: how a request becomes a `Principal`.

use std::sync::Arc;

use async_trait::async_trait;

use crate::error::{Error, ErrorKind};
use crate::types::Principal;

/// The credentials a request presented, taken from its headers.
#[derive(Clone, Default)]
pub struct Credentials {
    /// `Authorization: Bearer <token>`.
    pub bearer: Option<String>,
    /// `x-api-key: <key>` (the Anthropic convention).
    pub api_key: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl Credentials {
    /// Extracts credentials from request headers. A malformed `Authorization` header yields no
    /// bearer token (and so a 401), never a partial one.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let bearer = headers
            .get(http::header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim().to_owned())
            })
            .filter(|t| !t.is_empty());
        let api_key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|t| !t.is_empty());
        Self { bearer, api_key }
    }

    /// The token to check: the bearer token, else the `x-api-key`.
    pub fn token(&self) -> Option<&str> {
        self.bearer.as_deref().or(self.api_key.as_deref())
    }
}

/// Turns credentials into a principal, or refuses them.
///
/// There is no anonymous principal: an implementation returns `Err` (401) for missing, malformed,
/// unknown, expired or revoked credentials, and must take about the same time for all of them.
#[async_trait]
pub trait Authenticator: Send + Sync + 'static {
    /// Authenticates one request.
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error>;
}

/// The 401 every authenticator returns for credentials it does not accept. It never says which
/// part was wrong.
pub fn unauthenticated() -> Error {
    Error::new(ErrorKind::Authentication, "invalid or missing API key: send `Authorization: Bearer <key>`")
        .with_code("invalid_api_key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing_is_strict() {
        let mut h = http::HeaderMap::new();
        h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static("Bearer abc"));
        assert_eq!(Credentials::from_headers(&h).token(), Some("abc"));
        h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static("Basic abc"));
        assert_eq!(Credentials::from_headers(&h).token(), None);
        h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static("Bearer "));
        assert_eq!(Credentials::from_headers(&h).token(), None);
        h.insert("x-api-key", http::HeaderValue::from_static("k2"));
        assert_eq!(Credentials::from_headers(&h).token(), Some("k2"));
    }
}
