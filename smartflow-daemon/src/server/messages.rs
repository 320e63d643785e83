//! `POST /v1/messages`: the Anthropic Messages API in front of the same pipeline. Requests are
//! translated to the canonical chat shape on the way in, answers (JSON or the named-event
//! stream) and errors back to Anthropic's shapes on the way out, whatever dialect the target
//! speaks.

use std::convert::Infallible;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use futures_util::Stream;
use http::{HeaderValue, Request, Response, StatusCode, header};
use http_body_util::BodyExt;
use hyper::body::{Body as HttpBody, Frame, Incoming};
use smartflow_core::translate::anthropic::{
    AnthropicStreamEncoder, InboundOptions, error_event, from_anthropic_request, to_anthropic_response,
};
use smartflow_core::{ChatRequest, ChatStream, Endpoint, Error};

use super::body::BodyLimits;
use super::data::admit;
use super::respond::{self, Body};
use crate::state::Shared;

fn parse(bytes: &[u8]) -> Result<(ChatRequest, InboundOptions), Error> {
    from_anthropic_request(bytes)
}

pub(crate) async fn handle(
    shared: &Shared,
    limits: BodyLimits,
    req: Request<Incoming>,
    request_id: &str,
) -> Response<Body> {
    let a = match admit(shared, limits, req, request_id, Endpoint::Messages, parse).await {
        Ok(a) => a,
        Err(e) => return respond::anthropic_error(&e, request_id),
    };
    let (chat, options) = a.request;
    if !options.stream {
        return match a.gateway.chat(a.ctx, chat).await {
            Ok(served) => {
                let body = to_anthropic_response(&served.value, &options.model).to_string();
                let mut resp = respond::json(StatusCode::OK, body, request_id);
                respond::apply_meta(&mut resp, served.meta);
                resp
            }
            Err(e) => respond::anthropic_error(&e, request_id),
        };
    }
    match a.gateway.chat_stream(a.ctx, chat).await {
        Ok(served) => {
            let body =
                MessagesSse { stream: served.value, encoder: AnthropicStreamEncoder::new(options.model), ended: false };
            let mut resp = Response::new(body.boxed_unsync());
            let h = resp.headers_mut();
            h.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            respond::set_request_id(&mut resp, request_id);
            respond::apply_meta(&mut resp, served.meta);
            resp
        }
        Err(e) => respond::anthropic_error(&e, request_id),
    }
}

/// A `ChatStream` as Anthropic's named events: `message_start` … `message_stop` for a complete
/// answer, a terminal `error` event (and no `message_stop`) for a failed one.
struct MessagesSse {
    stream: ChatStream,
    encoder: AnthropicStreamEncoder,
    ended: bool,
}

impl HttpBody for MessagesSse {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        let this = self.get_mut();
        loop {
            if this.ended {
                return Poll::Ready(None);
            }
            match Pin::new(&mut this.stream).poll_next(cx) {
                Poll::Pending => return Poll::Pending,
                Poll::Ready(Some(Ok(chunk))) => {
                    let bytes = this.encoder.encode(&chunk);
                    if !bytes.is_empty() {
                        return Poll::Ready(Some(Ok(Frame::data(bytes))));
                    }
                }
                Poll::Ready(Some(Err(e))) => {
                    this.ended = true;
                    return Poll::Ready(Some(Ok(Frame::data(error_event(&e)))));
                }
                Poll::Ready(None) => {
                    this.ended = true;
                    return Poll::Ready(Some(Ok(Frame::data(this.encoder.finish()))));
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.ended
    }
}
