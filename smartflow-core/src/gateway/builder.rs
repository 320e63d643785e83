//! `GatewayBuilder`: assembles a `Gateway`; misconfiguration fails at `build()`, never at the
//! first request.

use std::sync::Arc;

use super::{Gateway, GatewayOptions, Inner};
use crate::audit::Audit;
use crate::auth::Authenticator;
use crate::cache::Cache;
use crate::policy::{Policy, PolicyStack};
use crate::router::Router;

/// Why a gateway could not be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// No router was given.
    #[error("a gateway needs a router")]
    MissingRouter,
}

/// Builds a [`Gateway`]: `Gateway::builder().router(..).policy(..).audit(..).build()?`.
#[derive(Default)]
pub struct GatewayBuilder {
    authenticator: Option<Arc<dyn Authenticator>>,
    router: Option<Arc<dyn Router>>,
    policies: PolicyStack,
    cache: Option<Arc<dyn Cache>>,
    audits: Vec<Arc<dyn Audit>>,
    options: GatewayOptions,
}

impl GatewayBuilder {
    /// How requests are authenticated (required for [`Gateway::authenticate`]; without it every
    /// credential is refused).
    pub fn authenticator(mut self, authenticator: impl Authenticator) -> Self {
        self.authenticator = Some(Arc::new(authenticator));
        self
    }

    /// Like [`authenticator`](Self::authenticator), for a shared one.
    pub fn shared_authenticator(mut self, authenticator: Arc<dyn Authenticator>) -> Self {
        self.authenticator = Some(authenticator);
        self
    }

    /// Where requests go (required).
    pub fn router(mut self, router: impl Router) -> Self {
        self.router = Some(Arc::new(router));
        self
    }

    /// Like [`router`](Self::router), for a shared one.
    pub fn shared_router(mut self, router: Arc<dyn Router>) -> Self {
        self.router = Some(router);
        self
    }

    /// Appends a policy; policies run in the order they are added.
    pub fn policy(mut self, policy: impl Policy) -> Self {
        self.policies.push(Arc::new(policy));
        self
    }

    /// Like [`policy`](Self::policy), for a shared one.
    pub fn shared_policy(mut self, policy: Arc<dyn Policy>) -> Self {
        self.policies.push(policy);
        self
    }

    /// The response cache.
    pub fn cache(mut self, cache: impl Cache) -> Self {
        self.cache = Some(Arc::new(cache));
        self
    }

    /// Like [`cache`](Self::cache), for a shared one.
    pub fn shared_cache(mut self, cache: Arc<dyn Cache>) -> Self {
        self.cache = Some(cache);
        self
    }

    /// Adds an audit sink; every record goes to every sink.
    pub fn audit(mut self, audit: impl Audit) -> Self {
        self.audits.push(Arc::new(audit));
        self
    }

    /// Like [`audit`](Self::audit), for a shared one (metrics kept across reloads).
    pub fn shared_audit(mut self, audit: Arc<dyn Audit>) -> Self {
        self.audits.push(audit);
        self
    }

    /// Per-gateway options.
    pub fn options(mut self, options: GatewayOptions) -> Self {
        self.options = options;
        self
    }

    /// Builds the gateway.
    pub fn build(self) -> Result<Gateway, BuildError> {
        let router = self.router.ok_or(BuildError::MissingRouter)?;
        Ok(Gateway {
            inner: Arc::new(Inner {
                authenticator: self.authenticator,
                router,
                policies: self.policies,
                cache: self.cache,
                audits: self.audits,
                options: self.options,
            }),
        })
    }
}
