//! JSON Web Tokens: three base64url segments (`header.payload.signature`, JWS compact form) or
//! five (JWE compact form). The header must base64url-decode to a JSON object with an `"alg"`
//! member — that is what tells a token from `a.b.c`, version strings and domain names. The
//! candidate pattern is anchored on `ey`, the base64 of `{"` or `{ `.
//!
//! A JWS whose payload also decodes to a JSON object scores 0.95; other tokens score 0.85.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD_INDIFFERENT;

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// JSON Web Tokens ([`EntityKind::Jwt`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct Jwt;

impl Recognizer for Jwt {
    fn name(&self) -> &'static str {
        "jwt"
    }

    fn patterns(&self) -> Vec<String> {
        vec![r"ey[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*)?".to_owned()]
    }

    /// `ey` followed by the base64 of a space or `"` after the `{` (`eyA`–`eyD`, `eyI`–`eyL`: how
    /// the base64 of a JSON object starts; a token starts after a non-token character, so no match
    /// starting elsewhere can hide one); the token runs over base64url characters and dots.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![
            Trigger::literals(&["eyA", "eyB", "eyC", "eyD", "eyI", "eyJ", "eyK", "eyL"])
                .window(0, 1)
                .extend(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'.')),
        ])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let is_token_char = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
        // A token ends before a non-token character, or before a full stop that ends a sentence.
        let mut after = text.get(end..)?.chars();
        let ends = match after.next() {
            Some('.') => !after.next().is_some_and(is_token_char),
            next => !next.is_some_and(is_token_char),
        };
        if text.get(..start)?.chars().next_back().is_some_and(is_token_char) || !ends {
            return None;
        }
        let token = text.get(start..end)?;
        let segments: Vec<&str> = token.split('.').collect();
        let header = json_object(segments.first()?)?;
        if !header.get("alg").is_some_and(serde_json::Value::is_string) {
            return None;
        }
        let score = match segments.as_slice() {
            [_, payload, _] if json_object(payload).is_some() => 0.95,
            // A JWS needs a payload; only `"alg": "none"` tokens have no signature.
            [_, payload, signature] => {
                if payload.is_empty()
                    || (signature.is_empty() && header.get("alg").and_then(serde_json::Value::as_str) != Some("none"))
                {
                    return None;
                }
                0.85
            }
            // JWE: the header names the content encryption.
            [_, _, _, ciphertext, _] if header.contains_key("enc") && !ciphertext.is_empty() => 0.85,
            _ => return None,
        };
        Some(Finding { kind: EntityKind::Jwt, start, end, score, recognizer: "jwt" })
    }
}

/// Decodes a base64url segment (padding optional) into a JSON object.
fn json_object(segment: &str) -> Option<serde_json::Map<String, serde_json::Value>> {
    let bytes = URL_SAFE_NO_PAD_INDIFFERENT.decode(segment).ok()?;
    match serde_json::from_slice(&bytes).ok()? {
        serde_json::Value::Object(map) => Some(map),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
    }

    fn token(header: &str, payload: &str, signature: &str) -> String {
        format!("{}.{}.{signature}", b64(header), b64(payload))
    }

    fn found(text: &str) -> Vec<(String, f32)> {
        let detector = Detector::builder().recognizer(Box::new(Jwt)).build().unwrap();
        detector.detect(text).into_iter().map(|f| (text[f.start..f.end].to_owned(), f.score)).collect()
    }

    #[test]
    fn signed_tokens_are_found() {
        let jwt = token(
            r#"{"alg":"HS256","typ":"JWT"}"#,
            r#"{"sub":"1234567890","name":"John Doe","iat":1516239022}"#,
            "SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c",
        );
        assert_eq!(found(&format!("Authorization: Bearer {jwt}\r\n")), vec![(jwt.clone(), 0.95)]);
        assert_eq!(found(&format!("token=\"{jwt}\"")), vec![(jwt.clone(), 0.95)]);
        let spaced = token(r#"{ "alg": "RS256" }"#, r#"{"iss":"https://idp"}"#, "c2lnbmF0dXJl");
        assert_eq!(found(&spaced), vec![(spaced.clone(), 0.95)]);
    }

    #[test]
    fn unsigned_and_opaque_payload_tokens() {
        let none = token(r#"{"alg":"none"}"#, r#"{"sub":"x"}"#, "");
        assert_eq!(found(&format!("{none} is unsigned")), vec![(none.clone(), 0.95)]);
        let opaque = format!("{}.{}.c2ln", b64(r#"{"alg":"HS256"}"#), b64("\u{1}\u{2}binary"));
        assert_eq!(found(&opaque), vec![(opaque.clone(), 0.85)]);
        // No signature although the algorithm requires one.
        let unsigned = format!("{}.{}.", b64(r#"{"alg":"HS256"}"#), b64("binary\u{1}"));
        assert!(found(&unsigned).is_empty());
    }

    #[test]
    fn encrypted_tokens_are_found() {
        let jwe = format!("{}.a2V5.aXY.Y2lwaGVydGV4dA.dGFn", b64(r#"{"alg":"RSA-OAEP","enc":"A256GCM"}"#));
        assert_eq!(found(&jwe), vec![(jwe.clone(), 0.85)]);
    }

    #[test]
    fn headers_without_alg_are_rejected() {
        let no_alg = token(r#"{"sub":"1234567890"}"#, r#"{"a":1}"#, "c2ln");
        assert!(found(&no_alg).is_empty());
        let array = token(r#"["alg"]"#, r#"{"a":1}"#, "c2ln");
        assert!(found(&array).is_empty());
        let numeric_alg = token(r#"{"alg":1}"#, r#"{"a":1}"#, "c2ln");
        assert!(found(&numeric_alg).is_empty());
    }

    #[test]
    fn dotted_non_tokens_are_rejected() {
        for text in [
            "a.b.c",
            "version 1.2.3 and 10.0.0.1",
            "see www.example.com or api.eyeglasses-shop.co.uk",
            "eyJhbGciOiJIUzI1NiJ9notbase64!.x.y",
            "eyeglassesandmore.example.com",
            "eyJub3Rqc29u.eyJ4IjoxfQ.c2ln",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn longer_dotted_runs_are_not_split() {
        let jwt = token(r#"{"alg":"HS256"}"#, r#"{"a":1}"#, "c2ln");
        assert!(found(&format!("{jwt}.extra.more.segments")).is_empty());
        assert!(found(&format!("x{jwt}")).is_empty());
        assert!(found(&format!("{jwt}.x")).is_empty());
    }

    #[test]
    fn a_full_stop_after_a_token_ends_the_sentence() {
        let jwt = token(r#"{"alg":"HS256"}"#, r#"{"a":1}"#, "c2ln");
        assert_eq!(found(&format!("the token is {jwt}.")), vec![(jwt.clone(), 0.95)]);
        assert_eq!(found(&format!("token {jwt}. Rotate it")), vec![(jwt.clone(), 0.95)]);
    }
}
