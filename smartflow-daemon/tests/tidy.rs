//! Tidy checks over the whole workspace: the crate dependency direction, and a `//!` line at the
//! top of every source file.

#![expect(clippy::unwrap_used, reason = "test support code: a failed set-up step is a failed test")]

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The `smartflow-*` crates a manifest depends on, in any dependency table.
fn smartflow_deps(manifest: &Path) -> Vec<(String, String)> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let doc: toml::Table = text.parse().unwrap();
    let mut out = Vec::new();
    for table in ["dependencies", "dev-dependencies", "build-dependencies"] {
        if let Some(deps) = doc.get(table).and_then(|t| t.as_table()) {
            for name in deps.keys().filter(|k| k.starts_with("smartflow-")) {
                out.push((table.to_owned(), name.clone()));
            }
        }
    }
    out
}

#[test]
fn dependency_direction_is_core_then_cache_and_policy_then_daemon() {
    let allowed: &[(&str, &[&str])] = &[
        ("smartflow-core", &[]),
        ("smartflow-cache", &["smartflow-core"]),
        ("smartflow-policy", &["smartflow-core"]),
        ("smartflow-daemon", &["smartflow-core", "smartflow-cache", "smartflow-policy"]),
    ];
    for (krate, may_use) in allowed {
        let manifest = root().join(krate).join("Cargo.toml");
        for (table, dep) in smartflow_deps(&manifest) {
            assert!(may_use.contains(&dep.as_str()), "{krate} may not depend on {dep} (in [{table}])");
        }
    }
    let core = std::fs::read_to_string(root().join("smartflow-core/Cargo.toml")).unwrap();
    for forbidden in ["sled", "axum", "toml", "clap", "tracing-subscriber"] {
        assert!(
            !core.lines().any(|l| l.trim_start().starts_with(&format!("{forbidden} "))
                || l.trim_start().starts_with(&format!("{forbidden}."))),
            "smartflow-core must not depend on {forbidden}"
        );
    }
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        if path.is_dir() {
            if name != "target" && !name.starts_with('.') {
                rust_files(&path, out);
            }
        } else if name.ends_with(".rs") {
            out.push(path);
        }
    }
}

#[test]
fn every_source_file_says_what_it_holds() {
    let mut files = Vec::new();
    for dir in
        ["smartflow-core", "smartflow-cache", "smartflow-policy", "smartflow-daemon", "examples", "benches", "fuzz"]
    {
        let d = root().join(dir);
        if d.exists() {
            rust_files(&d, &mut files);
        }
    }
    assert!(files.len() > 30, "found only {} files", files.len());
    let missing: Vec<String> = files
        .iter()
        .filter(|f| !std::fs::read_to_string(f).unwrap().trim_start().starts_with("//!"))
        .map(|f| f.strip_prefix(root()).unwrap().display().to_string())
        .collect();
    assert!(missing.is_empty(), "files without a leading //! line: {missing:?}");
}

#[test]
fn example_configs_accept_the_demo_key() {
    let mut configs = vec![root().join("examples/quickstart.toml")];
    for entry in std::fs::read_dir(root().join("examples/configs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "toml") {
            configs.push(path);
        }
    }
    for path in configs {
        let config = smartflow_daemon::config::Config::load(&path, &Default::default())
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let demo = smartflow_policy::identity::KeyHash::of("sf-demo-key-0001");
        assert!(config.keys.iter().any(|k| k.hash == demo), "{} does not accept the demo key", path.display());
    }
}
