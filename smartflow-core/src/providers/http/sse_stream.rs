//! An upstream event stream as a `ChunkStream`: frames are decoded as they arrive (no buffering
//! of the stream), each event goes to the dialect's [`EventHandler`], a gap longer than the idle
//! timeout ends it, and a stream that stops before the dialect's end marker ends with an error,
//! never a silent success.

use std::collections::VecDeque;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

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

struct State<H> {
    body: Incoming,
    decoder: SseDecoder,
    handler: H,
    queue: VecDeque<Result<ChatChunk, Error>>,
    idle: Duration,
    failed: bool,
    body_ended: bool,
}

impl<H: EventHandler> State<H> {
    fn fail(&mut self, e: Error) {
        if !self.failed {
            self.failed = true;
            self.queue.push_back(Err(e));
        }
    }

    fn handle(&mut self, events: Vec<SseEvent>) {
        let mut out = Vec::new();
        for ev in &events {
            if self.failed || self.handler.is_done() {
                break;
            }
            if let Err(e) = self.handler.on_event(ev, &mut out) {
                self.queue.extend(out.drain(..).map(Ok));
                self.fail(e);
                return;
            }
        }
        self.queue.extend(out.into_iter().map(Ok));
    }
}

/// A protocol error (`invalid_upstream_response`).
pub(crate) fn protocol(message: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message).with_code("invalid_upstream_response")
}

/// Turns an upstream SSE body into a chunk stream driven by `handler`.
pub fn chunk_stream<H: EventHandler>(
    body: Incoming,
    idle: Duration,
    max_event_bytes: usize,
    handler: H,
) -> ChunkStream {
    let state = State {
        body,
        decoder: SseDecoder::new(max_event_bytes),
        handler,
        queue: VecDeque::new(),
        idle,
        failed: false,
        body_ended: false,
    };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                return Some((item, st));
            }
            if st.failed || st.body_ended {
                return None;
            }
            match tokio::time::timeout(st.idle, st.body.frame()).await {
                Err(_) => st.fail(
                    Error::new(ErrorKind::UpstreamTimeout, "the upstream stream stalled past the idle timeout")
                        .with_code("upstream_timeout"),
                ),
                Ok(None) => {
                    st.body_ended = true;
                    if let Some(ev) = st.decoder.finish() {
                        st.handle(vec![ev]);
                    }
                    if !st.handler.is_done() {
                        st.fail(protocol("the upstream stream ended before its end marker"));
                    }
                }
                Ok(Some(Err(e))) => {
                    tracing::debug!(error = %e, "upstream stream broke");
                    st.fail(
                        Error::new(ErrorKind::UpstreamConnect, "the upstream connection was lost mid-stream")
                            .with_code("upstream_unreachable"),
                    );
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        let mut events = Vec::new();
                        let fed = st.decoder.feed(&data, &mut events);
                        st.handle(events);
                        if let Err(e) = fed {
                            st.fail(e);
                        }
                    }
                }
            }
        }
    }))
}
