//! The success cache: recent logins, keyed by a keyed hash of user and password.
//!
//! The key is HMAC-SHA-256 under a random per-process key over `user NUL password`, so the cache
//! holds no password nor an offline-guessable hash of one. Only successes are stored: a wrong
//! password has another key and always goes to the directory, and failures are never remembered
//! (so a typo cannot lock a user out, and an account created a moment ago works at once).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ring::hmac;
use smartflow_core::Principal;
use tokio::time::Instant;

/// A cache key: the HMAC tag, never the password.
pub(super) type CacheKey = [u8; 32];

/// Bounded, time-limited map from `CacheKey` to principal. All entries share one TTL, so
/// insertion order is expiry order and eviction is FIFO.
pub(super) struct SuccessCache {
    key: hmac::Key,
    ttl: Duration,
    max_entries: usize,
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    map: HashMap<CacheKey, (Arc<Principal>, Instant)>,
    order: VecDeque<(CacheKey, Instant)>,
}

impl SuccessCache {
    /// A cache with a fresh random HMAC key; `None` when the system RNG fails.
    pub(super) fn new(ttl: Duration, max_entries: usize) -> Option<Self> {
        let key = hmac::Key::generate(hmac::HMAC_SHA256, &ring::rand::SystemRandom::new()).ok()?;
        Some(Self { key, ttl, max_entries, inner: Mutex::default() })
    }

    fn enabled(&self) -> bool {
        !self.ttl.is_zero() && self.max_entries > 0
    }

    /// The key for one user and password.
    pub(super) fn key(&self, user: &str, password: &str) -> CacheKey {
        let mut ctx = hmac::Context::with_key(&self.key);
        ctx.update(user.as_bytes());
        ctx.update(&[0]);
        ctx.update(password.as_bytes());
        let mut out = [0; 32];
        out.copy_from_slice(ctx.sign().as_ref());
        out
    }

    /// The principal of an unexpired login.
    pub(super) fn get(&self, key: &CacheKey) -> Option<Arc<Principal>> {
        if !self.enabled() {
            return None;
        }
        let now = Instant::now();
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        match inner.map.get(key) {
            Some((principal, expiry)) if *expiry > now => Some(Arc::clone(principal)),
            Some(_) => {
                inner.map.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers a successful login, evicting expired entries, then the oldest ones.
    pub(super) fn insert(&self, key: CacheKey, principal: Arc<Principal>) {
        if !self.enabled() {
            return;
        }
        let now = Instant::now();
        let expiry = now + self.ttl;
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let Inner { map, order } = &mut *inner;
        while let Some(&(old, old_expiry)) = order.front() {
            if old_expiry > now && map.len() < self.max_entries {
                break;
            }
            order.pop_front();
            // A key inserted again has a later expiry in the map: only its last queue slot counts.
            if map.get(&old).is_some_and(|(_, e)| *e == old_expiry) {
                map.remove(&old);
            }
        }
        map.insert(key, (principal, expiry));
        order.push_back((key, expiry));
    }

    /// Number of remembered logins (expired ones included until evicted).
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner).map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_depend_on_user_password_and_process_key() {
        let cache = SuccessCache::new(Duration::from_secs(60), 10).unwrap();
        let k = cache.key("alice", "pw");
        assert_eq!(k, cache.key("alice", "pw"));
        assert_ne!(k, cache.key("alice", "pw2"));
        assert_ne!(k, cache.key("alicep", "w"), "the NUL separator keeps user and password apart");
        assert_ne!(k, SuccessCache::new(Duration::from_secs(60), 10).unwrap().key("alice", "pw"));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_and_the_size_is_bounded() {
        let cache = SuccessCache::new(Duration::from_secs(60), 3).unwrap();
        let p = Arc::new(Principal::new("ldap:x"));
        for i in 0..10 {
            cache.insert(cache.key(&format!("u{i}"), "pw"), Arc::clone(&p));
            assert!(cache.len() <= 3);
        }
        assert!(cache.get(&cache.key("u9", "pw")).is_some());
        assert!(cache.get(&cache.key("u0", "pw")).is_none(), "oldest evicted");

        let short = SuccessCache::new(Duration::from_millis(20), 3).unwrap();
        short.insert(short.key("a", "pw"), Arc::clone(&p));
        assert!(short.get(&short.key("a", "pw")).is_some());
        tokio::time::advance(Duration::from_millis(40)).await;
        assert!(short.get(&short.key("a", "pw")).is_none());

        let off = SuccessCache::new(Duration::ZERO, 3).unwrap();
        off.insert(off.key("a", "pw"), p);
        assert!(off.get(&off.key("a", "pw")).is_none());
    }
}
