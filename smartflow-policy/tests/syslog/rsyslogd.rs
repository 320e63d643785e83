//! A throw-away `rsyslogd` for tests: `rsyslogd -n -f <conf> -i <pidfile>` with the configuration
//! beside this file (rsyslog.conf.in), listening on ephemeral loopback ports for UDP, TCP and TLS
//! (GnuTLS, with a CA and server certificate made here with the `openssl` CLI), writing every
//! message it receives to `raw.log` (as received) and `parsed.log` (the RFC 5424 fields it parsed,
//! tab-separated). Killed on drop.
//!
//! Needs `/usr/sbin/rsyslogd`, the `rsyslog-gnutls` driver and `openssl`
//! (scripts/rsyslog-test-deps.sh installs rsyslog). Without rsyslogd, `Rsyslogd::start` prints a
//! skip note and returns `None`, unless `SMARTFLOW_REQUIRE_RSYSLOG=1` makes it fail.

use std::net::{TcpListener, TcpStream, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const TEMPLATE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/syslog/rsyslog.conf.in");
const RSYSLOGD: &str = "/usr/sbin/rsyslogd";

/// A running `rsyslogd`; killed (and its files removed) on drop.
pub(crate) struct Rsyslogd {
    child: Option<Child>,
    dir: tempfile::TempDir,
    starts: u32,
    /// The UDP port.
    pub(crate) udp: u16,
    /// The plain TCP port.
    pub(crate) tcp: u16,
    /// The TLS port.
    pub(crate) tls: u16,
}

impl Rsyslogd {
    /// A fresh receiver, or `None` (after a note on stderr) when rsyslogd is not installed.
    pub(crate) fn start() -> Option<Self> {
        if !Path::new(RSYSLOGD).exists() {
            let why = format!("{RSYSLOGD} is missing: run scripts/rsyslog-test-deps.sh");
            if std::env::var("SMARTFLOW_REQUIRE_RSYSLOG").as_deref() == Ok("1") {
                panic!("SMARTFLOW_REQUIRE_RSYSLOG=1 but {why}");
            }
            eprintln!("skipping rsyslog test: {why}");
            return None;
        }
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("work")).unwrap();
        make_certificates(dir.path());
        let mut rsyslogd = Self { child: None, dir, starts: 0, udp: 0, tcp: 0, tls: 0 };
        let mut failures = Vec::new();
        // A probed port may be taken again before rsyslogd binds it: retry with others.
        for _ in 0..5 {
            (rsyslogd.udp, rsyslogd.tcp, rsyslogd.tls) = (free_udp_port(), free_port(), free_port());
            match rsyslogd.launch() {
                Ok(()) => return Some(rsyslogd),
                Err(log) => failures.push(log),
            }
        }
        panic!("rsyslogd did not start: {failures:#?}");
    }

    /// Starts rsyslogd again on the same ports (after [`stop`](Self::stop)).
    pub(crate) fn restart(&mut self) {
        self.stop();
        let mut failure = String::new();
        // The ports are ours, but give the kernel a moment if a bind still fails.
        for _ in 0..20 {
            match self.launch() {
                Ok(()) => return,
                Err(log) => failure = log,
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("rsyslogd did not restart: {failure}");
    }

    fn launch(&mut self) -> Result<(), String> {
        let dir = self.dir.path();
        self.starts += 1;
        let conf = dir.join(format!("rsyslog-{}.conf", self.starts));
        let log = dir.join(format!("rsyslogd-{}.log", self.starts));
        let text = std::fs::read_to_string(TEMPLATE).unwrap();
        let text = text
            .replace("@DIR@", dir.to_str().unwrap())
            .replace("@UDP@", &self.udp.to_string())
            .replace("@TCP@", &self.tcp.to_string())
            .replace("@TLS@", &self.tls.to_string());
        std::fs::write(&conf, text).unwrap();
        let child = Command::new(RSYSLOGD)
            .arg("-n")
            .arg("-f")
            .arg(&conf)
            .arg("-i")
            .arg(dir.join(format!("rsyslogd-{}.pid", self.starts)))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .unwrap();
        self.child = Some(child);
        let ready = self.wait_ready();
        let errors = std::fs::read_to_string(&log).unwrap_or_default();
        if ready && !errors.contains("Address already in use") && !errors.contains("Could not create") {
            return Ok(());
        }
        self.stop();
        Err(errors)
    }

    /// Waits until both TCP listeners accept and the UDP port is taken; `false` when rsyslogd
    /// exits or takes over 10 s.
    fn wait_ready(&mut self) -> bool {
        for _ in 0..500 {
            match self.child.as_mut().map(Child::try_wait) {
                Some(Ok(None)) => {}
                _ => return false,
            }
            let listening = |port| TcpStream::connect(("127.0.0.1", port)).is_ok();
            if listening(self.tcp) && listening(self.tls) && UdpSocket::bind(("127.0.0.1", self.udp)).is_err() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        false
    }

    /// Kills the receiver (SIGKILL) and waits for it: its connections are closed by the kernel.
    pub(crate) fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// The test CA's certificate (PEM).
    pub(crate) fn ca_pem(&self) -> PathBuf {
        self.dir.path().join("ca.pem")
    }

    /// The first `n` lines of `raw.log` (messages as received), waiting up to 10 s for them.
    pub(crate) fn raw(&self, n: usize) -> Vec<String> {
        self.lines("raw.log", n)
    }

    /// The first `n` lines of `parsed.log` (the fields rsyslog parsed), waiting up to 10 s.
    pub(crate) fn parsed(&self, n: usize) -> Vec<Vec<String>> {
        self.lines("parsed.log", n).iter().map(|l| l.split('\t').map(str::to_owned).collect()).collect()
    }

    fn lines(&self, file: &str, n: usize) -> Vec<String> {
        let path = self.dir.path().join(file);
        let mut text = String::new();
        for _ in 0..500 {
            text = std::fs::read_to_string(&path).unwrap_or_default();
            if text.lines().count() >= n {
                return text.lines().take(n).map(str::to_owned).collect();
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("{file} has {} of {n} lines after 10 s:\n{text}", text.lines().count());
    }
}

impl Drop for Rsyslogd {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A CA (`ca.pem`) and a server certificate for `localhost` / `127.0.0.1` signed by it
/// (`server.pem`, `server.key`), ECDSA P-256, valid two days.
fn make_certificates(dir: &Path) {
    let openssl = |args: &[&str]| {
        let out = Command::new("openssl").args(args).current_dir(dir).output();
        let out = out.unwrap_or_else(|e| panic!("the openssl CLI is needed to make test certificates: {e}"));
        assert!(out.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    };
    let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    let ca = ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=smartflow syslog test CA"];
    openssl(&[&["req", "-x509"], &ec[..], &ca[..]].concat());
    openssl(&[&["req"], &ec[..], &["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"]].concat());
    std::fs::write(
        dir.join("server.ext"),
        "subjectAltName=DNS:localhost,IP:127.0.0.1\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n\
         extendedKeyUsage=serverAuth\n",
    )
    .unwrap();
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        "server.pem",
        "-days",
        "2",
        "-extfile",
        "server.ext",
    ]);
}

/// A loopback TCP port that was free a moment ago.
pub(crate) fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// A loopback UDP port that was free a moment ago.
fn free_udp_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}
