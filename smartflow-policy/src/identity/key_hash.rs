//! `KeyHash`: the SHA-256 of a virtual key, the only form in which keys are stored.

use std::fmt;

use ring::digest::{SHA256, digest};

/// Longest key accepted for hashing; anything longer is refused without work.
pub const MAX_KEY_BYTES: usize = 512;

/// The SHA-256 hash of a key, written `sha256:<64 hex digits>`.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeyHash([u8; 32]);

/// A malformed key hash in configuration.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a key hash is `sha256:` followed by 64 hex digits (print one with `smartflowd keys hash`)")]
pub struct KeyHashError;

impl KeyHash {
    /// Hashes a key.
    pub fn of(key: &str) -> Self {
        let d = digest(&SHA256, key.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(d.as_ref());
        Self(out)
    }

    /// Parses `sha256:<hex>` (the prefix may be omitted).
    pub fn parse(text: &str) -> Result<Self, KeyHashError> {
        let hex_part = text.strip_prefix("sha256:").unwrap_or(text);
        let bytes = hex::decode(hex_part).map_err(|_| KeyHashError)?;
        let arr: [u8; 32] = bytes.try_into().map_err(|_| KeyHashError)?;
        Ok(Self(arr))
    }

    /// The 32 raw hash bytes (for storage indexes).
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// A hash from its 32 raw bytes.
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }
}

impl fmt::Display for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", hex::encode(self.0))
    }
}

impl fmt::Debug for KeyHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A prefix is enough to tell hashes apart in logs.
        write!(f, "KeyHash(sha256:{}…)", &hex::encode(self.0)[..8])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_and_known_value() {
        let h = KeyHash::of("sf-demo-key-0001");
        assert_eq!(KeyHash::parse(&h.to_string()), Ok(h));
        assert_eq!(
            KeyHash::of("abc").to_string(),
            "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert!(KeyHash::parse("sha256:abc").is_err());
        assert!(KeyHash::parse("zz").is_err());
    }
}
