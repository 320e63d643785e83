//! `Pending`: a request between admission and its end. It owns the context, collects what the
//! audit needs, and guarantees `on_complete` and the audit run exactly once — on success, on
//! failure, and when the caller drops the request (client gone: outcome `cancelled`).

use std::sync::Arc;
use std::time::Duration;

use super::Inner;
use crate::audit::AuditRecord;
use crate::cache::CacheLayer;
use crate::error::{Error, ErrorKind};
use crate::policy::{Completion, Outcome, Policy};
use crate::providers::estimate_tokens;
use crate::types::{RequestContext, TokenUsage};

pub(crate) struct Pending {
    inner: Arc<Inner>,
    pub(crate) ctx: RequestContext,
    pub(crate) model: Option<String>,
    pub(crate) stream: bool,
    pub(crate) target: Option<Arc<str>>,
    pub(crate) usage: Option<TokenUsage>,
    pub(crate) cache: Option<CacheLayer>,
    pub(crate) ttfb: Option<Duration>,
    pub(crate) prompt: Option<String>,
    pub(crate) completion: Option<String>,
    /// Bytes of prompt text, for estimating usage of interrupted requests.
    pub(crate) prompt_bytes: usize,
    /// Bytes of answer text sent so far, likewise.
    pub(crate) output_bytes: usize,
    /// Skip `on_complete`: the request never got past authentication, or is an admin API
    /// request, so no policy saw it.
    pub(crate) skip_policies: bool,
    /// The admin change, for an admin API request.
    pub(crate) admin: Option<crate::audit::AdminChange>,
    done: bool,
}

impl Pending {
    pub(crate) fn new(inner: Arc<Inner>, ctx: RequestContext, model: Option<String>, stream: bool) -> Self {
        Self {
            inner,
            ctx,
            model,
            stream,
            target: None,
            usage: None,
            cache: None,
            ttfb: None,
            prompt: None,
            completion: None,
            prompt_bytes: 0,
            output_bytes: 0,
            skip_policies: false,
            admin: None,
            done: false,
        }
    }

    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }

    /// Runs `on_complete` once and builds the audit record (none when no sink is configured).
    fn complete(&mut self, result: Result<(), &Error>) -> Option<AuditRecord> {
        if self.done {
            return None;
        }
        self.done = true;
        let (outcome, error) = match result {
            Ok(()) => (Outcome::Allowed, None),
            Err(e) => (outcome_of(e), Some(e)),
        };
        if self.usage.is_none() && outcome != Outcome::Allowed && (self.output_bytes > 0 || self.target.is_some()) {
            // Interrupted before the upstream reported usage: bill an estimate, never zero.
            self.usage = Some(TokenUsage {
                input: estimate_tokens(self.prompt_bytes),
                output: estimate_tokens(self.output_bytes),
                ..TokenUsage::default()
            });
        }
        let completion = Completion { outcome, error, usage: self.usage, target: self.target.as_deref() };
        if !self.skip_policies {
            self.inner.policies.on_complete(&self.ctx, &completion);
        }
        if self.inner.audits.is_empty() {
            return None;
        }
        let elapsed = self.ctx.started.elapsed();
        Some(AuditRecord {
            timestamp_ms: AuditRecord::unix_ms(self.ctx.started_at),
            request_id: self.ctx.request_id.clone(),
            trace_id: self.ctx.trace.trace_id_hex(),
            span_id: self.ctx.trace.span_id_hex(),
            parent_span_id: self.ctx.trace.parent_span_id.map(hex::encode),
            endpoint: self.ctx.endpoint.label(),
            principal: self.ctx.principal.clone(),
            model: self.model.clone(),
            target: self.target.as_deref().map(str::to_owned),
            stream: self.stream,
            outcome,
            status: error.map_or(200, Error::status_code),
            error: error.map(|e| e.kind().label()),
            decisions: std::mem::take(&mut self.ctx.decisions),
            cache: self.cache.map(|c| c.label().to_owned()),
            usage: self.usage,
            cost_nano_usd: Some(self.ctx.cost_nano_usd.load(std::sync::atomic::Ordering::Relaxed)).filter(|&c| c > 0),
            latency_ms: AuditRecord::ms(elapsed),
            ttfb_ms: self.ttfb.map(AuditRecord::ms),
            // Values restored for the caller (reversible tokens) are recorded as their placeholders.
            prompt: self.prompt.take().map(|t| self.withheld(t)),
            completion: self.completion.take().map(|t| self.withheld(t)),
            admin: self.admin.take(),
        })
    }

    /// `text` with the request's withheld values masked.
    fn withheld(&self, text: String) -> String {
        match self.ctx.extensions.get::<crate::types::Withheld>() {
            Some(w) if !w.is_empty() => w.mask(&text),
            _ => text,
        }
    }

    /// Ends the request and waits for every audit sink. A sink that cannot record makes a
    /// successful request fail with 503 (fail-closed sinks refuse what they cannot record).
    pub(crate) async fn finish(&mut self, result: Result<(), &Error>) -> Result<(), Error> {
        let Some(record) = self.complete(result) else {
            return Ok(());
        };
        let mut failed = false;
        for sink in &self.inner.audits {
            if let Err(e) = sink.record(&record).await {
                tracing::error!(sink = sink.name(), error = %e, "audit sink failed to record");
                failed = true;
            }
        }
        if failed {
            return Err(Error::new(ErrorKind::Unavailable, "the audit trail is unavailable; the request was refused")
                .with_code("audit_unavailable"));
        }
        Ok(())
    }

    /// Ends the request with `result` and returns it; a successful request whose audit fails
    /// becomes a 503 (see [`finish`](Self::finish)).
    pub(crate) async fn conclude<T>(&mut self, result: Result<T, Error>) -> Result<T, Error> {
        match result {
            Ok(value) => {
                self.finish(Ok(())).await?;
                Ok(value)
            }
            Err(e) => {
                let _ = self.finish(Err(&e)).await;
                Err(e)
            }
        }
    }

    /// Ends the request without waiting: the audit runs on a spawned task (streams).
    pub(crate) fn finish_detached(&mut self, result: Result<(), &Error>) {
        if let Some(record) = self.complete(result) {
            spawn_audit(self.inner.clone(), record);
        }
    }
}

impl Drop for Pending {
    fn drop(&mut self) {
        if !self.done {
            let cancelled = Error::new(ErrorKind::Cancelled, "the client closed the request");
            self.finish_detached(Err(&cancelled));
        }
    }
}

fn outcome_of(e: &Error) -> Outcome {
    match e.kind() {
        ErrorKind::Authentication
        | ErrorKind::PermissionDenied
        | ErrorKind::PolicyDenied
        | ErrorKind::RateLimited
        | ErrorKind::QuotaExceeded => Outcome::Denied,
        ErrorKind::Cancelled => Outcome::Cancelled,
        _ => Outcome::Failed,
    }
}

fn spawn_audit(inner: Arc<Inner>, record: AuditRecord) {
    let Ok(handle) = tokio::runtime::Handle::try_current() else {
        tracing::error!(request_id = %record.request_id, "no runtime to record the audit of a dropped request");
        return;
    };
    handle.spawn(async move {
        for sink in &inner.audits {
            if let Err(e) = sink.record(&record).await {
                tracing::error!(sink = sink.name(), error = %e, "audit sink failed to record");
            }
        }
    });
}
