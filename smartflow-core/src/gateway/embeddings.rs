//! The embeddings flow: request policies, routing with failover, audit.

use super::chat::meta;
use super::pending::Pending;
use super::{Gateway, Served};
use crate::error::Error;
use crate::policy::{Decision, Policy};
use crate::provider::EmbedCall;
use crate::types::{EmbeddingRequest, EmbeddingResponse, ModelKind, RequestContext, TokenUsage};

impl Gateway {
    /// Serves an embeddings request through the pipeline.
    pub async fn embeddings(
        &self,
        ctx: RequestContext,
        req: EmbeddingRequest,
    ) -> Result<Served<EmbeddingResponse>, Error> {
        let mut req = req;
        let mut pending = Pending::new(self.inner.clone(), ctx, Some(req.model.clone()), false);
        let result = self.serve_embeddings(&mut pending, &mut req).await;
        pending.conclude(result).await
    }

    async fn serve_embeddings(
        &self,
        p: &mut Pending,
        req: &mut EmbeddingRequest,
    ) -> Result<Served<EmbeddingResponse>, Error> {
        self.audit_ready()?;
        super::attempt::check_access(&p.ctx, &req.model)?;
        match self.inner.policies.on_embedding_request(&mut p.ctx, req).await {
            Decision::Continue => {}
            Decision::Deny(d) => return Err(d.to_error()),
            Decision::Respond(_) => {
                return Err(Error::internal("a policy answered an embeddings request with a chat response"));
            }
        }
        p.prompt_bytes = req.texts().iter().map(|t| t.len()).sum();
        let plan = self.plan(&p.ctx, &req.model, ModelKind::Embedding)?;
        let (ctx, request) = (&p.ctx, &*req);
        let traceparent = ctx.trace.traceparent();
        let traceparent = traceparent.as_str();
        let (mut resp, target) = self
            .attempt(plan, |target| async move {
                let call =
                    EmbedCall { request, upstream_model: &target.model, request_id: &ctx.request_id, traceparent };
                target.provider.embed(call).await
            })
            .await?;
        resp.model.clone_from(&req.model);
        p.target = Some(target.label.clone());
        p.usage = resp.usage.as_ref().map(|u| TokenUsage { input: u.prompt_tokens, ..TokenUsage::default() });
        Ok(Served { value: resp, meta: meta(p) })
    }
}
