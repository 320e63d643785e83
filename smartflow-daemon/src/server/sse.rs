//! `SseBody`: a `ChatStream` as a server-sent-event HTTP body. Each chunk is written as it
//! arrives; a complete stream ends with `data: [DONE]`; a failed one ends with a terminal
//! `data: {"error": ...}` event and never a `[DONE]`. Dropping the body (client gone) drops the
//! stream, which cancels the upstream request and audits the request as cancelled.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use hyper::body::{Body, Frame, SizeHint};
use smartflow_core::ChatStream;
use smartflow_core::sse::{DONE, encode_data};

pub(crate) struct SseBody {
    stream: ChatStream,
    ended: bool,
}

impl SseBody {
    pub(crate) fn new(stream: ChatStream) -> Self {
        Self { stream, ended: false }
    }
}

impl Body for SseBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        if this.ended {
            return Poll::Ready(None);
        }
        match Pin::new(&mut this.stream).poll_next(cx) {
            Poll::Pending => Poll::Pending,
            Poll::Ready(Some(Ok(chunk))) => {
                let data = match serde_json::to_vec(&chunk) {
                    Ok(d) => d,
                    Err(_) => {
                        this.ended = true;
                        let e = smartflow_core::Error::internal("could not encode a stream chunk");
                        return Poll::Ready(Some(Ok(Frame::data(encode_data(&e.to_openai_json())))));
                    }
                };
                Poll::Ready(Some(Ok(Frame::data(encode_data(&data)))))
            }
            Poll::Ready(Some(Err(e))) => {
                this.ended = true;
                Poll::Ready(Some(Ok(Frame::data(encode_data(&e.to_openai_json())))))
            }
            Poll::Ready(None) => {
                this.ended = true;
                Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(DONE)))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}
