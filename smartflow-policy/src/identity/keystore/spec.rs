//! What an admin sends: [`KeySpec`] to create a key, [`KeyPatch`] to change one, [`KeyFilter`]
//! to list keys, and the validation every one of them passes before anything is stored.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Deserializer};

use super::error::KeyStoreError;
use crate::governance::spec::Limit;

/// Longest string accepted in a key's attributes, in bytes.
pub const MAX_FIELD_BYTES: usize = 256;
/// Most groups, tags, models or limits on one key.
pub const MAX_ITEMS: usize = 64;

/// The attributes of a new key: who it stands for, what it may use, how much, until when.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeySpec {
    /// A human label (`"ci pipeline"`).
    #[serde(default)]
    pub name: Option<String>,
    /// The end user the key belongs to.
    #[serde(default)]
    pub user: Option<String>,
    /// The team.
    #[serde(default)]
    pub team: Option<String>,
    /// The department (information-barrier segment).
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
    /// Rate limits, quotas and budgets of the key.
    #[serde(default)]
    pub limits: Vec<Limit>,
    /// When the key stops working (unix seconds); `None` never.
    #[serde(default)]
    pub expires_at: Option<u64>,
}

/// A change to a key: absent fields stay as they are; for optional attributes an explicit
/// `null` clears them (`"team": null`, `"models": null` allows every model again).
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyPatch {
    /// New label (`Some(None)` clears it).
    #[serde(default, deserialize_with = "present")]
    pub name: Option<Option<String>>,
    /// New user (`Some(None)` clears it).
    #[serde(default, deserialize_with = "present")]
    pub user: Option<Option<String>>,
    /// New team (`Some(None)` clears it).
    #[serde(default, deserialize_with = "present")]
    pub team: Option<Option<String>>,
    /// New department (`Some(None)` clears it).
    #[serde(default, deserialize_with = "present")]
    pub department: Option<Option<String>>,
    /// New groups, replacing the old ones.
    #[serde(default)]
    pub groups: Option<Vec<String>>,
    /// New tier (`Some(None)` clears it).
    #[serde(default, deserialize_with = "present")]
    pub tier: Option<Option<String>>,
    /// New tags, replacing the old ones.
    #[serde(default)]
    pub tags: Option<BTreeMap<String, String>>,
    /// New model allow-list (`Some(None)` allows every model).
    #[serde(default, deserialize_with = "present")]
    pub models: Option<Option<BTreeSet<String>>>,
    /// Grant or withdraw the admin API.
    #[serde(default)]
    pub admin: Option<bool>,
    /// New limits, replacing the old ones.
    #[serde(default)]
    pub limits: Option<Vec<Limit>>,
    /// New expiry (`Some(None)`: never expires); a new time must be in the future.
    #[serde(default, deserialize_with = "present")]
    pub expires_at: Option<Option<u64>>,
}

/// A present field, even `null`, is `Some(value)`; an absent one stays `None` (serde default).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(d: D) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// Which keys [`KeyStore::list`](super::KeyStore::list) returns: every given attribute must match.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    /// Only keys of this user.
    pub user: Option<String>,
    /// Only keys of this team.
    pub team: Option<String>,
    /// Only keys of this department.
    pub department: Option<String>,
    /// Revoked keys too.
    pub include_revoked: bool,
}

/// The attribute [`KeyStore::revoke_where`](super::KeyStore::revoke_where) matches on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyField {
    /// The key's user.
    User,
    /// The key's team.
    Team,
    /// The key's department.
    Department,
}

impl KeyField {
    /// The attribute's name (`user`, `team`, `department`).
    pub fn name(self) -> &'static str {
        match self {
            Self::User => "user",
            Self::Team => "team",
            Self::Department => "department",
        }
    }
}

impl KeySpec {
    /// Checks sizes and characters; with `now`, also that `expires_at` lies after it.
    pub fn validate(&self, now: Option<u64>) -> Result<(), KeyStoreError> {
        let fields = [
            ("name", &self.name),
            ("user", &self.user),
            ("team", &self.team),
            ("department", &self.department),
            ("tier", &self.tier),
        ];
        for (param, value) in fields {
            if let Some(v) = value {
                check_str(param, v)?;
            }
        }
        check_count("groups", self.groups.len())?;
        self.groups.iter().try_for_each(|g| check_str("groups", g))?;
        check_count("tags", self.tags.len())?;
        self.tags.iter().try_for_each(|(k, v)| check_str("tags", k).and_then(|()| check_tag_value(v)))?;
        if let Some(models) = &self.models {
            check_count("models", models.len())?;
            models.iter().try_for_each(|m| check_str("models", m))?;
        }
        check_count("limits", self.limits.len())?;
        if let (Some(now), Some(at)) = (now, self.expires_at)
            && at <= now
        {
            return Err(KeyStoreError::invalid("expires_at", "must be in the future"));
        }
        Ok(())
    }

    /// This spec with `patch` applied.
    pub(crate) fn patched(mut self, patch: KeyPatch) -> Self {
        let KeyPatch { name, user, team, department, groups, tier, tags, models, admin, limits, expires_at } = patch;
        let set = |slot: &mut Option<String>, v: Option<Option<String>>| {
            if let Some(v) = v {
                *slot = v;
            }
        };
        set(&mut self.name, name);
        set(&mut self.user, user);
        set(&mut self.team, team);
        set(&mut self.department, department);
        set(&mut self.tier, tier);
        self.groups = groups.unwrap_or(self.groups);
        self.tags = tags.unwrap_or(self.tags);
        self.models = models.unwrap_or(self.models);
        self.admin = admin.unwrap_or(self.admin);
        self.limits = limits.unwrap_or(self.limits);
        self.expires_at = expires_at.unwrap_or(self.expires_at);
        self
    }
}

fn check_count(param: &'static str, n: usize) -> Result<(), KeyStoreError> {
    if n > MAX_ITEMS { Err(KeyStoreError::invalid(param, "has more than 64 entries")) } else { Ok(()) }
}

/// An identifier-like string: not empty, at most 256 bytes, no control characters.
pub(crate) fn check_str(param: &'static str, v: &str) -> Result<(), KeyStoreError> {
    if v.is_empty() {
        return Err(KeyStoreError::invalid(param, "must not be empty"));
    }
    check_tag_value(v).map_err(|_| KeyStoreError::invalid(param, "is over 256 bytes or has control characters"))
}

fn check_tag_value(v: &str) -> Result<(), KeyStoreError> {
    if v.len() > MAX_FIELD_BYTES || v.chars().any(char::is_control) {
        return Err(KeyStoreError::invalid("tags", "is over 256 bytes or has control characters"));
    }
    Ok(())
}
