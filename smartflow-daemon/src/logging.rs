//! Log set-up: human-readable text or JSON lines on stderr. Prompt and completion text is never
//! logged at INFO or above; secrets never at all.

use tracing_subscriber::EnvFilter;

use crate::config::LogConfig;

/// Installs the global subscriber (once; later calls are ignored).
pub fn init(config: &LogConfig) {
    let filter = std::env::var(crate::env::LOG).unwrap_or_else(|_| config.level.clone());
    let filter = EnvFilter::try_new(&filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).with_target(false);
    let _ = if config.json { builder.json().try_init() } else { builder.with_ansi(false).try_init() };
}
