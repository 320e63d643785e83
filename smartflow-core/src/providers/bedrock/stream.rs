//! A `ConverseStream` body: the AWS event-stream framing decoded frame by frame, each frame
//! handed to the Converse decoder, driven by the shared body stream (idle timeout, truncation).

use std::time::Duration;

use hyper::body::Incoming;

use crate::error::Error;
use crate::provider::ChunkStream;
use crate::providers::http::{BodyDecoder, decoded_stream, protocol};
use crate::translate::bedrock::{ConverseStreamDecoder, EventStreamDecoder};
use crate::types::ChatChunk;

struct Converse {
    frames: EventStreamDecoder,
    decoder: ConverseStreamDecoder,
}

impl BodyDecoder for Converse {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        let mut frames = Vec::new();
        let fed = self.frames.feed(bytes, &mut frames);
        for frame in &frames {
            if self.decoder.is_done() {
                break;
            }
            self.decoder.decode(frame, out)?;
        }
        if self.decoder.is_done() { Ok(()) } else { fed }
    }

    /// The body must end on a frame boundary, after `messageStop`.
    fn end(&mut self, _out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if self.decoder.is_done() {
            return Ok(());
        }
        if !self.frames.is_empty() {
            return Err(protocol("the upstream stream ended in the middle of a frame"));
        }
        self.decoder.finish()
    }

    fn is_done(&self) -> bool {
        self.decoder.is_done()
    }
}

/// Turns a `ConverseStream` response body into a chunk stream.
pub(super) fn converse_chunk_stream(
    body: Incoming,
    idle: Duration,
    max_frame_bytes: usize,
    decoder: ConverseStreamDecoder,
) -> ChunkStream {
    decoded_stream(body, idle, Converse { frames: EventStreamDecoder::new(max_frame_bytes), decoder })
}
