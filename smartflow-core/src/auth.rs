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
    /// `Authorization: Basic <base64(user:password)>` (directory logins such as LDAP).
    pub basic: Option<BasicCredentials>,
}

/// A user name and password from `Authorization: Basic`.
#[derive(Clone, PartialEq, Eq)]
pub struct BasicCredentials {
    /// The user name (never empty).
    pub user: String,
    /// The password, as sent (may be empty: authenticators must refuse empty passwords, which
    /// LDAP servers treat as an anonymous bind).
    pub password: String,
}

impl std::fmt::Debug for BasicCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BasicCredentials").field("user", &self.user).field("password", &"<redacted>").finish()
    }
}

/// Longest `Authorization` value decoded as Basic credentials; longer ones are ignored unparsed.
const MAX_BASIC_BYTES: usize = 4096;

fn parse_basic(encoded: &str) -> Option<BasicCredentials> {
    use base64::Engine as _;
    if encoded.len() > MAX_BASIC_BYTES {
        return None;
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(encoded.trim()).ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (user, password) = text.split_once(':')?;
    if user.is_empty() || text.chars().any(char::is_control) {
        return None;
    }
    Some(BasicCredentials { user: user.to_owned(), password: password.to_owned() })
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("bearer", &self.bearer.as_ref().map(|_| "<redacted>"))
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("basic", &self.basic)
            .finish()
    }
}

impl Credentials {
    /// Extracts credentials from request headers. A malformed `Authorization` header yields no
    /// bearer token (and so a 401), never a partial one.
    pub fn from_headers(headers: &http::HeaderMap) -> Self {
        let authorization = headers.get(http::header::AUTHORIZATION).and_then(|v| v.to_str().ok());
        let scheme = |name: &str| {
            authorization.and_then(|v| {
                let (scheme, token) = v.split_once(' ')?;
                scheme.eq_ignore_ascii_case(name).then(|| token.trim())
            })
        };
        let bearer = scheme("bearer").map(str::to_owned).filter(|t| !t.is_empty());
        let basic = scheme("basic").and_then(parse_basic);
        let api_key = headers
            .get("x-api-key")
            .and_then(|v| v.to_str().ok())
            .map(|v| v.trim().to_owned())
            .filter(|t| !t.is_empty());
        Self { bearer, api_key, basic }
    }

    /// Credentials carrying only a bearer token.
    pub fn bearer(token: impl Into<String>) -> Self {
        Self { bearer: Some(token.into()), ..Self::default() }
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

    #[test]
    fn basic_credentials_are_decoded_and_bounded() {
        let mut h = http::HeaderMap::new();
        // base64("alice:s3cret:x") — the password may contain colons.
        h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static("Basic YWxpY2U6czNjcmV0Ong="));
        let c = Credentials::from_headers(&h);
        let b = c.basic.as_ref().map(|b| (b.user.as_str(), b.password.as_str()));
        assert_eq!(b, Some(("alice", "s3cret:x")));
        assert_eq!(c.token(), None, "basic credentials are not a bearer token");
        assert!(!format!("{c:?}").contains("s3cret"), "debug output redacts the password");
        for bad in ["Basic !!!", "Basic OmVtcHR5dXNlcg==", "Basic bm9jb2xvbg=="] {
            h.insert(http::header::AUTHORIZATION, http::HeaderValue::from_static(bad));
            assert!(Credentials::from_headers(&h).basic.is_none(), "{bad}");
        }
    }
}
