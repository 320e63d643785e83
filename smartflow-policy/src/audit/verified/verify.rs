//! `verify`: reads a stream directory and reports every place where the chain does not hold —
//! a changed byte (bad MAC), a missing, reordered, replayed or inserted line (sequence and chain
//! breaks), a bad checkpoint signature, a torn last line, and an unsealed tail (records after
//! the last checkpoint: a crash, or lines cut off at a line boundary).

use std::path::Path;

use ring::hmac;
use ring::signature::{ED25519, UnparsedPublicKey};
use serde::Serialize;

use super::line::{self, LineKind, Mac};
use super::segment;

/// What is wrong at one place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Not a line of the stream (not JSON, or without the expected fields).
    Unreadable,
    /// The MAC does not match the line: its bytes were changed, or it was written without the key.
    BadMac,
    /// The sequence number is not the next one.
    SequenceGap {
        /// The number that should come next.
        expected: u64,
        /// The number found.
        found: u64,
    },
    /// The line does not chain to the line before it.
    ChainBreak,
    /// A checkpoint whose Ed25519 signature does not verify.
    BadSignature,
    /// A segment whose name does not match its first line.
    SegmentMismatch,
    /// The last line is incomplete (the file was cut mid-line).
    TornTail {
        /// Bytes after the last complete line.
        bytes: u64,
    },
    /// The stream does not start at sequence 1, and no retention line in it accounts for the
    /// missing beginning (segments were removed by hand).
    MissingStart {
        /// The first sequence number present.
        first_seq: u64,
    },
}

/// One finding: where, and what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// The segment file name.
    pub segment: String,
    /// The line number in it (1-based).
    pub line: usize,
    /// The sequence number the line claims, when readable.
    pub seq: Option<u64>,
    /// What is wrong.
    #[serde(flatten)]
    pub problem: Problem,
}

/// The result of a verification.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Report {
    /// Segment files read.
    pub segments: usize,
    /// Lines read.
    pub lines: u64,
    /// Audit records among them.
    pub records: u64,
    /// Checkpoints among them (signatures checked when a public key was given).
    pub checkpoints: u64,
    /// The first sequence number present (above 1 after retention removed old segments).
    pub first_seq: u64,
    /// The last sequence number.
    pub last_seq: u64,
    /// Records after the last checkpoint: 0 for a stream sealed at a clean shutdown.
    pub unsealed_records: u64,
    /// Everything that does not hold, in stream order.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Whether the stream verified (an unsealed tail alone is not tampering; it is reported).
    pub fn ok(&self) -> bool {
        self.findings.is_empty()
    }
}

/// Verifies the stream in `dir` with the HMAC key, and checkpoint signatures with the Ed25519
/// public key when given.
pub fn verify(dir: &Path, hmac_key: &[u8], public_key: Option<&[u8]>) -> std::io::Result<Report> {
    verify_upto(dir, hmac_key, public_key, None)
}

/// [`verify`], reading the segment `limit.0` only up to `limit.1` bytes (a live stream: what
/// was written when the check began).
pub(super) fn verify_upto(
    dir: &Path,
    hmac_key: &[u8],
    public_key: Option<&[u8]>,
    limit: Option<(&Path, u64)>,
) -> std::io::Result<Report> {
    let key = hmac::Key::new(hmac::HMAC_SHA256, hmac_key);
    let public = public_key.map(|k| UnparsedPublicKey::new(&ED25519, k.to_vec()));
    let mut report = Report::default();
    let mut prev: Mac = line::GENESIS;
    let mut expected: u64 = 1;
    let mut first: Option<(u64, Mac, String, usize)> = None;
    let mut retained: Vec<(u64, String)> = Vec::new();
    for path in segment::list(dir)? {
        report.segments += 1;
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_owned();
        let mut bytes = std::fs::read(&path)?;
        if let Some((limited, len)) = limit
            && limited == path.as_path()
        {
            bytes.truncate(len as usize);
        }
        let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        let mut at = |line: usize, seq: Option<u64>, problem: Problem| {
            report_finding(&mut report.findings, &name, line, seq, problem);
        };
        for (i, raw) in bytes.get(..complete).unwrap_or_default().split(|&b| b == b'\n').enumerate() {
            if raw.is_empty() {
                continue;
            }
            let n = i + 1;
            report.lines += 1;
            let (Ok(head), Some((authenticated, claimed))) =
                (serde_json::from_slice::<line::Head<'_>>(raw), line::split(raw))
            else {
                at(n, None, Problem::Unreadable);
                // Assume it stood in the right place, so the lines after it are judged on their own.
                if let Some((_, claimed)) = line::split(raw) {
                    prev = claimed;
                }
                expected += 1;
                continue;
            };
            let own_prev = line::parse_mac(head.prev).unwrap_or(line::GENESIS);
            if first.is_none() {
                // The stream may start later than 1 after retention: check that at the end.
                first = Some((head.seq, own_prev, name.clone(), n));
                expected = head.seq;
                prev = own_prev;
            }
            if line::sign(&key, &own_prev, authenticated) != claimed {
                at(n, Some(head.seq), Problem::BadMac);
            } else if head.seq != expected {
                at(n, Some(head.seq), Problem::SequenceGap { expected, found: head.seq });
            } else if own_prev != prev {
                at(n, Some(head.seq), Problem::ChainBreak);
            }
            if n == 1 && (head.kind != LineKind::SegmentStart || name != segment::name(head.seq)) {
                at(n, Some(head.seq), Problem::SegmentMismatch);
            }
            match head.kind {
                LineKind::Record => {
                    report.records += 1;
                    report.unsealed_records += 1;
                }
                LineKind::Checkpoint => {
                    report.checkpoints += 1;
                    report.unsealed_records = 0;
                    if let Some(public) = &public
                        && !checkpoint_signed(public, raw, head.seq, head.prev)
                    {
                        at(n, Some(head.seq), Problem::BadSignature);
                    }
                }
                LineKind::Retention => {
                    if let Some(r) = retention_of(raw) {
                        retained.push(r);
                    }
                }
                LineKind::SegmentStart | LineKind::Recovered => {}
            }
            // Continue from what this line claims, so one tampering is reported once.
            prev = claimed;
            expected = head.seq + 1;
            report.last_seq = head.seq;
        }
        if complete < bytes.len() {
            let lines = bytes.get(..complete).unwrap_or_default().iter().filter(|&&b| b == b'\n').count();
            at(lines + 1, None, Problem::TornTail { bytes: (bytes.len() - complete) as u64 });
        }
    }
    if let Some((first_seq, first_prev, segment, line)) = first {
        report.first_seq = first_seq;
        let accounted =
            retained.iter().any(|(through, head)| *through + 1 == first_seq && *head == hex::encode(first_prev));
        if first_seq != 1 && !accounted {
            report.findings.insert(
                0,
                Finding { segment, line, seq: Some(first_seq), problem: Problem::MissingStart { first_seq } },
            );
        }
    }
    Ok(report)
}

/// The `(through_seq, head)` of a retention line.
fn retention_of(raw: &[u8]) -> Option<(u64, String)> {
    #[derive(serde::Deserialize)]
    struct Body {
        through_seq: u64,
        head: String,
    }
    #[derive(serde::Deserialize)]
    struct Line {
        body: Body,
    }
    let parsed: Line = serde_json::from_slice(raw).ok()?;
    Some((parsed.body.through_seq, parsed.body.head))
}

fn report_finding(findings: &mut Vec<Finding>, segment: &str, line: usize, seq: Option<u64>, problem: Problem) {
    findings.push(Finding { segment: segment.to_owned(), line, seq, problem });
}

fn checkpoint_signed(public: &UnparsedPublicKey<Vec<u8>>, raw: &[u8], seq: u64, head: &str) -> bool {
    #[derive(serde::Deserialize)]
    struct Body {
        head: String,
        signature: Option<String>,
    }
    #[derive(serde::Deserialize)]
    struct Line {
        body: Body,
    }
    let Ok(parsed) = serde_json::from_slice::<Line>(raw) else { return false };
    let Some(sig) = parsed.body.signature.and_then(|s| hex::decode(s).ok()) else { return false };
    parsed.body.head == head && public.verify(super::checkpoint_message(seq, head).as_bytes(), &sig).is_ok()
}
