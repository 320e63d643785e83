//! Fuzzes the Anthropic front door: `from_anthropic_request` never panics, and what it accepts
//! translates back to an Anthropic request without panicking either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartflow_core::translate::anthropic::{from_anthropic_request, to_anthropic_request};

fuzz_target!(|data: &[u8]| {
    if let Ok((req, _)) = from_anthropic_request(data) {
        let _ = to_anthropic_request(&req, "m", req.is_stream(), 1024);
    }
});
