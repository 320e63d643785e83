//! `Gateway`: the one place the request flow lives (DESIGN.md §2). Every entry point — the
//! daemon's HTTP routes and a Rust service calling the library — goes through these methods:
//!
//! ```text
//! authenticate -> on_request policies -> cache lookup -> route + call (failover before the
//! first byte) -> on_response / on_chunk policies -> cache store -> on_complete -> audit
//! ```

mod attempt;
mod builder;
mod chat;
mod collect;
mod embeddings;
mod pending;
mod stream;

use std::sync::Arc;

pub use builder::{BuildError, GatewayBuilder};
pub use stream::ChatStream;

use crate::audit::Audit;
use crate::auth::{Authenticator, Credentials, unauthenticated};
use crate::cache::{Cache, CacheLayer};
use crate::error::Error;
use crate::policy::PolicyStack;
use crate::router::Router;
use crate::types::{ModelInfo, Principal, RequestContext};

/// What a served answer carries besides its body: who served it and headers policies set.
#[derive(Debug, Clone, Default)]
pub struct ResponseMeta {
    /// `provider/model` of the target that served (`x-smartflow-target`).
    pub target: Option<Arc<str>>,
    /// The cache layer that answered, with the similarity of semantic hits.
    pub cache: Option<(CacheLayer, Option<f32>)>,
    /// Headers set by policies (`x-ratelimit-*`).
    pub headers: http::HeaderMap,
}

/// An answer and its metadata.
#[derive(Debug)]
pub struct Served<T> {
    /// The answer.
    pub value: T,
    /// Who served it and extra headers.
    pub meta: ResponseMeta,
}

/// Per-gateway options (never process-global, so two gateways can differ in one process).
#[derive(Debug, Clone, Default)]
pub struct GatewayOptions {
    /// Put prompt and completion text in audit records (after redaction policies ran).
    pub record_prompts: bool,
}

pub(crate) struct Inner {
    pub(crate) authenticator: Option<Arc<dyn Authenticator>>,
    pub(crate) router: Arc<dyn Router>,
    pub(crate) policies: PolicyStack,
    pub(crate) cache: Option<Arc<dyn Cache>>,
    pub(crate) audits: Vec<Arc<dyn Audit>>,
    pub(crate) options: GatewayOptions,
}

/// The composed gateway. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Gateway {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway")
            .field("policies", &self.inner.policies)
            .field("cache", &self.inner.cache.is_some())
            .field("audits", &self.inner.audits.iter().map(|a| a.name()).collect::<Vec<_>>())
            .finish_non_exhaustive()
    }
}

impl Gateway {
    /// Starts building a gateway.
    pub fn builder() -> GatewayBuilder {
        GatewayBuilder::default()
    }

    /// Authenticates a request's credentials. With no authenticator configured every request is
    /// refused: the gateway is never open by default.
    pub async fn authenticate(&self, credentials: &Credentials) -> Result<Arc<Principal>, Error> {
        match &self.inner.authenticator {
            Some(auth) => auth.authenticate(credentials).await,
            None => Err(unauthenticated()),
        }
    }

    /// Records the outcome of a request the pipeline did not run: bad input, an unknown route,
    /// a model listing, or (with `authenticated == false`) failed authentication — in which case
    /// `ctx.principal` is only a placeholder and no policy's `on_complete` runs. With this, every
    /// request reaches the audit.
    pub async fn record_outcome(&self, ctx: RequestContext, result: Result<(), &Error>, authenticated: bool) {
        let mut pending = pending::Pending::new(self.inner.clone(), ctx, None, false);
        pending.skip_policies = !authenticated;
        let _ = pending.finish(result).await;
    }

    /// Records an admin API request by an authenticated caller (`ctx.principal`): what it did
    /// or tried to do (`change`; `None` for a route that does not exist) and how it ended. No
    /// policy's `on_complete` runs: admin requests are not model traffic. Changes already made
    /// stay made when a sink fails; call [`Gateway::audit_ready`] before making one, so a
    /// fail-closed sink refuses the change instead.
    pub async fn record_admin(
        &self,
        ctx: RequestContext,
        change: Option<crate::audit::AdminChange>,
        result: Result<(), &Error>,
    ) -> Result<(), Error> {
        let mut pending = pending::Pending::new(self.inner.clone(), ctx, None, false);
        pending.skip_policies = true;
        pending.admin = change;
        pending.finish(result).await
    }

    /// Whether every audit sink can take records (fail-closed sinks refuse requests when not).
    pub fn audit_ready(&self) -> Result<(), Error> {
        self.inner.audits.iter().try_for_each(|sink| sink.ready())
    }

    /// Flushes every audit sink; call it before the process exits.
    pub async fn flush_audit(&self) -> Result<(), Error> {
        let mut result = Ok(());
        for sink in &self.inner.audits {
            if let Err(e) = sink.flush().await {
                tracing::error!(sink = sink.name(), error = %e, "audit sink failed to flush");
                result = Err(e);
            }
        }
        result
    }

    /// The models `principal` may use, for `GET /v1/models`.
    pub fn models(&self, principal: &Principal) -> Vec<ModelInfo> {
        let mut models = self.inner.router.models(principal);
        models.retain(|m| principal.may_use(&m.id));
        models
    }

    /// Health of every routing target (circuit state, first-byte latency average).
    pub fn target_health(&self) -> Vec<crate::router::TargetStatus> {
        self.inner.router.health()
    }

    /// The cache, if one is configured (for stats and flush APIs).
    pub fn cache(&self) -> Option<&Arc<dyn Cache>> {
        self.inner.cache.as_ref()
    }

    /// The names of the configured policies, in order.
    pub fn policy_names(&self) -> Vec<&str> {
        self.inner.policies.names()
    }
}
