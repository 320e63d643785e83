//! `Detector`: runs recognizers over a text — each recognizer's `RegexSet` screen says which of
//! its patterns have matches, only those extract — and resolves overlaps (higher score wins, then
//! the longer span).

use regex::{Regex, RegexSet};

use super::{Finding, Recognizer};

/// Builds a [`Detector`].
#[derive(Default)]
pub struct DetectorBuilder {
    recognizers: Vec<Box<dyn Recognizer>>,
    min_score: f32,
}

impl DetectorBuilder {
    /// Adds a recognizer.
    pub fn recognizer(mut self, r: Box<dyn Recognizer>) -> Self {
        self.recognizers.push(r);
        self
    }

    /// Drops findings scoring below `score` (default 0.5).
    pub fn min_score(mut self, score: f32) -> Self {
        self.min_score = score;
        self
    }

    /// Compiles every pattern. Fails on an invalid pattern (a custom regex in configuration).
    pub fn build(self) -> Result<Detector, regex::Error> {
        let mut screens = Vec::with_capacity(self.recognizers.len());
        for rec in &self.recognizers {
            let sources = rec.patterns();
            let set = RegexSet::new(&sources)?;
            let regexes = sources.iter().map(|s| Regex::new(s)).collect::<Result<Vec<_>, _>>()?;
            screens.push((set, regexes));
        }
        let min_score = if self.min_score > 0.0 { self.min_score } else { 0.5 };
        Ok(Detector { recognizers: self.recognizers, screens, min_score })
    }
}

/// A compiled set of recognizers. Cheap to share (`Arc`) across requests.
pub struct Detector {
    recognizers: Vec<Box<dyn Recognizer>>,
    /// Per recognizer: a `RegexSet` screen over its patterns, and the patterns on their own.
    /// (One set of every recognizer's patterns is too big for the regex crate's lazy DFA and fell
    /// back to a slower engine: 0.4–0.55 ms per KiB against tens of microseconds this way.)
    screens: Vec<(RegexSet, Vec<Regex>)>,
    min_score: f32,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("recognizers", &self.recognizers.iter().map(|r| r.name()).collect::<Vec<_>>())
            .finish()
    }
}

impl Detector {
    /// A builder.
    pub fn builder() -> DetectorBuilder {
        DetectorBuilder::default()
    }

    /// A detector with every built-in recognizer.
    pub fn builtin() -> Result<Self, regex::Error> {
        super::recognizers::all().into_iter().fold(Self::builder(), DetectorBuilder::recognizer).build()
    }

    /// Every finding in `text`, in order, without overlaps.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        for (rec, (set, regexes)) in self.recognizers.iter().zip(&self.screens) {
            for p in set.matches(text).iter() {
                let Some(re) = regexes.get(p) else { continue };
                for m in re.find_iter(text) {
                    if let Some(f) = rec.check(text, p, m.start(), m.end())
                        && f.score >= self.min_score
                        && f.start < f.end
                        && f.end <= text.len()
                    {
                        found.push(f);
                    }
                }
            }
        }
        resolve_overlaps(found)
    }
}

/// Keeps the best of overlapping findings: higher score, then longer span, then earlier.
fn resolve_overlaps(mut found: Vec<Finding>) -> Vec<Finding> {
    found.sort_by(|a, b| {
        b.score.total_cmp(&a.score).then((b.end - b.start).cmp(&(a.end - a.start))).then(a.start.cmp(&b.start))
    });
    let mut kept: Vec<Finding> = Vec::with_capacity(found.len());
    for f in found {
        if kept.iter().all(|k| f.end <= k.start || f.start >= k.end) {
            kept.push(f);
        }
    }
    kept.sort_by_key(|f| f.start);
    kept
}

#[cfg(test)]
mod timing {
    #[test]
    #[ignore = "timing probe: cargo test --release -p smartflow-policy --lib detector::timing -- --ignored --nocapture"]
    fn per_recognizer() {
        let text = "Hello support team, since yesterday's release our nightly export job fails after about twenty minutes with a timeout while writing the monthly report. The job runs on the reporting cluster and reads from the warehouse replica. We did not change the configuration, and the same job succeeded on Monday and Tuesday. Could you check whether the connection pool limits changed in the new version? The error appears right after the third batch and the retry policy does not seem to help. We would also like to know whether the scheduled maintenance window on Saturday affects the replica, because several teams depend on the export for their weekly planning meetings and the finance close.";
        for r in super::super::recognizers::all() {
            let name = r.name();
            let d = super::Detector::builder().recognizer(r).build().unwrap();
            let t = tokio::time::Instant::now();
            for _ in 0..50 {
                let _ = d.detect(text);
            }
            eprintln!("{name:20} {:?}", t.elapsed() / 50);
        }
        for skip in ["", "person", "address", "date_of_birth"] {
            let d = super::super::recognizers::all()
                .into_iter()
                .filter(|r| r.name() != skip)
                .fold(super::Detector::builder(), super::DetectorBuilder::recognizer)
                .build()
                .unwrap();
            let t = tokio::time::Instant::now();
            for _ in 0..20 {
                let _ = d.detect(text);
            }
            eprintln!("all but {skip:14} {:?}", t.elapsed() / 20);
        }
    }
}
