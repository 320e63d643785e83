//! `Identity`: the one function that turns any credential into a principal, for every route —
//! data plane, admin API and MCP alike. Configuration keys and stored virtual keys by hash,
//! JWTs from configured issuers, `Basic` logins against LDAP; then the principal's tier narrows
//! the models it may use. Whatever does not authenticate is a 401: there is no fallback.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use async_trait::async_trait;
use smartflow_core::auth::unauthenticated;
use smartflow_core::{Authenticator, Credentials, Error, Principal};

use super::{JwtAuthenticator, KeyStore, LdapAuthenticator, StaticKeys};
use crate::governance::KeyLimits;
use crate::governance::spec::Limit;

/// Model tiers: tier name → the virtual models its members may use.
#[derive(Debug, Clone, Default)]
pub struct Tiers {
    by_name: HashMap<String, Arc<BTreeSet<String>>>,
}

impl Tiers {
    /// No tiers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Defines tier `name`.
    pub fn insert(&mut self, name: impl Into<String>, models: BTreeSet<String>) {
        self.by_name.insert(name.into(), Arc::new(models));
    }

    /// Whether tier `name` is defined.
    pub fn contains(&self, name: &str) -> bool {
        self.by_name.contains_key(name)
    }

    /// Narrows `p`'s models to its tier's: the intersection with any per-key list. A tier that
    /// is not defined (a JWT claim naming an unknown tier, say) allows no model at all.
    pub fn apply(&self, p: Arc<Principal>) -> Arc<Principal> {
        let Some(tier) = p.tier.as_deref() else { return p };
        let allowed: BTreeSet<String> = match (self.by_name.get(tier), &p.models) {
            (None, _) => BTreeSet::new(),
            (Some(t), None) => (**t).clone(),
            (Some(t), Some(own)) => own.intersection(t).cloned().collect(),
        };
        if p.models.as_ref() == Some(&allowed) {
            return p;
        }
        let mut narrowed = (*p).clone();
        narrowed.models = Some(allowed);
        Arc::new(narrowed)
    }
}

/// Every configured way in, tried by credential shape.
#[derive(Debug, Default)]
pub struct Identity {
    /// Keys from the configuration file (and the admin key).
    pub static_keys: StaticKeys,
    /// Virtual keys created through the admin API.
    pub store: Option<KeyStore>,
    /// JWT issuers, tried in order for tokens shaped like a JWT.
    pub jwt: Vec<JwtAuthenticator>,
    /// LDAP, for `Authorization: Basic`.
    pub ldap: Option<LdapAuthenticator>,
    /// Model tiers.
    pub tiers: Tiers,
}

impl Identity {
    async fn resolve(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        if let Some(basic) = &credentials.basic {
            return match &self.ldap {
                Some(ldap) => ldap.login(&basic.user, &basic.password).await,
                None => Err(unauthenticated()),
            };
        }
        let token = credentials.token().ok_or_else(unauthenticated)?;
        if !self.jwt.is_empty() && JwtAuthenticator::looks_like_jwt(token) {
            let mut last = unauthenticated();
            for issuer in &self.jwt {
                match issuer.authenticate(credentials).await {
                    Ok(p) => return Ok(p),
                    Err(e) => last = e,
                }
            }
            return Err(last);
        }
        if let Some(p) = self.static_keys.lookup(token) {
            return Ok(p.clone());
        }
        match self.store.as_ref().and_then(|s| s.lookup(token)) {
            Some(entry) => Ok(entry.principal.clone()),
            None => Err(unauthenticated()),
        }
    }
}

#[async_trait]
impl Authenticator for Identity {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        let principal = self.resolve(credentials).await?;
        Ok(self.tiers.apply(principal))
    }
}

impl KeyLimits for KeyStore {
    fn limits(&self, key_id: &str) -> Option<Arc<[Limit]>> {
        KeyStore::limits(self, key_id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identity::{KeyHash, StaticKey};

    fn identity() -> Identity {
        let mut p = Principal::new("k1");
        p.tier = Some("gold".into());
        p.models = Some(["a".to_owned(), "b".to_owned()].into());
        let mut q = Principal::new("k2");
        q.tier = Some("unknown".into());
        let mut tiers = Tiers::new();
        tiers.insert("gold", ["b".to_owned(), "c".to_owned()].into());
        Identity {
            static_keys: StaticKeys::new([
                StaticKey { hash: KeyHash::of("key-one"), principal: p },
                StaticKey { hash: KeyHash::of("key-two"), principal: q },
            ]),
            tiers,
            ..Identity::default()
        }
    }

    #[tokio::test]
    async fn tiers_narrow_models_and_unknown_tiers_allow_none() {
        let id = identity();
        let p = id.authenticate(&Credentials::bearer("key-one")).await.unwrap();
        assert_eq!(p.models, Some(["b".to_owned()].into()), "key list ∩ tier list");
        let q = id.authenticate(&Credentials::bearer("key-two")).await.unwrap();
        assert_eq!(q.models, Some(BTreeSet::new()));
    }

    #[tokio::test]
    async fn t02_no_credential_shape_falls_back_to_an_anonymous_principal() {
        let id = identity();
        let basic = Credentials {
            basic: Some(smartflow_core::BasicCredentials { user: "u".into(), password: "p".into() }),
            ..Credentials::default()
        };
        for c in [
            Credentials::default(),
            Credentials::bearer(""),
            Credentials::bearer("a.b.c"),
            Credentials::bearer("eyJhbGciOiJub25lIn0.e30."),
            Credentials::bearer("' OR '1'='1"),
            basic,
        ] {
            let e = id.authenticate(&c).await.unwrap_err();
            assert_eq!(e.status_code(), 401, "{c:?}");
        }
    }
}
