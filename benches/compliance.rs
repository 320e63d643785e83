//! Criterion benchmark of inline compliance: scanning a prompt for PII and secrets with every
//! built-in recognizer.
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench compliance
//! ```
//!
//! `pii/clean_1k`: a ~1 KiB support ticket with nothing to find (the common case: one `RegexSet`
//! pass). `pii/dirty_1k`: the same length with an e-mail, a phone number, a card, an IBAN and an
//! API key. `pii/redact_dirty_1k`: detection plus redaction. Compare with `baseline/copy_1k`
//! (copying the text) from the same run.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::collections::HashMap;

use criterion::{Criterion, criterion_group, criterion_main};
use smartflow_policy::compliance::pii::Detector;
use smartflow_policy::compliance::redact::{PiiAction, Redactor, TokenVault};

const CLEAN: &str = "Hello support team, since yesterday's release our nightly export job fails after about twenty \
minutes with a timeout while writing the monthly report. The job runs on the reporting cluster and reads from the \
warehouse replica. We did not change the configuration, and the same job succeeded on Monday and Tuesday. Could you \
check whether the connection pool limits changed in the new version? The error appears right after the third batch \
and the retry policy does not seem to help. We would also like to know whether the scheduled maintenance window on \
Saturday affects the replica, because several teams depend on the export for their weekly planning meetings and the \
finance close. Please let us know what logs you need; we can attach the job output and the scheduler history. Thanks \
in advance for looking into it, the operations team.";

fn dirty() -> String {
    format!(
        "{} Contact me at dana.kowalski@northwind-mail.com or +44 20 7946 0958. Refund card 4539 1488 0343 6467, \
IBAN DE89370400440532013000. Our key was sk-proj-Zt8pQ2mX9vL4kR7wN1cJ5hB3fD6gS0aY2eU8iO4tM7nP1qV9",
        &CLEAN[..600]
    )
}

fn bench(c: &mut Criterion) {
    let detector = Detector::builtin().unwrap_or_else(|e| unreachable!("{e}"));
    let dirty = dirty();
    let redactor = Redactor::new(HashMap::new(), PiiAction::Redact, b"bench-key");
    let mut group = c.benchmark_group("pii");
    group.bench_function("baseline/copy_1k", |b| b.iter(|| CLEAN.to_owned()));
    group.bench_function("clean_1k", |b| b.iter(|| detector.detect(CLEAN).len()));
    group.bench_function("dirty_1k", |b| b.iter(|| detector.detect(&dirty).len()));
    group.bench_function("redact_dirty_1k", |b| {
        b.iter(|| {
            let findings = detector.detect(&dirty);
            redactor.apply(&dirty, &findings, &mut TokenVault::default()).replaced
        })
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().sample_size(30).measurement_time(std::time::Duration::from_secs(3));
    targets = bench
}
criterion_main!(benches);
