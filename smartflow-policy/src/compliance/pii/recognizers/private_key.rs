//! PEM private keys: `-----BEGIN (RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY( BLOCK)?-----`
//! up to the matching `-----END …-----` line. The finding spans the whole block; when the END
//! line is missing (a truncated paste) it spans to the next BEGIN line or the end of the text.
//! A block must hold at least one real base64 line (16+ base64 characters, not a run of one
//! character): a BEGIN line followed only by `...` or `<your key here>` is not flagged. Public
//! keys and certificates do not match the pattern. Blocks inside JSON or YAML strings, their line
//! ends escaped as `\n` (a cloud service-account key file), are found the same way.

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// Score of a complete block.
const SCORE_COMPLETE: f32 = 0.95;
/// Score of a block whose END line is missing.
const SCORE_TRUNCATED: f32 = 0.9;

/// PEM private key blocks ([`EntityKind::PrivateKey`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct PrivateKey;

impl Recognizer for PrivateKey {
    fn name(&self) -> &'static str {
        "private_key"
    }

    fn patterns(&self) -> Vec<String> {
        vec![r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY(?: BLOCK)?-----".to_owned()]
    }

    /// The BEGIN line (the block after it is read by `check`).
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![Trigger::literals(&["-----BEGIN "]).window(0, 48)])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let label = text.get(start..end)?.strip_prefix("-----BEGIN ")?.strip_suffix("-----")?;
        let rest = text.get(end..)?;
        // The block may not run into the next one.
        let limit = rest.find("-----BEGIN ").unwrap_or(rest.len());
        let rest = rest.get(..limit)?;
        let end_line = format!("-----END {label}-----");
        let (body, block_end, score) = match rest.find(&end_line) {
            Some(at) => (rest.get(..at)?, end + at + end_line.len(), SCORE_COMPLETE),
            None => {
                let trimmed = rest.trim_end();
                (trimmed, end + trimmed.len(), SCORE_TRUNCATED)
            }
        };
        // Lines end in newlines, or in `\n` escapes when the key sits in a JSON or YAML string
        // (a cloud service-account file).
        if !body.lines().flat_map(|l| l.split("\\n")).any(is_key_line) {
            return None;
        }
        Some(Finding { kind: EntityKind::PrivateKey, start, end: block_end, score, recognizer: "private_key" })
    }
}

/// A line of key material: 16+ base64 characters (PGP checksum lines start with `=`) drawn from
/// at least 8 distinct characters (so `XXXXXXXXXXXXXXXX` does not count).
fn is_key_line(line: &str) -> bool {
    let line = line.trim();
    if line.len() < 16 || !line.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'=')) {
        return false;
    }
    let mut seen = [false; 128];
    for b in line.bytes() {
        if let Some(slot) = seen.get_mut(usize::from(b)) {
            *slot = true;
        }
    }
    seen.iter().filter(|s| **s).count() >= 8
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    /// Base64 lines that look like key material (generated: the source holds no key).
    fn body(lines: usize) -> String {
        const B64: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut state = 0x2545_f491_4f6c_dd1d_u64;
        let mut out = String::new();
        for _ in 0..lines {
            for _ in 0..64 {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                out.push(char::from(B64[(state % 64) as usize]));
            }
            out.push('\n');
        }
        out
    }

    fn found(text: &str) -> Vec<(String, f32)> {
        let detector = Detector::builder().recognizer(Box::new(PrivateKey)).build().unwrap();
        detector.detect(text).into_iter().map(|f| (text[f.start..f.end].to_owned(), f.score)).collect()
    }

    #[test]
    fn complete_blocks_span_begin_to_end() {
        for label in [
            "PRIVATE KEY",
            "RSA PRIVATE KEY",
            "EC PRIVATE KEY",
            "DSA PRIVATE KEY",
            "OPENSSH PRIVATE KEY",
            "ENCRYPTED PRIVATE KEY",
            "PGP PRIVATE KEY BLOCK",
        ] {
            let block = format!("-----BEGIN {label}-----\n{}-----END {label}-----", body(3));
            let text = format!("here is my key:\n{block}\nwhy does ssh reject it?");
            assert_eq!(found(&text), vec![(block, SCORE_COMPLETE)], "{label}");
        }
    }

    #[test]
    fn keys_in_json_strings_with_escaped_line_ends_are_found() {
        let block = format!("-----BEGIN PRIVATE KEY-----\\n{}-----END PRIVATE KEY-----", body(3).replace('\n', "\\n"));
        let text = format!("{{\"type\": \"service_account\", \"private_key\": \"{block}\\n\", \"client_id\": \"1\"}}");
        assert_eq!(found(&text), vec![(block, SCORE_COMPLETE)]);
    }

    #[test]
    fn pgp_and_encrypted_headers_are_allowed() {
        let block = format!(
            "-----BEGIN RSA PRIVATE KEY-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: AES-128-CBC,0A1B2C3D\n\n{}-----END RSA PRIVATE KEY-----",
            body(2)
        );
        assert_eq!(found(&block), vec![(block.clone(), SCORE_COMPLETE)]);
        let pgp = format!(
            "-----BEGIN PGP PRIVATE KEY BLOCK-----\nVersion: GnuPG v2\n\n{}=a1B2\n-----END PGP PRIVATE KEY BLOCK-----",
            body(2)
        );
        assert_eq!(found(&pgp), vec![(pgp.clone(), SCORE_COMPLETE)]);
    }

    #[test]
    fn truncated_block_spans_to_end_of_text() {
        let text = format!("-----BEGIN OPENSSH PRIVATE KEY-----\n{}", body(2));
        assert_eq!(found(&text), vec![(text.trim_end().to_owned(), SCORE_TRUNCATED)]);
    }

    #[test]
    fn two_blocks_are_two_findings() {
        let a = format!("-----BEGIN EC PRIVATE KEY-----\n{}-----END EC PRIVATE KEY-----", body(1));
        let b = format!("-----BEGIN PRIVATE KEY-----\n{}-----END PRIVATE KEY-----", body(2));
        let text = format!("{a}\n\n{b}\n");
        assert_eq!(found(&text), vec![(a, SCORE_COMPLETE), (b, SCORE_COMPLETE)]);
    }

    #[test]
    fn placeholders_are_not_flagged() {
        for text in [
            "-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\n<your private key here>\n-----END PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkq...\n-----END PRIVATE KEY-----",
            "-----BEGIN OPENSSH PRIVATE KEY-----\nXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\n-----END OPENSSH PRIVATE KEY-----",
            "-----BEGIN PRIVATE KEY-----",
            "paste it after -----BEGIN RSA PRIVATE KEY----- and before the END line",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn public_keys_and_certificates_are_not_private_keys() {
        for label in ["PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE", "PGP PUBLIC KEY BLOCK", "CERTIFICATE REQUEST"] {
            let text = format!("-----BEGIN {label}-----\n{}-----END {label}-----", body(3));
            assert!(found(&text).is_empty(), "{label} flagged");
        }
    }
}
