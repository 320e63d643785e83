//! Upstream event stream to `ChatChunk`s: frames are decoded as they arrive (no buffering of the
//! stream), a gap longer than the idle timeout ends it, and a stream that stops before `[DONE]`
//! ends with an error, never a silent success.

use std::collections::VecDeque;
use std::time::Duration;

use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::{Error, ErrorKind};
use crate::provider::ChunkStream;
use crate::sse::{SseDecoder, SseEvent};
use crate::types::ChatChunk;

struct State {
    body: Incoming,
    decoder: SseDecoder,
    queue: VecDeque<Result<ChatChunk, Error>>,
    events: Vec<SseEvent>,
    idle: Duration,
    done_seen: bool,
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

    fn handle_events(&mut self) {
        let events = std::mem::take(&mut self.events);
        for ev in events {
            if self.done_seen || self.failed {
                break;
            }
            let data = ev.data.trim();
            if data == "[DONE]" {
                self.done_seen = true;
                continue;
            }
            if data.is_empty() {
                continue;
            }
            let value: serde_json::Value = match serde_json::from_str(data) {
                Ok(v) => v,
                Err(_) => {
                    self.fail(protocol("upstream sent an invalid stream event"));
                    continue;
                }
            };
            if ev.event.as_deref() == Some("error") || value.get("error").is_some() {
                let message = value
                    .get("error")
                    .and_then(|e| e.get("message"))
                    .and_then(serde_json::Value::as_str)
                    .map(|m| {
                        format!(
                            "upstream provider reported an error mid-stream: {}",
                            m.chars().take(500).collect::<String>()
                        )
                    })
                    .unwrap_or_else(|| "upstream provider reported an error mid-stream".to_owned());
                self.fail(Error::new(ErrorKind::UpstreamServerError, message).with_code("upstream_error"));
                continue;
            }
            match serde_json::from_value::<ChatChunk>(value) {
                Ok(chunk) => self.queue.push_back(Ok(chunk)),
                Err(_) => self.fail(protocol("upstream sent an invalid stream chunk")),
            }
        }
    }
}

fn protocol(message: &'static str) -> Error {
    Error::new(ErrorKind::UpstreamProtocol, message).with_code("invalid_upstream_response")
}

/// Turns an upstream SSE body into a chunk stream.
pub(super) fn chunk_stream(body: Incoming, idle: Duration, max_event_bytes: usize) -> ChunkStream {
    let state = State {
        body,
        decoder: SseDecoder::new(max_event_bytes),
        queue: VecDeque::new(),
        events: Vec::new(),
        idle,
        done_seen: false,
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
                        st.events.push(ev);
                        st.handle_events();
                    }
                    if !st.done_seen {
                        st.fail(protocol("the upstream stream ended before [DONE]"));
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
                        let mut events = std::mem::take(&mut st.events);
                        let fed = st.decoder.feed(&data, &mut events);
                        st.events = events;
                        st.handle_events();
                        if let Err(e) = fed {
                            st.fail(e);
                        }
                    }
                }
            }
        }
    }))
}
