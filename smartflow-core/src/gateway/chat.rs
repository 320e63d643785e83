//! The non-streamed chat flow, and the pre-flight and routing steps streams share with it.

use std::sync::Arc;

use futures_util::StreamExt;

use super::pending::Pending;
use super::{Gateway, ResponseMeta, Served};
use crate::cache::CacheHit;
use crate::error::{Error, ErrorKind};
use crate::policy::{Decision, Policy};
use crate::provider::{ChunkStream, ProviderCall};
use crate::router::Target;
use crate::types::{ChatChunk, ChatRequest, ChatResponse, Message, ModelKind, RequestContext, TokenUsage};

/// What pre-flight decided: go to a provider, or answer now.
pub(super) enum Preflight {
    /// Route and call.
    Route,
    /// Answer with this (policy answer or cache hit).
    Answer(Box<ChatResponse>),
}

impl Gateway {
    /// Serves a non-streamed chat completion through the whole pipeline.
    ///
    /// `ctx` carries the authenticated principal (from [`Gateway::authenticate`] or the
    /// embedding service's own identity). Dropping the returned future cancels the upstream call
    /// and records the request as `cancelled`.
    pub async fn chat(&self, ctx: RequestContext, req: ChatRequest) -> Result<Served<ChatResponse>, Error> {
        let mut req = req;
        let mut pending = Pending::new(self.inner.clone(), ctx, Some(req.model.clone()), false);
        let result = self.serve_chat(&mut pending, &mut req).await;
        pending.conclude(result).await
    }

    async fn serve_chat(&self, p: &mut Pending, req: &mut ChatRequest) -> Result<Served<ChatResponse>, Error> {
        let mut resp = match self.preflight(p, req).await? {
            Preflight::Answer(resp) => *resp,
            Preflight::Route => {
                let (resp, target) = self.call_chat(&p.ctx, req).await?;
                p.target = Some(target.label.clone());
                resp
            }
        };
        resp.model.clone_from(&req.model);
        // A cached answer consumed no upstream tokens: it settles (and is billed) as zero.
        p.usage = if p.cache.is_some() { Some(TokenUsage::default()) } else { resp.usage.as_ref().map(|u| u.tokens()) };
        p.output_bytes = resp.choices.iter().map(|c| c.message.text_len()).sum();
        match self.inner.policies.on_response(&mut p.ctx, &mut resp).await {
            Decision::Continue => {}
            Decision::Deny(d) => return Err(d.to_error()),
            Decision::Respond(replacement) => {
                // A response policy may replace the answer outright (a canned refusal, say).
                resp = *replacement;
                resp.model.clone_from(&req.model);
            }
        }
        if self.inner.options.record_prompts {
            p.completion = resp.choices.first().and_then(|c| c.message.text());
        }
        if let Some(cache) = self.inner.cache.as_ref().filter(|_| p.cache.is_none() && p.target.is_some())
            && is_cacheable(&resp)
            && let Err(e) = cache.put(&p.ctx, req, &resp).await
        {
            tracing::warn!(request_id = %p.ctx.request_id, error = %e, "cache store failed");
        }
        Ok(Served { value: resp, meta: meta(p) })
    }

    /// Validation, request policies and cache lookup: everything before routing.
    pub(super) async fn preflight(&self, p: &mut Pending, req: &mut ChatRequest) -> Result<Preflight, Error> {
        req.validate()?;
        self.audit_ready()?;
        super::attempt::check_access(&p.ctx, &req.model)?;
        match self.inner.policies.on_request(&mut p.ctx, req).await {
            Decision::Continue => {}
            Decision::Deny(d) => return Err(d.to_error()),
            Decision::Respond(resp) => return Ok(Preflight::Answer(resp)),
        }
        p.prompt_bytes = req.messages.iter().map(Message::text_len).sum();
        if self.inner.options.record_prompts {
            p.prompt = req.last_user_text();
        }
        if let Some(cache) = &self.inner.cache {
            match cache.get(&p.ctx, req).await {
                Ok(lookup) => {
                    p.ctx.decisions.extend(lookup.decisions);
                    if let Some(CacheHit { response, layer, similarity }) = lookup.hit {
                        p.cache = Some(layer);
                        p.ctx.extensions.insert(CacheSimilarity(similarity));
                        return Ok(Preflight::Answer(Box::new(response)));
                    }
                }
                Err(e) => tracing::warn!(request_id = %p.ctx.request_id, error = %e, "cache lookup failed"),
            }
        }
        Ok(Preflight::Route)
    }

    /// Calls the plan's targets until one answers (see [`Gateway::attempt`]).
    async fn call_chat(&self, ctx: &RequestContext, req: &ChatRequest) -> Result<(ChatResponse, Arc<Target>), Error> {
        let plan = self.plan(ctx, &req.model, ModelKind::Chat)?;
        let traceparent = ctx.trace.traceparent();
        let traceparent = traceparent.as_str();
        self.attempt(plan, |target| async move {
            let call =
                ProviderCall { request: req, upstream_model: &target.model, request_id: &ctx.request_id, traceparent };
            target.provider.chat(call).await
        })
        .await
    }

    /// Opens a stream on the first target that delivers a first chunk; failover and retries
    /// happen only here, before anything reached the client.
    pub(super) async fn open_chat_stream(
        &self,
        ctx: &RequestContext,
        req: &ChatRequest,
    ) -> Result<(ChatChunk, ChunkStream, Arc<Target>), Error> {
        let plan = self.plan(ctx, &req.model, ModelKind::Chat)?;
        let traceparent = ctx.trace.traceparent();
        let traceparent = traceparent.as_str();
        let ((first, rest), target) = self
            .attempt(plan, |target| async move {
                let call = ProviderCall {
                    request: req,
                    upstream_model: &target.model,
                    request_id: &ctx.request_id,
                    traceparent,
                };
                let mut stream = target.provider.chat_stream(call).await?;
                match stream.next().await {
                    Some(Ok(first)) => Ok((first, stream)),
                    Some(Err(e)) => Err(e),
                    None => Err(Error::new(ErrorKind::UpstreamProtocol, "the upstream stream was empty")
                        .with_code("invalid_upstream_response")),
                }
            })
            .await?;
        Ok((first, rest, target))
    }
}

/// The similarity of a semantic cache hit, kept for the response header.
#[derive(Debug, Clone, Copy)]
pub(super) struct CacheSimilarity(pub(super) Option<f32>);

pub(super) fn meta(p: &mut Pending) -> ResponseMeta {
    let similarity = p.ctx.extensions.get::<CacheSimilarity>().and_then(|s| s.0);
    ResponseMeta {
        target: p.target.clone(),
        cache: p.cache.map(|layer| (layer, similarity)),
        headers: std::mem::take(&mut p.ctx.response_headers),
    }
}

/// Only complete answers are cached: every choice finished normally, nothing filtered.
fn is_cacheable(resp: &ChatResponse) -> bool {
    !resp.choices.is_empty()
        && resp
            .choices
            .iter()
            .all(|c| matches!(c.finish_reason.as_deref(), Some("stop" | "tool_calls" | "function_call")))
}
