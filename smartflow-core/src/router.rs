//! The `Router` trait: from the model a client asked for to an ordered plan of targets.

use std::sync::Arc;

use crate::error::Error;
use crate::provider::Provider;
use crate::types::{ModelInfo, ModelKind, Principal, RequestContext};

/// One place a request can be sent: a provider and the model name it knows.
pub struct Target {
    /// The provider.
    pub provider: Arc<dyn Provider>,
    /// The upstream model name.
    pub model: String,
    /// `provider/model`, as shown in `x-smartflow-target`, metrics and audit.
    pub label: Arc<str>,
}

impl Target {
    /// A target for `provider` serving `model`.
    pub fn new(provider: Arc<dyn Provider>, model: impl Into<String>) -> Self {
        let model = model.into();
        let label: Arc<str> = format!("{}/{}", provider.name(), model).into();
        Self { provider, model, label }
    }
}

impl std::fmt::Debug for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Target").field("label", &self.label).finish()
    }
}

/// The targets to try for one request, in order, and the attempt budget. The gateway moves to
/// the next target only when an attempt fails with a retryable error before anything reached
/// the client, and starts another pass (after a backoff) while the budget lasts.
#[derive(Debug, Clone, Default)]
pub struct RoutePlan {
    /// Targets in attempt order.
    pub targets: Vec<Arc<Target>>,
    /// The attempt budget and backoff.
    pub retry: crate::routing::RetryPolicy,
}

/// What happened on one attempt, for routers that learn (latency, circuit breakers).
#[derive(Debug, Clone, Copy)]
pub struct AttemptReport {
    /// Whether the target behaved: a success, or an error the client caused (a 4xx other than
    /// 408/409/429). Connect errors, timeouts, 5xx and 429 are `false`.
    pub ok: bool,
    /// Time to the first byte (or to failure).
    pub latency: std::time::Duration,
    /// The upstream's `retry-after`, if it sent one.
    pub retry_after: Option<std::time::Duration>,
}

/// One target's health, for `/metrics` and the admin API.
#[derive(Debug, Clone)]
pub struct TargetStatus {
    /// `provider/model`.
    pub label: Arc<str>,
    /// Its circuit breaker.
    pub state: crate::routing::BreakerState,
    /// Moving average of time to first byte, once measured.
    pub first_byte_ewma: Option<std::time::Duration>,
}

/// Chooses targets for a model.
pub trait Router: Send + Sync + 'static {
    /// The plan for `model`; `NotFound` (404 `model_not_found`) when no such model of that kind
    /// exists.
    fn plan(&self, ctx: &RequestContext, model: &str, kind: ModelKind) -> Result<RoutePlan, Error>;

    /// The models `principal` may see in `GET /v1/models`.
    fn models(&self, principal: &Principal) -> Vec<ModelInfo>;

    /// Feedback after each attempt. Default: ignored.
    fn report(&self, _target: &Target, _report: &AttemptReport) {}

    /// Whether `target` may be tried again in a later pass of the same request (its breaker may
    /// have opened meanwhile). Default: yes.
    fn available(&self, _target: &Target) -> bool {
        true
    }

    /// Health of every target. Default: none known.
    fn health(&self) -> Vec<TargetStatus> {
        Vec::new()
    }
}
