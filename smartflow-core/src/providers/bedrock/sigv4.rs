//! AWS Signature Version 4 request signing (header form), with `ring` for SHA-256 and
//! HMAC-SHA256: canonical request → string to sign → derived signing key → signature.
//!
//! Everything here is a pure function of its inputs (the time included), so it is tested
//! against AWS's published SigV4 test-suite vectors. Path normalisation (`.`/`..` segments,
//! repeated slashes) is not done: Smartflow builds its own paths and never sends such segments.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use http::{HeaderName, HeaderValue};
use ring::{digest, hmac};
use secrecy::{ExposeSecret, SecretString};

use crate::error::Error;

/// The signing algorithm name.
pub const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The hex SHA-256 of an empty payload.
pub const EMPTY_PAYLOAD_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

/// Long-term or temporary AWS credentials.
#[derive(Debug, Clone)]
pub struct AwsCredentials {
    /// `AKIA…` (long-term) or `ASIA…` (temporary).
    pub access_key_id: String,
    /// The secret access key.
    pub secret_access_key: SecretString,
    /// The session token of temporary credentials (sent and signed as `x-amz-security-token`).
    pub session_token: Option<SecretString>,
}

impl AwsCredentials {
    /// Long-term credentials (no session token).
    pub fn new(access_key_id: impl Into<String>, secret_access_key: impl Into<String>) -> Self {
        Self {
            access_key_id: access_key_id.into(),
            secret_access_key: SecretString::from(secret_access_key.into()),
            session_token: None,
        }
    }

    /// Adds the session token of temporary credentials.
    pub fn with_session_token(mut self, token: impl Into<String>) -> Self {
        self.session_token = Some(SecretString::from(token.into()));
        self
    }
}

/// Signs a request and returns the headers to add to it: `authorization`, `x-amz-date`,
/// `x-amz-content-sha256` and, with temporary credentials, `x-amz-security-token`.
///
/// - `host`: the `Host` header the request will carry (`host` or `host:port` when the port is
///   not the scheme's default); it is signed but not returned, the HTTP client sets it.
/// - `path`: the request path exactly as sent on the wire (already percent-encoded, e.g.
///   `/model/anthropic.claude-v2%3A1/converse`); the canonical URI encodes each segment once more
///   ([`canonical_uri`]), as SigV4 requires for every service but S3.
/// - `query`: the raw query string without `?` (empty for none).
/// - `headers`: other headers to sign (e.g. `content-type`); must not repeat the four above.
/// - `payload_sha256`: the hex SHA-256 of the body ([`sha256_hex`]).
///
/// # Errors
/// An internal error when a credential or header value cannot be put in a header.
#[expect(clippy::too_many_arguments, reason = "SigV4 signs exactly these inputs; a struct would only rename them")]
pub fn sign(
    method: &str,
    host: &str,
    path: &str,
    query: &str,
    headers: &[(HeaderName, HeaderValue)],
    payload_sha256: &str,
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    time: SystemTime,
) -> Result<Vec<(HeaderName, HeaderValue)>, Error> {
    let bad = || Error::internal("AWS request signing produced an invalid header value");
    let amz_date = amz_date(time);
    let mut out = vec![
        (HeaderName::from_static("x-amz-date"), HeaderValue::try_from(amz_date.as_str()).map_err(|_| bad())?),
        (HeaderName::from_static("x-amz-content-sha256"), HeaderValue::try_from(payload_sha256).map_err(|_| bad())?),
    ];
    if let Some(token) = &credentials.session_token {
        let mut v = HeaderValue::try_from(token.expose_secret()).map_err(|_| bad())?;
        v.set_sensitive(true);
        out.push((HeaderName::from_static("x-amz-security-token"), v));
    }
    let mut signed: Vec<(HeaderName, HeaderValue)> = headers.to_vec();
    signed.push((http::header::HOST, HeaderValue::try_from(host).map_err(|_| bad())?));
    signed.extend(out.iter().cloned());
    let authorization =
        authorization(method, path, query, &signed, payload_sha256, credentials, region, service, &amz_date);
    let mut v = HeaderValue::try_from(authorization).map_err(|_| bad())?;
    v.set_sensitive(true);
    out.insert(0, (http::header::AUTHORIZATION, v));
    Ok(out)
}

/// The `Authorization` header value for a request whose every signed header (`host` and
/// `x-amz-date` included) is in `headers`; `amz_date` is the `x-amz-date` value.
#[expect(clippy::too_many_arguments, reason = "SigV4 signs exactly these inputs; a struct would only rename them")]
pub fn authorization(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(HeaderName, HeaderValue)],
    payload_sha256: &str,
    credentials: &AwsCredentials,
    region: &str,
    service: &str,
    amz_date: &str,
) -> String {
    let date = amz_date.get(..8).unwrap_or(amz_date);
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let (creq, signed_headers) = canonical_request(method, path, query, headers, payload_sha256);
    let sts = string_to_sign(amz_date, &scope, &creq);
    let key = signing_key(credentials.secret_access_key.expose_secret(), date, region, service);
    let signature = hex::encode(hmac::sign(&key, sts.as_bytes()).as_ref());
    format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature={signature}",
        credentials.access_key_id
    )
}

/// The canonical request and its `SignedHeaders` list:
/// `METHOD\nURI\nQUERY\nHEADERS\n\nSIGNED_HEADERS\nPAYLOAD_HASH`.
pub fn canonical_request(
    method: &str,
    path: &str,
    query: &str,
    headers: &[(HeaderName, HeaderValue)],
    payload_sha256: &str,
) -> (String, String) {
    let (canonical_headers, signed_headers) = canonical_headers(headers);
    let creq = format!(
        "{}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{payload_sha256}",
        method.to_ascii_uppercase(),
        canonical_uri(path),
        canonical_query(query),
    );
    (creq, signed_headers)
}

/// `AWS4-HMAC-SHA256\n<amz date>\n<scope>\n<hex sha256 of the canonical request>`.
pub fn string_to_sign(amz_date: &str, scope: &str, canonical_request: &str) -> String {
    format!("{ALGORITHM}\n{amz_date}\n{scope}\n{}", sha256_hex(canonical_request.as_bytes()))
}

/// The derived key: HMAC chain over `AWS4<secret>`, date (`YYYYMMDD`), region, service and
/// `aws4_request`.
pub fn signing_key(secret: &str, date: &str, region: &str, service: &str) -> hmac::Key {
    let mut key = hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes());
    for part in [date, region, service, "aws4_request"] {
        let tag = hmac::sign(&key, part.as_bytes());
        key = hmac::Key::new(hmac::HMAC_SHA256, tag.as_ref());
    }
    key
}

/// The lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(digest::digest(&digest::SHA256, data).as_ref())
}

/// `time` as `YYYYMMDDTHHMMSSZ` (UTC); times before 1970 are taken as 1970.
pub fn amz_date(time: SystemTime) -> String {
    let secs = time.duration_since(UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let (days, rem) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    format!("{year:04}{month:02}{day:02}T{:02}{:02}{:02}Z", rem / 3600, rem % 3600 / 60, rem % 60)
}

/// Days since 1970-01-01 → (year, month, day) in the proleptic Gregorian calendar.
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    // Shift the epoch to 0000-03-01 so that leap days fall at the end of each 400-year era.
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// RFC 3986 percent-encoding as SigV4 wants it: every byte but `A-Z a-z 0-9 - _ . ~` (and `/`
/// unless `encode_slash`) becomes `%XX` with uppercase hex.
pub fn uri_encode(s: &str, encode_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') || (b == b'/' && !encode_slash) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The canonical URI of a request path as sent: each segment URI-encoded (again), so `%3A` on
/// the wire is `%253A` here; an empty path is `/`.
pub fn canonical_uri(path: &str) -> String {
    if path.is_empty() {
        return "/".to_owned();
    }
    path.split('/').map(|segment| uri_encode(segment, true)).collect::<Vec<_>>().join("/")
}

/// The canonical query string: each name and value decoded then URI-encoded, sorted by name then
/// value, joined with `&`.
pub fn canonical_query(query: &str) -> String {
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (uri_encode(&percent_decode(k), true), uri_encode(&percent_decode(v), true))
        })
        .collect();
    pairs.sort();
    pairs.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join("&")
}

/// Decodes `%XX` escapes (invalid ones are kept as they are); `+` stays `+`.
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex_pair = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex_pair.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The canonical headers block (`name:value\n` per header, names lowercase and sorted, values
/// trimmed with inner runs of spaces collapsed, repeated names joined with `,`) and the
/// `SignedHeaders` list.
fn canonical_headers(headers: &[(HeaderName, HeaderValue)]) -> (String, String) {
    let mut map: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for (name, value) in headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        let collapsed = value.split_whitespace().collect::<Vec<_>>().join(" ");
        map.entry(name.as_str()).or_default().push(collapsed);
    }
    let block = map.iter().map(|(name, values)| format!("{name}:{}\n", values.join(","))).collect::<String>();
    let signed = map.keys().copied().collect::<Vec<_>>().join(";");
    (block, signed)
}
