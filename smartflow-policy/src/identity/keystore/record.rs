//! What is stored for a key ([`KeyRecord`], never the secret, and its hash only in the
//! internal storage envelope), what a lookup returns ([`KeyEntry`]), and how secrets and ids
//! are minted.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use ring::rand::{SecureRandom, SystemRandom};
use serde::{Deserialize, Serialize};
use smartflow_core::Principal;

use super::error::KeyStoreError;
use super::spec::KeySpec;
use crate::governance::spec::Limit;
use crate::identity::KeyHash;

/// A key as the admin API shows it: attributes and lifecycle, never the secret or its hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeyRecord {
    /// The key's id (`key_` and 20 hex digits); what logs, audit and limits name.
    pub id: String,
    /// The secret's first 7 characters (`sf-AbCd`), for humans to recognise a key.
    pub prefix: String,
    /// A human label.
    #[serde(default)]
    pub name: Option<String>,
    /// The end user.
    #[serde(default)]
    pub user: Option<String>,
    /// The team.
    #[serde(default)]
    pub team: Option<String>,
    /// The department.
    #[serde(default)]
    pub department: Option<String>,
    /// Group memberships.
    #[serde(default)]
    pub groups: Vec<String>,
    /// The model tier.
    #[serde(default)]
    pub tier: Option<String>,
    /// Free-form attributes.
    #[serde(default)]
    pub tags: BTreeMap<String, String>,
    /// The virtual models the key may use; `None` allows every model.
    #[serde(default)]
    pub models: Option<BTreeSet<String>>,
    /// Whether the key may use the admin API.
    #[serde(default)]
    pub admin: bool,
    /// Limits of the key.
    #[serde(default)]
    pub limits: Vec<Limit>,
    /// Expiry (unix seconds).
    #[serde(default)]
    pub expires_at: Option<u64>,
    /// Creation time (unix seconds).
    pub created_at: u64,
    /// Last change (unix seconds).
    pub updated_at: u64,
    /// Revocation time; a revoked key never works again.
    #[serde(default)]
    pub revoked_at: Option<u64>,
    /// Last rotation time.
    #[serde(default)]
    pub rotated_at: Option<u64>,
}

impl KeyRecord {
    pub(crate) fn new(id: String, prefix: String, spec: KeySpec, now: u64) -> Self {
        let KeySpec { name, user, team, department, groups, tier, tags, models, admin, limits, expires_at } = spec;
        Self {
            id,
            prefix,
            name,
            user,
            team,
            department,
            groups,
            tier,
            tags,
            models,
            admin,
            limits,
            expires_at,
            created_at: now,
            updated_at: now,
            revoked_at: None,
            rotated_at: None,
        }
    }

    /// The attributes of this key as a spec.
    pub fn spec(&self) -> KeySpec {
        KeySpec {
            name: self.name.clone(),
            user: self.user.clone(),
            team: self.team.clone(),
            department: self.department.clone(),
            groups: self.groups.clone(),
            tier: self.tier.clone(),
            tags: self.tags.clone(),
            models: self.models.clone(),
            admin: self.admin,
            limits: self.limits.clone(),
            expires_at: self.expires_at,
        }
    }

    /// Replaces the attributes with `spec`'s.
    pub(crate) fn set_spec(&mut self, spec: KeySpec) {
        let KeySpec { name, user, team, department, groups, tier, tags, models, admin, limits, expires_at } = spec;
        (self.name, self.user, self.team, self.department, self.groups) = (name, user, team, department, groups);
        (self.tier, self.tags, self.models, self.admin) = (tier, tags, models, admin);
        (self.limits, self.expires_at) = (limits, expires_at);
    }

    /// Whether the key is revoked.
    pub fn is_revoked(&self) -> bool {
        self.revoked_at.is_some()
    }

    /// The principal a request with this key acts as.
    pub fn principal(&self) -> Principal {
        let mut p = Principal::new(self.id.clone());
        p.user.clone_from(&self.user);
        p.team.clone_from(&self.team);
        p.department.clone_from(&self.department);
        p.groups.clone_from(&self.groups);
        p.tier.clone_from(&self.tier);
        p.tags.clone_from(&self.tags);
        p.models.clone_from(&self.models);
        p.admin = self.admin;
        p
    }

    pub(crate) fn entry(&self) -> Arc<KeyEntry> {
        Arc::new(KeyEntry {
            principal: Arc::new(self.principal()),
            limits: self.limits.as_slice().into(),
            expires_at: self.expires_at,
        })
    }
}

/// What a successful lookup yields: the caller, its limits and its expiry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEntry {
    /// Who the key stands for.
    pub principal: Arc<Principal>,
    /// The key's limits.
    pub limits: Arc<[Limit]>,
    /// Expiry (unix seconds).
    pub expires_at: Option<u64>,
}

impl KeyEntry {
    /// Whether the key has expired at `now` (unix seconds).
    pub fn is_expired(&self, now: u64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// The stored form of a record: the record plus the hash of its current secret. Only the
/// store reads this; nothing the admin API returns contains it.
#[derive(Deserialize)]
pub(crate) struct Stored {
    pub(crate) hash: String,
    pub(crate) record: KeyRecord,
}

impl Stored {
    pub(crate) fn encode(hash: KeyHash, record: &KeyRecord) -> Result<Vec<u8>, KeyStoreError> {
        #[derive(Serialize)]
        struct Ref<'a> {
            hash: String,
            record: &'a KeyRecord,
        }
        serde_json::to_vec(&Ref { hash: hash.to_string(), record }).map_err(|_| KeyStoreError::Internal)
    }

    pub(crate) fn decode(bytes: &[u8]) -> Result<(KeyHash, KeyRecord), KeyStoreError> {
        let s: Self = serde_json::from_slice(bytes).map_err(|_| KeyStoreError::Corrupt)?;
        let hash = KeyHash::parse(&s.hash).map_err(|_| KeyStoreError::Corrupt)?;
        Ok((hash, s.record))
    }
}

/// A new secret: `sf-` and 43 base64url characters over 32 random bytes.
pub(crate) fn new_secret(rng: &SystemRandom) -> Result<String, KeyStoreError> {
    let mut bytes = [0u8; 32];
    rng.fill(&mut bytes).map_err(|_| KeyStoreError::Internal)?;
    Ok(format!("sf-{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)))
}

/// The human-recognisable start of a secret (`sf-` and 4 characters).
pub(crate) fn prefix_of(secret: &str) -> String {
    secret.chars().take(7).collect()
}

/// A new key id: `key_` and 20 hex digits (80 random bits).
pub(crate) fn new_id(rng: &SystemRandom) -> Result<String, KeyStoreError> {
    let mut bytes = [0u8; 10];
    rng.fill(&mut bytes).map_err(|_| KeyStoreError::Internal)?;
    Ok(format!("key_{}", hex::encode(bytes)))
}

/// Now, in unix seconds.
pub(crate) fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}
