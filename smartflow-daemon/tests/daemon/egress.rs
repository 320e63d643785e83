//! Egress for closed networks: upstream connections tunnel through an HTTP `CONNECT` proxy.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

use crate::support::*;
use crate::upstream::Upstream;

/// A minimal CONNECT proxy that counts the tunnels it opened and the targets asked for.
async fn connect_proxy() -> (std::net::SocketAddr, Arc<AtomicUsize>, Arc<tokio::sync::Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let count = Arc::new(AtomicUsize::new(0));
    let targets = Arc::new(tokio::sync::Mutex::new(Vec::new()));
    let (c, t) = (count.clone(), targets.clone());
    tokio::spawn(async move {
        while let Ok((client, _)) = listener.accept().await {
            let (c, t) = (c.clone(), t.clone());
            tokio::spawn(async move {
                let mut client = BufReader::new(client);
                let mut line = String::new();
                client.read_line(&mut line).await.unwrap();
                let target = line.split_whitespace().nth(1).unwrap_or_default().to_owned();
                let mut auth = String::from("-");
                loop {
                    let mut h = String::new();
                    if client.read_line(&mut h).await.unwrap() <= 2 {
                        break;
                    }
                    if let Some(v) = h.to_ascii_lowercase().strip_prefix("proxy-authorization:") {
                        auth = v.trim().to_owned();
                    }
                }
                t.lock().await.push(format!("{target} {auth}"));
                let mut upstream = TcpStream::connect(&target).await.unwrap();
                c.fetch_add(1, Ordering::SeqCst);
                let mut client = client.into_inner();
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
            });
        }
    });
    (addr, count, targets)
}

#[tokio::test]
async fn upstream_connections_tunnel_through_the_egress_proxy() {
    let up = Upstream::start().await;
    let (proxy, tunnels, targets) = connect_proxy().await;
    let dir = tempfile::tempdir().unwrap();
    let creds = dir.path().join("proxy.creds");
    std::fs::write(&creds, "user:pass\n").unwrap();
    let text = format!(
        "{}\n[[providers]]\nname = \"viaproxy\"\ntype = \"openai\"\nbase_url = \"http://{}/v1\"\nproxy = \"http://{proxy}\"\nproxy_credentials = \"file:{}\"\n\n[[models]]\nname = \"proxied\"\ntargets = [\"viaproxy/ok\"]\n",
        config(up.addr, dir.path()),
        up.addr,
        creds.display()
    );
    let d = Daemon::start_with(dir, &text).await;
    let r = post(&d, "/v1/chat/completions", &chat_body("proxied", false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post(&d, "/v1/chat/completions", &chat_body("proxied", true)).await;
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"));
    assert!(tunnels.load(Ordering::SeqCst) >= 1, "nothing went through the proxy");
    let expected = format!("{} basic dxnlcjpwyxnz", up.addr); // "user:pass", lower-cased by the proxy
    assert!(targets.lock().await.iter().all(|t| *t == expected), "{:?}", targets.lock().await);
    assert_eq!(up.requests(), 2);
}
