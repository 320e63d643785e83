//! Secret references: `env:NAME` or `file:PATH`. Values never appear in logs or errors; only the
//! reference does.

use secrecy::SecretString;

/// Resolves a reference; the error names the reference, never a value.
pub(crate) fn resolve(reference: &str) -> Result<SecretString, String> {
    if let Some(name) = reference.strip_prefix("env:") {
        return match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            Ok(_) => Err(format!("environment variable {name} is empty")),
            Err(_) => Err(format!("environment variable {name} is not set")),
        };
    }
    if let Some(path) = reference.strip_prefix("file:") {
        return match std::fs::read_to_string(path) {
            Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            Ok(_) => Err(format!("secret file {path} is empty")),
            Err(e) => Err(format!("cannot read secret file {path}: {}", e.kind())),
        };
    }
    Err("secrets must be references: `env:NAME` or `file:PATH` (literal secrets are not accepted)".to_owned())
}

#[cfg(test)]
mod tests {
    use secrecy::ExposeSecret;

    use super::*;

    #[test]
    fn references_resolve_and_literals_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("k");
        std::fs::write(&p, "s3cret\n").unwrap();
        assert_eq!(resolve(&format!("file:{}", p.display())).unwrap().expose_secret(), "s3cret");
        let e = resolve("sk-live-abcdef").unwrap_err();
        assert!(!e.contains("sk-live-abcdef"));
        assert!(resolve("env:SMARTFLOW_TEST_SURELY_UNSET_VAR").unwrap_err().contains("not set"));
    }
}
