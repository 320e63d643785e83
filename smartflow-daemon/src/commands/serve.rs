//! `smartflowd serve`: load, build, listen, then handle signals — SIGHUP reloads, SIGTERM and
//! SIGINT drain in-flight requests and streams before exiting.

use std::io::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use hyper_util::server::graceful::GracefulShutdown;
use tokio::signal::unix::{SignalKind, signal};
use tokio::sync::watch;

use crate::config::{Config, Overrides};
use crate::server::{self, Plane};
use crate::state::{self, Shared};

/// Loads the configuration, builds a runtime with its `worker_threads`, and runs the daemon on
/// it until a termination signal.
pub fn main(path: &Path, overrides: Overrides) -> anyhow::Result<()> {
    let config = Config::load(path, &overrides)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(config.server.worker_threads)
        .thread_name("smartflowd")
        .enable_all()
        .build()?;
    runtime.block_on(run(config, overrides))
}

/// Runs the daemon until a termination signal.
pub async fn run(config: Config, overrides: Overrides) -> anyhow::Result<()> {
    crate::logging::init(&config.log);
    let cache = crate::cache::open(&config, false)?;
    let stores =
        Arc::new(crate::stores::Stores::open(config.storage.as_deref(), Some(&config.audit))?.with_cache(cache));
    let (metrics, reloads, slot) = state::metrics(stores.sink_sources(), stores.cache.clone());
    if config.storage.is_none() {
        tracing::warn!("no [storage] path: keys created through the admin API and usage counters last only until exit");
    }
    let gateway = crate::assemble::gateway(&config, metrics.clone(), &stores).await?;
    if config.governance.counts_tokens() {
        // Token limits count prompts; build the encoders now rather than on the first request.
        tokio::task::spawn_blocking(smartflow_policy::governance::tokens::warm_up);
    }
    let limits = config.server.clone();
    let shared = Arc::new(Shared::new(gateway, config, overrides, metrics, reloads, stores));
    let _ = slot.set(Arc::downgrade(&shared));

    let data = server::bind(limits.listen).await?;
    let admin = server::bind(limits.admin_listen).await?;
    let (data_addr, admin_addr) = (data.local_addr()?, admin.local_addr()?);
    tracing::info!(data = %data_addr, admin = %admin_addr, "smartflowd listening");
    // A stable line on stdout for supervisors and tests that start the daemon on port 0.
    let mut out = std::io::stdout().lock();
    writeln!(out, "smartflowd listening data={data_addr} admin={admin_addr}")?;
    out.flush()?;
    drop(out);

    if let Some(cache) = shared.stores.cache.clone() {
        // Expiry and the byte bound, off the request path.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(30));
            loop {
                tick.tick().await;
                let c = cache.clone();
                let _ = tokio::task::spawn_blocking(move || c.maintain()).await;
            }
        });
    }
    let graceful = GracefulShutdown::new();
    let (stop_tx, stop_rx) = watch::channel(false);
    {
        let servers = async {
            tokio::join!(
                server::serve(data, Plane::Data, shared.clone(), &limits, &graceful, stop_rx.clone()),
                server::serve(admin, Plane::Admin, shared.clone(), &limits, &graceful, stop_rx.clone()),
            )
        };
        tokio::pin!(servers);
        tokio::select! {
            _ = &mut servers => {}
            r = signals(&shared) => {
                r?;
                shared.draining.store(true, Ordering::Relaxed);
                let _ = stop_tx.send(true);
                servers.await;
            }
        }
    }
    tracing::info!(open = graceful.count(), "draining connections");
    if tokio::time::timeout(limits.drain_timeout, graceful.shutdown()).await.is_err() {
        tracing::warn!("drain timeout reached; closing the remaining connections");
    }
    let _ = shared.gateway.load().flush_audit().await;
    if let Some(cache) = &shared.stores.cache {
        cache.flush().await;
    }
    shared.stores.flush();
    tracing::info!("smartflowd stopped");
    Ok(())
}

/// Waits for SIGTERM or SIGINT, reloading on every SIGHUP meanwhile.
async fn signals(shared: &Shared) -> anyhow::Result<()> {
    let mut hup = signal(SignalKind::hangup())?;
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    loop {
        tokio::select! {
            _ = hup.recv() => { let _ = crate::reload::reload(shared).await; }
            _ = term.recv() => { tracing::info!("SIGTERM: shutting down"); return Ok(()); }
            _ = int.recv() => { tracing::info!("SIGINT: shutting down"); return Ok(()); }
        }
    }
}
