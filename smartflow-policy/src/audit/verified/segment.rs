//! Segment files: `segment-<first seq, 20 digits>.log` in the stream directory, listed in order,
//! and the recovery of the last one after a crash (its torn last line is cut off and reported).

use std::fs::{File, OpenOptions};
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::{Path, PathBuf};

use super::line::{self, Mac};

/// The file name of the segment whose first line has sequence number `first_seq`.
pub(super) fn name(first_seq: u64) -> String {
    format!("segment-{first_seq:020}.log")
}

/// Every segment in `dir`, oldest first.
pub(super) fn list(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut out: Vec<PathBuf> = std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with("segment-") && n.ends_with(".log"))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// Where the last segment ends: the last complete line's sequence number and MAC, and how many
/// bytes of a torn final line were cut off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tail {
    pub(super) seq: u64,
    pub(super) mac: Mac,
    pub(super) torn_bytes: u64,
}

/// Opens `path` for appending after cutting off a torn last line, and reads its tail. Lines are
/// trusted here (`smartflowd audit verify` checks them): this only finds where to continue.
pub(super) fn recover(path: &Path) -> std::io::Result<(File, Tail)> {
    let mut file = OpenOptions::new().read(true).append(true).open(path)?;
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    let complete = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let torn = (bytes.len() - complete) as u64;
    if torn > 0 {
        file.set_len(complete as u64)?;
        file.sync_data()?;
    }
    file.seek(SeekFrom::End(0))?;
    let last = bytes.get(..complete).unwrap_or_default().split(|&b| b == b'\n').rfind(|l| !l.is_empty());
    let tail = match last.and_then(|l| serde_json::from_slice::<line::Head<'_>>(l).ok()) {
        Some(head) => Tail { seq: head.seq, mac: line::parse_mac(head.mac).unwrap_or(line::GENESIS), torn_bytes: torn },
        None => Tail { seq: 0, mac: line::GENESIS, torn_bytes: torn },
    };
    Ok((file, tail))
}

/// The sequence number before the first line of the segment at `path`, and that line's `prev`
/// (the MAC the stretch before it ended with).
pub(super) fn first_line_anchor(path: &Path) -> std::io::Result<(u64, String)> {
    let bytes = std::fs::read(path)?;
    let first = bytes.split(|&b| b == b'\n').next().unwrap_or_default();
    let head: line::Head<'_> = serde_json::from_slice(first).map_err(std::io::Error::other)?;
    Ok((head.seq.saturating_sub(1), head.prev.to_owned()))
}
