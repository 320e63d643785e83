//! A `ConverseStream` body as a `ChunkStream`: hyper body frames are fed to the event-stream
//! decoder as they arrive, each event-stream frame goes to the Converse decoder, a gap longer
//! than the idle timeout ends the stream with an error, and so does a body that ends before the
//! Converse stream is complete. (The shared SSE `chunk_stream` does not apply: the framing is
//! binary.)

use std::collections::VecDeque;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::{Error, ErrorKind};
use crate::provider::ChunkStream;
use crate::providers::http::protocol;
use crate::translate::bedrock::{ConverseStreamDecoder, EventStreamDecoder, Frame};
use crate::types::ChatChunk;

struct State {
    body: Incoming,
    frames: EventStreamDecoder,
    decoder: ConverseStreamDecoder,
    queue: VecDeque<Result<ChatChunk, Error>>,
    idle: Duration,
    failed: bool,
    body_ended: bool,
}

impl State {
    fn fail(&mut self, e: Error) {
        if !self.failed {
            self.failed = true;
            self.queue.push_back(Err(e));
        }
    }

    fn handle(&mut self, frames: Vec<Frame>) {
        let mut out = Vec::new();
        for frame in &frames {
            if self.failed || self.decoder.is_done() {
                break;
            }
            if let Err(e) = self.decoder.decode(frame, &mut out) {
                self.queue.extend(out.drain(..).map(Ok));
                self.fail(e);
                return;
            }
        }
        self.queue.extend(out.into_iter().map(Ok));
    }

    /// The body ended: it must end on a frame boundary, after `messageStop`.
    fn end_of_body(&mut self) {
        self.body_ended = true;
        if self.decoder.is_done() {
            return;
        }
        if !self.frames.is_empty() {
            self.fail(protocol("the upstream stream ended in the middle of a frame"));
        } else if let Err(e) = self.decoder.finish() {
            self.fail(e);
        }
    }
}

/// Turns a `ConverseStream` response body into a chunk stream.
///
/// Once the Converse stream is complete, a stalled or broken body no longer matters: the stream
/// ends cleanly instead of reporting an error after a complete answer.
pub(super) fn converse_chunk_stream(
    body: Incoming,
    idle: Duration,
    max_frame_bytes: usize,
    decoder: ConverseStreamDecoder,
) -> ChunkStream {
    let state = State {
        body,
        frames: EventStreamDecoder::new(max_frame_bytes),
        decoder,
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
                Err(_) if st.decoder.is_done() => st.body_ended = true,
                Err(_) => st.fail(
                    Error::new(ErrorKind::UpstreamTimeout, "the upstream stream stalled past the idle timeout")
                        .with_code("upstream_timeout"),
                ),
                Ok(None) => st.end_of_body(),
                Ok(Some(Err(_))) if st.decoder.is_done() => st.body_ended = true,
                Ok(Some(Err(e))) => {
                    tracing::debug!(error = %e, "upstream stream broke");
                    st.fail(
                        Error::new(ErrorKind::UpstreamConnect, "the upstream connection was lost mid-stream")
                            .with_code("upstream_unreachable"),
                    );
                }
                Ok(Some(Ok(frame))) => {
                    if let Ok(data) = frame.into_data() {
                        let mut frames = Vec::new();
                        let fed = st.frames.feed(&data, &mut frames);
                        st.handle(frames);
                        if let Err(e) = fed
                            && !st.decoder.is_done()
                        {
                            st.fail(e);
                        }
                    }
                }
            }
        }
    }))
}
