//! `JsonLinesAudit`: one JSON object per line, to a file (appended) or to stdout.
//!
//! Records are serialised on the caller's task and written by a background task through a
//! bounded queue, so a slow disk slows admission (back-pressure) instead of growing memory; the
//! writer flushes whenever the queue runs empty.

use std::path::PathBuf;

use async_trait::async_trait;
use smartflow_core::{Audit, AuditRecord, Error, ErrorKind};
use tokio::io::AsyncWriteExt;
use tokio::sync::{mpsc, oneshot};

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JsonLinesTarget {
    /// Standard output.
    Stdout,
    /// A file, created if missing, appended to.
    File(PathBuf),
}

/// A JSON-lines audit sink.
#[derive(Debug)]
pub struct JsonLinesAudit {
    tx: mpsc::Sender<Msg>,
}

#[derive(Debug)]
enum Msg {
    Line(Vec<u8>),
    Flush(oneshot::Sender<std::io::Result<()>>),
}

impl JsonLinesAudit {
    /// Opens the target and starts the writer task (needs a tokio runtime).
    pub async fn open(target: JsonLinesTarget) -> std::io::Result<Self> {
        let writer: Box<dyn tokio::io::AsyncWrite + Send + Unpin> = match &target {
            JsonLinesTarget::Stdout => Box::new(tokio::io::stdout()),
            JsonLinesTarget::File(path) => {
                if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                    tokio::fs::create_dir_all(dir).await?;
                }
                Box::new(tokio::fs::OpenOptions::new().create(true).append(true).open(path).await?)
            }
        };
        let (tx, rx) = mpsc::channel(4096);
        tokio::spawn(write_lines(writer, rx));
        Ok(Self { tx })
    }
}

async fn write_lines(writer: Box<dyn tokio::io::AsyncWrite + Send + Unpin>, mut rx: mpsc::Receiver<Msg>) {
    let mut out = tokio::io::BufWriter::new(writer);
    let mut waiting: Vec<oneshot::Sender<std::io::Result<()>>> = Vec::new();
    while let Some(first) = rx.recv().await {
        let mut result = Ok(());
        let mut next = Some(first);
        // Write everything queued, then flush once.
        while let Some(msg) = next.take() {
            match msg {
                Msg::Line(line) => {
                    if result.is_ok() {
                        result = out.write_all(&line).await;
                    }
                }
                Msg::Flush(ack) => waiting.push(ack),
            }
            next = rx.try_recv().ok();
        }
        let result = match result {
            Ok(()) => out.flush().await,
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            tracing::error!(error = %e, "audit log write failed");
        }
        for ack in waiting.drain(..) {
            let _ = ack.send(match &result {
                Ok(()) => Ok(()),
                Err(e) => Err(std::io::Error::new(e.kind(), e.to_string())),
            });
        }
    }
    let _ = out.flush().await;
}

#[async_trait]
impl Audit for JsonLinesAudit {
    fn name(&self) -> &str {
        "jsonl"
    }

    async fn record(&self, record: &AuditRecord) -> Result<(), Error> {
        let mut line = serde_json::to_vec(record).map_err(|_| Error::internal("could not encode an audit record"))?;
        line.push(b'\n');
        self.tx.send(Msg::Line(line)).await.map_err(|_| stopped())
    }

    async fn flush(&self) -> Result<(), Error> {
        let (ack, done) = oneshot::channel();
        self.tx.send(Msg::Flush(ack)).await.map_err(|_| stopped())?;
        match done.await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(_)) => Err(Error::new(ErrorKind::Unavailable, "the audit log could not be written")),
            Err(_) => Err(stopped()),
        }
    }
}

fn stopped() -> Error {
    Error::new(ErrorKind::Unavailable, "the audit writer has stopped")
}

#[cfg(test)]
mod flush_tests {
    use super::*;

    #[tokio::test]
    async fn flush_waits_for_the_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        let sink = JsonLinesAudit::open(JsonLinesTarget::File(path.clone())).await.unwrap();
        sink.record(&super::tests::record("x")).await.unwrap();
        sink.flush().await.unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap().lines().count(), 1);
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use smartflow_core::{Outcome, Principal};

    use super::*;

    pub(super) fn record(id: &str) -> AuditRecord {
        AuditRecord {
            timestamp_ms: 1,
            request_id: id.to_owned(),
            trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
            span_id: "b7ad6b7169203331".into(),
            parent_span_id: None,
            endpoint: "chat",
            principal: std::sync::Arc::new(Principal::new("k1")),
            model: Some("m".into()),
            target: None,
            stream: false,
            outcome: Outcome::Allowed,
            status: 200,
            error: None,
            decisions: Vec::new(),
            cache: None,
            usage: None,
            cost_nano_usd: None,
            latency_ms: 1.0,
            ttfb_ms: None,
            prompt: None,
            completion: None,
            admin: None,
        }
    }

    #[tokio::test]
    async fn every_record_is_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/audit.jsonl");
        let sink = Arc::new(JsonLinesAudit::open(JsonLinesTarget::File(path.clone())).await.unwrap());
        for i in 0..100 {
            sink.record(&record(&format!("r{i}"))).await.unwrap();
        }
        drop(sink);
        let mut text = String::new();
        for _ in 0..100 {
            text = tokio::fs::read_to_string(&path).await.unwrap_or_default();
            if text.lines().count() == 100 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        let ids: Vec<String> = text
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["request_id"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(ids, (0..100).map(|i| format!("r{i}")).collect::<Vec<_>>());
        assert!(!text.contains("\"prompt\""), "no prompt text unless configured");
    }
}
