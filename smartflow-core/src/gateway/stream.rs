//! The streamed chat flow and `ChatStream`, the client-facing chunk stream. Chunks pass
//! through as they arrive; each one is rewritten (virtual model name, usage stripped when the
//! client did not ask for it) and shown to `on_chunk` policies. The stream's end — complete,
//! failed, or dropped by a departed client — settles and audits the request exactly once.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use futures_util::Stream;

use super::chat::{Preflight, meta};
use super::collect::Collector;
use super::pending::Pending;
use super::{Gateway, Inner, Served};
use crate::error::Error;
use crate::policy::{Decision, Policy};
use crate::provider::ChunkStream;
use crate::types::{ChatChunk, ChatRequest, RequestContext};

/// A chat completion as a stream of chunks. It yields `Err` at most once, as its last item; it
/// ends with `None` only after a complete answer. Dropping it cancels the upstream request.
pub struct ChatStream {
    inner: Arc<Inner>,
    pending: Pending,
    first: Option<ChatChunk>,
    upstream: ChunkStream,
    model: String,
    strip_usage: bool,
    record_completion: bool,
    finished: bool,
    /// The request and the answer so far, when the answer is to be cached once it completes.
    store: Option<(ChatRequest, Collector)>,
}

impl std::fmt::Debug for ChatStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ChatStream").field("model", &self.model).finish_non_exhaustive()
    }
}

impl Gateway {
    /// Serves a streamed chat completion. Returns once the first chunk is in hand, so every
    /// failure before the first byte (including failover between targets) is a plain error.
    pub async fn chat_stream(&self, ctx: RequestContext, req: ChatRequest) -> Result<Served<ChatStream>, Error> {
        let mut req = req;
        let mut pending = Pending::new(self.inner.clone(), ctx, Some(req.model.clone()), true);
        match self.open(&mut pending, &mut req).await {
            Ok((first, upstream)) => {
                let meta = meta(&mut pending);
                let record_completion = pending.inner().options.record_prompts;
                let store = (pending.inner().cache.is_some() && pending.cache.is_none() && pending.target.is_some())
                    .then(|| (req.clone(), Collector::default()));
                Ok(Served {
                    value: ChatStream {
                        inner: self.inner.clone(),
                        pending,
                        first,
                        upstream,
                        strip_usage: !req.wants_stream_usage(),
                        model: req.model,
                        record_completion,
                        finished: false,
                        store,
                    },
                    meta,
                })
            }
            Err(e) => {
                let _ = pending.finish(Err(&e)).await;
                Err(e)
            }
        }
    }

    async fn open(&self, p: &mut Pending, req: &mut ChatRequest) -> Result<(Option<ChatChunk>, ChunkStream), Error> {
        match self.preflight(p, req).await? {
            Preflight::Answer(resp) => {
                if p.cache.is_some() {
                    p.usage = Some(crate::types::TokenUsage::default());
                }
                let chunks: Vec<Result<ChatChunk, Error>> =
                    ChatChunk::from_response(&resp).into_iter().map(Ok).collect();
                Ok((None, Box::pin(futures_util::stream::iter(chunks))))
            }
            Preflight::Route => {
                let (first, rest, target) = self.open_chat_stream(&p.ctx, req).await?;
                p.target = Some(target.label.clone());
                Ok((Some(first), rest))
            }
        }
    }
}

impl ChatStream {
    fn end(&mut self, result: Result<(), &Error>) {
        self.finished = true;
        let store = self.store.take();
        if let (Ok(()), Some((req, collector))) = (result, store)
            && let Some(resp) = collector.finish(&self.model)
            && let Some(cache) = self.inner.cache.clone()
        {
            // Stored only after a clean end; a failed, truncated or dropped stream stores nothing.
            let ctx = self.pending.ctx.snapshot();
            if let Ok(handle) = tokio::runtime::Handle::try_current() {
                handle.spawn(async move {
                    if let Err(e) = cache.put(&ctx, &req, &resp).await {
                        tracing::warn!(request_id = %ctx.request_id, error = %e, "cache store failed");
                    }
                });
            }
        }
        self.pending.finish_detached(result);
    }
}

impl Stream for ChatStream {
    type Item = Result<ChatChunk, Error>;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = self.get_mut();
        loop {
            if this.finished {
                return Poll::Ready(None);
            }
            let item = match this.first.take() {
                Some(first) => Ok(first),
                None => match this.upstream.as_mut().poll_next(cx) {
                    Poll::Pending => return Poll::Pending,
                    Poll::Ready(None) => {
                        this.end(Ok(()));
                        return Poll::Ready(None);
                    }
                    Poll::Ready(Some(item)) => item,
                },
            };
            let mut chunk = match item {
                Ok(chunk) => chunk,
                Err(e) => {
                    this.end(Err(&e));
                    return Poll::Ready(Some(Err(e)));
                }
            };
            if let Some(usage) = chunk.usage().filter(|_| this.pending.cache.is_none()) {
                this.pending.usage = Some(usage.tokens());
                if let Some((_, collector)) = this.store.as_mut() {
                    collector.set_usage(usage);
                }
            }
            if this.strip_usage {
                if chunk.is_usage_only() {
                    continue;
                }
                chunk.usage = None;
            }
            chunk.model.clone_from(&this.model);
            if let Decision::Deny(d) = this.inner.policies.on_chunk(&mut this.pending.ctx, &mut chunk) {
                let e = d.to_error();
                this.end(Err(&e));
                return Poll::Ready(Some(Err(e)));
            }
            this.pending.output_bytes += chunk.content_len();
            if let Some((_, collector)) = this.store.as_mut() {
                collector.push(&chunk);
            }
            if this.record_completion {
                let text = this.pending.completion.get_or_insert_with(String::new);
                for c in &chunk.choices {
                    if let Some(content) = &c.delta.content {
                        text.push_str(content);
                    }
                }
            }
            if this.pending.ttfb.is_none() {
                this.pending.ttfb = Some(this.pending.ctx.started.elapsed());
            }
            return Poll::Ready(Some(Ok(chunk)));
        }
    }
}
