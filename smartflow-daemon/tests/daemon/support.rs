//! Starting the real `smartflowd` binary on ephemeral ports, and small HTTP helpers.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

pub const DEMO_KEY: &str = "sf-demo-key-0001";
pub const DEMO_HASH: &str = "sha256:2a5ebac4626f7862f451acd04ba500227a2890095f94b4923701f390e560d700";

/// Behaviours of the mock upstream, each served as a virtual model of the same name.
pub const BEHAVIOURS: &[&str] =
    &["ok", "err400", "err401", "err429", "err500", "badjson", "slow", "reset", "nodone", "drip", "drip10", "split"];

/// The test configuration: every upstream behaviour as a model, a failover model, an echo
/// model on the in-process mock, and tight limits so the limit tests are quick.
pub fn config(upstream: SocketAddr, dir: &std::path::Path) -> String {
    config_with(upstream, "127.0.0.1:9".parse().unwrap(), dir)
}

/// The test configuration with a black-holed address for the `hole` provider.
pub fn config_with(upstream: SocketAddr, blackhole: SocketAddr, dir: &std::path::Path) -> String {
    let mut models = String::new();
    for b in BEHAVIOURS {
        // One attempt each, so error tests see exactly one upstream request.
        models.push_str(&format!("[[models]]\nname = \"{b}\"\ntargets = [\"up/{b}\"]\nmax_attempts = 1\n\n"));
    }
    format!(
        r#"
[server]
max_body_bytes = 65536
max_header_bytes = 16384
max_headers = 50
header_read_timeout = "1s"
body_read_timeout = "2s"
drain_timeout = "10s"

[log]
level = "warn"

[routing]
breaker_failures = 3
breaker_open_for = "1s"

[audit]
sink = "file"
path = "{audit}"

[[keys]]
id = "demo"
hash = "{DEMO_HASH}"
user = "u1"
department = "eng"

[[keys]]
id = "limited"
hash = "sha256:42dcf71823a3cdce926e9b7760248af87388a7bfe4c62905c4ca39f07e2d3194"
models = ["ok", "claude"]

[[providers]]
name = "up"
type = "openai"
base_url = "http://{upstream}/v1"
first_byte_timeout = "500ms"
idle_timeout = "2s"

[[providers]]
name = "patient"
type = "openai"
base_url = "http://{upstream}/v1"
first_byte_timeout = "60s"

[[providers]]
name = "brk"
type = "openai"
base_url = "http://{upstream}/v1"

[[providers]]
name = "hole"
type = "openai"
base_url = "http://{blackhole}/v1"
connect_timeout = "300ms"

[[providers]]
name = "azure"
type = "azure"
base_url = "http://{upstream}"
api_version = "2024-10-21"
api_key = "file:{key_file}"

[[providers]]
name = "anth"
type = "anthropic"
base_url = "http://{upstream}/v1"
api_key = "file:{key_file}"

[[providers]]
name = "gem"
type = "gemini"
base_url = "http://{upstream}/v1beta"
api_key = "file:{key_file}"

[[providers]]
name = "aws"
type = "bedrock"
base_url = "http://{upstream}"
region = "eu-west-1"
access_key_id = "file:{key_file}"
secret_access_key = "file:{key_file}"

[[providers]]
name = "closed"
type = "openai"
base_url = "http://127.0.0.1:1/v1"
connect_timeout = "500ms"

[[providers]]
name = "mock"
type = "mock"
behavior = "echo"

{models}
[[models]]
name = "failover"
targets = ["up/err500", "closed/x", "up/ok"]

[[models]]
name = "storm429"
targets = ["up/err429"]
max_attempts = 3

[[models]]
name = "loop"
targets = ["up/err500", "closed/x"]
max_attempts = 5
retry_backoff = "10ms"

[[models]]
name = "breaker"
targets = ["brk/err500"]
max_attempts = 1

[[models]]
name = "blackhole"
targets = ["hole/x", "up/ok"]

[[models]]
name = "azure-gpt"
targets = ["azure/ok"]

[[models]]
name = "claude"
targets = ["anth/claude-up"]

[[models]]
name = "claude-529"
targets = ["anth/err529"]
max_attempts = 1

[[models]]
name = "claude-400"
targets = ["anth/err400"]

[[models]]
name = "claude-cut"
targets = ["anth/cut"]

[[models]]
name = "gemini"
targets = ["gem/gemini-up"]

[[models]]
name = "gemini-400"
targets = ["gem/gemini-400"]

[[models]]
name = "bedrock"
targets = ["aws/anthropic.claude-3-5-sonnet-20240620-v1:0"]

[[models]]
name = "slow-patient"
targets = ["patient/slow"]

[[models]]
name = "unreachable"
targets = ["closed/x"]

[[models]]
name = "echo"
targets = ["mock/echo"]

[[models]]
name = "embed"
kind = "embedding"
targets = ["up/emb"]
"#,
        audit = dir.join("audit.jsonl").display(),
        key_file = {
            let path = dir.join("azure.key");
            std::fs::write(&path, "azure-secret-key\n").unwrap();
            path.display().to_string()
        },
    )
}

/// A running daemon; killed when dropped.
pub struct Daemon {
    pub child: Child,
    pub addr: SocketAddr,
    pub admin: SocketAddr,
    pub dir: tempfile::TempDir,
    pub config_path: PathBuf,
}

impl Daemon {
    pub async fn start(upstream: SocketAddr) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let text = config(upstream, dir.path());
        Self::start_with(dir, &text).await
    }

    pub async fn start_with(dir: tempfile::TempDir, config_text: &str) -> Self {
        let config_path = dir.path().join("smartflow.toml");
        std::fs::write(&config_path, config_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_smartflowd"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let stdout = child.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        let banner = tokio::time::timeout(Duration::from_secs(30), lines.next_line())
            .await
            .expect("daemon did not start in time")
            .unwrap()
            .expect("daemon exited before listening");
        let field = |name: &str| -> SocketAddr {
            banner.split_whitespace().find_map(|w| w.strip_prefix(name)).unwrap().parse().unwrap()
        };
        let (addr, admin) = (field("data="), field("admin="));
        tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
        Self { child, addr, admin, dir, config_path }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    pub fn signal(&self, sig: &str) {
        let pid = self.child.id().unwrap().to_string();
        let ok = std::process::Command::new("kill").args([&format!("-{sig}"), &pid]).status().unwrap();
        assert!(ok.success());
    }

    pub async fn audit_lines(&self) -> Vec<Value> {
        let text = tokio::fs::read_to_string(self.dir.path().join("audit.jsonl")).await.unwrap_or_default();
        text.lines().map(|l| serde_json::from_str(l).unwrap()).collect()
    }
}

pub struct Reply {
    pub status: u16,
    pub headers: http::HeaderMap,
    pub body: Bytes,
}

impl Reply {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|_| panic!("not JSON: {:?}", self.body))
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `data:` payloads of an SSE body.
    pub fn events(&self) -> Vec<String> {
        self.text().split("\n\n").filter_map(|e| e.strip_prefix("data: ")).map(str::to_owned).collect()
    }

    /// Asserts an OpenAI-style error with this status.
    pub fn assert_error(&self, status: u16) -> Value {
        assert_eq!(self.status, status, "body: {}", self.text());
        let v = self.json();
        let e = &v["error"];
        assert!(e["message"].is_string() && e["type"].is_string(), "not an OpenAI error: {v}");
        assert!(e.get("param").is_some() && e.get("code").is_some(), "error lacks param/code: {v}");
        assert!(self.header("x-request-id").is_some(), "no x-request-id");
        v
    }
}

pub fn client() -> Client<HttpConnector, Full<Bytes>> {
    Client::builder(TokioExecutor::new()).build_http()
}

pub async fn request(method: &str, url: &str, key: Option<&str>, body: impl Into<Bytes>) -> Reply {
    let mut b = http::Request::builder().method(method).uri(url).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let resp = client().request(b.body(Full::new(body.into())).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    Reply { status: parts.status.as_u16(), headers: parts.headers, body }
}

pub async fn post(d: &Daemon, path: &str, body: &str) -> Reply {
    request("POST", &d.url(path), Some(DEMO_KEY), body.to_owned()).await
}

pub fn chat_body(model: &str, stream: bool) -> String {
    format!(r#"{{"model":"{model}","stream":{stream},"messages":[{{"role":"user","content":"hi"}}]}}"#)
}

// ---- Governance and identity helpers -------------------------------------------------------

/// The admin credential whose hash [`ADMIN_HASH`] is.
pub const ADMIN_KEY: &str = "abc";
pub const ADMIN_HASH: &str = "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";

/// The test configuration plus the admin key and `extra` TOML (limits, tiers, storage...).
pub fn admin_config(upstream: SocketAddr, dir: &std::path::Path, extra: &str) -> String {
    format!("{}\n[admin]\nkey_hash = \"{ADMIN_HASH}\"\n\n{extra}\n", config(upstream, dir))
}

/// `[prices.MODEL]` for every chat model of `config_text`: budgets need one for each.
pub fn prices_for_chat_models(config_text: &str, input: f64, output: f64) -> String {
    let parsed: toml::Table = config_text.parse().unwrap();
    let mut out = String::new();
    for m in parsed["models"].as_array().unwrap() {
        if m.get("kind").and_then(|k| k.as_str()) == Some("embedding") {
            continue;
        }
        let name = m["name"].as_str().unwrap();
        out.push_str(&format!("[prices.\"{name}\"]\ninput = {input:?}\noutput = {output:?}\n\n"));
    }
    out
}

/// The configuration form of a key's hash (`sha256:<hex>`).
pub fn key_hash(secret: &str) -> String {
    format!("sha256:{}", hex::encode(ring::digest::digest(&ring::digest::SHA256, secret.as_bytes())))
}

/// Seconds since the Unix epoch.
pub fn unix_now() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// Sleeps into the next UTC window of `period` seconds when fewer than `margin` seconds of the
/// current one are left, so a test's counters all land in one window.
pub async fn avoid_window_end(period: u64, margin: u64) {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
    let into = now.as_secs() % period;
    if into + margin >= period {
        let left = Duration::from_secs(period - into) - Duration::from_nanos(u64::from(now.subsec_nanos()));
        tokio::time::sleep(left + Duration::from_millis(50)).await;
    }
}

impl Daemon {
    /// A URL on the admin listener.
    pub fn admin_url(&self, path: &str) -> String {
        format!("http://{}{}", self.admin, path)
    }

    /// Stops the daemon gracefully (SIGTERM), checks it exited cleanly, and hands back its
    /// directory (configuration, audit log, storage) for a restart.
    pub async fn stop(self) -> tempfile::TempDir {
        self.signal("TERM");
        let Self { mut child, dir, .. } = self;
        let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "exit status {status}");
        dir
    }
}

/// A request with arbitrary headers (and no implicit `authorization`).
pub async fn request_with(method: &str, url: &str, headers: &[(&str, &str)], body: impl Into<Bytes>) -> Reply {
    let mut b = http::Request::builder().method(method).uri(url).header("content-type", "application/json");
    for (name, value) in headers {
        b = b.header(*name, *value);
    }
    let resp = client().request(b.body(Full::new(body.into())).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    Reply { status: parts.status.as_u16(), headers: parts.headers, body }
}

/// A request through `client` (to reuse one keep-alive connection).
pub async fn request_on(
    client: &Client<HttpConnector, Full<Bytes>>,
    method: &str,
    url: &str,
    key: Option<&str>,
    body: impl Into<Bytes>,
) -> Reply {
    let mut b = http::Request::builder().method(method).uri(url).header("content-type", "application/json");
    if let Some(k) = key {
        b = b.header("authorization", format!("Bearer {k}"));
    }
    let resp = client.request(b.body(Full::new(body.into())).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let body = body.collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    Reply { status: parts.status.as_u16(), headers: parts.headers, body }
}

/// Sends `head` (the request line and headers, without the blank line) and `body` over a new
/// TCP connection with `connection: close`; returns the status (0 when the server closed
/// without answering) and the whole raw response.
pub async fn raw_request(addr: SocketAddr, head: &[u8], body: &[u8]) -> (u16, Vec<u8>) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut req = head.to_vec();
    req.extend_from_slice(format!("\r\nconnection: close\r\ncontent-length: {}\r\n\r\n", body.len()).as_bytes());
    req.extend_from_slice(body);
    // The server may answer and close before reading everything (a header too large).
    let _ = s.write_all(&req).await;
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out)).await;
    let status = std::str::from_utf8(out.get(9..12).unwrap_or_default()).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, out)
}

/// Base64url without padding (JWT segments).
pub fn b64url(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Standard base64 with padding (`Authorization: Basic`).
pub fn b64(bytes: &[u8]) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// The shared slapd harness (same skip rule as the policy crate's LDAP tests).
#[path = "../../../smartflow-policy/tests/ldap/slapd.rs"]
mod slapd;
pub(crate) use slapd::Slapd;

/// Creates a stored key through the admin API; returns its secret and id.
pub async fn create_key(d: &Daemon, spec: &Value) -> (String, String) {
    let r = request("POST", &d.admin_url("/api/keys"), Some(ADMIN_KEY), spec.to_string()).await;
    assert_eq!(r.status, 201, "{}", r.text());
    let v = r.json();
    (v["key"].as_str().unwrap().to_owned(), v["record"]["id"].as_str().unwrap().to_owned())
}

// ---- Audit helpers ---------------------------------------------------------------------------

/// Everything a daemon wrote to stdout and stderr, collected as it runs.
#[derive(Clone, Default)]
pub struct Logs(std::sync::Arc<std::sync::Mutex<String>>);

impl Logs {
    /// The output so far.
    pub fn text(&self) -> String {
        self.0.lock().unwrap().clone()
    }

    fn collect(&self, mut from: impl tokio::io::AsyncRead + Unpin + Send + 'static) {
        let logs = self.clone();
        tokio::spawn(async move {
            use tokio::io::AsyncReadExt as _;
            let mut buf = vec![0u8; 8192];
            while let Ok(n) = from.read(&mut buf).await {
                if n == 0 {
                    break;
                }
                logs.0.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        });
    }
}

impl Daemon {
    /// [`Daemon::start_with`], with `env` added to the daemon's environment and everything it
    /// writes to stdout and stderr kept in the returned [`Logs`].
    pub async fn start_logged(dir: tempfile::TempDir, config_text: &str, env: &[(&str, &str)]) -> (Self, Logs) {
        let config_path = dir.path().join("smartflow.toml");
        std::fs::write(&config_path, config_text).unwrap();
        let mut child = Command::new(env!("CARGO_BIN_EXE_smartflowd"))
            .args(["serve", "--config"])
            .arg(&config_path)
            .args(["--listen", "127.0.0.1:0", "--admin-listen", "127.0.0.1:0"])
            .envs(env.iter().copied())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let logs = Logs::default();
        logs.collect(child.stderr.take().unwrap());
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut banner = String::new();
        let read = tokio::time::timeout(Duration::from_secs(30), stdout.read_line(&mut banner)).await;
        assert!(matches!(read, Ok(Ok(n)) if n > 0), "daemon did not start: {read:?}; its output: {}", logs.text());
        logs.0.lock().unwrap().push_str(&banner);
        let field = |name: &str| -> SocketAddr {
            banner.split_whitespace().find_map(|w| w.strip_prefix(name)).unwrap().parse().unwrap()
        };
        let (addr, admin) = (field("data="), field("admin="));
        logs.collect(stdout);
        (Self { child, addr, admin, dir, config_path }, logs)
    }

    /// Kills the daemon with SIGKILL (no shutdown of any kind), waits for it to be gone, and
    /// hands back its directory.
    pub async fn kill(self) -> tempfile::TempDir {
        self.signal("KILL");
        let Self { mut child, dir, .. } = self;
        let status = tokio::time::timeout(Duration::from_secs(15), child.wait()).await.unwrap().unwrap();
        assert!(!status.success(), "a killed daemon exited cleanly: {status}");
        dir
    }

    /// The text of `GET /metrics`.
    pub async fn metrics(&self) -> String {
        let r = request("GET", &self.url("/metrics"), None, "").await;
        assert_eq!(r.status, 200, "{}", r.text());
        r.text()
    }
}

/// The value of one series (`name` or `name{labels}`, exactly as rendered) in `/metrics` text.
pub fn metric(text: &str, series: &str) -> Option<f64> {
    text.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.split_whitespace().next()?.parse().ok())
}

/// `n` random bytes as hex.
pub fn random_hex(n: usize) -> String {
    use ring::rand::SecureRandom as _;
    let mut bytes = vec![0u8; n];
    ring::rand::SystemRandom::new().fill(&mut bytes).unwrap();
    hex::encode(bytes)
}

/// One run of `smartflowd audit verify`.
pub struct VerifyRun {
    /// The exit status.
    pub code: i32,
    /// The JSON report printed on stdout.
    pub report: Value,
    pub stderr: String,
}

/// Runs `smartflowd audit verify ARGS` with `env` added to its environment.
pub async fn audit_verify_cli(args: &[&std::ffi::OsStr], env: &[(&str, &str)]) -> VerifyRun {
    let out = Command::new(env!("CARGO_BIN_EXE_smartflowd"))
        .args(["audit", "verify"])
        .args(args)
        .envs(env.iter().copied())
        .output()
        .await
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    let report = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("no JSON report ({e}): {stdout}\n{stderr}"));
    VerifyRun { code: out.status.code().expect("killed by a signal"), report, stderr }
}

/// The segment files of a verified stream directory, oldest first.
pub fn segment_files(dir: &std::path::Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("segment-") && n.ends_with(".log"))
        })
        .collect();
    files.sort();
    files
}

/// The audit records (`body` of every `record` line) of a verified stream, in order.
pub fn stream_records(dir: &std::path::Path) -> Vec<Value> {
    let mut out = Vec::new();
    for file in segment_files(dir) {
        for line in std::fs::read_to_string(&file).unwrap().lines() {
            let v: Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{}: {e}: {line}", file.display()));
            if v["kind"] == "record" {
                out.push(v["body"].clone());
            }
        }
    }
    out
}

/// One request a [`Hec`] received.
#[derive(Debug, Clone)]
pub struct HecRequest {
    pub path: String,
    pub authorization: Option<String>,
    pub body: String,
    /// What it answered.
    pub status: u16,
}

#[derive(Default)]
struct HecState {
    down: std::sync::atomic::AtomicBool,
    requests: std::sync::Mutex<Vec<HecRequest>>,
}

/// A minimal Splunk HTTP Event Collector: records every request (keep-alive HTTP/1.1 with a
/// `content-length` body) and answers `{"text":"Success","code":0}`, or 503 while down.
pub struct Hec {
    pub addr: SocketAddr,
    state: std::sync::Arc<HecState>,
}

impl Hec {
    pub async fn start() -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = std::sync::Arc::new(HecState::default());
        let shared = state.clone();
        tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(hec_connection(stream, shared.clone()));
            }
        });
        Self { addr, state }
    }

    /// While `down`, every request is answered 503 (and not counted as received).
    pub fn set_down(&self, down: bool) {
        self.state.down.store(down, std::sync::atomic::Ordering::SeqCst);
    }

    /// Every request so far, answered or refused.
    pub fn requests(&self) -> Vec<HecRequest> {
        self.state.requests.lock().unwrap().clone()
    }

    /// The event envelopes of every accepted request, in the order received.
    pub fn events(&self) -> Vec<Value> {
        self.requests()
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(|r| r.body.lines().map(|l| serde_json::from_str(l).unwrap()).collect::<Vec<Value>>())
            .collect()
    }

    /// Waits until `done(events)` holds (at most 8 s); returns the events.
    pub async fn wait_for(&self, done: impl Fn(&[Value]) -> bool) -> Vec<Value> {
        let until = tokio::time::Instant::now() + Duration::from_secs(8);
        loop {
            let events = self.events();
            if done(&events) {
                return events;
            }
            assert!(
                tokio::time::Instant::now() < until,
                "the HEC receiver got only {} events: {events:?}",
                events.len()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

async fn hec_connection(stream: tokio::net::TcpStream, state: std::sync::Arc<HecState>) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let mut stream = BufReader::new(stream);
    loop {
        let mut head = Vec::new();
        loop {
            let mut line = String::new();
            match stream.read_line(&mut line).await {
                Ok(0) | Err(_) => return,
                Ok(_) if line == "\r\n" || line == "\n" => break,
                Ok(_) => head.push(line.trim_end().to_owned()),
            }
        }
        let Some(request_line) = head.first() else { return };
        let path = request_line.split_whitespace().nth(1).unwrap_or_default().to_owned();
        let header = |name: &str| {
            head.iter().skip(1).find_map(|h| {
                let (n, v) = h.split_once(':')?;
                n.trim().eq_ignore_ascii_case(name).then(|| v.trim().to_owned())
            })
        };
        let length: usize = header("content-length").and_then(|l| l.parse().ok()).unwrap_or(0);
        let mut body = vec![0u8; length];
        if stream.read_exact(&mut body).await.is_err() {
            return;
        }
        let down = state.down.load(std::sync::atomic::Ordering::SeqCst);
        let (status, reply) =
            if down { (503, r#"{"text":"Server is busy","code":9}"#) } else { (200, r#"{"text":"Success","code":0}"#) };
        state.requests.lock().unwrap().push(HecRequest {
            path,
            authorization: header("authorization"),
            body: String::from_utf8_lossy(&body).into_owned(),
            status,
        });
        let reason = if status == 200 { "OK" } else { "Service Unavailable" };
        let response = format!(
            "HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{reply}",
            reply.len()
        );
        if stream.get_mut().write_all(response.as_bytes()).await.is_err() {
            return;
        }
    }
}
