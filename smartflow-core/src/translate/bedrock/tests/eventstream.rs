//! The event-stream framing: frames split anywhere, every header type, CRC and length checks.

use serde_json::json;

use super::super::{EventStreamDecoder, Frame};
use super::{HeaderValue, encode_frame, event, exception};
use crate::error::ErrorKind;

fn decode_all(decoder: &mut EventStreamDecoder, bytes: &[u8], piece: usize) -> Result<Vec<Frame>, crate::Error> {
    let mut out = Vec::new();
    for part in bytes.chunks(piece.max(1)) {
        decoder.feed(part, &mut out)?;
    }
    Ok(out)
}

#[test]
fn frames_split_at_any_size_decode_the_same() {
    let mut bytes = event("messageStart", &json!({"role": "assistant"}));
    bytes.extend(event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "héllo ✓"}})));
    bytes.extend(encode_frame(&[(":message-type", HeaderValue::Str("event"))], b""));
    bytes.extend(exception("throttlingException", "slow down"));
    let whole = decode_all(&mut EventStreamDecoder::default(), &bytes, bytes.len()).unwrap();
    assert_eq!(whole.len(), 4);
    assert_eq!(whole[0].event_type.as_deref(), Some("messageStart"));
    assert_eq!(whole[0].message_type.as_deref(), Some("event"));
    assert_eq!(&whole[0].payload[..], br#"{"role":"assistant"}"#);
    assert_eq!((whole[2].event_type.as_deref(), whole[2].payload.len()), (None, 0));
    assert_eq!(whole[3].message_type.as_deref(), Some("exception"));
    assert_eq!(whole[3].exception_type.as_deref(), Some("throttlingException"));
    for piece in (1..=40).chain([63, 64, 65, 127, 500, bytes.len() - 1]) {
        let mut decoder = EventStreamDecoder::default();
        let frames = decode_all(&mut decoder, &bytes, piece).unwrap();
        assert_eq!(frames, whole, "piece {piece}");
        assert!(decoder.is_empty(), "piece {piece}");
    }
}

#[test]
fn every_header_value_type_is_parsed_or_skipped() {
    let headers = [
        ("flag-true", HeaderValue::Bool(true)),
        ("flag-false", HeaderValue::Bool(false)),
        ("byte", HeaderValue::Byte(-3)),
        ("short", HeaderValue::Short(-300)),
        ("int", HeaderValue::Int(70_000)),
        ("long", HeaderValue::Long(-1)),
        ("blob", HeaderValue::Bytes(&[0, 1, 2, 255])),
        (":event-type", HeaderValue::Str("metadata")),
        ("date", HeaderValue::Timestamp(1_440_938_160_000)),
        ("id", HeaderValue::Uuid([7; 16])),
        (":message-type", HeaderValue::Str("error")),
        (":error-code", HeaderValue::Str("InternalFailure")),
        (":error-message", HeaderValue::Str("boom")),
    ];
    let bytes = encode_frame(&headers, b"{}");
    let frames = decode_all(&mut EventStreamDecoder::default(), &bytes, 5).unwrap();
    assert_eq!(
        frames,
        [Frame {
            event_type: Some("metadata".to_owned()),
            message_type: Some("error".to_owned()),
            exception_type: Some("InternalFailure".to_owned()),
            error_message: Some("boom".to_owned()),
            payload: bytes::Bytes::from_static(b"{}"),
        }]
    );
}

#[test]
fn any_single_bit_flip_is_detected() {
    let good = event("contentBlockDelta", &json!({"contentBlockIndex": 0, "delta": {"text": "hi"}}));
    for i in 0..good.len() {
        for bit in [0x01u8, 0x80] {
            let mut bad = good.clone();
            bad[i] ^= bit;
            let mut decoder = EventStreamDecoder::default();
            let err = decode_all(&mut decoder, &bad, 7).expect_err(&format!("byte {i} bit {bit:#x}"));
            assert_eq!(err.kind(), ErrorKind::UpstreamProtocol, "byte {i}");
            assert_eq!(err.code(), Some("invalid_upstream_response"));
            let crc = if i < 12 { "prelude CRC" } else { "message CRC" };
            assert!(err.message().contains(crc), "byte {i}: {}", err.message());
            // Once failed, always failed: the stream cannot be resynchronised.
            assert!(decoder.feed(&good, &mut Vec::new()).is_err(), "byte {i}");
        }
    }
}

/// A prelude with a valid CRC: (total length, headers length).
fn prelude(total: u32, headers: u32) -> Vec<u8> {
    let mut p = total.to_be_bytes().to_vec();
    p.extend_from_slice(&headers.to_be_bytes());
    let crc = crc32fast::hash(&p);
    p.extend_from_slice(&crc.to_be_bytes());
    p
}

#[test]
fn lengths_are_bounded_before_buffering() {
    let cases = [
        ("total below the 16-byte overhead", prelude(15, 0), "inconsistent lengths"),
        ("headers longer than the frame allows", prelude(40, 30), "inconsistent lengths"),
        ("frame over the limit", prelude(1 << 30, 0), "size limit"),
    ];
    for (case, bytes, want) in cases {
        let err = decode_all(&mut EventStreamDecoder::new(1024), &bytes, bytes.len()).expect_err(case);
        assert!(err.message().contains(want), "{case}: {}", err.message());
    }
    // The default limit is 16 MiB: a 16 MiB + 1 frame is refused from its prelude alone.
    let err = decode_all(&mut EventStreamDecoder::default(), &prelude((16 << 20) + 1, 0), 12).unwrap_err();
    assert!(err.message().contains("size limit"));
    let ok = encode_frame(&[], &[b'x'; 100]);
    assert!(decode_all(&mut EventStreamDecoder::new(ok.len()), &ok, 9).is_ok());
    assert!(decode_all(&mut EventStreamDecoder::new(ok.len() - 1), &ok, 9).is_err());
}

#[test]
fn malformed_headers_are_refused() {
    /// A frame with raw header bytes and valid CRCs.
    fn with_raw_headers(h: &[u8]) -> Vec<u8> {
        let mut out = prelude((16 + h.len()) as u32, h.len() as u32);
        out.extend_from_slice(h);
        let crc = crc32fast::hash(&out);
        out.extend_from_slice(&crc.to_be_bytes());
        out
    }
    let cases: [(&str, Vec<u8>); 5] = [
        ("unknown value type", [&[1u8, b'a', 10][..]].concat()),
        ("string longer than the headers", [&[1u8, b'a', 7, 0, 9][..], b"abc"].concat()),
        ("empty name", vec![0u8, 7, 0, 0]),
        ("name past the end", vec![5u8, b'a']),
        ("fixed value past the end", vec![1u8, b'a', 5, 0, 0]),
    ];
    for (case, h) in cases {
        let err = decode_all(&mut EventStreamDecoder::default(), &with_raw_headers(&h), 3).expect_err(case);
        assert!(err.message().contains("malformed headers"), "{case}: {}", err.message());
    }
}

#[test]
fn a_partial_frame_is_reported() {
    let bytes = event("messageStop", &json!({"stopReason": "end_turn"}));
    let mut decoder = EventStreamDecoder::default();
    let frames = decode_all(&mut decoder, &bytes[..bytes.len() - 1], 4).unwrap();
    assert!(frames.is_empty());
    assert!(!decoder.is_empty());
    let frames = decode_all(&mut decoder, &bytes[bytes.len() - 1..], 4).unwrap();
    assert_eq!(frames.len(), 1);
    assert!(decoder.is_empty());
}
