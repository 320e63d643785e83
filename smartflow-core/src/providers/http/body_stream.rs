//! An upstream response body as a `ChunkStream`, whatever its framing: body frames go to a
//! dialect's [`BodyDecoder`] as they arrive (no buffering of the stream); a gap longer than the
//! idle timeout, a lost connection, or a body that ends before the decoder saw the dialect's end
//! ends the stream with an error, never a silent success. Once the decoder is done, a stalled
//! or broken body no longer matters: the stream ends cleanly after a complete answer.

use std::collections::VecDeque;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::{Error, ErrorKind};
use crate::provider::ChunkStream;
use crate::types::ChatChunk;

/// Turns a dialect's stream bytes into chunks.
pub trait BodyDecoder: Send + 'static {
    /// Decodes `bytes` (split anywhere), appending the chunks they complete to `out`. An error
    /// ends the stream after the chunks already appended.
    fn feed(&mut self, bytes: &[u8], out: &mut Vec<ChatChunk>) -> Result<(), Error>;

    /// The body ended: flush what is left; an error when the stream was cut short.
    fn end(&mut self, out: &mut Vec<ChatChunk>) -> Result<(), Error>;

    /// Whether the dialect's end of stream was seen.
    fn is_done(&self) -> bool;
}

struct State<D> {
    body: Incoming,
    decoder: D,
    queue: VecDeque<Result<ChatChunk, Error>>,
    idle: Duration,
    finished: bool,
}

impl<D: BodyDecoder> State<D> {
    /// Queues `out`, then the error if there is one (and ends the stream).
    fn push(&mut self, out: Vec<ChatChunk>, result: Result<(), Error>) {
        self.queue.extend(out.into_iter().map(Ok));
        if let Err(e) = result {
            self.finished = true;
            self.queue.push_back(Err(e));
        }
    }
}

/// Drives `decoder` over `body`.
pub fn decoded_stream<D: BodyDecoder>(body: Incoming, idle: Duration, decoder: D) -> ChunkStream {
    let state = State { body, decoder, queue: VecDeque::new(), idle, finished: false };
    Box::pin(futures_util::stream::unfold(state, |mut st| async move {
        loop {
            if let Some(item) = st.queue.pop_front() {
                return Some((item, st));
            }
            if st.finished {
                return None;
            }
            let mut out = Vec::new();
            let result = match tokio::time::timeout(st.idle, st.body.frame()).await {
                Err(_) | Ok(Some(Err(_))) if st.decoder.is_done() => {
                    st.finished = true;
                    Ok(())
                }
                Err(_) => {
                    Err(Error::new(ErrorKind::UpstreamTimeout, "the upstream stream stalled past the idle timeout")
                        .with_code("upstream_timeout"))
                }
                Ok(Some(Err(e))) => {
                    tracing::debug!(error = %e, "upstream stream broke");
                    Err(Error::new(ErrorKind::UpstreamConnect, "the upstream connection was lost mid-stream")
                        .with_code("upstream_unreachable"))
                }
                Ok(None) => {
                    st.finished = true;
                    st.decoder.end(&mut out)
                }
                Ok(Some(Ok(frame))) => match frame.into_data() {
                    Ok(data) => st.decoder.feed(&data, &mut out),
                    Err(_) => Ok(()),
                },
            };
            st.push(out, result);
        }
    }))
}
