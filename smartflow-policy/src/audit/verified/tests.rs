//! Tamper, crash-recovery, rotation and fail-closed tests of the verified stream.

use std::path::Path;

use smartflow_core::policy::Outcome;
use smartflow_core::{Audit, AuditRecord, Principal};

use super::*;

const KEY: &[u8] = b"0123456789abcdef0123456789abcdef";
const SEED: [u8; 32] = [7; 32];

fn config(dir: &Path) -> VerifiedConfig {
    let mut c = VerifiedConfig::new(dir, KEY.to_vec());
    c.signing_seed = Some(SEED);
    c.checkpoint_every = 100;
    c
}

fn record(i: u64) -> AuditRecord {
    AuditRecord {
        timestamp_ms: 1_795_301_100_000 + i,
        request_id: format!("req_{i}"),
        trace_id: "0af7651916cd43dd8448eb211c80319c".into(),
        span_id: "b7ad6b7169203331".into(),
        parent_span_id: None,
        endpoint: "chat",
        principal: Arc::new(Principal::new("k1")),
        model: Some("m".into()),
        target: Some("p/m".into()),
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

fn public_key() -> Vec<u8> {
    Ed25519KeyPair::from_seed_unchecked(&SEED).unwrap().public_key().as_ref().to_vec()
}

async fn write(dir: &Path, n: u64) {
    let audit = VerifiedAudit::open(config(dir)).unwrap();
    for i in 0..n {
        audit.record(&record(i)).await.unwrap();
    }
    audit.flush().await.unwrap();
}

fn check(dir: &Path) -> Report {
    verify(dir, KEY, Some(&public_key())).unwrap()
}

fn only_segment(dir: &Path) -> PathBuf {
    let segments = segment::list(dir).unwrap();
    assert_eq!(segments.len(), 1);
    segments[0].clone()
}

fn lines(path: &Path) -> Vec<Vec<u8>> {
    std::fs::read(path).unwrap().split(|&b| b == b'\n').filter(|l| !l.is_empty()).map(<[u8]>::to_vec).collect()
}

fn rewrite(path: &Path, lines: &[Vec<u8>]) {
    let mut out = Vec::new();
    for l in lines {
        out.extend_from_slice(l);
        out.push(b'\n');
    }
    std::fs::write(path, out).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t52_audit_chain_verify_and_tamper() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 10_000).await;
    let clean = check(dir.path());
    assert!(clean.ok(), "{:?}", clean.findings.first());
    assert_eq!((clean.records, clean.unsealed_records), (10_000, 0));
    assert!(clean.checkpoints >= 100, "periodic and shutdown checkpoints, all signature-checked");
    let path = only_segment(dir.path());
    let original = lines(&path);
    // Line 5001 holds the record with seq 5001 (line 1 is the segment start; checkpoints every
    // 100 records shift later lines, so find positions by seq).
    let pos = |seq: u64| original.iter().position(|l| l.starts_with(format!("{{\"seq\":{seq},").as_bytes())).unwrap();
    let target = pos(5_001);

    // A flipped byte inside a record's body, and one in its structure.
    let mut t = original.clone();
    let b = t[target].windows(4).position(|w| w == b"req_").unwrap() + 4;
    t[target][b] ^= 0x01;
    rewrite(&path, &t);
    let r = check(dir.path());
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!((r.findings[0].line, &r.findings[0].problem), (target + 1, &Problem::BadMac));
    let mut t = original.clone();
    t[target][1] = b'X';
    rewrite(&path, &t);
    let r = check(dir.path());
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert_eq!((r.findings[0].line, &r.findings[0].problem), (target + 1, &Problem::Unreadable));

    // A deleted record.
    let mut t = original.clone();
    t.remove(target);
    rewrite(&path, &t);
    let r = check(dir.path());
    assert_eq!(r.findings[0].line, target + 1);
    assert_eq!(r.findings[0].problem, Problem::SequenceGap { expected: 5_001, found: 5_002 });

    // Two records swapped.
    let mut t = original.clone();
    t.swap(target, target + 1);
    rewrite(&path, &t);
    let r = check(dir.path());
    assert_eq!(r.findings[0].line, target + 1);
    assert!(matches!(r.findings[0].problem, Problem::SequenceGap { expected: 5_001, found: 5_002 }));

    // A forged record inserted (a copy of another line: the MAC holds, the chain does not).
    let mut t = original.clone();
    t.insert(target, original[pos(10)].clone());
    rewrite(&path, &t);
    let r = check(dir.path());
    assert_eq!(r.findings[0].line, target + 1);
    assert!(matches!(r.findings[0].problem, Problem::SequenceGap { expected: 5_001, found: 10 }));

    // A record rewritten in full with a recomputed-looking MAC (no key): bad MAC.
    let mut t = original.clone();
    let text =
        String::from_utf8(t[target].clone()).unwrap().replacen("\"request_id\":\"req_", "\"request_id\":\"XXX_", 1);
    t[target] = text.into_bytes();
    rewrite(&path, &t);
    assert_eq!(check(dir.path()).findings[0].problem, Problem::BadMac);

    // The tail cut mid-line.
    rewrite(&path, &original);
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.truncate(bytes.len() - 40);
    std::fs::write(&path, &bytes).unwrap();
    let r = check(dir.path());
    assert_eq!(r.findings.len(), 1, "{:?}", r.findings);
    assert!(matches!(r.findings[0].problem, Problem::TornTail { .. }));

    // The tail cut at a line boundary: no tampering provable, but an unsealed tail is reported.
    let mut t = original.clone();
    t.truncate(pos(9_990) + 1);
    rewrite(&path, &t);
    let r = check(dir.path());
    assert!(r.ok());
    assert!(r.unsealed_records > 0, "records after the last checkpoint are reported");

    // The right key is needed: another key finds every line bad.
    rewrite(&path, &original);
    let wrong = verify(dir.path(), b"another key another key another k", None).unwrap();
    assert_eq!(wrong.findings.len() as u64, wrong.lines);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_torn_last_line_is_cut_off_at_restart_and_the_chain_continues() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), 50).await;
    let path = only_segment(dir.path());
    let mut bytes = std::fs::read(&path).unwrap();
    bytes.extend_from_slice(b"{\"seq\":999,\"kind\":\"rec"); // a crash mid-write
    std::fs::write(&path, &bytes).unwrap();
    write(dir.path(), 10).await;
    let r = check(dir.path());
    assert!(r.ok(), "{:?}", r.findings);
    assert_eq!(r.records, 60);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(text.contains("\"kind\":\"recovered\""), "the recovery is recorded in the stream");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn segments_rotate_and_chain_across_files() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.max_segment_bytes = 4_096;
    let audit = VerifiedAudit::open(c).unwrap();
    for i in 0..100 {
        audit.record(&record(i)).await.unwrap();
    }
    audit.flush().await.unwrap();
    let segments = segment::list(dir.path()).unwrap();
    assert!(segments.len() > 5);
    let r = check(dir.path());
    assert!(r.ok(), "{:?}", r.findings);
    assert_eq!(r.records, 100);
    // Removing a whole middle segment breaks the chain at the next one.
    std::fs::remove_file(&segments[2]).unwrap();
    let r = check(dir.path());
    let first = &r.findings[0];
    assert_eq!(first.segment, segments[3].file_name().unwrap().to_str().unwrap());
    assert!(matches!(first.problem, Problem::SequenceGap { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_record_fsync_acknowledges_only_synced_records() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.fsync = FsyncPolicy::EveryRecord;
    let audit = VerifiedAudit::open(c).unwrap();
    let tasks: Vec<_> = (0..64)
        .map(|i| {
            let a = audit.clone();
            tokio::spawn(async move { a.record(&record(i)).await })
        })
        .collect();
    for t in tasks {
        t.await.unwrap().unwrap();
    }
    let syncs = audit.stats().syncs.load(Ordering::Relaxed);
    assert!((1..=64).contains(&syncs), "group commit: {syncs} fsyncs for 64 records");
    assert!(*audit.synced.lock().unwrap() >= 64);
}

#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn t53_an_unwritable_directory_refuses_requests_or_degrades_by_config() {
    use std::os::unix::fs::PermissionsExt as _;
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("audit");
    std::fs::create_dir(&dir).unwrap();
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o500)).unwrap();
    // Root ignores directory permissions; skip the assertion there (CI runs as root too, so the
    // daemon test covers this with a file in place of the directory instead).
    let probe = std::fs::File::create(dir.join("probe"));
    if probe.is_ok() {
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        return;
    }
    let audit = VerifiedAudit::open(config(&dir)).unwrap();
    assert!(audit.is_broken());
    assert_eq!(audit.ready().unwrap_err().status_code(), 503);
    assert_eq!(audit.record(&record(1)).await.unwrap_err().status_code(), 503);
    let mut c = config(&dir);
    c.on_failure = OnFailure::Degrade;
    let degraded = VerifiedAudit::open(c).unwrap();
    assert!(degraded.ready().is_ok());
    assert!(degraded.record(&record(1)).await.is_ok());
    assert!(degraded.stats().write_failures.load(Ordering::Relaxed) >= 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_path_that_is_not_a_directory_fails_closed_and_recovers_when_fixed() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join("audit");
    std::fs::write(&dir, b"not a directory").unwrap();
    let audit = VerifiedAudit::open(config(&dir)).unwrap();
    assert_eq!(audit.ready().unwrap_err().status_code(), 503);
    assert_eq!(audit.record(&record(1)).await.unwrap_err().status_code(), 503);
    std::fs::remove_file(&dir).unwrap();
    assert!(audit.ready().is_ok(), "the stream comes back once the directory can be written");
    audit.record(&record(2)).await.unwrap();
    audit.flush().await.unwrap();
    assert!(check(&dir).ok());
}

#[test]
fn weak_keys_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    assert!(matches!(
        VerifiedAudit::open(VerifiedConfig::new(dir.path(), b"short".to_vec())),
        Err(VerifiedError::WeakKey)
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_removes_only_exported_segments_and_the_rest_still_verifies() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = config(dir.path());
    c.max_segment_bytes = 4_096;
    c.retention = Some(Duration::ZERO);
    let audit = VerifiedAudit::open(c.clone()).unwrap();
    for i in 0..40 {
        audit.record(&record(i)).await.unwrap();
    }
    let before = segment::list(dir.path()).unwrap();
    assert!(before.len() > 3);
    // Nothing is marked exported: nothing is removed, and that is counted.
    assert!(audit.stats().retention_blocked.load(Ordering::Relaxed) > 0);
    // Mark the two oldest exported: the next rotation removes exactly those.
    std::fs::write(exported_marker(&before[0]), b"").unwrap();
    std::fs::write(exported_marker(&before[1]), b"").unwrap();
    for i in 40..80 {
        audit.record(&record(i)).await.unwrap();
    }
    audit.flush().await.unwrap();
    let after = segment::list(dir.path()).unwrap();
    assert!(!after.contains(&before[0]) && !after.contains(&before[1]));
    assert!(after.contains(&before[2]), "the first unexported segment stays, and everything after it");
    let r = check(dir.path());
    assert!(r.ok(), "{:?}", r.findings);
    assert!(r.first_seq > 1);
    // Removing a segment by hand (no retention line) is reported.
    std::fs::remove_file(&after[0]).unwrap();
    let r = check(dir.path());
    assert!(matches!(r.findings[0].problem, Problem::MissingStart { .. }), "{:?}", r.findings);
}
