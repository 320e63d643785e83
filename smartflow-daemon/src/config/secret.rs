//! Secret references: `env:NAME` or `file:PATH`. Values never appear in logs or errors; only the
//! reference does.

use secrecy::SecretString;

/// Largest secret file accepted; reading stops there (so `file:/dev/zero` cannot hang start-up).
const MAX_SECRET_BYTES: u64 = 64 * 1024;

fn read_bounded(path: &std::path::Path) -> std::io::Result<Option<String>> {
    use std::io::Read as _;
    let mut bytes = Vec::new();
    std::fs::File::open(path)?.take(MAX_SECRET_BYTES + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > MAX_SECRET_BYTES {
        return Ok(None);
    }
    Ok(String::from_utf8(bytes).ok())
}

/// Resolves a reference; a relative `file:` path is relative to the directory of the
/// configuration file `config`. The error names the reference, never a value.
pub(crate) fn resolve(config: &std::path::Path, reference: &str) -> Result<SecretString, String> {
    if let Some(name) = reference.strip_prefix("env:") {
        return match std::env::var(name) {
            Ok(v) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            Ok(_) => Err(format!("environment variable {name} is empty")),
            Err(_) => Err(format!("environment variable {name} is not set")),
        };
    }
    if let Some(path) = reference.strip_prefix("file:") {
        let full = super::governance::relative_to(config, path);
        return match read_bounded(&full) {
            Ok(Some(v)) if !v.trim().is_empty() => Ok(SecretString::from(v.trim().to_owned())),
            Ok(Some(_)) => Err(format!("secret file {path} is empty")),
            Ok(None) => Err(format!("secret file {path} is larger than {MAX_SECRET_BYTES} bytes or not UTF-8")),
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
        assert_eq!(
            resolve(std::path::Path::new("x.toml"), &format!("file:{}", p.display())).unwrap().expose_secret(),
            "s3cret"
        );
        let e = resolve(std::path::Path::new("x.toml"), "sk-live-abcdef").unwrap_err();
        assert!(!e.contains("sk-live-abcdef"));
        assert!(
            resolve(std::path::Path::new("x.toml"), "env:SMARTFLOW_TEST_SURELY_UNSET_VAR")
                .unwrap_err()
                .contains("not set")
        );
        assert!(resolve(std::path::Path::new("x.toml"), "file:/dev/zero").unwrap_err().contains("larger than"));
    }
}
