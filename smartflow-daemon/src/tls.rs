//! Trust roots for `https` upstreams: the operating system's certificate store, loaded once.

use std::sync::Arc;

use rustls::RootCertStore;

/// The system's trusted CAs. Unreadable or malformed entries are skipped with a warning; an
/// empty store still serves plain-`http` upstreams (air-gapped vLLM, Ollama).
pub fn system_roots() -> Arc<RootCertStore> {
    let loaded = rustls_native_certs::load_native_certs();
    for e in &loaded.errors {
        tracing::warn!(error = %e, "could not load a system CA certificate");
    }
    let mut store = RootCertStore::empty();
    let (added, ignored) = store.add_parsable_certificates(loaded.certs);
    if ignored > 0 {
        tracing::warn!(ignored, "ignored malformed system CA certificates");
    }
    tracing::debug!(added, "loaded system CA certificates");
    Arc::new(store)
}
