//! `LdapConfig`: where the directory is, how users and groups are found, and how their attributes
//! map onto a `Principal`.

use std::fmt;
use std::time::Duration;

use ldap3::LdapConnSettings;
use secrecy::SecretString;

/// How `LdapAuthenticator` reaches and reads the directory.
///
/// Two modes: with `bind_dn` + `bind_password` (a service account) it searches the user under
/// `user_base` with `user_filter`, then binds as the entry found with the user's password
/// ("search-then-bind"); without them it binds directly as `user_dn_template` filled with the
/// (DN-escaped) user name.
#[derive(Clone)]
pub struct LdapConfig {
    /// `ldap://host[:port]` or `ldaps://host[:port]`.
    pub url: String,
    /// Upgrades an `ldap://` connection with StartTLS before binding.
    pub starttls: bool,
    /// Permits binds over plain `ldap://` without StartTLS to a host that is not the loopback
    /// interface (passwords would cross the network in clear). Off by default.
    pub allow_plaintext: bool,
    /// Base connection settings, for TLS options: for a private CA, pass
    /// `LdapConnSettings::new().set_config(Arc::new(rustls_client_config))`. The timeout and
    /// `starttls` fields of this config are applied on top.
    pub tls_settings: Option<LdapConnSettings>,
    /// The service account's DN (search-then-bind mode).
    pub bind_dn: Option<String>,
    /// The service account's password (never logged or shown by `Debug`).
    pub bind_password: Option<SecretString>,
    /// The user's DN with a `{user}` placeholder (direct-bind mode), e.g.
    /// `uid={user},ou=people,dc=example,dc=org`; the user name is escaped per RFC 4514.
    pub user_dn_template: Option<String>,
    /// Where users are searched (search-then-bind mode), e.g. `ou=people,dc=example,dc=org`.
    pub user_base: String,
    /// The user search filter with a `{user}` placeholder (escaped per RFC 4515). Default
    /// `(uid={user})`.
    pub user_filter: String,
    /// The attribute holding the canonical user name (e.g. `uid`, `sAMAccountName`): when the
    /// entry has a value equal to the login name up to ASCII case, that value becomes the
    /// principal's user, so `Alice` and `alice` are one principal. Default `uid`.
    pub user_name_attribute: Option<String>,
    /// Where groups are searched; `None` skips the group search (groups then come from
    /// `memberOf` only).
    pub group_base: Option<String>,
    /// The group search filter: `{dn}` is the user's DN and `{user}` the user name, both escaped
    /// per RFC 4515. Default `(member={dn})`.
    pub group_filter: String,
    /// The attribute naming a group. Default `cn`.
    pub group_name_attribute: String,
    /// Reads `memberOf` on the user entry (group DNs, named by their first RDN value). Default on.
    pub member_of: bool,
    /// The attribute giving the department (e.g. `departmentNumber` or `ou`).
    pub department_attribute: Option<String>,
    /// The attribute giving the team.
    pub team_attribute: Option<String>,
    /// The attribute giving the model tier.
    pub tier_attribute: Option<String>,
    /// Groups (names or full DNs, compared ignoring ASCII case) whose members are admins.
    pub admin_groups: Vec<String>,
    /// Deadline for one whole login (connect, binds, searches). Default 5 s.
    pub timeout: Duration,
    /// How long a successful login is remembered; zero disables the cache. Default 60 s. A
    /// password changed or an account disabled in the directory keeps working for up to this
    /// long.
    pub cache_ttl: Duration,
    /// Bound on remembered logins. Default 10,000.
    pub max_cache_entries: usize,
}

impl LdapConfig {
    /// A search-then-bind configuration with the defaults, to be completed with
    /// `bind_password` and the attribute mapping.
    pub fn search_then_bind(url: impl Into<String>, bind_dn: impl Into<String>, user_base: impl Into<String>) -> Self {
        Self { bind_dn: Some(bind_dn.into()), user_base: user_base.into(), ..Self::with_url(url) }
    }

    /// A direct-bind configuration: the user binds as `user_dn_template` filled with its name.
    pub fn direct_bind(url: impl Into<String>, user_dn_template: impl Into<String>) -> Self {
        Self { user_dn_template: Some(user_dn_template.into()), ..Self::with_url(url) }
    }

    fn with_url(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            starttls: false,
            allow_plaintext: false,
            tls_settings: None,
            bind_dn: None,
            bind_password: None,
            user_dn_template: None,
            user_base: String::new(),
            user_filter: "(uid={user})".to_owned(),
            user_name_attribute: Some("uid".to_owned()),
            group_base: None,
            group_filter: "(member={dn})".to_owned(),
            group_name_attribute: "cn".to_owned(),
            member_of: true,
            department_attribute: None,
            team_attribute: None,
            tier_attribute: None,
            admin_groups: Vec::new(),
            timeout: Duration::from_secs(5),
            cache_ttl: Duration::from_secs(60),
            max_cache_entries: 10_000,
        }
    }

    /// Checks the configuration is usable; `LdapAuthenticator::new` calls it.
    pub fn validate(&self) -> Result<(), LdapConfigError> {
        let bad = |why: &str| Err(LdapConfigError::new(why));
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", ""));
        let host = host_of(rest);
        match scheme.to_ascii_lowercase().as_str() {
            "ldaps" if self.starttls => return bad("`starttls` applies to ldap:// URLs, not ldaps://"),
            "ldaps" => {}
            "ldap" if !self.allow_plaintext && self.plaintext_to_remote_host() => {
                return bad(
                    "plain ldap:// to a remote host sends passwords in clear: use ldaps://, starttls, or allow_plaintext",
                );
            }
            "ldap" => {}
            _ => return bad("url must start with ldap:// or ldaps://"),
        }
        if host.is_empty() {
            return bad("url has no host");
        }
        match (&self.bind_dn, &self.bind_password, &self.user_dn_template) {
            (Some(dn), Some(_), None) if !dn.is_empty() => {
                if !self.user_filter.contains("{user}") {
                    return bad("user_filter must contain {user}");
                }
            }
            (None, None, Some(template)) if template.contains("{user}") => {}
            (None, None, Some(_)) => return bad("user_dn_template must contain {user}"),
            (Some(_), None, _) | (None, Some(_), _) => return bad("bind_dn and bind_password go together"),
            (Some(_), Some(_), Some(_)) => {
                return bad("set either bind_dn/bind_password or user_dn_template, not both");
            }
            _ => return bad("set bind_dn/bind_password (search-then-bind) or user_dn_template (direct bind)"),
        }
        if self.group_base.is_some() && !self.group_filter.contains("{dn}") && !self.group_filter.contains("{user}") {
            return bad("group_filter must contain {dn} or {user}");
        }
        if self.timeout.is_zero() {
            return bad("timeout must be positive");
        }
        if !self.cache_ttl.is_zero() && self.max_cache_entries == 0 {
            return bad("max_cache_entries must be positive when the cache is on");
        }
        Ok(())
    }
}

impl LdapConfig {
    /// Whether binds go over plain `ldap://` (no StartTLS) to a host other than loopback.
    pub(super) fn plaintext_to_remote_host(&self) -> bool {
        let (scheme, rest) = self.url.split_once("://").unwrap_or(("", ""));
        scheme.eq_ignore_ascii_case("ldap") && !self.starttls && !is_loopback(host_of(rest))
    }
}

/// The host part of `host[:port][/dn...]`, without brackets for IPv6.
fn host_of(rest: &str) -> &str {
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    if let Some(v6) = authority.strip_prefix('[') {
        return v6.split(']').next().unwrap_or("");
    }
    authority.rsplit_once(':').map_or(authority, |(h, _)| h)
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost") || host.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

impl fmt::Debug for LdapConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LdapConfig")
            .field("url", &self.url)
            .field("starttls", &self.starttls)
            .field("allow_plaintext", &self.allow_plaintext)
            .field("tls_settings", &self.tls_settings.as_ref().map(|_| "custom"))
            .field("bind_dn", &self.bind_dn)
            .field("bind_password", &self.bind_password.as_ref().map(|_| "<redacted>"))
            .field("user_dn_template", &self.user_dn_template)
            .field("user_base", &self.user_base)
            .field("user_filter", &self.user_filter)
            .field("user_name_attribute", &self.user_name_attribute)
            .field("group_base", &self.group_base)
            .field("group_filter", &self.group_filter)
            .field("group_name_attribute", &self.group_name_attribute)
            .field("member_of", &self.member_of)
            .field("department_attribute", &self.department_attribute)
            .field("team_attribute", &self.team_attribute)
            .field("tier_attribute", &self.tier_attribute)
            .field("admin_groups", &self.admin_groups)
            .field("timeout", &self.timeout)
            .field("cache_ttl", &self.cache_ttl)
            .field("max_cache_entries", &self.max_cache_entries)
            .finish()
    }
}

/// An unusable `LdapConfig`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid LDAP configuration: {0}")]
pub struct LdapConfigError(String);

impl LdapConfigError {
    pub(super) fn new(why: impl Into<String>) -> Self {
        Self(why.into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn svc(url: &str) -> LdapConfig {
        LdapConfig {
            bind_password: Some("pw".into()),
            ..LdapConfig::search_then_bind(url, "cn=svc,dc=x", "ou=people,dc=x")
        }
    }

    #[test]
    fn urls_and_modes_are_checked() {
        assert!(svc("ldap://127.0.0.1:389").validate().is_ok());
        assert!(svc("ldap://[::1]:389").validate().is_ok());
        assert!(svc("ldaps://dc.example.org").validate().is_ok());
        assert!(svc("ldap://dc.example.org").validate().is_err(), "plain LDAP to a remote host");
        assert!(LdapConfig { starttls: true, ..svc("ldap://dc.example.org") }.validate().is_ok());
        assert!(LdapConfig { allow_plaintext: true, ..svc("ldap://dc.example.org") }.validate().is_ok());
        assert!(svc("http://dc.example.org").validate().is_err());
        assert!(LdapConfig { bind_password: None, ..svc("ldaps://h") }.validate().is_err());
        assert!(LdapConfig { user_filter: "(uid=alice)".into(), ..svc("ldaps://h") }.validate().is_err());
        assert!(LdapConfig::direct_bind("ldaps://h", "uid={user},dc=x").validate().is_ok());
        assert!(LdapConfig::direct_bind("ldaps://h", "uid=alice,dc=x").validate().is_err());
        let neither = LdapConfig { user_dn_template: None, ..LdapConfig::direct_bind("ldaps://h", "x") };
        assert!(neither.validate().is_err(), "no anonymous mode");
    }

    #[test]
    fn debug_hides_the_bind_password() {
        let text =
            format!("{:?}", LdapConfig { bind_password: Some("hunter2-very-secret".into()), ..svc("ldaps://h") });
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("<redacted>"));
    }
}
