//! Criterion benchmark of inline compliance: scanning a prompt for PII and secrets with every
//! built-in recognizer.
//!
//! Run with:
//!
//! ```sh
//! cargo bench -p smartflow-benches --bench compliance
//! ```
//!
//! `pii/clean_1k`: a ~1 KiB support ticket with nothing to find (the common case).
//! `pii/dirty_1k`: the same length with an e-mail, a phone number, a card, an IBAN and an API key.
//! `pii/redact_dirty_1k`: detection plus redaction. Compare with `pii/baseline/copy_1k` (copying
//! the text) from the same run.
//!
//! `pii_throughput/{prose,code,logs}`: `detect` over ~64 KiB corpora built here (English support
//! tickets with a few PII values; Rust and Python with a couple of secrets; syslog and JSON log
//! lines with IP addresses and e-mails). Criterion prints MB/s (`Throughput::Bytes`).
//!
//! `added_latency/2k_prompt`: detect + redact of a realistic 2 KB prompt, against
//! `added_latency/baseline/copy_2k`.
//!
//! The machine the numbers come from is usually shared: compare ratios against the baselines of
//! the same run rather than absolute times across runs.

#![expect(missing_docs, reason = "criterion_group! generates an undocumented public function")]

use std::collections::HashMap;
use std::fmt::Write as _;
use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
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

/// The size of each throughput corpus.
const CORPUS_BYTES: usize = 64 * 1024;

fn dirty() -> String {
    format!(
        "{} Contact me at dana.kowalski@northwind-mail.com or +44 20 7946 0958. Refund card 4539 1488 0343 6467, \
IBAN DE89370400440532013000. Our key was sk-proj-Zt8pQ2mX9vL4kR7wN1cJ5hB3fD6gS0aY2eU8iO4tM7nP1qV9",
        &CLEAN[..600]
    )
}

/// A small deterministic generator (the corpora are the same in every run; keys are generated,
/// never written out, so the source holds nothing that looks like a secret).
struct Lcg(u64);

impl Lcg {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }

    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next()).unwrap_or_default() % n.max(1)
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items.get(self.below(items.len())).copied().unwrap_or_default()
    }

    fn token(&mut self, len: usize, alphabet: &[u8]) -> String {
        (0..len).map(|_| char::from(alphabet.get(self.below(alphabet.len())).copied().unwrap_or(b'x'))).collect()
    }
}

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// English support-ticket prose, mostly clean: numbers, versions, dates and times everywhere, a
/// PII value (e-mail, phone, card, a name after a salutation) every few KiB.
fn prose() -> String {
    let mut rng = Lcg(7);
    let openers =
        ["Hello support team,", "Hi,", "Good morning,", "Dear support,", "Hello,", "Hi there, hope you are well."];
    let bodies = [
        "since the upgrade to version {v} our nightly export job fails after about {n} minutes with a timeout while writing the monthly report.",
        "the dashboard shows the wrong totals for the last {n} days; the numbers in the CSV export do not match the ones on the overview page.",
        "ticket #{t} is still open and we have not heard back since {d}. Could someone from the platform team take a look?",
        "we see intermittent 502 errors on the API gateway between {h} and {h2} UTC, roughly {n} requests per hour are affected.",
        "after the maintenance window on {d} the replica lag grew to {n} seconds and the reporting queries started to time out.",
        "our invoice for March shows {n} seats although we only have {n2} active users; please correct the billing before the next run.",
        "the single sign-on login loops back to the start page in Firefox {n} and Chrome {n2}, but works in Safari.",
        "when we upload a file larger than {n} MB the progress bar stops at {p} percent and the request is cancelled after a while.",
        "we would like to increase the rate limit for our production project from {n} to {n2} requests per minute for the product launch.",
        "the scheduled report that should arrive every Monday at {h} was not delivered this week, and the audit log has no entry for it.",
        "could you confirm whether the data retention policy of {n} days also applies to the archived workspaces?",
        "the mobile app crashes on start after the last update (build {v}); the crash happens on both Android {n} and iOS {n2}.",
    ];
    let closers = [
        "Thanks in advance for looking into it.",
        "Please let us know what logs you need; we can attach the job output and the scheduler history.",
        "This is blocking the finance close, so a quick answer would be much appreciated.",
        "Best regards, the operations team.",
        "Thank you for your help!",
    ];
    let pii = [
        "You can reach me at morgan.ellis@harborline-logistics.com if anything is unclear.",
        "Call me back on +1 415 555 2671 during office hours.",
        "The charge went to card 4539 1488 0343 6467, please refund it.",
        "Dear Ms. Priya Raman, thank you for the quick reply.",
        "My colleague Dr. Henrik Olsen will join the call.",
    ];
    let mut out = String::with_capacity(CORPUS_BYTES + 1024);
    let mut n = 0;
    while out.len() < CORPUS_BYTES {
        n += 1;
        out.push_str(rng.pick(&openers));
        out.push(' ');
        for _ in 0..3 {
            let body = rng
                .pick(&bodies)
                .replace("{v}", &format!("{}.{}.{}", rng.below(9) + 1, rng.below(20), rng.below(300)))
                .replace("{n2}", &(rng.below(900) + 10).to_string())
                .replace("{n}", &(rng.below(90) + 2).to_string())
                .replace("{t}", &(rng.below(90_000) + 10_000).to_string())
                .replace("{d}", &format!("2024-0{}-{:02}", rng.below(9) + 1, rng.below(28) + 1))
                .replace("{h2}", &format!("{:02}:{:02}", rng.below(24), rng.below(60)))
                .replace("{h}", &format!("{:02}:{:02}", rng.below(24), rng.below(60)))
                .replace("{p}", &rng.below(100).to_string());
            out.push_str(&body);
            out.push(' ');
        }
        if n % 6 == 0 {
            out.push_str(rng.pick(&pii));
            out.push(' ');
        }
        out.push_str(rng.pick(&closers));
        out.push_str("\n\n");
    }
    out
}

/// The prose with accented words, typographic quotes and dashes and narrow no-break spaces: not
/// ASCII, so every character is looked at for folding, though nothing needs it but the spaces.
fn prose_accented() -> String {
    prose()
        .replace("Hello", "Grüß Gott")
        .replace("Thanks", "Merci, ça marche —")
        .replace(" report", " « rapport détaillé »")
        .replace(" percent", "\u{202F}%")
        .replace("the ", "the “")
}

/// The prose with a zero-width space inside every e-mail address and after every tenth word: the
/// folded view is built for every text.
fn prose_disguised() -> String {
    let mut out = String::new();
    for (i, word) in prose().split(' ').enumerate() {
        if i > 0 {
            out.push(' ');
        }
        match word.find('@') {
            Some(at) => {
                out.push_str(&word[..at]);
                out.push('\u{200B}');
                out.push_str(&word[at..]);
            }
            None => out.push_str(word),
        }
        if i % 10 == 0 {
            out.push('\u{200B}');
        }
    }
    out
}

/// Rust and Python source with two secrets (an AWS access key id and a credentialed database URL).
fn code() -> String {
    let mut rng = Lcg(11);
    let rust = "/// Loads the configuration and retries the connection with exponential backoff.\n\
pub async fn connect(cfg: &Config, attempt: u32) -> Result<Pool, Error> {\n\
    let delay = Duration::from_millis(100 * 2u64.pow(attempt.min(6)));\n\
    tokio::time::sleep(delay).await;\n\
    let pool = PoolOptions::new().max_connections(cfg.max_connections).connect(&cfg.url).await?;\n\
    tracing::info!(attempt, url = %cfg.redacted_url(), \"connected\");\n\
    Ok(pool)\n\
}\n\n\
#[derive(Debug, Clone, Deserialize)]\n\
pub struct Config {\n\
    pub url: String,\n\
    pub max_connections: u32,\n\
    pub timeout_ms: u64,\n\
}\n\n\
impl Config {\n\
    fn redacted_url(&self) -> String {\n\
        self.url.split('@').last().unwrap_or_default().to_owned()\n\
    }\n\
}\n\n";
    let python = "def summarise(rows, limit=50):\n\
    \"\"\"Groups the rows by customer and returns the top entries by revenue.\"\"\"\n\
    totals = defaultdict(float)\n\
    for row in rows:\n\
        if row.get(\"status\") != \"paid\":\n\
            continue\n\
        totals[row[\"customer_id\"]] += float(row[\"amount\"])\n\
    ranked = sorted(totals.items(), key=lambda kv: kv[1], reverse=True)\n\
    return [{\"customer\": c, \"revenue\": round(v, 2)} for c, v in ranked[:limit]]\n\n\
class RetryingClient:\n\
    def __init__(self, base_url, timeout=30.0, retries=3):\n\
        self.base_url = base_url.rstrip(\"/\")\n\
        self.session = requests.Session()\n\
        self.timeout = timeout\n\
        self.retries = retries\n\n";
    let mut out = String::with_capacity(CORPUS_BYTES + 2048);
    let mut n = 0;
    while out.len() < CORPUS_BYTES {
        n += 1;
        out.push_str(if n % 2 == 0 { rust } else { python });
        if n == 9 {
            let _ = writeln!(out, "AWS_ACCESS_KEY_ID = \"AKIA{}\"\n", rng.token(16, UPPER));
        }
        if n == 23 {
            let _ = writeln!(
                out,
                "DATABASE_URL = \"postgres://app:{}@db.internal.acme.io:5432/app\"\n",
                rng.token(14, ALNUM)
            );
        }
    }
    out
}

/// Syslog and JSON log lines: timestamps, request ids, latencies, some IP addresses and e-mails.
/// A CSV export (sign-ins: a header, then rows with an address and a date each): every row's
/// candidates look up their column's header.
fn csv_rows() -> String {
    let mut rng = Lcg(17);
    let mut out = String::from("user,department,source_ip,signed_in,result\n");
    while out.len() < CORPUS_BYTES {
        let _ = writeln!(
            out,
            "u{:05},{},{}.{}.{}.{},2024-0{}-{:02},{}",
            rng.below(100_000),
            rng.pick(&["treasury", "risk", "it", "hr"]),
            rng.below(200) + 20,
            rng.below(256),
            rng.below(256),
            rng.below(250) + 1,
            rng.below(9) + 1,
            rng.below(28) + 1,
            rng.pick(&["ok", "ok", "denied"]),
        );
    }
    out
}

fn logs() -> String {
    let mut rng = Lcg(13);
    let services = ["api-gateway", "billing", "auth", "scheduler", "export-worker"];
    let paths = ["/v1/chat/completions", "/v1/embeddings", "/healthz", "/v1/models", "/admin/usage"];
    let mut out = String::with_capacity(CORPUS_BYTES + 512);
    let mut n = 0;
    while out.len() < CORPUS_BYTES {
        n += 1;
        let (h, m, s, ms) = (rng.below(24), rng.below(60), rng.below(60), rng.below(1000));
        let service = rng.pick(&services);
        if n % 2 == 0 {
            let _ = write!(
                out,
                "Mar 14 {h:02}:{m:02}:{s:02} web-{} {service}[{}]: request {} {} completed status={} latency_ms={}",
                rng.below(12),
                rng.below(30_000) + 1000,
                rng.token(12, b"0123456789abcdef"),
                rng.pick(&paths),
                [200, 200, 200, 404, 502].get(rng.below(5)).copied().unwrap_or(200),
                rng.below(900) + 3,
            );
            if n % 10 == 0 {
                let _ = write!(
                    out,
                    " client={}.{}.{}.{}",
                    rng.below(200) + 20,
                    rng.below(256),
                    rng.below(256),
                    rng.below(250) + 1
                );
            }
            out.push('\n');
        } else {
            let _ = write!(
                out,
                "{{\"ts\":\"2024-03-14T{h:02}:{m:02}:{s:02}.{ms:03}Z\",\"level\":\"{}\",\"service\":\"{service}\",\"trace_id\":\"{}\",\"msg\":\"{}\",\"duration_ms\":{}",
                ["info", "info", "warn", "error"].get(rng.below(4)).copied().unwrap_or("info"),
                rng.token(32, b"0123456789abcdef"),
                ["cache hit", "upstream retry", "quota checked", "token refreshed", "batch flushed"]
                    .get(rng.below(5))
                    .copied()
                    .unwrap_or("ok"),
                rng.below(5000),
            );
            if n % 15 == 1 {
                let _ = write!(
                    out,
                    ",\"user\":\"{}.{}@corp-mail.io\"",
                    rng.pick(&["ana", "li", "sam", "ola"]),
                    rng.below(99)
                );
            }
            out.push_str("}\n");
        }
    }
    out
}

/// A realistic 2 KB prompt: a support assistant's instructions and a customer ticket with a name,
/// an e-mail address and a phone number.
fn prompt_2k() -> String {
    let mut out = String::from(
        "You are a support assistant for a software company. Answer politely and concisely, cite the relevant \
documentation section when you can, and never promise refunds or delivery dates. If the customer reports a \
security problem, tell them that the security team will contact them within one business day.\n\n\
Customer ticket:\n\nHi Daniel Brennan,\n\n",
    );
    out.push_str(CLEAN);
    out.push_str(
        "\n\nThe export runs at 02:30 every night on version 4.12.0 and processes about 1.2 million rows. You can \
reach me at morgan.ellis@harborline-logistics.com or on +1 415 555 2671 if you need more details.\n\n\
Best regards,\nMorgan Ellis\n\nPlease draft a reply. Mention the known issue with connection pools after the \
upgrade, suggest raising the pool limit, and ask for the scheduler history of the last three runs.",
    );
    while out.len() < 2048 {
        out.push_str(" Keep the reply under two hundred words.");
    }
    let cut = out.char_indices().map(|(i, _)| i).take_while(|i| *i <= 2048).last().unwrap_or(0);
    out.truncate(cut);
    out
}

fn bench(c: &mut Criterion) {
    let detector = Detector::builtin().unwrap_or_else(|e| unreachable!("{e}"));
    let dirty = dirty();
    let redactor = Redactor::new(HashMap::new(), PiiAction::Redact, b"bench-key");

    let mut group = c.benchmark_group("pii");
    group.bench_function("baseline/copy_1k", |b| b.iter(|| black_box(CLEAN).to_owned()));
    group.bench_function("clean_1k", |b| b.iter(|| detector.detect(black_box(CLEAN)).len()));
    group.bench_function("dirty_1k", |b| b.iter(|| detector.detect(black_box(&dirty)).len()));
    group.bench_function("redact_dirty_1k", |b| {
        b.iter(|| {
            let findings = detector.detect(black_box(&dirty));
            redactor.apply(&dirty, &findings, &mut TokenVault::default()).replaced
        })
    });
    group.finish();

    let mut group = c.benchmark_group("pii_throughput");
    for (name, corpus) in [
        ("prose", prose()),
        ("prose_accented", prose_accented()),
        ("prose_disguised", prose_disguised()),
        ("code", code()),
        ("logs", logs()),
        ("csv_rows", csv_rows()),
    ] {
        eprintln!("pii_throughput/{name}: {} bytes, {} findings", corpus.len(), detector.detect(&corpus).len());
        group.throughput(Throughput::Bytes(corpus.len() as u64));
        group.bench_function(name, |b| b.iter(|| detector.detect(black_box(&corpus)).len()));
    }
    group.finish();

    let prompt = prompt_2k();
    eprintln!("added_latency/2k_prompt: {} bytes, {} findings", prompt.len(), detector.detect(&prompt).len());
    let mut group = c.benchmark_group("added_latency");
    group.throughput(Throughput::Bytes(prompt.len() as u64));
    group.bench_function("baseline/copy_2k", |b| b.iter(|| black_box(prompt.as_str()).to_owned()));
    group.bench_function("2k_prompt", |b| {
        b.iter(|| {
            let findings = detector.detect(black_box(&prompt));
            redactor.apply(&prompt, &findings, &mut TokenVault::default()).replaced
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
