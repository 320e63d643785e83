//! `Entry`: one stored answer, and its on-disk encoding. A value is
//! `crc32 (4, BE) | header length (4, BE) | header JSON | response JSON`, so a start-up scan
//! reads only headers, and a torn or altered value is detected and dropped, never served.

use serde::{Deserialize, Serialize};
use smartflow_core::ChatResponse;

/// What the cache knows about an entry besides the answer itself.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(crate) struct Header {
    /// The partition that wrote it (scope, segments, model).
    pub(crate) partition: String,
    /// The scope alone (`team:payments`), for flushes and analytics.
    pub(crate) scope: String,
    /// The virtual model.
    pub(crate) model: String,
    /// Unix ms.
    pub(crate) created_ms: u64,
    /// Unix ms after which it is never served.
    pub(crate) expires_ms: u64,
    /// Its keys in the `keys` tree (L1/L3, own and shared partitions), hex.
    pub(crate) keys: Vec<String>,
    /// The partitions whose semantic index holds it.
    pub(crate) vector_partitions: Vec<String>,
    /// The conversation hash around the last user turn (hex), for L2 verification.
    pub(crate) context: Option<String>,
    /// The last user turn, for the slot guard (the prompt after request policies).
    pub(crate) prompt: Option<String>,
    /// Prompt + completion tokens a hit saves.
    pub(crate) tokens: u64,
    /// Prompt tokens, completion tokens (for pricing savings).
    pub(crate) usage: (u64, u64),
}

/// A decoded entry.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub(crate) header: Header,
    pub(crate) response: ChatResponse,
}

/// Why a stored value was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum DecodeError {
    #[error("the value is truncated")]
    Truncated,
    #[error("the checksum does not match")]
    Checksum,
    #[error("the value does not parse: {0}")]
    Json(#[from] serde_json::Error),
}

pub(crate) fn encode(header: &Header, response: &ChatResponse) -> Result<Vec<u8>, serde_json::Error> {
    let h = serde_json::to_vec(header)?;
    let r = serde_json::to_vec(response)?;
    let mut out = Vec::with_capacity(8 + h.len() + r.len());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&u32::try_from(h.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(&h);
    out.extend_from_slice(&r);
    let crc = crc32fast::hash(&out[4..]);
    out[..4].copy_from_slice(&crc.to_be_bytes());
    Ok(out)
}

fn split(bytes: &[u8]) -> Result<(&[u8], &[u8]), DecodeError> {
    let crc = bytes.get(..4).ok_or(DecodeError::Truncated)?;
    let len = bytes.get(4..8).ok_or(DecodeError::Truncated)?;
    if crc32fast::hash(&bytes[4..]).to_be_bytes() != crc {
        return Err(DecodeError::Checksum);
    }
    let len = u32::from_be_bytes([len[0], len[1], len[2], len[3]]) as usize;
    let header = bytes.get(8..8 + len).ok_or(DecodeError::Truncated)?;
    Ok((header, &bytes[8 + len..]))
}

pub(crate) fn decode_header(bytes: &[u8]) -> Result<Header, DecodeError> {
    let (h, _) = split(bytes)?;
    Ok(serde_json::from_slice(h)?)
}

pub(crate) fn decode(bytes: &[u8]) -> Result<Entry, DecodeError> {
    let (h, r) = split(bytes)?;
    Ok(Entry { header: serde_json::from_slice(h)?, response: serde_json::from_slice(r)? })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            partition: "p".into(),
            scope: "key:k".into(),
            model: "m".into(),
            created_ms: 1,
            expires_ms: 2,
            keys: vec!["ab".into()],
            vector_partitions: vec![],
            context: None,
            prompt: Some("hi".into()),
            tokens: 3,
            usage: (1, 2),
        }
    }

    #[test]
    fn round_trip_and_every_flipped_byte_is_caught() {
        let resp: ChatResponse = serde_json::from_str(
            r#"{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}]}"#,
        )
        .unwrap();
        let bytes = encode(&header(), &resp).unwrap();
        let e = decode(&bytes).unwrap();
        assert_eq!(e.header, header());
        assert_eq!(e.response, resp);
        for i in 0..bytes.len() {
            let mut bad = bytes.clone();
            bad[i] ^= 0x40;
            assert!(decode(&bad).is_err(), "byte {i}");
        }
        assert!(decode(&bytes[..bytes.len() - 1]).is_err());
        assert!(decode(&bytes[..3]).is_err());
    }
}
