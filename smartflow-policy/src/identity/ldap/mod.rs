//! `LdapAuthenticator`: `Authorization: Basic` logins checked against an LDAP directory.
//!
//! A login binds to the directory as the user, on a fresh connection, with the password given:
//! either after a service account has searched the user's entry ("search-then-bind") or directly
//! as a DN built from a template. The user's groups (a group search and/or `memberOf`) and
//! attributes then fill in the `Principal` (`key_id` `ldap:<user>`).
//!
//! - Wrong password, unknown user, an empty password (which LDAP would treat as an anonymous
//!   bind), a malformed user name: the generic 401. The last two never reach the server; an
//!   unknown user costs a decoy bind, so it takes about as long as a wrong password.
//! - Directory unreachable, timed out, or refusing the service account: 503 with code
//!   `identity_unavailable`; never a 200 and never an anonymous principal.
//! - Groups are read by the service account (search-then-bind) or by the user itself (direct
//!   bind), so the directory's ACLs must let that identity read them.
//! - Successes are cached for `cache_ttl` (see [`LdapConfig::cache_ttl`]) under an HMAC of user
//!   and password; failures are never cached.

mod cache;
mod config;
mod conn;

use std::collections::BTreeSet;
use std::sync::Arc;

use async_trait::async_trait;
use ldap3::{Scope, SearchEntry, dn_escape, ldap_escape};
use secrecy::ExposeSecret as _;
use smartflow_core::auth::unauthenticated;
use smartflow_core::{Authenticator, BasicCredentials, Credentials, Error, ErrorKind, Principal};

pub use config::{LdapConfig, LdapConfigError};

use cache::SuccessCache;
use conn::{Failure, Session, attr, fill, first, first_rdn_value};

/// Longest user name accepted (bytes); longer ones are refused without asking the server.
pub const MAX_USER_BYTES: usize = 256;
/// Longest password accepted (bytes).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Most groups read for one user by the group search.
const MAX_GROUPS: i32 = 1000;

/// Authenticates `Authorization: Basic` credentials against an LDAP directory.
pub struct LdapAuthenticator {
    config: LdapConfig,
    cache: SuccessCache,
}

impl std::fmt::Debug for LdapAuthenticator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LdapAuthenticator").field("config", &self.config).finish_non_exhaustive()
    }
}

/// A user's entry: its DN and the attributes read from it.
struct UserEntry {
    dn: String,
    attrs: std::collections::HashMap<String, Vec<String>>,
}

impl LdapAuthenticator {
    /// An authenticator for `config`, after [`LdapConfig::validate`]. Nothing is contacted yet.
    pub fn new(config: LdapConfig) -> Result<Self, LdapConfigError> {
        config.validate()?;
        let cache = SuccessCache::new(config.cache_ttl, config.max_cache_entries)
            .ok_or_else(|| LdapConfigError::new("the system random number generator failed"))?;
        if config.plaintext_to_remote_host() {
            tracing::warn!(url = %config.url, "LDAP passwords cross the network in clear (allow_plaintext)");
        }
        Ok(Self { config, cache })
    }

    /// The configuration in use.
    pub fn config(&self) -> &LdapConfig {
        &self.config
    }

    /// Checks `user` and `password` against the directory (or the success cache).
    pub async fn login(&self, user: &str, password: &str) -> Result<Arc<Principal>, Error> {
        if password.is_empty() || password.len() > MAX_PASSWORD_BYTES || !valid_user(user) {
            return Err(unauthenticated());
        }
        let key = self.cache.key(user, password);
        if let Some(principal) = self.cache.get(&key) {
            return Ok(principal);
        }
        let outcome = match tokio::time::timeout(self.config.timeout, self.check(user, password)).await {
            Ok(outcome) => outcome,
            Err(_) => Err(Failure::Unavailable(format!("no answer within {:?}", self.config.timeout))),
        };
        match outcome {
            Ok(principal) => {
                let principal = Arc::new(principal);
                self.cache.insert(key, Arc::clone(&principal));
                Ok(principal)
            }
            Err(Failure::Rejected) => Err(unauthenticated()),
            Err(Failure::Unavailable(why)) => {
                tracing::warn!(url = %self.config.url, reason = %why, "LDAP directory unavailable");
                Err(Error::new(ErrorKind::Unavailable, "the identity directory is unavailable")
                    .with_code("identity_unavailable"))
            }
        }
    }

    /// One login against the directory, in the configured mode.
    async fn check(&self, user: &str, password: &str) -> Result<Principal, Failure> {
        let cfg = &self.config;
        if let (Some(bind_dn), Some(bind_password)) = (&cfg.bind_dn, &cfg.bind_password) {
            let mut service = Session::open(cfg).await?;
            service.bind_service(bind_dn, bind_password.expose_secret()).await?;
            let filter = fill(&cfg.user_filter, &[("{user}", &ldap_escape(user))]);
            let mut found = service.search(&cfg.user_base, Scope::Subtree, &filter, &self.user_attrs(), 2).await?;
            let entry = match (found.pop(), found.is_empty()) {
                (Some(entry), true) => UserEntry { dn: entry.dn, attrs: entry.attrs },
                (entry, _) => {
                    if entry.is_some() {
                        tracing::warn!(user, "LDAP user filter matches several entries; login refused");
                    }
                    service.close().await;
                    self.decoy_bind(password).await;
                    return Err(Failure::Rejected);
                }
            };
            let mut session = Session::open(cfg).await?;
            let bound = session.bind_user(&entry.dn, password).await;
            session.close().await;
            bound?;
            let principal = self.principal(&mut service, user, entry).await;
            service.close().await;
            principal
        } else {
            let template = cfg.user_dn_template.as_deref().unwrap_or_default();
            let dn = fill(template, &[("{user}", &dn_escape(user))]);
            let mut session = Session::open(cfg).await?;
            session.bind_user(&dn, password).await?;
            let mut own = session.search(&dn, Scope::Base, "(objectClass=*)", &self.user_attrs(), 1).await?;
            let entry = own
                .pop()
                .map_or(UserEntry { dn, attrs: Default::default() }, |e| UserEntry { dn: e.dn, attrs: e.attrs });
            let principal = self.principal(&mut session, user, entry).await;
            session.close().await;
            principal
        }
    }

    /// A bind that fails, so an unknown user takes about as long as a wrong password.
    async fn decoy_bind(&self, password: &str) {
        let mut nonce = [0u8; 16];
        let _ = ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), &mut nonce);
        let dn = format!("cn=smartflow-decoy-{},{}", hex::encode(nonce), self.config.user_base);
        if let Ok(mut session) = Session::open(&self.config).await {
            let _ = session.bind_user(&dn, password).await;
            session.close().await;
        }
    }

    /// The attributes read from a user entry.
    fn user_attrs(&self) -> Vec<&str> {
        let cfg = &self.config;
        // Never an empty list: that would mean "all user attributes" (userPassword included).
        let mut attrs = vec!["objectClass"];
        attrs.extend(cfg.member_of.then_some("memberOf"));
        attrs.extend(
            [&cfg.user_name_attribute, &cfg.department_attribute, &cfg.team_attribute, &cfg.tier_attribute]
                .into_iter()
                .filter_map(|a| a.as_deref()),
        );
        attrs
    }

    /// The principal of an authenticated user: groups from the search and `memberOf`.
    async fn principal(&self, session: &mut Session, user: &str, entry: UserEntry) -> Result<Principal, Failure> {
        let cfg = &self.config;
        // (name, DN) of every group; admin groups may be given by either.
        let mut groups: Vec<(String, String)> = Vec::new();
        if cfg.member_of {
            let dns = attr(&entry.attrs, "memberOf");
            groups.extend(dns.iter().filter_map(|dn| Some((first_rdn_value(dn)?, dn.clone()))));
        }
        if let Some(base) = &cfg.group_base {
            let filter =
                fill(&cfg.group_filter, &[("{dn}", &ldap_escape(entry.dn.as_str())), ("{user}", &ldap_escape(user))]);
            let name_attr = [cfg.group_name_attribute.as_str()];
            for SearchEntry { dn, attrs, .. } in
                session.search(base, Scope::Subtree, &filter, &name_attr, MAX_GROUPS).await?
            {
                let name = first(&attrs, Some(&cfg.group_name_attribute)).or_else(|| first_rdn_value(&dn));
                groups.extend(name.map(|n| (n, dn)));
            }
        }
        let admin = groups.iter().any(|(name, dn)| {
            cfg.admin_groups.iter().any(|a| a.eq_ignore_ascii_case(name) || a.eq_ignore_ascii_case(dn))
        });
        let canonical = cfg
            .user_name_attribute
            .as_deref()
            .and_then(|a| attr(&entry.attrs, a).iter().find(|v| v.eq_ignore_ascii_case(user)))
            .map_or(user, String::as_str)
            .to_owned();
        let mut principal = Principal::new(format!("ldap:{canonical}"));
        principal.user = Some(canonical);
        principal.groups = groups.into_iter().map(|(name, _)| name).collect::<BTreeSet<_>>().into_iter().collect();
        principal.department = first(&entry.attrs, cfg.department_attribute.as_deref());
        principal.team = first(&entry.attrs, cfg.team_attribute.as_deref());
        principal.tier = first(&entry.attrs, cfg.tier_attribute.as_deref());
        principal.admin = admin;
        Ok(principal)
    }
}

/// A user name worth asking the directory about: non-empty, bounded, no control characters.
fn valid_user(user: &str) -> bool {
    !user.is_empty() && user.len() <= MAX_USER_BYTES && !user.chars().any(char::is_control)
}

#[async_trait]
impl Authenticator for LdapAuthenticator {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        match &credentials.basic {
            Some(BasicCredentials { user, password }) => self.login(user, password).await,
            None => Err(unauthenticated()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unreachable_config() -> LdapConfig {
        // Port 9 on loopback: nothing listens, so any contact would be a 503.
        LdapConfig {
            bind_password: Some("pw".into()),
            timeout: std::time::Duration::from_millis(500),
            ..LdapConfig::search_then_bind("ldap://127.0.0.1:9", "cn=svc,dc=x", "dc=x")
        }
    }

    #[tokio::test]
    async fn bad_input_is_refused_without_contacting_the_server() {
        let auth = LdapAuthenticator::new(unreachable_config()).unwrap();
        let long = "u".repeat(MAX_USER_BYTES + 1);
        let long_pw = "p".repeat(MAX_PASSWORD_BYTES + 1);
        for (user, password) in [("alice", ""), ("", "pw"), (long.as_str(), "pw"), ("a\nb", "pw"), ("a", &long_pw)] {
            let err = auth.login(user, password).await.err().map(|e| e.status_code());
            assert_eq!(err, Some(401), "{user:?}");
        }
        let none = auth.authenticate(&Credentials::bearer("token")).await.err().map(|e| e.status_code());
        assert_eq!(none, Some(401), "only Basic credentials are considered");
        let err = auth.login("alice", "pw").await.err();
        assert_eq!(err.as_ref().map(Error::status_code), Some(503), "a real attempt does reach the (absent) server");
        assert_eq!(err.as_ref().and_then(Error::code), Some("identity_unavailable"));
    }
}
