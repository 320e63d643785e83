//! Fuzzes the AWS event-stream decoder (Bedrock streaming): bytes split at fuzzer-chosen points
//! give the same frames (or the same first error) as the whole input, and nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartflow_core::translate::bedrock::EventStreamDecoder;

fuzz_target!(|data: &[u8]| {
    let Some((&split, input)) = data.split_first() else { return };
    let mut whole = EventStreamDecoder::new(1 << 16);
    let mut whole_frames = Vec::new();
    let whole_ok = whole.feed(input, &mut whole_frames).is_ok();
    let mut pieces = EventStreamDecoder::new(1 << 16);
    let mut piece_frames = Vec::new();
    let mut pieces_ok = true;
    for chunk in input.chunks(usize::from(split).max(1)) {
        if pieces.feed(chunk, &mut piece_frames).is_err() {
            pieces_ok = false;
            break;
        }
    }
    assert_eq!(whole_ok, pieces_ok, "splitting changed whether the stream is valid");
    if whole_ok {
        assert_eq!(whole_frames.len(), piece_frames.len(), "splitting changed the frames");
    }
});
