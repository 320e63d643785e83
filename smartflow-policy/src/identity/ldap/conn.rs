//! One short-lived LDAP connection (`Session`) that is always unbound, and the small pieces of
//! LDAP syntax the authenticator needs (filter templates, attribute lookup, RDN values).

use std::collections::HashMap;
use std::time::Duration;

use ldap3::{Ldap, LdapConnAsync, LdapError, Scope, SearchEntry, SearchOptions};

use super::config::LdapConfig;

/// Why a login did not succeed.
#[derive(Debug)]
pub(super) enum Failure {
    /// The directory refused the credentials, or the user does not exist (401).
    Rejected,
    /// The directory could not be used: unreachable, timed out, misconfigured (503). The text is
    /// logged, never sent to the client, and holds no password.
    Unavailable(String),
}

impl Failure {
    pub(super) fn unavailable(what: &str, err: impl std::fmt::Display) -> Self {
        Self::Unavailable(format!("{what}: {err}"))
    }
}

/// Result codes of a user bind that mean "these credentials are not accepted" rather than "the
/// directory is broken": noSuchObject, invalidDNSyntax, inappropriateAuthentication,
/// invalidCredentials, insufficientAccessRights, unwillingToPerform (e.g. account disabled).
const REJECTING_BIND_CODES: [u32; 6] = [32, 34, 48, 49, 50, 53];

/// How long the courtesy unbind of a closing session may take.
const UNBIND_TIMEOUT: Duration = Duration::from_secs(1);

/// A connection; `close` unbinds it, and dropping it unbound (an error path, a timeout) spawns
/// the unbind, so no connection outlives its login.
pub(super) struct Session {
    ldap: Option<Ldap>,
}

impl Session {
    /// Connects (and upgrades with StartTLS when configured).
    pub(super) async fn open(config: &LdapConfig) -> Result<Self, Failure> {
        let settings = config.tls_settings.clone().unwrap_or_default();
        let settings = settings.set_conn_timeout(config.timeout).set_starttls(config.starttls);
        let (conn, ldap) = LdapConnAsync::with_settings(settings, &config.url)
            .await
            .map_err(|e| Failure::unavailable("cannot connect to the directory", e))?;
        tokio::spawn(async move {
            if let Err(e) = conn.drive().await {
                tracing::debug!(error = %e, "LDAP connection ended with an error");
            }
        });
        Ok(Self { ldap: Some(ldap) })
    }

    fn ldap(&mut self) -> Result<&mut Ldap, Failure> {
        self.ldap.as_mut().ok_or_else(|| Failure::Unavailable("LDAP session already closed".to_owned()))
    }

    /// Binds as the service account: any refusal is a configuration problem (503).
    pub(super) async fn bind_service(&mut self, dn: &str, password: &str) -> Result<(), Failure> {
        let result = self.ldap()?.simple_bind(dn, password).await;
        match result.and_then(|r| r.success()) {
            Ok(_) => Ok(()),
            Err(e) => Err(Failure::unavailable("the service account bind failed", e)),
        }
    }

    /// Binds as a user: refusals are `Rejected`, anything else `Unavailable`.
    pub(super) async fn bind_user(&mut self, dn: &str, password: &str) -> Result<(), Failure> {
        let result = self.ldap()?.simple_bind(dn, password).await;
        match result.and_then(|r| r.success()) {
            Ok(_) => Ok(()),
            Err(LdapError::LdapResult { result }) if REJECTING_BIND_CODES.contains(&result.rc) => {
                tracing::debug!(rc = result.rc, "LDAP user bind refused");
                Err(Failure::Rejected)
            }
            Err(e) => Err(Failure::unavailable("the user bind failed", e)),
        }
    }

    /// Searches `base`, keeping at most `limit` entries (sizeLimitExceeded keeps what came).
    pub(super) async fn search(
        &mut self,
        base: &str,
        scope: Scope,
        filter: &str,
        attrs: &[&str],
        limit: i32,
    ) -> Result<Vec<SearchEntry>, Failure> {
        let ldap = self.ldap()?;
        let result =
            ldap.with_search_options(SearchOptions::new().sizelimit(limit)).search(base, scope, filter, attrs).await;
        let ldap3::SearchResult(entries, res) = result.map_err(|e| Failure::unavailable("LDAP search failed", e))?;
        match res.rc {
            0 => {}
            4 => tracing::warn!(base, limit, "LDAP search hit its size limit; results truncated"),
            _ => return Err(Failure::unavailable("LDAP search failed", res)),
        }
        Ok(entries.into_iter().map(SearchEntry::construct).collect())
    }

    /// Unbinds and drops the connection.
    pub(super) async fn close(mut self) {
        if let Some(mut ldap) = self.ldap.take() {
            let _ = tokio::time::timeout(UNBIND_TIMEOUT, ldap.unbind()).await;
        }
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if let (Some(mut ldap), Ok(rt)) = (self.ldap.take(), tokio::runtime::Handle::try_current()) {
            rt.spawn(async move {
                let _ = tokio::time::timeout(UNBIND_TIMEOUT, ldap.unbind()).await;
            });
        }
    }
}

/// Fills `{name}` placeholders in one pass, so a value containing a placeholder is never expanded.
pub(super) fn fill(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = String::with_capacity(template.len() + 64);
    let mut rest = template;
    'outer: while !rest.is_empty() {
        for (name, value) in values {
            if let Some(after) = rest.strip_prefix(name) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

/// The values of attribute `name`, matched ignoring ASCII case (servers answer with the
/// schema's spelling).
pub(super) fn attr<'a>(attrs: &'a HashMap<String, Vec<String>>, name: &str) -> &'a [String] {
    attrs.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map_or(&[], |(_, v)| v.as_slice())
}

/// The first non-empty value of attribute `name`.
pub(super) fn first(attrs: &HashMap<String, Vec<String>>, name: Option<&str>) -> Option<String> {
    name.and_then(|n| attr(attrs, n).iter().find(|v| !v.is_empty()).cloned())
}

/// The value of a DN's first RDN (`cn=traders,ou=groups,...` → `traders`), with RFC 4514
/// escapes (`\,` and `\2c`) undone; `None` for a DN that does not parse.
pub(super) fn first_rdn_value(dn: &str) -> Option<String> {
    let (_, rest) = dn.split_once('=')?;
    let mut bytes = Vec::with_capacity(rest.len());
    let mut iter = rest.bytes();
    while let Some(b) = iter.next() {
        match b {
            b',' | b'+' => break,
            b'\\' => {
                let c = iter.next()?;
                if c.is_ascii_hexdigit() {
                    let pair = [c, iter.next()?];
                    let hex = std::str::from_utf8(&pair).ok()?;
                    bytes.push(u8::from_str_radix(hex, 16).ok()?);
                } else {
                    bytes.push(c);
                }
            }
            _ => bytes.push(b),
        }
    }
    let value = String::from_utf8(bytes).ok()?;
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_are_filled_once() {
        assert_eq!(fill("(uid={user})", &[("{user}", "a\\2a")]), "(uid=a\\2a)");
        assert_eq!(fill("(&(m={dn})(u={user}))", &[("{user}", "{dn}"), ("{dn}", "x")]), "(&(m=x)(u={dn}))");
        assert_eq!(fill("é{user}é", &[("{user}", "ü")]), "éüé");
    }

    #[test]
    fn rdn_values_are_unescaped() {
        assert_eq!(first_rdn_value("cn=traders,ou=groups,dc=x").as_deref(), Some("traders"));
        assert_eq!(first_rdn_value("CN=Risk\\, Ops,OU=g").as_deref(), Some("Risk, Ops"));
        assert_eq!(first_rdn_value("cn=a\\2cb,dc=x").as_deref(), Some("a,b"));
        assert_eq!(first_rdn_value("cn=x+uid=y,dc=x").as_deref(), Some("x"));
        assert_eq!(first_rdn_value("nonsense"), None);
        assert_eq!(first_rdn_value("cn=,dc=x"), None);
    }

    #[test]
    fn attributes_match_ignoring_case() {
        let attrs = HashMap::from([("departmentNumber".to_owned(), vec![String::new(), "risk".to_owned()])]);
        assert_eq!(first(&attrs, Some("departmentnumber")).as_deref(), Some("risk"));
        assert_eq!(first(&attrs, Some("ou")), None);
        assert_eq!(first(&attrs, None), None);
    }
}
