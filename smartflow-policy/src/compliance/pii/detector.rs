//! `Detector`: finds where anything could be in one pass over the text — one Aho-Corasick
//! automaton over every recognizer's trigger literals (`@`, `sk-`, `Dear `, `born`…) and one scan
//! for digit clusters — then runs each pattern only on the windows around its triggers' hits (a
//! recognizer with no hit does not run; nothing is allocated for a text without hits), and
//! resolves overlaps (higher score wins, then the longer span). What it finds is what scanning the
//! whole text with every pattern finds (`detect_whole`, tested against it).
//!
//! Recognizers without triggers (custom ones that do not declare any) are scanned whole, as are
//! texts holding one of the rare characters that case folding maps onto an ASCII letter
//! ([`EXOTIC`]): there a literal scan that ignores ASCII case could miss what `(?i)` finds.

use std::collections::HashMap;

use regex::Regex;

use super::automaton::Automaton;
use super::fold::Folded;
use super::tables;
use super::triggers::{EXOTIC, GAP_BYTES, MAX_GAP, Trigger, TriggerKind, case_variants, starts_word};
use super::{Finding, Recognizer};

/// Bytes searched past a window's end, so a match that ends at the window's end is seen whole
/// (one that reaches the end of the searched slice is searched again over the rest of the text).
const SLACK: usize = 16;

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
            let regexes = rec.patterns().iter().map(|s| Regex::new(s)).collect::<Result<Vec<_>, _>>()?;
            screens.push(Screen { regexes });
        }
        let gates = Gates::new(self.recognizers.iter().map(|r| r.triggers()).collect());
        let min_score = if self.min_score > 0.0 { self.min_score } else { 0.5 };
        Ok(Detector { recognizers: self.recognizers, screens, gates, min_score })
    }
}

/// One recognizer's compiled patterns, each on its own: a pattern runs only on its windows (or
/// over the whole text), with the regex crate's literal prefilters and lazy DFA. (A `RegexSet` of
/// a recognizer's Unicode-heavy patterns outgrows the lazy DFA's default cache and falls back to
/// the much slower PikeVM.)
struct Screen {
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
    /// Line-start literals, to look for at the text's start: (recognizer, rule, literal, ignore
    /// case).
    at_start: Vec<(usize, usize, String, bool)>,
}

impl Gates {
    fn new(mut rules: Vec<Option<Vec<Trigger>>>) -> Self {
        let mut keys: Vec<String> = Vec::new();
        let mut ids: HashMap<String, usize> = HashMap::new();
        let mut owners: Vec<Vec<Owner>> = Vec::new();
        let mut add = |key: String, owner: Owner| {
            let id = *ids.entry(key.clone()).or_insert_with(|| {
                keys.push(key);
                owners.push(Vec::new());
                keys.len() - 1
            });
            if let Some(list) = owners.get_mut(id) {
                list.push(owner);
            }
        };
        let mut digit_rules = Vec::new();
        let mut at_start = Vec::new();
        for (rec, triggers) in rules.iter().enumerate() {
            for (rule, t) in triggers.iter().flatten().enumerate() {
                match &t.kind {
                    TriggerKind::Literals { words, ignore_case } => {
                        // A line-start literal is looked for after a `\n` (the hit skips it) and
                        // at the text's start.
                        let nl = if t.line_start { "\n" } else { "" };
                        for w in words.iter().filter(|w| !w.is_empty()) {
                            if t.line_start {
                                at_start.push((rec, rule, w.clone(), *ignore_case));
                            }
                            if *ignore_case {
                                for v in case_variants(w) {
                                    add(
                                        format!("{nl}{}", v.to_ascii_lowercase()),
                                        Owner::Rule { rec, rule, exact: None },
                                    );
                                }
                            } else {
                                let exact = Some(w.clone().into_boxed_str());
                                add(format!("{nl}{}", w.to_ascii_lowercase()), Owner::Rule { rec, rule, exact });
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
        // Built whenever some recognizer has triggers: the exotic characters are looked for too.
        let automaton = if rules.iter().any(Option::is_some) {
            Automaton::new(&keys.iter().map(|k| k.as_bytes().to_vec()).collect::<Vec<_>>())
        } else {
            None
        };
        if automaton.is_none() {
            // No automaton (no triggers, or too many literals): every recognizer runs whole.
            rules.iter_mut().for_each(|r| *r = None);
        }
        Self { rules, automaton, owners, digit_rules, at_start }
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

    /// Every finding in `text`, in order, without overlaps. Values hidden with invisible
    /// characters, full-width digits or typographic dashes are found too (see [`Folded`]); the
    /// spans are always on `text`.
    pub fn detect(&self, text: &str) -> Vec<Finding> {
        on_view(text, |view| self.detect_view(view))
    }

    /// [`detect`](Self::detect) on a text that needs no folding.
    fn detect_view(&self, text: &str) -> Vec<Finding> {
        let Some(windows) = self.windows(text) else { return self.scan_all(text) };
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
                let (mut to_end, mut resume) = (false, 0);
                for w in per_pattern.iter().skip(1) {
                    if w.start <= end {
                        end = end.max(w.end);
                    } else {
                        to_end = self.scan_window(rec, first.pattern, text, (start, end), &mut resume, &mut local);
                        if to_end {
                            break;
                        }
                        (start, end) = (w.start, w.end);
                    }
                }
                if !to_end {
                    self.scan_window(rec, first.pattern, text, (start, end), &mut resume, &mut local);
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
    #[cfg(test)]
    pub(crate) fn detect_whole(&self, text: &str) -> Vec<Finding> {
        on_view(text, |view| self.scan_all(view))
    }

    /// Every recognizer over the whole of `text`, overlaps resolved.
    fn scan_all(&self, text: &str) -> Vec<Finding> {
        let mut found = Vec::new();
        for rec in 0..self.recognizers.len() {
            self.scan_whole(rec, text, &mut found);
        }
        resolve_overlaps(found)
    }

    /// Runs recognizer `rec` over the whole text.
    fn scan_whole(&self, rec: usize, text: &str, found: &mut Vec<Finding>) {
        let (Some(r), Some(screen)) = (self.recognizers.get(rec), self.screens.get(rec)) else { return };
        for (p, re) in screen.regexes.iter().enumerate() {
            for m in re.find_iter(text) {
                if let Some(f) = self.judge(r.as_ref(), text, p, m.start(), m.end()) {
                    found.push(f);
                }
            }
        }
    }

    /// Runs pattern `p` of recognizer `rec` over the matches that start in the window
    /// `start..end`: it searches from `start` (seeing the text before it; from `resume`, the end of
    /// the pattern's last match, if that is later) up to a little past `end`. When a match reaches
    /// the end of that slice (a window too small for it), the matches from `start` to the end of
    /// the text are searched instead, and this returns `true`: the pattern's later windows are
    /// covered.
    fn scan_window(
        &self,
        rec: usize,
        p: usize,
        text: &str,
        (start, end): (usize, usize),
        resume: &mut usize,
        out: &mut Vec<(usize, usize, Finding)>,
    ) -> bool {
        let (Some(r), Some(re)) = (self.recognizers.get(rec), self.screens.get(rec).and_then(|s| s.regexes.get(p)))
        else {
            return false;
        };
        let (mark, from) = (out.len(), start.max(*resume));
        let (mut end, mut hay_end) = (end, ceil_char(text, end.saturating_add(SLACK)));
        loop {
            let Some(hay) = text.get(..hay_end) else { return false };
            let mut cut = false;
            let mut pos = from;
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
                *resume = pos;
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

    /// A hit `s..e` of trigger `t` of recognizer `rec`: its windows, if the trigger takes it.
    fn hit(&self, out: &mut Vec<Window>, text: &str, rec: usize, t: &Trigger, s: usize, e: usize) {
        let at_line_start = s == 0 || text.as_bytes().get(s - 1) == Some(&b'\n');
        let taken = (!t.word_start || starts_word(text, s))
            && (!t.line_start || at_line_start)
            && t.accept.is_none_or(|f| f(text, s, e));
        if taken {
            push_windows(out, text, rec, self.pattern_count(rec), t, s, e);
        }
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
                    // A line-start literal's hit starts after its `\n`.
                    let s = if t.line_start { s + 1 } else { s };
                    if exact.as_deref().is_some_and(|x| text.get(s..e) != Some(x)) {
                        continue;
                    }
                    self.hit(&mut out, text, *rec, t, s, e);
                }
            }
            for (rec, rule, word, ignore_case) in &self.gates.at_start {
                let Some(t) = rules.get(*rec).and_then(Option::as_ref).and_then(|ts| ts.get(*rule)) else { continue };
                let head = text.get(..word.len().min(text.len())).unwrap_or_default();
                let found = if *ignore_case {
                    head.len() == word.len()
                        && (head.eq_ignore_ascii_case(word) || head.to_lowercase() == word.to_lowercase())
                } else {
                    head == word
                };
                if found {
                    self.hit(&mut out, text, *rec, t, 0, word.len());
                }
            }
        }
        if !self.gates.digit_rules.is_empty() {
            for (s, e, digits) in Clusters::new(text.as_bytes()) {
                for &(rec, rule, min) in &self.gates.digit_rules {
                    let Some(t) = rules.get(rec).and_then(Option::as_ref).and_then(|ts| ts.get(rule)) else {
                        continue;
                    };
                    if digits >= min {
                        self.hit(&mut out, text, rec, t, s, e);
                    }
                }
            }
        }
        out.sort_unstable();
        Some(out)
    }
}

/// `detect` run on the folded view of `text` (or on `text` when folding changes nothing), the
/// findings moved back onto `text`.
fn on_view(text: &str, detect: impl FnOnce(&str) -> Vec<Finding>) -> Vec<Finding> {
    match Folded::of(text) {
        None => tables::scoped(text, || detect(text)),
        Some(view) => {
            let mut found = tables::scoped(view.text(), || detect(view.text()));
            found.iter_mut().for_each(|f| view.restore(f));
            found
        }
    }
}

/// The windows of a hit `s..e` of trigger `t` (one per pattern it is for), on char boundaries.
fn push_windows(out: &mut Vec<Window>, text: &str, rec: usize, patterns: usize, t: &Trigger, s: usize, e: usize) {
    let mut end = e;
    if let Some(f) = t.extend {
        end += text.as_bytes().get(e..).map_or(0, |rest| rest.iter().take_while(|b| f(**b)).count());
    }
    let (mut start, mut end) =
        (floor_char(text, s.saturating_sub(t.before)), ceil_char(text, end.saturating_add(t.after)));
    if let Some(below) = t.lines {
        let bytes = text.as_bytes();
        let line_start = bytes.get(..s).and_then(|b| b.iter().rposition(|c| *c == b'\n')).map_or(0, |i| i + 1);
        let mut line_end = e;
        for _ in 0..=below {
            if line_end >= text.len() {
                break;
            }
            line_end = bytes
                .get(line_end..)
                .and_then(|b| b.iter().position(|c| *c == b'\n'))
                .map_or(text.len(), |i| line_end + i + 1);
        }
        (start, end) = (start.min(line_start), end.max(line_end));
    }
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
mod tests;

#[cfg(test)]
mod timing;
