//! A throw-away OpenLDAP `slapd` for tests, shared by `smartflow-policy/tests/ldap.rs` and the
//! daemon's integration tests (included with `#[path]`): started on an ephemeral loopback port
//! with the configuration and fixtures beside this file (alice, bob, the `svc` search account,
//! three groups), killed on drop.
//!
//! Needs `/usr/sbin/slapd` and `ldapadd` (scripts/slapd-test-deps.sh installs them). Without
//! them `Slapd::start` prints a skip note and returns `None`, unless `SMARTFLOW_REQUIRE_SLAPD=1`
//! makes it fail.

use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Where the configuration template and fixtures are, from either crate.
const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../smartflow-policy/tests/ldap");
const SLAPD: &str = "/usr/sbin/slapd";
const LDAPADD: &str = "/usr/bin/ldapadd";

/// A running `slapd` with the fixtures loaded; killed (and its files removed) on drop.
pub(crate) struct Slapd {
    child: Option<Child>,
    /// The loopback port it listens on.
    pub(crate) port: u16,
    _dir: tempfile::TempDir,
}

impl Slapd {
    /// A fresh directory server, or `None` (after a note on stderr) when slapd is not installed.
    pub(crate) fn start() -> Option<Self> {
        if !Path::new(SLAPD).exists() || !Path::new(LDAPADD).exists() {
            let why = format!("{SLAPD} or {LDAPADD} is missing: run scripts/slapd-test-deps.sh");
            if std::env::var("SMARTFLOW_REQUIRE_SLAPD").as_deref() == Ok("1") {
                panic!("SMARTFLOW_REQUIRE_SLAPD=1 but {why}");
            }
            eprintln!("skipping LDAP test: {why}");
            return None;
        }
        let mut failures = Vec::new();
        // The probed port may be taken again before slapd binds it: retry with another one.
        for _ in 0..5 {
            match Self::try_start() {
                Ok(slapd) => return Some(slapd),
                Err(log) => failures.push(log),
            }
        }
        panic!("slapd did not start: {failures:#?}");
    }

    fn try_start() -> Result<Self, String> {
        let fixtures = Path::new(FIXTURES);
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("db")).unwrap();
        let template = std::fs::read_to_string(fixtures.join("slapd.conf.in")).unwrap();
        let conf = dir.path().join("slapd.conf");
        std::fs::write(&conf, template.replace("@DIR@", dir.path().to_str().unwrap())).unwrap();
        let log = dir.path().join("slapd.log");
        let port = free_port();
        let child = Command::new(SLAPD)
            .arg("-f")
            .arg(&conf)
            .args(["-h", &format!("ldap://127.0.0.1:{port}/"), "-d", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        let mut slapd = Self { child: Some(child), port, _dir: dir };
        if !slapd.wait_ready() {
            slapd.stop();
            return Err(std::fs::read_to_string(&log).unwrap_or_default());
        }
        let out = Command::new(LDAPADD)
            .args(["-x", "-H", &slapd.url(), "-D", "cn=admin,dc=example,dc=org", "-w", "admin-secret", "-f"])
            .arg(fixtures.join("fixtures.ldif"))
            .output()
            .unwrap();
        assert!(out.status.success(), "ldapadd failed: {}", String::from_utf8_lossy(&out.stderr));
        Ok(slapd)
    }

    /// Waits until slapd accepts connections; `false` when it exits or takes over 10 s.
    fn wait_ready(&mut self) -> bool {
        for _ in 0..500 {
            match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(None)) => {}
                _ => return false,
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// `ldap://127.0.0.1:PORT`.
    pub(crate) fn url(&self) -> String {
        format!("ldap://127.0.0.1:{}", self.port)
    }

    /// Kills the server: the directory "goes down".
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Slapd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A loopback port that was free a moment ago (and has no listener now).
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
