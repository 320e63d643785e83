//! `Detector`: finds where anything could be in one pass over the text — one Aho-Corasick
//! automaton over every recognizer's trigger literals (`@`, `sk-`, `Dear `, `born`…) and one scan
//! for digit clusters — then runs each recognizer's patterns only on the windows around its hits
//! (a recognizer with no hit does not run), and resolves overlaps (higher score wins, then the
//! longer span).
//!
//! Recognizers without triggers (custom ones that do not declare any) are scanned whole, as are
//! texts holding one of the rare characters that case folding maps onto an ASCII letter
//! ([`EXOTIC`]): there a literal scan that ignores ASCII case could miss what `(?i)` finds.

use regex::{Regex, RegexSet, RegexSetBuilder};

use super::automaton::Automaton;
use super::triggers::{EXOTIC, GAP_BYTES, MAX_GAP, Trigger, TriggerKind, case_variants, starts_word};
use super::{Finding, Recognizer};

/// Bytes searched past a window's end, so a match that ends at the window's end is seen whole
/// (one that reaches the end of the searched slice is searched again over the rest of the text).
const SLACK: usize = 16;

/// The lazy-DFA cache limit of a recognizer's `RegexSet`.
const SET_DFA_LIMIT: usize = 16 << 20;

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

    /// Compiles every pattern and the trigger automaton. Fails on an invalid pattern (a custom
    /// regex in configuration).
    pub fn build(self) -> Result<Detector, regex::Error> {
        let mut screens = Vec::with_capacity(self.recognizers.len());
        for rec in &self.recognizers {
            let sources = rec.patterns();
            // Sets of Unicode-heavy patterns need a larger lazy-DFA cache than the default 2 MiB, or
            // the regex crate falls back to its much slower PikeVM (only the whole-text path uses
            // sets; windows run each pattern on its own).
            let set = RegexSetBuilder::new(&sources).dfa_size_limit(SET_DFA_LIMIT).build()?;
            let regexes = sources.iter().map(|s| Regex::new(s)).collect::<Result<Vec<_>, _>>()?;
            screens.push(Screen { set, regexes });
        }
        let gates = Gates::new(self.recognizers.iter().map(|r| r.triggers()).collect());
        let min_score = if self.min_score > 0.0 { self.min_score } else { 0.5 };
        Ok(Detector { recognizers: self.recognizers, screens, gates, min_score })
    }
}

/// One recognizer's compiled patterns: a `RegexSet` screen and the patterns on their own.
/// (One set of every recognizer's patterns is too big for the regex crate's lazy DFA and fell
/// back to a slower engine.)
struct Screen {
    set: RegexSet,
    regexes: Vec<Regex>,
}

/// Who an automaton pattern triggers.
#[derive(Debug)]
enum Owner {
    /// A character that case folding maps onto an ASCII letter: the text is scanned whole.
    Exotic,
    /// Trigger `rule` of recognizer `rec`; `exact` is the literal a case-sensitive trigger wants.
    Rule { rec: usize, rule: usize, exact: Option<Box<str>> },
}

/// The compiled triggers of every recognizer.
struct Gates {
    /// Per recognizer: its triggers, or `None` (scanned whole).
    rules: Vec<Option<Vec<Trigger>>>,
    /// One automaton over every literal (ASCII case ignored; exact ones are checked after).
    automaton: Option<Automaton>,
    /// Per automaton pattern: what a hit of it triggers.
    owners: Vec<Vec<Owner>>,
    /// Digit triggers: (recognizer, rule, minimum digits).
    digit_rules: Vec<(usize, usize, usize)>,
}

impl Gates {
    fn new(mut rules: Vec<Option<Vec<Trigger>>>) -> Self {
        let mut keys: Vec<String> = Vec::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut add = |key: String, owner: Owner| {
            let id = keys.iter().position(|k| *k == key).unwrap_or_else(|| {
                keys.push(key);
                owners.push(Vec::new());
                keys.len() - 1
            });
            if let Some(list) = owners.get_mut(id) {
                list.push(owner);
            }
        };
        let mut digit_rules = Vec::new();
        for (rec, triggers) in rules.iter().enumerate() {
            for (rule, t) in triggers.iter().flatten().enumerate() {
                match &t.kind {
                    TriggerKind::Literals { words, ignore_case } => {
                        for w in words.iter().filter(|w| !w.is_empty()) {
                            if *ignore_case {
                                for v in case_variants(w) {
                                    add(v.to_ascii_lowercase(), Owner::Rule { rec, rule, exact: None });
                                }
                            } else {
                                let exact = Some(w.clone().into_boxed_str());
                                add(w.to_ascii_lowercase(), Owner::Rule { rec, rule, exact });
                            }
                        }
                    }
                    TriggerKind::Digits { min } => digit_rules.push((rec, rule, *min)),
                }
            }
        }
        for e in EXOTIC {
            add((*e).to_owned(), Owner::Exotic);
        }
        let automaton = if keys.len() > EXOTIC.len() {
            Automaton::new(&keys.iter().map(|k| k.as_bytes().to_vec()).collect::<Vec<_>>())
        } else {
            None
        };
        if automaton.is_none() && keys.len() > EXOTIC.len() {
            // No automaton (too big): every recognizer with literal triggers runs whole.
            for r in &mut rules {
                if r.as_ref().is_some_and(|ts| ts.iter().any(|t| matches!(t.kind, TriggerKind::Literals { .. }))) {
                    *r = None;
                }
            }
        }
        Self { rules, automaton, owners, digit_rules }
    }
}

/// A compiled set of recognizers. Cheap to share (`Arc`) across requests.
pub struct Detector {
    recognizers: Vec<Box<dyn Recognizer>>,
    screens: Vec<Screen>,
    gates: Gates,
    min_score: f32,
}

impl std::fmt::Debug for Detector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Detector")
            .field("recognizers", &self.recognizers.iter().map(|r| r.name()).collect::<Vec<_>>())
            .finish()
    }
}

/// A window of the text to scan with one pattern of one recognizer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
struct Window {
    rec: usize,
    pattern: usize,
    start: usize,
    end: usize,
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
        let Some(windows) = self.windows(text) else { return self.detect_whole(text) };
        let mut found = Vec::new();
        let mut local: Vec<(usize, usize, Finding)> = Vec::new();
        let mut rest = windows.as_slice();
        for (rec, rules) in self.gates.rules.iter().enumerate() {
            if rules.is_none() {
                self.scan_whole(rec, text, &mut found);
                continue;
            }
            let count = rest.iter().take_while(|w| w.rec == rec).count();
            let (mine, others) = rest.split_at(count);
            rest = others;
            if mine.is_empty() {
                continue;
            }
            local.clear();
            for per_pattern in mine.chunk_by(|a, b| a.pattern == b.pattern) {
                let Some(first) = per_pattern.first() else { continue };
                let (mut start, mut end) = (first.start, first.end);
                let mut to_end = false;
                for w in per_pattern.iter().skip(1) {
                    if w.start <= end {
                        end = end.max(w.end);
                    } else {
                        to_end = self.scan_window(rec, first.pattern, text, start, end, &mut local);
                        if to_end {
                            break;
                        }
                        (start, end) = (w.start, w.end);
                    }
                }
                if !to_end {
                    self.scan_window(rec, first.pattern, text, start, end, &mut local);
                }
            }
            // The order of a whole-text scan: pattern by pattern, each in text order.
            local.sort_by_key(|(p, at, _)| (*p, *at));
            found.extend(local.drain(..).map(|(_, _, f)| f));
        }
        resolve_overlaps(found)
    }

    /// Every finding in `text`, every recognizer scanning the whole text (no triggers): what
    /// [`detect`](Self::detect) finds, more slowly.
    pub(crate) fn detect_whole(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        for rec in 0..self.recognizers.len() {
            self.scan_whole(rec, text, &mut found);
        }
        resolve_overlaps(found)
    }

    /// Runs recognizer `rec` over the whole text.
    fn scan_whole(&self, rec: usize, text: &str, found: &mut Vec<Finding>) {
        let (Some(r), Some(screen)) = (self.recognizers.get(rec), self.screens.get(rec)) else { return };
        for p in screen.set.matches(text).iter() {
            let Some(re) = screen.regexes.get(p) else { continue };
            for m in re.find_iter(text) {
                if let Some(f) = self.judge(r.as_ref(), text, p, m.start(), m.end()) {
                    found.push(f);
                }
            }
        }
    }

    /// Runs pattern `p` of recognizer `rec` over the matches that start in `start..end`: it
    /// searches from `start` (seeing the text before it) up to a little past `end`. When a match
    /// reaches the end of that slice (a window too small for it), the matches from `start` to the
    /// end of the text are searched instead, and this returns `true`: the pattern's later windows
    /// are covered.
    fn scan_window(
        &self,
        rec: usize,
        p: usize,
        text: &str,
        start: usize,
        end: usize,
        out: &mut Vec<(usize, usize, Finding)>,
    ) -> bool {
        let (Some(r), Some(re)) = (self.recognizers.get(rec), self.screens.get(rec).and_then(|s| s.regexes.get(p)))
        else {
            return false;
        };
        let mark = out.len();
        let (mut end, mut hay_end) = (end, ceil_char(text, end.saturating_add(SLACK)));
        loop {
            let Some(hay) = text.get(..hay_end) else { return false };
            let mut cut = false;
            let mut pos = start;
            while let Some(m) = re.find_at(hay, pos) {
                if m.start() >= end {
                    break;
                }
                if m.end() == hay_end && hay_end < text.len() {
                    cut = true;
                    break;
                }
                if let Some(f) = self.judge(r.as_ref(), text, p, m.start(), m.end()) {
                    out.push((p, m.start(), f));
                }
                pos = if m.end() > m.start() { m.end() } else { ceil_char(text, m.end() + 1) };
                if pos > hay_end {
                    break;
                }
            }
            if !cut {
                return end == text.len();
            }
            out.truncate(mark);
            (end, hay_end) = (text.len(), text.len());
        }
    }

    /// The recognizer's verdict on one match, if it passes the score threshold and is in range.
    fn judge(&self, r: &dyn Recognizer, text: &str, p: usize, start: usize, end: usize) -> Option<Finding> {
        r.check(text, p, start, end).filter(|f| f.score >= self.min_score && f.start < f.end && f.end <= text.len())
    }

    /// How many patterns recognizer `rec` has.
    fn pattern_count(&self, rec: usize) -> usize {
        self.screens.get(rec).map_or(0, |s| s.regexes.len())
    }

    /// The windows to scan, sorted by recognizer, pattern and start; `None` when the text must be scanned
    /// whole (it holds an [`EXOTIC`] character).
    fn windows(&self, text: &str) -> Option<Vec<Window>> {
        let mut out = Vec::new();
        let rules = &self.gates.rules;
        if let Some(automaton) = &self.gates.automaton {
            let mut hits = Vec::new();
            automaton.find_all(text.as_bytes(), &mut hits);
            for (id, s, e) in hits {
                for owner in self.gates.owners.get(id as usize).into_iter().flatten() {
                    let Owner::Rule { rec, rule, exact } = owner else { return None };
                    let Some(t) = rules.get(*rec).and_then(Option::as_ref).and_then(|ts| ts.get(*rule)) else {
                        continue;
                    };
                    if exact.as_deref().is_some_and(|x| text.get(s..e) != Some(x))
                        || (t.word_start && !starts_word(text, s))
                        || t.accept.is_some_and(|f| !f(text, s, e))
                    {
                        continue;
                    }
                    push_windows(&mut out, text, *rec, self.pattern_count(*rec), t, s, e);
                }
            }
        }
        if !self.gates.digit_rules.is_empty() {
            for (s, e, digits) in Clusters::new(text.as_bytes()) {
                for &(rec, rule, min) in &self.gates.digit_rules {
                    let Some(t) = rules.get(rec).and_then(Option::as_ref).and_then(|ts| ts.get(rule)) else {
                        continue;
                    };
                    if digits >= min && t.accept.is_none_or(|f| f(text, s, e)) {
                        push_windows(&mut out, text, rec, self.pattern_count(rec), t, s, e);
                    }
                }
            }
        }
        out.sort_unstable();
        Some(out)
    }
}

/// The windows of a hit `s..e` of trigger `t` (one per pattern it is for), on char boundaries.
fn push_windows(out: &mut Vec<Window>, text: &str, rec: usize, patterns: usize, t: &Trigger, s: usize, e: usize) {
    let mut end = e;
    if let Some(f) = t.extend {
        end += text.as_bytes().get(e..).map_or(0, |rest| rest.iter().take_while(|b| f(**b)).count());
    }
    let (start, end) = (floor_char(text, s.saturating_sub(t.before)), ceil_char(text, end.saturating_add(t.after)));
    match &t.patterns {
        Some(list) => {
            out.extend(list.iter().filter(|p| **p < patterns).map(|&pattern| Window { rec, pattern, start, end }));
        }
        None => out.extend((0..patterns).map(|pattern| Window { rec, pattern, start, end })),
    }
}

/// The nearest char boundary at or before `i` (clamped to the text).
fn floor_char(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

/// The nearest char boundary at or after `i` (clamped to the text).
fn ceil_char(text: &str, i: usize) -> usize {
    let mut i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// The digit clusters of a text: `(first digit, end of last digit, digit count)` of runs of ASCII
/// digits joined by up to [`MAX_GAP`] of [`GAP_BYTES`].
struct Clusters<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Clusters<'a> {
    fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, pos: 0 }
    }

    /// The next digit at or after `from`: whole 32-byte blocks without one are skipped with a
    /// loop the compiler vectorises.
    fn next_digit(&self, from: usize) -> Option<usize> {
        let rest = self.bytes.get(from..)?;
        let mut skipped = 0;
        for block in rest.chunks_exact(32) {
            if block.iter().fold(false, |any, b| any | b.is_ascii_digit()) {
                break;
            }
            skipped += 32;
        }
        rest.get(skipped..)?.iter().position(u8::is_ascii_digit).map(|i| from + skipped + i)
    }

    /// The end of the digit run starting at `from`.
    fn run_end(&self, from: usize) -> usize {
        from + self.bytes.get(from..).map_or(0, |r| r.iter().take_while(|b| b.is_ascii_digit()).count())
    }
}

impl Iterator for Clusters<'_> {
    type Item = (usize, usize, usize);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.next_digit(self.pos)?;
        let mut end = self.run_end(start);
        let mut digits = end - start;
        loop {
            let gap = self
                .bytes
                .get(end..)
                .map_or(0, |r| r.iter().take(MAX_GAP).take_while(|b| GAP_BYTES.contains(b)).count());
            let next = end + gap;
            if gap == 0 || !self.bytes.get(next).is_some_and(u8::is_ascii_digit) {
                break;
            }
            let run_end = self.run_end(next);
            digits += run_end - next;
            end = run_end;
        }
        self.pos = end;
        Some((start, end, digits))
    }
}

/// Keeps the best of overlapping findings: higher score, then longer span, then earlier.
fn resolve_overlaps(mut found: Vec<Finding>) -> Vec<Finding> {
    if found.len() < 2 {
        return found;
    }
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
mod tests {
    use super::*;

    /// The labelled corpus's texts (tests/pii/corpus.jsonl).
    fn corpus() -> Vec<String> {
        include_str!("../../../tests/pii/corpus.jsonl")
            .lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .filter_map(|v| v.get("text").and_then(serde_json::Value::as_str).map(str::to_owned))
            .collect()
    }

    /// Scanning only the windows around triggers finds exactly what scanning the whole text with
    /// every recognizer finds: on every corpus text, on all of them joined (matches next to each
    /// other and to window edges), and on slices cut at arbitrary char boundaries (matches cut by
    /// the text's start and end).
    #[test]
    fn windows_find_what_whole_scans_find() {
        let d = Detector::builtin().unwrap();
        let texts = corpus();
        assert!(texts.len() > 300);
        let mut checked = 0;
        let mut check = |t: &str| {
            assert_eq!(d.detect(t), d.detect_whole(t), "in {t:?}");
            checked += 1;
        };
        for t in &texts {
            check(t);
        }
        let joined = texts.join("\n");
        check(&joined);
        check(&texts.join(" "));
        check(&texts.concat());
        let bounds: Vec<usize> = (0..=joined.len()).filter(|i| joined.is_char_boundary(*i)).collect();
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        let mut next = |n: usize| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            usize::try_from(state % n as u64).unwrap()
        };
        for _ in 0..400 {
            let from = bounds[next(bounds.len())];
            let len = 1 + next(400);
            let to = bounds.iter().copied().find(|b| *b >= from + len).unwrap_or(joined.len());
            check(&joined[from..to]);
        }
        assert!(checked > 700);
    }

    fn clusters(text: &str) -> Vec<(&str, usize)> {
        Clusters::new(text.as_bytes()).map(|(s, e, d)| (&text[s..e], d)).collect()
    }

    #[test]
    fn digit_clusters_join_runs_across_short_separators() {
        assert_eq!(clusters("call +1 (212) 555-0198 now"), [("1 (212) 555-0198", 11)]);
        assert_eq!(clusters("v1.2.3 and 10:30"), [("1.2.3", 3), ("10", 2), ("30", 2)]);
        assert_eq!(clusters("4111 1111 1111 1111"), [("4111 1111 1111 1111", 16)]);
        assert_eq!(clusters("12    34"), [("12", 2), ("34", 2)]);
        assert_eq!(clusters("no digits"), []);
        let long = format!("{}7{}", "x".repeat(70), "y".repeat(40));
        assert_eq!(clusters(&long), [("7", 1)]);
        assert_eq!(clusters("9"), [("9", 1)]);
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// Support-ticket prose with numbers, versions and dates, and cues for every recognizer.
    pub(super) fn prose() -> String {
        let para = "Hi Daniel, since the upgrade to version 4.12.0 our nightly export job fails after about 20 minutes \
with a timeout while writing the monthly report (ticket #48213, opened 2024-03-14 at 10:30). I think the job runs on the \
reporting cluster and reads from the warehouse replica. They did not change the configuration, and the same job \
succeeded on Monday and Tuesday. Could you check whether the connection pool limits changed in the new version? \
The error appears right after the third batch and the retry policy does not seem to help. Best, the operations team.\n\n";
        para.repeat(64 * 1024 / para.len())
    }

    #[test]
    #[ignore = "timing probe: cargo test --release -p smartflow-policy --lib pii::detector::timing -- --ignored --nocapture"]
    fn per_recognizer() {
        let text = prose();
        for r in crate::compliance::pii::recognizers::all() {
            let name = r.name();
            let d = Detector::builder().recognizer(r).build().unwrap();
            let t = tokio::time::Instant::now();
            for _ in 0..5 {
                let _ = d.detect(&text);
            }
            let windowed = t.elapsed() / 5;
            let t = tokio::time::Instant::now();
            let _ = d.detect_whole(&text);
            let whole = t.elapsed();
            let windows = d.windows(&text).map_or(0, |w| w.len());
            eprintln!("{name:16} windowed {windowed:>12?} whole {whole:>12?} windows {windows}");
        }
        let d = Detector::builtin().unwrap();
        let t = tokio::time::Instant::now();
        for _ in 0..5 {
            let _ = d.detect(&text);
        }
        eprintln!("all {:?} for {} bytes", t.elapsed() / 5, text.len());
    }
}
