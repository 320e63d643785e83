//! `LdapAuthenticator` against a real OpenLDAP `slapd`, started per test on an ephemeral loopback
//! port with a throw-away configuration (tests/ldap/slapd.conf.in) and directory
//! (tests/ldap/fixtures.ldif: alice, bob, the `svc` search account, three groups).
//!
//! Needs `/usr/sbin/slapd` and `ldapadd` (scripts/slapd-test-deps.sh installs them). Without them
//! each test prints a skip note and passes, unless `SMARTFLOW_REQUIRE_SLAPD=1` makes it fail.

#![expect(clippy::unwrap_used, clippy::panic, reason = "test support code: a failed set-up step is a failed test")]

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::time::Duration;

use smartflow_core::{Authenticator, BasicCredentials, Credentials, Error, Principal};
use smartflow_policy::identity::{LdapAuthenticator, LdapConfig};

#[path = "ldap/slapd.rs"]
mod slapd;

use slapd::{Slapd, free_port};

/// The mapping used throughout: department, team and tier attributes, one admin group.
fn mapped(config: LdapConfig) -> LdapConfig {
    LdapConfig {
        group_base: Some("ou=groups,dc=example,dc=org".to_owned()),
        member_of: false,
        department_attribute: Some("departmentNumber".to_owned()),
        team_attribute: Some("ou".to_owned()),
        tier_attribute: Some("employeeType".to_owned()),
        admin_groups: vec!["gateway-admins".to_owned()],
        timeout: Duration::from_secs(3),
        ..config
    }
}

/// Search-then-bind with the `svc` account.
fn search_then_bind(url: &str) -> LdapConfig {
    mapped(LdapConfig {
        bind_password: Some("svc-password".into()),
        ..LdapConfig::search_then_bind(url, "uid=svc,ou=services,dc=example,dc=org", "ou=people,dc=example,dc=org")
    })
}

/// Direct bind as `uid={user},ou=people,...`.
fn direct_bind(url: &str) -> LdapConfig {
    mapped(LdapConfig::direct_bind(url, "uid={user},ou=people,dc=example,dc=org"))
}

fn basic(user: &str, password: &str) -> Credentials {
    Credentials {
        basic: Some(BasicCredentials { user: user.to_owned(), password: password.to_owned() }),
        ..Default::default()
    }
}

async fn login(auth: &LdapAuthenticator, user: &str, password: &str) -> Result<Arc<Principal>, Error> {
    auth.authenticate(&basic(user, password)).await
}

/// The HTTP status of a refused login (panics on success).
async fn refused(auth: &LdapAuthenticator, user: &str, password: &str) -> Error {
    match login(auth, user, password).await {
        Ok(p) => panic!("{user:?} was accepted as {p:?}"),
        Err(e) => e,
    }
}

/// ESTABLISHED TCP connections (any process in this network namespace) to `port`.
fn open_connections_to(port: u16) -> usize {
    let needle = format!(":{port:04X}");
    ["/proc/net/tcp", "/proc/net/tcp6"]
        .iter()
        .filter_map(|p| std::fs::read_to_string(p).ok())
        .flat_map(|t| t.lines().skip(1).map(str::to_owned).collect::<Vec<_>>())
        .filter(|line| {
            let cols: Vec<&str> = line.split_whitespace().collect();
            cols.len() > 3 && cols[2].ends_with(&needle) && cols[3] == "01"
        })
        .count()
}

#[tokio::test]
async fn correct_password_yields_principal_with_groups_department_and_admin() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    let p = login(&auth, "alice", "alice-password").await.unwrap();
    assert_eq!(p.key_id, "ldap:alice");
    assert_eq!(p.user.as_deref(), Some("alice"));
    assert_eq!(p.groups, ["analysts", "gateway-admins"]);
    assert_eq!(p.department.as_deref(), Some("risk"));
    assert_eq!(p.team.as_deref(), Some("model-risk"));
    assert_eq!(p.tier.as_deref(), Some("gold"));
    assert!(p.admin, "member of gateway-admins");
}

#[tokio::test]
async fn bob_gets_his_group_and_department_and_is_not_admin() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    let p = login(&auth, "bob", "bob-password").await.unwrap();
    assert_eq!(p.key_id, "ldap:bob");
    assert_eq!(p.groups, ["traders"]);
    assert_eq!(p.department.as_deref(), Some("trading"));
    assert_eq!(p.tier, None, "bob has no employeeType");
    assert!(!p.admin);
}

#[tokio::test]
async fn wrong_password_is_401() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    assert_eq!(refused(&auth, "alice", "bob-password").await.status_code(), 401);
    assert_eq!(refused(&auth, "alice", "alice-password ").await.status_code(), 401);
}

#[tokio::test]
async fn unknown_user_is_the_same_401_as_a_wrong_password() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    let unknown = refused(&auth, "mallory", "alice-password").await;
    let wrong = refused(&auth, "alice", "wrong").await;
    assert_eq!(unknown.status_code(), 401);
    assert_eq!((unknown.message(), unknown.code()), (wrong.message(), wrong.code()), "indistinguishable");
    // The service account lives outside user_base: it is not a gateway user.
    assert_eq!(refused(&auth, "svc", "svc-password").await.status_code(), 401);
}

#[tokio::test]
async fn empty_password_is_401_without_contacting_the_server() {
    // Nothing listens there: a login that reached the network would be a 503.
    let url = format!("ldap://127.0.0.1:{}", free_port());
    let auth = LdapAuthenticator::new(search_then_bind(&url)).unwrap();
    assert_eq!(refused(&auth, "alice", "").await.status_code(), 401);
    assert_eq!(refused(&auth, "", "alice-password").await.status_code(), 401);
    assert_eq!(refused(&auth, &"a".repeat(257), "alice-password").await.status_code(), 401);
    assert_eq!(refused(&auth, "ali\0ce", "alice-password").await.status_code(), 401);
    assert_eq!(refused(&auth, "alice", "alice-password").await.status_code(), 503, "the control case");
    let direct = LdapAuthenticator::new(direct_bind(&url)).unwrap();
    assert_eq!(refused(&direct, "alice", "").await.status_code(), 401);
}

#[tokio::test]
async fn filter_injection_in_the_user_name_is_401() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    // Unescaped, `al*` would find alice alone and her password would then bind.
    for user in ["*)(uid=*", "al*", "*", "alice)(|(uid=*", "alice\\", "(uid=alice)"] {
        assert_eq!(refused(&auth, user, "alice-password").await.status_code(), 401, "{user:?}");
    }
}

#[tokio::test]
async fn member_of_supplies_groups_without_a_group_search() {
    let Some(slapd) = Slapd::start() else { return };
    let config = LdapConfig { group_base: None, member_of: true, ..search_then_bind(&slapd.url()) };
    let auth = LdapAuthenticator::new(config).unwrap();
    let p = login(&auth, "alice", "alice-password").await.unwrap();
    assert_eq!(p.groups, ["analysts", "gateway-admins"]);
    assert!(p.admin);
}

#[tokio::test]
async fn user_name_takes_the_directory_spelling() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    let p = login(&auth, "ALICE", "alice-password").await.unwrap();
    assert_eq!((p.key_id.as_str(), p.user.as_deref()), ("ldap:alice", Some("alice")));
}

#[tokio::test]
async fn direct_bind_template_mode_authenticates_and_refuses() {
    let Some(slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(direct_bind(&slapd.url())).unwrap();
    let p = login(&auth, "alice", "alice-password").await.unwrap();
    assert_eq!(p.key_id, "ldap:alice");
    assert_eq!(p.groups, ["analysts", "gateway-admins"]);
    assert_eq!(p.department.as_deref(), Some("risk"));
    assert!(p.admin);
    assert_eq!(login(&auth, "bob", "bob-password").await.unwrap().groups, ["traders"]);
    assert_eq!(refused(&auth, "alice", "wrong").await.status_code(), 401);
    assert_eq!(refused(&auth, "mallory", "alice-password").await.status_code(), 401);
    // DN injection: escaped, this names no entry.
    for user in ["alice,ou=people", "svc,ou=services", "alice+cn=x", "*"] {
        assert_eq!(refused(&auth, user, "alice-password").await.status_code(), 401, "{user:?}");
    }
}

#[tokio::test]
async fn cached_login_survives_an_outage_but_a_wrong_password_is_never_served_from_cache() {
    let Some(mut slapd) = Slapd::start() else { return };
    let auth = LdapAuthenticator::new(search_then_bind(&slapd.url())).unwrap();
    let first = login(&auth, "alice", "alice-password").await.unwrap();
    slapd.stop();
    let again = login(&auth, "alice", "alice-password").await.unwrap();
    assert!(Arc::ptr_eq(&first, &again), "served from the cache");
    assert_eq!(refused(&auth, "alice", "wrong").await.status_code(), 503, "a wrong password goes to the directory");
    assert_eq!(refused(&auth, "bob", "bob-password").await.status_code(), 503, "bob was never cached");
}

#[tokio::test]
async fn zero_ttl_disables_the_cache() {
    let Some(mut slapd) = Slapd::start() else { return };
    let auth =
        LdapAuthenticator::new(LdapConfig { cache_ttl: Duration::ZERO, ..search_then_bind(&slapd.url()) }).unwrap();
    login(&auth, "alice", "alice-password").await.unwrap();
    slapd.stop();
    assert_eq!(refused(&auth, "alice", "alice-password").await.status_code(), 503);
}

#[tokio::test]
async fn directory_down_is_503_in_both_modes() {
    let url = format!("ldap://127.0.0.1:{}", free_port());
    for config in [search_then_bind(&url), direct_bind(&url)] {
        let err = refused(&LdapAuthenticator::new(config).unwrap(), "alice", "alice-password").await;
        assert_eq!((err.status_code(), err.code()), (503, Some("identity_unavailable")));
    }
}

#[tokio::test]
async fn silent_directory_times_out_as_503() {
    // Accepts TCP connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("ldap://{}", listener.local_addr().unwrap());
    let config = LdapConfig { timeout: Duration::from_millis(300), ..search_then_bind(&url) };
    let auth = LdapAuthenticator::new(config).unwrap();
    let started = tokio::time::Instant::now();
    assert_eq!(refused(&auth, "alice", "alice-password").await.status_code(), 503);
    assert!(started.elapsed() < Duration::from_secs(2), "bounded by the timeout");
    drop(listener);
}

#[tokio::test]
async fn wrong_service_account_password_is_503_not_401() {
    let Some(slapd) = Slapd::start() else { return };
    let config = LdapConfig { bind_password: Some("not-the-password".into()), ..search_then_bind(&slapd.url()) };
    let auth = LdapAuthenticator::new(config).unwrap();
    assert_eq!(refused(&auth, "alice", "alice-password").await.status_code(), 503);
}

#[tokio::test]
async fn no_connection_stays_open_after_any_outcome() {
    let Some(slapd) = Slapd::start() else { return };
    let probe = TcpStream::connect(("127.0.0.1", slapd.port)).unwrap();
    assert_eq!(open_connections_to(slapd.port), 1, "the probe sees an open connection");
    drop(probe);
    for config in [search_then_bind(&slapd.url()), direct_bind(&slapd.url())] {
        let auth = LdapAuthenticator::new(LdapConfig { cache_ttl: Duration::ZERO, ..config }).unwrap();
        login(&auth, "alice", "alice-password").await.unwrap();
        refused(&auth, "alice", "wrong").await;
        refused(&auth, "mallory", "x").await;
    }
    let bad_service = LdapConfig { bind_password: Some("nope".into()), ..search_then_bind(&slapd.url()) };
    refused(&LdapAuthenticator::new(bad_service).unwrap(), "alice", "alice-password").await;
    let mut open = usize::MAX;
    for _ in 0..50 {
        open = open_connections_to(slapd.port);
        if open == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(open, 0, "connections to slapd still open");
}
