//! `StaticKeys`: virtual keys from configuration, stored and looked up by hash only.

use std::collections::HashMap;
use std::sync::Arc;

use async_trait::async_trait;
use smartflow_core::auth::unauthenticated;
use smartflow_core::{Authenticator, Credentials, Error, Principal};

use super::key_hash::{KeyHash, MAX_KEY_BYTES};

/// One configured key: its hash and the principal it stands for.
#[derive(Debug, Clone)]
pub struct StaticKey {
    /// SHA-256 of the key.
    pub hash: KeyHash,
    /// Who presents it.
    pub principal: Principal,
}

/// An authenticator over a fixed set of hashed keys.
#[derive(Debug, Clone, Default)]
pub struct StaticKeys {
    by_hash: HashMap<KeyHash, Arc<Principal>>,
}

impl StaticKeys {
    /// The set of `keys`; a duplicate hash keeps the last one.
    pub fn new(keys: impl IntoIterator<Item = StaticKey>) -> Self {
        Self { by_hash: keys.into_iter().map(|k| (k.hash, Arc::new(k.principal))).collect() }
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.by_hash.len()
    }

    /// Whether there are no keys (every request is refused).
    pub fn is_empty(&self) -> bool {
        self.by_hash.is_empty()
    }

    /// Looks up a key.
    pub fn lookup(&self, key: &str) -> Option<&Arc<Principal>> {
        if key.is_empty() || key.len() > MAX_KEY_BYTES || key.bytes().any(|b| b.is_ascii_control()) {
            return None;
        }
        self.by_hash.get(&KeyHash::of(key))
    }
}

#[async_trait]
impl Authenticator for StaticKeys {
    async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        credentials.token().and_then(|t| self.lookup(t)).cloned().ok_or_else(unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn only_known_keys_pass() {
        let keys = StaticKeys::new([StaticKey { hash: KeyHash::of("good"), principal: Principal::new("k1") }]);
        let creds = |t: &str| Credentials::bearer(t);
        assert_eq!(keys.authenticate(&creds("good")).await.map(|p| p.key_id.clone()).ok().as_deref(), Some("k1"));
        for bad in ["", "goo", "good ", "' OR '1'='1", "a\0b", &"x".repeat(64 << 10)] {
            let e = keys.authenticate(&creds(bad)).await.err();
            assert_eq!(e.map(|e| e.status_code()), Some(401), "{bad:?}");
        }
        assert!(keys.authenticate(&Credentials::default()).await.is_err());
    }
}
