//! `TraceContext`: the W3C Trace Context of a request — the caller's trace (from an incoming
//! `traceparent`) or a new one, and this gateway's own span in it, so upstream calls and
//! exported spans join the caller's trace.

use std::fmt::Write as _;

/// A trace id, this request's span id, and the caller's span (when it sent `traceparent`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceContext {
    /// The 16-byte trace id (never all zero).
    pub trace_id: [u8; 16],
    /// The gateway's span for this request (never all zero).
    pub span_id: [u8; 8],
    /// The caller's span, the parent of ours.
    pub parent_span_id: Option<[u8; 8]>,
    /// The caller's sampled flag (`true` for new traces).
    pub sampled: bool,
}

impl TraceContext {
    /// A new trace with a new root span.
    pub fn new_root() -> Self {
        Self { trace_id: random_nonzero(), span_id: random_nonzero(), parent_span_id: None, sampled: true }
    }

    /// Continues the trace of an incoming `traceparent` header (version 00 format; unknown
    /// future versions are read by their first four fields, as the spec asks), or starts a new
    /// one when it is absent or invalid.
    pub fn from_traceparent(header: Option<&str>) -> Self {
        header.and_then(parse).unwrap_or_else(Self::new_root)
    }

    /// The `traceparent` to send upstream: our trace, our span as the parent.
    pub fn traceparent(&self) -> String {
        format!("00-{}-{}-{}", self.trace_id_hex(), hex8(&self.span_id), if self.sampled { "01" } else { "00" })
    }

    /// The trace id as 32 lowercase hex digits.
    pub fn trace_id_hex(&self) -> String {
        let mut s = String::with_capacity(32);
        for b in self.trace_id {
            let _ = write!(s, "{b:02x}");
        }
        s
    }

    /// The span id as 16 lowercase hex digits.
    pub fn span_id_hex(&self) -> String {
        hex8(&self.span_id)
    }
}

fn hex8(bytes: &[u8; 8]) -> String {
    let mut s = String::with_capacity(16);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

fn random_nonzero<const N: usize>() -> [u8; N] {
    loop {
        let mut out = [0u8; N];
        for b in &mut out {
            *b = fastrand::u8(..);
        }
        if out.iter().any(|&b| b != 0) {
            return out;
        }
    }
}

fn parse(header: &str) -> Option<TraceContext> {
    let mut parts = header.trim().split('-');
    let (version, trace, parent, flags) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if version.len() != 2 || version == "ff" || (version == "00" && parts.next().is_some()) {
        return None;
    }
    let lower_hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    if !lower_hex(version) || !lower_hex(trace) || !lower_hex(parent) || !lower_hex(flags) || flags.len() != 2 {
        return None;
    }
    let trace_id: [u8; 16] = hex::decode(trace).ok()?.try_into().ok()?;
    let parent_id: [u8; 8] = hex::decode(parent).ok()?.try_into().ok()?;
    if trace_id == [0; 16] || parent_id == [0; 8] {
        return None;
    }
    let sampled = u8::from_str_radix(flags, 16).ok()? & 1 == 1;
    Some(TraceContext { trace_id, span_id: random_nonzero(), parent_span_id: Some(parent_id), sampled })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_traceparent_is_continued_and_invalid_ones_start_a_new_trace() {
        let t = TraceContext::from_traceparent(Some("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"));
        assert_eq!(t.trace_id_hex(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_eq!(t.parent_span_id, Some([0x00, 0xf0, 0x67, 0xaa, 0x0b, 0xa9, 0x02, 0xb7]));
        assert!(t.sampled);
        let up = t.traceparent();
        assert!(up.starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-") && up.ends_with("-01"));
        assert_ne!(&up[36..52], "00f067aa0ba902b7", "upstream calls are children of our span");
        for bad in [
            "",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
        ] {
            assert_eq!(TraceContext::from_traceparent(Some(bad)).parent_span_id, None, "{bad}");
        }
    }
}
