//! Fuzzes `ChatRequest::from_slice` and `check_json_depth`: no panic, and an accepted request survives a serde_json round trip unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartflow_core::ChatRequest;
use smartflow_core::types::validate::{MAX_JSON_DEPTH, check_json_depth};

fuzz_target!(|data: &[u8]| {
    // The pre-parse guard must never panic, whatever the bytes.
    let _ = check_json_depth(data, MAX_JSON_DEPTH);

    let Ok(req) = ChatRequest::from_slice(data) else {
        return;
    };
    // Whatever the gateway accepted, it must be able to send on (the OpenAI adapter serialises it)...
    let encoded = match serde_json::to_vec(&req) {
        Ok(bytes) => bytes,
        Err(e) => panic!("an accepted ChatRequest failed to serialise: {e}\n{req:?}"),
    };
    // ...and the serialised form must parse back, through the same validation, to an equal value.
    let again = match ChatRequest::from_slice(&encoded) {
        Ok(again) => again,
        Err(e) => panic!(
            "the serialised form of an accepted ChatRequest was refused: {e}\nserialised: {}",
            String::from_utf8_lossy(&encoded)
        ),
    };
    assert_eq!(
        req,
        again,
        "ChatRequest changed in a serde_json round trip; serialised: {}",
        String::from_utf8_lossy(&encoded)
    );
});
