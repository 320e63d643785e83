//! Fuzzes `EmbeddingRequest::from_slice`: no panic, and an accepted request survives a serde_json round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartflow_core::EmbeddingRequest;

fuzz_target!(|data: &[u8]| {
    let Ok(req) = EmbeddingRequest::from_slice(data) else {
        return;
    };
    let encoded = match serde_json::to_vec(&req) {
        Ok(bytes) => bytes,
        Err(e) => panic!("an accepted EmbeddingRequest failed to serialise: {e}\n{req:?}"),
    };
    let again = match EmbeddingRequest::from_slice(&encoded) {
        Ok(again) => again,
        Err(e) => panic!(
            "the serialised form of an accepted EmbeddingRequest was refused: {e}\nserialised: {}",
            String::from_utf8_lossy(&encoded)
        ),
    };
    assert_eq!(
        req,
        again,
        "EmbeddingRequest changed in a serde_json round trip; serialised: {}",
        String::from_utf8_lossy(&encoded)
    );
});
