//! Signals and configuration: SIGHUP reloads atomically, SIGTERM drains, `check` names lines.

use std::time::Duration;

use crate::support::*;
use crate::upstream::Upstream;

async fn model_ids(d: &Daemon) -> Vec<String> {
    let r = request("GET", &d.url("/v1/models"), Some(DEMO_KEY), "").await;
    r.json()["data"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap().to_owned()).collect()
}

async fn metric(d: &Daemon, needle: &str) -> bool {
    request("GET", &d.url("/metrics"), None, "").await.text().contains(needle)
}

#[tokio::test]
async fn sighup_reloads_and_an_invalid_file_keeps_the_old_config() {
    let up = Upstream::start().await;
    let d = Daemon::start(up.addr).await;
    assert!(!model_ids(&d).await.contains(&"added".to_owned()));
    let mut text = config(up.addr, d.dir.path());
    text.push_str("\n[[models]]\nname = \"added\"\ntargets = [\"mock/echo\"]\n");
    std::fs::write(&d.config_path, &text).unwrap();
    d.signal("HUP");
    let mut reloaded = false;
    for _ in 0..100 {
        if model_ids(&d).await.contains(&"added".to_owned()) {
            reloaded = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(reloaded, "SIGHUP did not apply the new model");
    assert!(metric(&d, r#"smartflow_config_reloads_total{result="ok"} 1"#).await);

    std::fs::write(&d.config_path, text.replace("[[models]]\nname = \"added\"", "[[models]]\nnmae = \"added\""))
        .unwrap();
    d.signal("HUP");
    let mut refused = false;
    for _ in 0..100 {
        if metric(&d, r#"smartflow_config_reloads_total{result="invalid"} 1"#).await {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused, "the invalid reload was not counted");
    assert!(model_ids(&d).await.contains(&"added".to_owned()), "the old configuration keeps running");
    assert_eq!(post(&d, "/v1/chat/completions", &chat_body("added", false)).await.status, 200);
}

#[tokio::test]
async fn sigterm_drains_in_flight_streams_then_exits() {
    let up = Upstream::start().await;
    let mut d = Daemon::start(up.addr).await;
    let url = d.url("/v1/chat/completions");
    let stream = tokio::spawn(async move { request("POST", &url, Some(DEMO_KEY), chat_body("drip10", true)).await });
    while up.requests() == 0 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    tokio::time::sleep(Duration::from_millis(150)).await;
    d.signal("TERM");
    let r = stream.await.unwrap();
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"), "the stream was cut: {}", r.text());
    assert_eq!(r.events().len(), 12, "{}", r.text());
    let status = tokio::time::timeout(Duration::from_secs(10), d.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "exit status {status}");
    assert!(tokio::net::TcpStream::connect(d.addr).await.is_err(), "still accepting after shutdown");
    let audit = d.audit_lines().await;
    assert_eq!(audit.len(), 1, "the drained stream's audit record was flushed before exit");
    assert_eq!(audit[0]["outcome"], "allowed");
}

#[tokio::test]
async fn check_names_file_line_and_key() {
    let bin = env!("CARGO_BIN_EXE_smartflowd");
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("[server]\nlisten = \"127.0.0.1:8080\"\nlisten_typo = 1\n", ":3:1", "unknown field `listen_typo`"),
        (
            "[[providers]]\nname = \"p\"\ntype = \"openai\"\nbase_url = \"http://h/v1\"\napi_key = \"sk-live-SECRET\"\n",
            ":5:11",
            "providers[0].api_key",
        ),
        (
            "[[models]]\nname = \"m\"\ntargets = [\"nope/x\"]\n",
            ":3:12",
            "models[0].targets[0]: no provider named `nope`",
        ),
        ("[server]\nheader_read_timeout = \"soon\"\n", ":2:23", "server.header_read_timeout"),
        ("[[keys]]\nid = \"a\"\nhash = \"sha256:zz\"\n", ":3:8", "keys[0].hash"),
        ("[server]\nadmin_hosts = [\"ok.internal\", \"https://x/\"]\n", ":2:31", "server.admin_hosts"),
    ];
    for (i, (text, pos, needle)) in cases.iter().enumerate() {
        let path = dir.path().join(format!("c{i}.toml"));
        std::fs::write(&path, text).unwrap();
        let out = std::process::Command::new(bin).args(["check", "--config"]).arg(&path).output().unwrap();
        assert!(!out.status.success(), "case {i} was accepted");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("c{i}.toml{pos}")), "case {i}: {err}");
        assert!(err.contains(needle), "case {i}: {err}");
        assert!(!err.contains("SECRET"), "case {i} echoes a secret: {err}");
    }
    let ok = std::process::Command::new(bin)
        .args(["check", "--config", concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/quickstart.toml")])
        .output()
        .unwrap();
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
}
