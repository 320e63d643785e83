//! One line of the verified stream: a JSON object written by us byte for byte, whose last field
//! is an HMAC-SHA-256 over the previous line's MAC followed by every byte of this line before
//! the MAC. The MAC chains each line to the one before it, across segment files.

use ring::hmac;
use serde::{Deserialize, Serialize};

/// Where the MAC field starts; everything before it is authenticated.
pub(super) const MAC_FIELD: &[u8] = b",\"mac\":\"";

/// What a line holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineKind {
    /// The first line of a segment file.
    SegmentStart,
    /// An audit record.
    Record,
    /// A signed checkpoint (periodic, at rotation, and at a clean shutdown).
    Checkpoint,
    /// Written after a restart that found a torn last line (a crash mid-write).
    Recovered,
    /// Written when retention removed the oldest (exported) segments: which, up to which
    /// sequence number, and the MAC they ended with, so the remaining stream still verifies.
    Retention,
}

/// The fields every line has, for reading back (the body stays raw).
#[derive(Debug, Deserialize)]
pub(super) struct Head<'a> {
    pub(super) seq: u64,
    pub(super) kind: LineKind,
    #[serde(borrow)]
    pub(super) prev: &'a str,
    #[serde(borrow)]
    pub(super) mac: &'a str,
}

/// A 32-byte MAC, written as 64 hex digits.
pub(super) type Mac = [u8; 32];

/// The MAC before the first line of a stream.
pub(super) const GENESIS: Mac = [0u8; 32];

/// Writes the line for (`seq`, `kind`, `ts`, `prev`, `body` JSON) and returns it (with its
/// trailing newline) and its MAC.
pub(super) fn encode(key: &hmac::Key, seq: u64, kind: LineKind, ts: u64, prev: &Mac, body: &[u8]) -> (Vec<u8>, Mac) {
    let kind = match kind {
        LineKind::SegmentStart => "segment_start",
        LineKind::Record => "record",
        LineKind::Checkpoint => "checkpoint",
        LineKind::Recovered => "recovered",
        LineKind::Retention => "retention",
    };
    let mut line = Vec::with_capacity(body.len() + 200);
    line.extend_from_slice(format!("{{\"seq\":{seq},\"kind\":\"{kind}\",\"ts\":{ts},\"prev\":\"").as_bytes());
    line.extend_from_slice(hex::encode(prev).as_bytes());
    line.extend_from_slice(b"\",\"body\":");
    line.extend_from_slice(body);
    let mac = sign(key, prev, &line);
    line.extend_from_slice(MAC_FIELD);
    line.extend_from_slice(hex::encode(mac).as_bytes());
    line.extend_from_slice(b"\"}\n");
    (line, mac)
}

/// The MAC of `authenticated` (a line up to its MAC field) chained to `prev`.
pub(super) fn sign(key: &hmac::Key, prev: &Mac, authenticated: &[u8]) -> Mac {
    let mut ctx = hmac::Context::with_key(key);
    ctx.update(prev);
    ctx.update(authenticated);
    let tag = ctx.sign();
    let mut out = [0u8; 32];
    out.copy_from_slice(tag.as_ref());
    out
}

/// Splits a line (without its newline) into the authenticated part and the MAC it claims.
pub(super) fn split(line: &[u8]) -> Option<(&[u8], Mac)> {
    let at = line.windows(MAC_FIELD.len()).rposition(|w| w == MAC_FIELD)?;
    let hex_part = line.get(at + MAC_FIELD.len()..)?.strip_suffix(b"\"}")?;
    let mac: Mac = hex::decode(hex_part).ok()?.try_into().ok()?;
    Some((line.get(..at)?, mac))
}

/// Parses a MAC written as hex.
pub(super) fn parse_mac(text: &str) -> Option<Mac> {
    hex::decode(text).ok()?.try_into().ok()
}
