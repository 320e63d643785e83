//! Trust roots for `https` upstreams: the operating system's certificate store, loaded once.

use std::sync::Arc;

use rustls::RootCertStore;

/// The CAs in a PEM bundle (`ca_file` of a provider): a closed network's own authority.
pub fn load_ca_file(path: &std::path::Path) -> Result<Arc<RootCertStore>, String> {
    use rustls::pki_types::CertificateDer;
    use rustls::pki_types::pem::PemObject;
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| format!("cannot read CA bundle {}: {e}", path.display()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("CA bundle {} is not valid PEM: {e}", path.display()))?;
    let mut store = RootCertStore::empty();
    let (added, _) = store.add_parsable_certificates(certs);
    if added == 0 {
        return Err(format!("CA bundle {} holds no usable certificate", path.display()));
    }
    Ok(Arc::new(store))
}

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_ca_bundles_are_refused_with_the_file_named() {
        let dir = tempfile::tempdir().unwrap();
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "").unwrap();
        assert!(load_ca_file(&empty).unwrap_err().contains("empty.pem"));
        let junk = dir.path().join("junk.pem");
        std::fs::write(&junk, "-----BEGIN CERTIFICATE-----\nnot base64!\n-----END CERTIFICATE-----\n").unwrap();
        assert!(load_ca_file(&junk).is_err());
        assert!(load_ca_file(&dir.path().join("missing.pem")).unwrap_err().contains("missing.pem"));
    }
}
