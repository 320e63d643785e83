//! Fuzzes `SseDecoder` differentially: any split of the input must give the same events as feeding it whole, and nothing panics.
//!
//! Input layout: byte 0 picks how many split-size bytes follow (`b0 % 8 + 1`) and, in its high
//! bits, a small event limit; each split-size byte `b` gives a chunk of `b & 0x0f` bytes, times 16
//! when `b & 0x80` is set (0 = an empty `feed`, which must be harmless); the rest is the SSE
//! stream. ASCII digits are therefore chunk sizes 0..9, so seeds stay readable: `31730data: x`
//! feeds `data: x` in chunks of 1, 7, 3, (empty), 1, 7, ...
#![no_main]

use libfuzzer_sys::fuzz_target;
use smartflow_core::sse::{SseDecoder, SseEvent};

/// Feeds `input` in chunks whose sizes cycle through `sizes`; stops at the first error.
fn decode(input: &[u8], sizes: &[usize], limit: usize) -> Result<Vec<SseEvent>, usize> {
    let mut decoder = SseDecoder::new(limit);
    let mut out = Vec::new();
    // Sizes of 0 feed an empty slice; if every size is 0, fall back to 1 to make progress.
    let progress = sizes.iter().any(|&s| s > 0);
    let mut rest = input;
    let mut i = 0;
    while !rest.is_empty() {
        let size = if progress { sizes[i % sizes.len()] } else { 1 };
        i += 1;
        let (chunk, tail) = rest.split_at(size.min(rest.len()));
        if decoder.feed(chunk, &mut out).is_err() {
            return Err(input.len() - rest.len());
        }
        rest = tail;
    }
    out.extend(decoder.finish());
    Ok(out)
}

fuzz_target!(|data: &[u8]| {
    let Some((&b0, tail)) = data.split_first() else {
        return;
    };
    let n = (usize::from(b0) % 8 + 1).min(tail.len());
    let (size_bytes, input) = tail.split_at(n);
    let mut sizes: Vec<usize> =
        size_bytes.iter().map(|&b| usize::from(b & 0x0f) * if b & 0x80 != 0 { 16 } else { 1 }).collect();
    if sizes.is_empty() {
        sizes.push(1);
    }

    // A limit no event can reach: data grows at most 3x (U+FFFD for each invalid byte) and the
    // buffer holds at most the input, so every feed must succeed.
    let big = 4 * input.len() + 64;
    let whole = match decode(input, &[input.len().max(1)], big) {
        Ok(events) => events,
        Err(at) => panic!("whole input refused with a limit of {big} bytes (chunk at {at})"),
    };
    let split = match decode(input, &sizes, big) {
        Ok(events) => events,
        Err(at) => panic!("split input refused with a limit of {big} bytes (chunk at {at}, sizes {sizes:?})"),
    };
    assert_eq!(whole, split, "events differ between whole and split feeding (sizes {sizes:?})");
    let bytewise = decode(input, &[1], big).unwrap_or_else(|at| panic!("byte-wise input refused at {at}"));
    assert_eq!(whole, bytewise, "events differ between whole and byte-at-a-time feeding");

    // A small limit: errors are expected, panics are not; and when no error occurs the limit
    // changed nothing, so the events are the same.
    let small = usize::from(b0 >> 3) * 4 + 1;
    if let Ok(events) = decode(input, &sizes, small) {
        assert_eq!(whole, events, "a limit of {small} that never fired changed the events (sizes {sizes:?})");
    }
});
