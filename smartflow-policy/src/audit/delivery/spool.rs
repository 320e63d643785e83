//! `Spool`: encoded payloads that could not be delivered yet, oldest first — files in a
//! directory (they survive a restart and are sent first when the daemon comes back) or, without
//! a directory, a bounded list in memory. Full is full: what does not fit is counted as dropped
//! and reported, never silently discarded.

use std::collections::VecDeque;
use std::path::PathBuf;

use bytes::Bytes;

/// Where undelivered payloads wait.
#[derive(Debug)]
pub(super) struct Spool {
    dir: Option<PathBuf>,
    memory: VecDeque<(Bytes, u64)>,
    files: VecDeque<(PathBuf, u64)>,
    next: u64,
    bytes: u64,
    max_bytes: u64,
}

impl Spool {
    /// A spool in `dir` (existing payloads are picked up in order), or in memory.
    pub(super) fn open(dir: Option<PathBuf>, max_bytes: u64) -> std::io::Result<Self> {
        let mut spool = Self { dir, memory: VecDeque::new(), files: VecDeque::new(), next: 0, bytes: 0, max_bytes };
        if let Some(d) = &spool.dir {
            std::fs::create_dir_all(d)?;
            // `<sequence>-<records>.payload`
            let mut found: Vec<(u64, u64, PathBuf, u64)> = std::fs::read_dir(d)?
                .filter_map(Result::ok)
                .filter_map(|e| {
                    let file_name = e.file_name();
                    let (n, records) = file_name.to_str()?.strip_suffix(".payload")?.split_once('-')?;
                    Some((n.parse().ok()?, records.parse().ok()?, e.path(), e.metadata().ok()?.len()))
                })
                .collect();
            found.sort();
            for (n, records, path, len) in found {
                spool.next = spool.next.max(n + 1);
                spool.bytes += len;
                spool.files.push_back((path, records));
            }
        }
        Ok(spool)
    }

    /// Number of payloads waiting.
    pub(super) fn len(&self) -> usize {
        self.memory.len() + self.files.len()
    }

    /// Bytes waiting.
    pub(super) fn bytes(&self) -> u64 {
        self.bytes
    }

    /// Appends a payload of `records` records; `false` when the spool is full (or cannot be
    /// written).
    pub(super) fn push(&mut self, payload: &Bytes, records: u64) -> bool {
        let len = payload.len() as u64;
        if self.bytes + len > self.max_bytes {
            return false;
        }
        match &self.dir {
            None => self.memory.push_back((payload.clone(), records)),
            Some(d) => {
                let path = d.join(format!("{:020}-{records}.payload", self.next));
                let tmp = d.join(format!("{:020}.tmp", self.next));
                let written = std::fs::write(&tmp, payload)
                    .and_then(|()| std::fs::File::open(&tmp)?.sync_all())
                    .and_then(|()| std::fs::rename(&tmp, &path));
                if let Err(e) = written {
                    tracing::error!(error = %e, "cannot write to the audit spool");
                    let _ = std::fs::remove_file(&tmp);
                    return false;
                }
                self.files.push_back((path, records));
            }
        }
        self.next += 1;
        self.bytes += len;
        true
    }

    /// The oldest payload and its record count, without removing it.
    pub(super) fn front(&mut self) -> Option<(Bytes, u64)> {
        if let Some(p) = self.memory.front() {
            return Some(p.clone());
        }
        let (path, records) = self.files.front()?.clone();
        match std::fs::read(&path) {
            Ok(b) => Some((Bytes::from(b), records)),
            Err(e) => {
                tracing::error!(error = %e, path = %path.display(), "unreadable audit spool file set aside");
                let _ = std::fs::rename(&path, path.with_extension("unreadable"));
                self.files.pop_front();
                self.front()
            }
        }
    }

    /// Removes the oldest payload (after it was delivered).
    pub(super) fn pop(&mut self) {
        if let Some((p, _)) = self.memory.pop_front() {
            self.bytes = self.bytes.saturating_sub(p.len() as u64);
        } else if let Some((path, _)) = self.files.pop_front() {
            let len = std::fs::metadata(&path).map_or(0, |m| m.len());
            self.bytes = self.bytes.saturating_sub(len);
            if let Err(e) = std::fs::remove_file(&path) {
                tracing::error!(error = %e, "cannot remove a delivered audit spool file");
            }
        }
    }
}
