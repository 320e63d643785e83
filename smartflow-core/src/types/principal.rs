//! `Principal`: who is calling, as every policy sees it.

use std::collections::BTreeMap;

use serde::Serialize;

/// The authenticated caller. Only an `Authenticator` makes one; there is no anonymous principal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Principal {
    /// The credential's id (never the credential itself).
    pub key_id: String,
    /// The end user, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The team.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    /// The department: the information-barrier segment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub department: Option<String>,
    /// Group memberships.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    /// The model tier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier: Option<String>,
    /// Free-form attributes.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, String>,
    /// The virtual models this caller may use; `None` allows every model. Routing refuses any
    /// other model (403) and `/v1/models` lists only these.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub models: Option<std::collections::BTreeSet<String>>,
    /// Whether this caller may use the admin API beyond its own key (`/api/me`). Only an
    /// authenticator grants it: an admin key, or a configured JWT or LDAP group.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub admin: bool,
}

impl Principal {
    /// Whether this caller may use the virtual model `name`.
    pub fn may_use(&self, name: &str) -> bool {
        self.models.as_ref().is_none_or(|m| m.contains(name))
    }

    /// A principal with only a key id.
    pub fn new(key_id: impl Into<String>) -> Self {
        Self {
            key_id: key_id.into(),
            user: None,
            team: None,
            department: None,
            groups: Vec::new(),
            tier: None,
            tags: BTreeMap::new(),
            models: None,
            admin: false,
        }
    }
}
