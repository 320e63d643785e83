//! IP addresses. IPv4 in dotted-quad form (octets 0–255 without leading zeros) and IPv6 as parsed
//! by [`std::net::Ipv6Addr`].
//!
//! Private, link-local and carrier-grade NAT ranges (`10/8`, `172.16/12`, `192.168/16`, `fe80::/10`,
//! `fc00::/7`) **are** reported: internal addresses reveal network layout and are sensitive in an
//! outbound prompt. Not reported: unspecified (`0.0.0.0`, `0/8`, `::`), loopback (`127/8`, `::1`),
//! broadcast and netmask-looking values (first octet 255), the documentation ranges
//! (`192.0.2/24`, `198.51.100/24`, `203.0.113/24`, `2001:db8::/32`), and version-like strings
//! (`v1.2.3.4`, `1.2.3.4.5`, "version 1.2.3.4", "image bump to 4.10.7.1", a `firmware` column).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, column_name, context_near};

/// Finds IPv4/IPv6 addresses (score 0.8; 0.95 next to "ip"/"host"/"server" context).
#[derive(Debug, Clone, Copy, Default)]
pub struct IpAddress;

const NAME: &str = "ip_address";
const SCORE: f32 = 0.8;
const SCORE_WITH_CONTEXT: f32 = 0.95;
const CONTEXT: &[&str] = &[
    "ip",
    "address",
    "host",
    "server",
    "adresse",
    "dirección",
    "gateway",
    "dns",
    "client",
    "remote",
    "peer",
    "src",
    "dst",
    "from",
    "login",
    "forwarded",
];
const VERSION_CONTEXT: &[&str] = &[
    "version",
    "versión",
    "ver.",
    "release",
    "build",
    "firmware",
    "v.",
    "oid",
    "snmp",
    "introduced in",
    "fixed in",
    "upgrade to",
    "patch",
    "tag:",
    "tag=",
    "tag ",
    "affects",
    "image",
    "revert",
    "rollback",
    "downgrade",
];

impl Recognizer for IpAddress {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![
            r"\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b".to_owned(),
            r"(?i)[0-9a-f]{0,4}(?::[0-9a-f]{0,4}){2,7}(?:\.\d{1,3}){0,3}".to_owned(),
        ]
    }

    /// IPv4: digit clusters with at least 4 digits and 3 dots. IPv6: a `:` followed, after at most
    /// four hex digits, by another `:` (the first two groups of every candidate).
    fn triggers(&self) -> Option<Vec<Trigger>> {
        let dotted = |text: &str, start: usize, end: usize| {
            text.as_bytes().get(start..end).is_some_and(|c| c.iter().filter(|b| **b == b'.').count() >= 3)
        };
        let colons = |text: &str, _start: usize, end: usize| {
            let next = text.as_bytes().get(end..).unwrap_or_default();
            let hex = next.iter().take(4).take_while(|b| b.is_ascii_hexdigit()).count();
            next.get(hex) == Some(&b':')
        };
        Some(vec![
            Trigger::digits(4).window(2, 2).accept(dotted).patterns(&[0]),
            Trigger::literals(&[":"]).window(8, 64).accept(colons).patterns(&[1]),
        ])
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        let mut back = text.get(..start).unwrap_or_default().chars().rev();
        let mut ahead = text.get(end..).unwrap_or_default().chars();
        let (b1, b2) = (back.next(), back.next());
        let (a1, a2) = (ahead.next(), ahead.next());
        let glued = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_' || (pattern == 1 && c == ':'));
        let dotted =
            |sep: Option<char>, next: Option<char>| sep == Some('.') && next.is_some_and(|c| c.is_alphanumeric());
        // `Chrome/4.6.2.106`: a product's version, not an address (`http://10.0.0.5` has `//`).
        let product_version = b1 == Some('/') && b2.is_some_and(char::is_alphanumeric);
        if glued(b1) || glued(a1) || dotted(b1, b2) || dotted(a1, a2) || product_version {
            return None;
        }
        // Context is read on the candidate's own line only (a log line's neighbours say nothing).
        let line_start = text.get(..start)?.rfind('\n').map_or(0, |i| i + 1);
        let near = |window: usize, words: &[&str]| context_near(text, start, window.min(start - line_start), words);
        // Next to version words (before it, or `… 6.0.3.1 release`), in a table column named like
        // one (`firmware`, `sw_version`), or a locked package's (`rails (7.1.3.4)`).
        let version_column = column_name(text, start).is_some_and(|c| VERSION_CONTEXT.iter().any(|w| c.contains(w)));
        if version_column || near(64, VERSION_CONTEXT) || version_after(text, end) || locked_package(text, start, end) {
            return None;
        }
        let reportable = if pattern == 0 { ipv4_reportable(candidate) } else { ipv6_reportable(candidate) };
        if !reportable {
            return None;
        }
        // An address is where a log line starts, or next to address words.
        let context = near(30, CONTEXT) || text.get(line_start..start).is_some_and(|b| b.trim().is_empty());
        // `2.8.1.44`, `1.18.0.2`: small numbers read as a version unless an address is meant (a
        // line start, or an address word standing on its own: `payments-gateway 2.8.1.44` is not).
        let at_line_start = text.get(line_start..start).is_some_and(|b| b.trim().is_empty());
        if pattern == 0 && version_shaped(candidate) && !at_line_start && !word_before(text, line_start, start) {
            return None;
        }
        let score = if context { SCORE_WITH_CONTEXT } else { SCORE };
        Some(Finding { kind: EntityKind::IpAddress, start, end, score, recognizer: NAME })
    }
}

/// An address word ([`CONTEXT`]) as a word of its own (not part of `payments-gateway`) within the 30 bytes before `start` on its
/// line.
fn word_before(text: &str, line_start: usize, start: usize) -> bool {
    let mut from = start.saturating_sub(30).max(line_start);
    while !text.is_char_boundary(from) {
        from += 1;
    }
    let before = text.get(from..start).unwrap_or_default().to_lowercase();
    before.split(|c: char| !(c.is_alphanumeric() || c == '-' || c == '_')).any(|w| CONTEXT.contains(&w))
}

/// A version word within the few bytes after the candidate (`the 6.0.3.1 release`).
fn version_after(text: &str, end: usize) -> bool {
    let mut to = (end + 12).min(text.len());
    while !text.is_char_boundary(to) {
        to -= 1;
    }
    let after = text.get(end..to).unwrap_or_default().to_lowercase();
    ["release", "version", "build"].iter().any(|w| after.trim_start().starts_with(w))
}

/// `    rails (7.1.3.4)`: a lock file's line, a lower-case package name and its version in
/// brackets, alone on the line.
fn locked_package(text: &str, start: usize, end: usize) -> bool {
    let line = text.get(..start).unwrap_or_default().rsplit('\n').next().unwrap_or_default();
    let Some(name) = line.strip_suffix(" (").map(str::trim_start) else { return false };
    let rest = text.get(end..).unwrap_or_default();
    let closes = rest.strip_prefix(')').is_some_and(|r| r.split('\n').next().is_some_and(|l| l.trim().is_empty()));
    closes
        && !name.is_empty()
        && name.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.'))
}

/// Four small numbers (`2.8.1.44`: first octet below 10, the middle two at most 20) are a
/// version more often than an address.
fn version_shaped(candidate: &str) -> bool {
    let octets: Vec<u32> = candidate.split('.').filter_map(|o| o.parse().ok()).collect();
    matches!(octets.as_slice(), [a, b, c, _] if *a < 10 && *b <= 20 && *c <= 20)
}

fn ipv4_reportable(candidate: &str) -> bool {
    // `Ipv4Addr` already rejects octets > 255 and leading zeros.
    let Ok(ip) = candidate.parse::<Ipv4Addr>() else { return false };
    let [a, b, c, _] = ip.octets();
    let documentation = matches!((a, b, c), (192, 0, 2) | (198, 51, 100) | (203, 0, 113));
    !(a == 0 || a == 127 || a == 255 || documentation)
}

fn ipv6_reportable(candidate: &str) -> bool {
    if candidate.chars().filter(char::is_ascii_hexdigit).count() < 4 {
        return false;
    }
    // `a8:b1:aa:3b:e5:81:89:89`: colon-separated bytes are a serial number, a fingerprint or a
    // MAC address, not an address written by a person.
    let groups: Vec<&str> = candidate.split(':').collect();
    if groups.len() >= 6 && groups.iter().all(|g| g.len() == 2) {
        return false;
    }
    let Ok(ip) = candidate.parse::<Ipv6Addr>() else { return false };
    let segments = ip.segments();
    let documentation = segments.first() == Some(&0x2001) && segments.get(1) == Some(&0x0db8);
    !(ip.is_unspecified() || ip.is_loopback() || documentation)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(IpAddress)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn ip_address_finds_ipv4_including_private() {
        assert_eq!(spans("server at 8.8.8.8, fallback 1.1.1.1."), ["8.8.8.8", "1.1.1.1"]);
        assert_eq!(spans("db=10.0.12.7:5432"), ["10.0.12.7"]);
        assert_eq!(spans("(192.168.1.20)"), ["192.168.1.20"]);
        assert_eq!(spans("172.16.254.1"), ["172.16.254.1"]);
    }

    #[test]
    fn ip_address_finds_ipv6() {
        assert_eq!(spans("host 2a00:1450:4001:81b::200e here"), ["2a00:1450:4001:81b::200e"]);
        assert_eq!(spans("link fe80::1ff:fe23:4567:890a."), ["fe80::1ff:fe23:4567:890a"]);
        assert_eq!(spans("[2606:4700:4700::1111]:53"), ["2606:4700:4700::1111"]);
        assert_eq!(spans("::ffff:8.8.4.4"), ["::ffff:8.8.4.4"]);
    }

    #[test]
    fn ip_address_context_raises_score() {
        let d = Detector::builder().recognizer(Box::new(IpAddress)).build().unwrap();
        assert_eq!(d.detect("client IP 8.8.8.8")[0].score, SCORE_WITH_CONTEXT);
        assert_eq!(d.detect("got 62.220.24.210")[0].score, SCORE);
        // A log line starts with the client's address.
        assert_eq!(d.detect("9.9.9.9 - - [11/Jun/2024]")[0].score, SCORE_WITH_CONTEXT);
    }

    #[test]
    fn context_is_read_on_the_candidates_own_line() {
        let log = "\"Mozilla/5.0 Version/17.5 Safari/605.1.15\"\n2003:e4:2f1b:4c00::a1 - - [11/Jun/2024:10:14:25]";
        assert_eq!(spans(log), ["2003:e4:2f1b:4c00::a1"]);
        assert_eq!(spans("# servidor de informes (192.168.40.12)"), ["192.168.40.12"]);
    }

    #[test]
    fn ip_address_rejects_hard_negatives() {
        for text in [
            "v1.2.3.4",
            "1.2.3.4.5",
            "version 1.2.3.4",
            "release 10.0.19041.1",
            "256.1.1.1",
            "01.02.03.04",
            "0.0.0.0",
            "127.0.0.1",
            "255.255.255.0",
            "192.0.2.15",
            "198.51.100.7",
            "203.0.113.9",
            "::1",
            "::",
            "2001:db8::1",
            "2001:0db8:85a3::8a2e:0370:7334",
            "at 10:30:45",
            "2024-01-15T10:30:45Z",
            "std::net::Ipv6Addr",
            "Foo::bar::baz",
            "MAC 00:1a:2b:3c:4d:5e",
            "550e8400-e29b-41d4-a716-446655440000",
            "978-3-16-148410-0",
            "[09:02] payments-gateway 2.8.1.44 -> prod-eu finished",
            "    rails (7.1.3.4)",
            "remove secrets before the 6.0.3.1 release",
            "Component: pricing   Affects: 2.3.0.9",
            "image:\n  tag: \"2.8.1.44\"",
            "serial a8:b1:aa:3b:e5:81:89:89, valid",
        ] {
            assert!(spans(text).is_empty(), "{text}: {:?}", spans(text));
        }
    }
}
