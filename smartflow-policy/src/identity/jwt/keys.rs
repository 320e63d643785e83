//! `KeySet`: the usable signature keys of a JWKS (RSA of 2048–4096 bits, P-256, P-384, Ed25519) and
//! key selection by `kid` and algorithm.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::{AlgorithmParameters, EllipticCurve, Jwk, JwkSet, KeyOperations, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey};

/// Most keys kept from one JWKS; the rest are ignored.
pub(super) const MAX_KEYS: usize = 100;

/// Longest `kid` accepted in a JWKS.
const MAX_KID_BYTES: usize = 256;

/// The kind of a public key, which decides the algorithms it may verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    P256,
    P384,
    Ed25519,
}

impl KeyKind {
    fn fits(self, alg: Algorithm) -> bool {
        use Algorithm::{ES256, ES384, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512};
        match self {
            Self::Rsa => matches!(alg, RS256 | RS384 | RS512 | PS256 | PS384 | PS512),
            Self::P256 => alg == ES256,
            Self::P384 => alg == ES384,
            Self::Ed25519 => alg == EdDSA,
        }
    }
}

/// One verification key.
struct VerifyKey {
    kid: Option<String>,
    kind: KeyKind,
    /// The JWK's own `alg`, when it names one: the key then verifies only that algorithm.
    alg: Option<Algorithm>,
    key: DecodingKey,
}

impl VerifyKey {
    fn fits(&self, alg: Algorithm) -> bool {
        self.kind.fits(alg) && self.alg.is_none_or(|a| a == alg)
    }
}

/// The outcome of looking a token's key up.
pub(super) enum Selected<'a> {
    /// The key to verify with.
    Key(&'a DecodingKey),
    /// No key has the token's `kid`: the set may have rotated.
    UnknownKid,
    /// No usable key (wrong type for the algorithm, or no `kid` and no single candidate).
    NoMatch,
}

/// The usable keys of one key set.
#[derive(Default)]
pub(super) struct KeySet {
    keys: Vec<VerifyKey>,
}

impl KeySet {
    /// Parses a JWKS document. Keys that are malformed, symmetric, for encryption, too weak or
    /// of an unsupported type are skipped; only a document that is not a JWKS is an error.
    pub(super) fn parse(bytes: &[u8]) -> Result<Self, String> {
        #[derive(serde::Deserialize)]
        struct Raw {
            keys: Vec<serde_json::Value>,
        }
        let raw: Raw = serde_json::from_slice(bytes).map_err(|e| format!("not a JWKS document: {e}"))?;
        Ok(Self::from_jwks(raw.keys.into_iter().filter_map(|v| serde_json::from_value::<Jwk>(v).ok())))
    }

    /// The usable keys of a parsed set.
    pub(super) fn from_set(set: &JwkSet) -> Self {
        Self::from_jwks(set.keys.iter().cloned())
    }

    fn from_jwks(jwks: impl Iterator<Item = Jwk>) -> Self {
        let mut keys = Vec::new();
        for jwk in jwks {
            if keys.len() == MAX_KEYS {
                tracing::warn!(max = MAX_KEYS, "JWKS holds too many keys; the rest are ignored");
                break;
            }
            if let Some(key) = usable(&jwk) {
                keys.push(key);
            }
        }
        Self { keys }
    }

    /// Number of usable keys.
    pub(super) fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is usable.
    pub(super) fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key for a token signed with `alg` naming `kid`. Without a `kid`, the one key that
    /// fits `alg`, if there is exactly one.
    pub(super) fn select(&self, kid: Option<&str>, alg: Algorithm) -> Selected<'_> {
        match kid {
            Some(kid) => {
                let mut named = self.keys.iter().filter(|k| k.kid.as_deref() == Some(kid)).peekable();
                if named.peek().is_none() {
                    return Selected::UnknownKid;
                }
                named.find(|k| k.fits(alg)).map_or(Selected::NoMatch, |k| Selected::Key(&k.key))
            }
            None => {
                let mut fitting = self.keys.iter().filter(|k| k.fits(alg));
                match (fitting.next(), fitting.next()) {
                    (Some(only), None) => Selected::Key(&only.key),
                    _ => Selected::NoMatch,
                }
            }
        }
    }
}

fn decode(field: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(field).ok()
}

/// The verification key of a JWK, if it is a signature key of a supported type and strength.
fn usable(jwk: &Jwk) -> Option<VerifyKey> {
    let common = &jwk.common;
    if common.public_key_use.as_ref().is_some_and(|u| *u != PublicKeyUse::Signature)
        || common.key_operations.as_ref().is_some_and(|ops| !ops.contains(&KeyOperations::Verify))
        || common.key_id.as_ref().is_some_and(|kid| kid.len() > MAX_KID_BYTES)
    {
        return None;
    }
    // A key naming an algorithm this crate cannot verify with (say `RSA-OAEP`) is not a
    // signature key.
    let alg = match common.key_algorithm {
        Some(named) => Some(Algorithm::try_from(named).ok()?),
        None => None,
    };
    let (kind, key) = match &jwk.algorithm {
        AlgorithmParameters::RSA(p) => {
            let n = decode(&p.n)?;
            let e = decode(&p.e)?;
            let n = n.get(n.iter().take_while(|b| **b == 0).count()..)?;
            // 2048 to 4096 bits (the verifier's limit); a public exponent of at most 64 bits.
            if !(256..=512).contains(&n.len()) || e.is_empty() || e.len() > 8 {
                return None;
            }
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(n, &e))
        }
        AlgorithmParameters::EllipticCurve(p) => {
            let (kind, len) = match p.curve {
                EllipticCurve::P256 => (KeyKind::P256, 32),
                EllipticCurve::P384 => (KeyKind::P384, 48),
                _ => return None,
            };
            if decode(&p.x)?.len() != len || decode(&p.y)?.len() != len {
                return None;
            }
            (kind, DecodingKey::from_ec_components(&p.x, &p.y).ok()?)
        }
        AlgorithmParameters::OctetKeyPair(p) => {
            if p.curve != EllipticCurve::Ed25519 || decode(&p.x)?.len() != 32 {
                return None;
            }
            (KeyKind::Ed25519, DecodingKey::from_ed_components(&p.x).ok()?)
        }
        // Symmetric (`oct`) keys are never trusted from a key set.
        _ => return None,
    };
    if alg.is_some_and(|a| !kind.fits(a)) {
        return None;
    }
    Some(VerifyKey { kid: common.key_id.clone(), kind, alg, key })
}
