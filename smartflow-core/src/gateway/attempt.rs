//! The attempt loop every route shares: walk the plan, fail over on retryable errors, start
//! another pass after a backoff while the budget lasts, report each attempt to the router.
//! Dropping the future (client gone) stops it, backoff included: no attempt is made for a
//! client that left.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;

use super::Gateway;
use crate::error::{Error, ErrorKind};
use crate::router::{AttemptReport, RoutePlan, Target};
use crate::types::{ModelKind, RequestContext};

/// The model-access check: first in pre-flight (before any policy reserves quota for a request
/// that cannot be served) and again when routing (whatever a policy rewrote the model to).
pub(super) fn check_access(ctx: &RequestContext, model: &str) -> Result<(), Error> {
    if ctx.principal.may_use(model) {
        Ok(())
    } else {
        Err(Error::new(ErrorKind::PermissionDenied, "this key may not use the model")
            .with_param("model")
            .with_code("model_not_allowed"))
    }
}

impl Gateway {
    /// The router's plan for `model`, after checking the caller may use it (any router, the same
    /// rule): a model outside the principal's list is a 403 wherever the name came from.
    pub(super) fn plan(&self, ctx: &RequestContext, model: &str, kind: ModelKind) -> Result<RoutePlan, Error> {
        check_access(ctx, model)?;
        self.inner.router.plan(ctx, model, kind)
    }

    /// Runs `call` on the plan's targets until one succeeds, a non-retryable error comes back,
    /// or the attempt budget is spent. Returns the value and the target that produced it.
    pub(super) async fn attempt<T, F, Fut>(&self, plan: RoutePlan, mut call: F) -> Result<(T, Arc<Target>), Error>
    where
        F: FnMut(Arc<Target>) -> Fut,
        Fut: Future<Output = Result<T, Error>>,
    {
        let router = &self.inner.router;
        let budget = plan.retry.max_attempts.max(1);
        let mut attempts = 0u32;
        let mut pass = 1u32;
        let mut last: Option<Error> = None;
        loop {
            let mut retry_after: Option<Duration> = None;
            let mut tried = 0u32;
            for target in &plan.targets {
                if attempts >= budget {
                    break;
                }
                if pass > 1 && !router.available(target) {
                    continue;
                }
                attempts += 1;
                tried += 1;
                let started = Instant::now();
                let result = call(target.clone()).await;
                let (ok, after) = match &result {
                    Ok(_) => (true, None),
                    Err(e) => (!e.is_retryable(), e.retry_after()),
                };
                router.report(target, &AttemptReport { ok, latency: started.elapsed(), retry_after: after });
                match result {
                    Ok(value) => return Ok((value, target.clone())),
                    Err(e) if e.is_retryable() => {
                        retry_after = retry_after.max(after);
                        last = Some(e);
                    }
                    Err(e) => return Err(e),
                }
            }
            if attempts >= budget || tried == 0 {
                break;
            }
            if retry_after.is_some_and(|r| r > plan.retry.max_retry_after) {
                // The upstream asks for a longer wait than we hold a client for: tell the client.
                break;
            }
            pass += 1;
            tokio::time::sleep(plan.retry.backoff(pass, retry_after)).await;
        }
        Err(last.unwrap_or_else(|| {
            Error::new(ErrorKind::Unavailable, "no target could serve the request").with_code("targets_unavailable")
        }))
    }
}
