//! `Detector`: runs recognizers over a text — one `RegexSet` pass says which patterns have
//! matches, only those patterns extract — and resolves overlaps (higher score wins, then the
//! longer span).

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
        let mut owners = Vec::new();
        let mut sources = Vec::new();
        for (r, rec) in self.recognizers.iter().enumerate() {
            for (p, pattern) in rec.patterns().into_iter().enumerate() {
                owners.push((r, p));
                sources.push(pattern);
            }
        }
        let set = RegexSet::new(&sources)?;
        let regexes = sources.iter().map(|s| Regex::new(s)).collect::<Result<Vec<_>, _>>()?;
        let min_score = if self.min_score > 0.0 { self.min_score } else { 0.5 };
        Ok(Detector { recognizers: self.recognizers, owners, set, regexes, min_score })
    }
}

/// A compiled set of recognizers. Cheap to share (`Arc`) across requests.
pub struct Detector {
    recognizers: Vec<Box<dyn Recognizer>>,
    owners: Vec<(usize, usize)>,
    set: RegexSet,
    regexes: Vec<Regex>,
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
        for i in self.set.matches(text).iter() {
            let (Some(&(r, p)), Some(re)) = (self.owners.get(i), self.regexes.get(i)) else { continue };
            let Some(rec) = self.recognizers.get(r) else { continue };
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
