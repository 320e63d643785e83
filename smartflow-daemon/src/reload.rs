//! Configuration reload (SIGHUP or the admin API): load, validate and build the new gateway
//! beside the old one, then swap it in whole. In-flight requests keep the generation they
//! started with; an invalid file changes nothing and says why.

use std::sync::atomic::Ordering;

use crate::config::Config;
use crate::state::{ReloadLabels, Shared};

/// Reloads from the file the daemon started with. Returns the new generation.
pub async fn reload(shared: &Shared) -> Result<u64, String> {
    let path = shared.config.load().path.clone();
    let result = async {
        let config = Config::load(&path, &shared.overrides).map_err(|e| e.to_string())?;
        let old = shared.config.load();
        let mut new_server = config.server.clone();
        new_server.owned_by.clone_from(&old.server.owned_by);
        if new_server != old.server {
            tracing::warn!(
                "[server] listeners and limits change only on restart; the rest of the new configuration applies now"
            );
        }
        if config.log != old.log {
            tracing::warn!("[log] settings change only on restart");
        }
        if config.storage != old.storage {
            return Err("[storage] path changes only on restart".to_owned());
        }
        if config.cache != old.cache {
            return Err("[cache] changes only on restart".to_owned());
        }
        if config.audit.verified != old.audit.verified || config.audit.remote != old.audit.remote {
            return Err(
                "[audit.verified], [audit.splunk], [audit.syslog] and [audit.otlp] change only on restart".to_owned()
            );
        }
        let gateway = crate::assemble::gateway(&config, shared.metrics.clone(), &shared.stores)
            .await
            .map_err(|e| format!("{e:#}"))?;
        shared.gateway.store(std::sync::Arc::new(gateway));
        shared.config.store(std::sync::Arc::new(config));
        Ok(shared.generation.fetch_add(1, Ordering::Relaxed) + 1)
    }
    .await;
    match &result {
        Ok(generation) => {
            shared.reloads.get_or_create(&ReloadLabels { result: "ok" }).inc();
            tracing::info!(generation, "configuration reloaded");
        }
        Err(message) => {
            shared.reloads.get_or_create(&ReloadLabels { result: "invalid" }).inc();
            tracing::error!(error = %message, "configuration reload refused; the running configuration is unchanged");
        }
    }
    result
}
