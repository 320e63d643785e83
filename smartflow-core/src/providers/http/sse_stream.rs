//! Server-sent-event dialects (OpenAI, Anthropic, Gemini): the SSE framing decoded once, each
//! event handed to the dialect's [`EventHandler`].

use std::time::Duration;

use hyper::body::Incoming;

use super::body_stream::{BodyDecoder, decoded_stream};
use crate::error::{Error, ErrorKind};
use crate::provider::ChunkStream;
use crate::sse::{SseDecoder, SseEvent};
use crate::types::ChatChunk;

/// What a dialect does with each event of its stream.
pub trait EventHandler: Send + 'static {
    /// Turns one event into chunks (appended to `out`); an `Err` ends the stream with it.
    fn on_event(&mut self, event: &SseEvent, out: &mut Vec<ChatChunk>) -> Result<(), Error>;

    /// Whether the dialect's end marker (`[DONE]`, `message_stop`) was seen.
    fn is_done(&self) -> bool;
}

/// A protocol error (`invalid_upstream_response`).
pub(crate) fn protocol(message: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message).with_code("invalid_upstream_response")
}

struct Sse<H> {
    decoder: SseDecoder,
    handler: H,
}

impl<H: EventHandler> Sse<H> {
    fn handle(&mut self, events: &[SseEvent], out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        for ev in events {
            if self.handler.is_done() {
                break;
            }
            self.handler.on_event(ev, out)?;
        }
        Ok(())
    }
}

impl<H: EventHandler> BodyDecoder for Sse<H> {
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        let mut events = Vec::new();
        let fed = self.decoder.feed(bytes, &mut events);
        self.handle(&events, out)?;
        if self.handler.is_done() { Ok(()) } else { fed }
    }

    fn end(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), Error> {
        if let Some(ev) = self.decoder.finish() {
            self.handle(&[ev], out)?;
        }
        if self.handler.is_done() { Ok(()) } else { Err(protocol("the upstream stream ended before its end marker")) }
    }

    fn is_done(&self) -> bool {
        self.handler.is_done()
    }
}

/// Turns an upstream SSE body into a chunk stream driven by `handler`.
pub fn chunk_stream<H: EventHandler>(
    body: Incoming,
    idle: Duration,
    max_event_bytes: usize,
    handler: H,
) -> ChunkStream {
    decoded_stream(body, idle, Sse { decoder: SseDecoder::new(max_event_bytes), handler })
}
