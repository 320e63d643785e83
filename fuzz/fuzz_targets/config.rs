//! Fuzzes `Config::parse` on UTF-8 text: errors are expected, panics are not.
//!
//! `Config::parse` resolves `api_key = "env:NAME"` / `"file:PATH"` secret references, which is
//! fine, except that a `file:` reference naming a device, FIFO or `/proc`/`/sys` file could block
//! the fuzzer or read forever (`file:/dev/zero`). Such inputs are skipped: not a bug in the parser
//! (configuration is trusted operator input), just something a fuzzer must not do.
#![no_main]

use std::path::Path;

use libfuzzer_sys::fuzz_target;

/// Whether some string value in the document is a `file:` reference the harness must not follow.
fn names_unsafe_file(text: &str) -> bool {
    // A string can only come out as `file:...` if the text says `file:` or uses an escape
    // (`\u0066ile:`, a line-ending backslash inside `"""fi\⏎le:"""`).
    if !text.contains("file:") && !text.contains('\\') {
        return false;
    }
    // A document that does not parse never reaches secret resolution.
    let Ok(table) = text.parse::<toml::Table>() else {
        return false;
    };
    table.values().any(value_is_unsafe)
}

fn value_is_unsafe(v: &toml::Value) -> bool {
    match v {
        toml::Value::String(s) => s.strip_prefix("file:").is_some_and(path_is_unsafe),
        toml::Value::Array(items) => items.iter().any(value_is_unsafe),
        toml::Value::Table(t) => t.values().any(value_is_unsafe),
        _ => false,
    }
}

fn path_is_unsafe(path: &str) -> bool {
    let path = Path::new(path);
    let Ok(meta) = std::fs::metadata(path) else {
        return false; // missing: an error, nothing is read
    };
    let pseudo = std::fs::canonicalize(path)
        .map(|p| ["/proc", "/sys", "/dev"].iter().any(|root| p.starts_with(root)))
        .unwrap_or(true);
    pseudo || !(meta.is_dir() || (meta.is_file() && meta.len() <= 1 << 20))
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if names_unsafe_file(text) {
        return;
    }
    let _ = smartflow_daemon::config::Config::parse(Path::new("fuzz.toml"), text);
});
