//! A timing probe (ignored by default): windows against whole-text scans per recognizer.

use super::*;

/// Per recognizer: windows against whole-text scans over the labelled corpus joined (~100
/// KiB). `cargo bench -p smartflow-benches --bench compliance` has the throughput numbers.
#[test]
#[ignore = "timing probe: cargo test --release -p smartflow-policy --lib pii::detector::timing -- --ignored --nocapture"]
fn per_recognizer() {
    let text = super::tests::corpus().join("\n");
    let time = |f: &dyn Fn()| {
        f();
        let t = tokio::time::Instant::now();
        for _ in 0..10 {
            f();
        }
        t.elapsed() / 10
    };
    for r in crate::compliance::pii::recognizers::all() {
        let name = r.name();
        let d = Detector::builder().recognizer(r).build().unwrap();
        let windowed = time(&|| drop(d.detect(&text)));
        let whole = time(&|| drop(d.detect_whole(&text)));
        let windows = d.windows(&text).map_or(0, |w| w.len());
        eprintln!("{name:16} windows {windowed:>10?} whole {whole:>10?} ({windows} windows)");
    }
    let d = Detector::builtin().unwrap();
    let windowed = time(&|| drop(d.detect(&text)));
    let whole = time(&|| drop(d.detect_whole(&text)));
    eprintln!("all              windows {windowed:>10?} whole {whole:>10?} for {} bytes", text.len());
}
