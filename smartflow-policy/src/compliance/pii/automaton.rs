//! The trigger literals' automaton: an Aho-Corasick DFA that ignores ASCII case and reports every
//! occurrence of every literal, overlapping ones included.
//!
//! A DFA step is one table load that depends on the previous one, so one stream of bytes runs at
//! the memory latency (~1.5 ns a byte). Long texts are therefore scanned as four streams in
//! lockstep (four independent loads a step): each stream first reads the longest literal's length
//! of bytes before its part (an Aho-Corasick state depends on no more than that), then reports the
//! matches that end in its part.

/// Set on a transition into a state where some literal ends.
const MATCH: u32 = 1 << 31;

/// The most table entries (states × classes) an automaton may have.
const MAX_TABLE: usize = 1 << 26;

/// Texts shorter than this are scanned as one stream.
const SPLIT_AT: usize = 512;

/// A compiled set of literals.
#[derive(Debug, Clone)]
pub(crate) struct Automaton {
    /// The byte classes: every byte no literal holds is class 0; ASCII letters share their
    /// lower-case letter's class.
    classes: [u8; 256],
    /// The number of classes (a state's row length).
    stride: usize,
    /// `row start of state + class` -> row start of the next state, with [`MATCH`] set when a
    /// literal ends there.
    table: Vec<u32>,
    /// By state: the literals that end in it.
    outputs: Vec<Vec<u32>>,
    /// By literal: its length in bytes.
    lens: Vec<usize>,
    /// The longest literal's length.
    max_len: usize,
}

impl Automaton {
    /// Compiles `literals` (bytes; ASCII case is ignored). Empty literals never match. `None` when
    /// the table would be too big (hundreds of thousands of literal bytes).
    pub(crate) fn new(literals: &[Vec<u8>]) -> Option<Self> {
        let keys: Vec<Vec<u8>> = literals.iter().map(|l| l.to_ascii_lowercase()).collect();
        let mut classes = [0_u8; 256];
        let mut next_class = 1_usize;
        for b in keys.iter().flatten() {
            let slot = usize::from(*b);
            if classes.get(slot).is_some_and(|c| *c == 0) && next_class < 256 {
                let class = u8::try_from(next_class).unwrap_or(0);
                if let Some(c) = classes.get_mut(slot) {
                    *c = class;
                }
                if b.is_ascii_lowercase()
                    && let Some(c) = classes.get_mut(usize::from(b.to_ascii_uppercase()))
                {
                    *c = class;
                }
                next_class += 1;
            }
        }
        let stride = next_class;
        let bytes: usize = keys.iter().map(Vec::len).sum();
        if (bytes + 1).saturating_mul(stride) > MAX_TABLE {
            return None;
        }
        // The trie: `goto[state * stride + class]`, 0 where there is no edge (state 0 is the root,
        // never a child).
        let mut goto: Vec<u32> = vec![0; stride];
        let mut outputs: Vec<Vec<u32>> = vec![Vec::new()];
        for (id, key) in keys.iter().enumerate().filter(|(_, k)| !k.is_empty()) {
            let mut state = 0_usize;
            for b in key {
                let class = usize::from(classes[usize::from(*b)]);
                let edge = state * stride + class;
                let next = goto.get(edge).copied().unwrap_or(0);
                state = if next != 0 {
                    next as usize
                } else {
                    let new = outputs.len();
                    outputs.push(Vec::new());
                    goto.resize(goto.len() + stride, 0);
                    if let Some(e) = goto.get_mut(edge) {
                        *e = u32::try_from(new).unwrap_or(0);
                    }
                    new
                };
            }
            if let Some(out) = outputs.get_mut(state) {
                out.push(u32::try_from(id).unwrap_or(u32::MAX));
            }
        }
        // Breadth first: failure links, the full transition function and inherited outputs.
        let states = outputs.len();
        let mut fail = vec![0_usize; states];
        let mut delta = vec![0_usize; states * stride];
        let mut queue = std::collections::VecDeque::new();
        for class in 0..stride {
            let child = goto.get(class).copied().unwrap_or(0) as usize;
            if let Some(d) = delta.get_mut(class) {
                *d = child;
            }
            if child != 0 {
                queue.push_back(child);
            }
        }
        while let Some(state) = queue.pop_front() {
            let inherited = outputs.get(fail.get(state).copied().unwrap_or(0)).cloned().unwrap_or_default();
            if let Some(out) = outputs.get_mut(state) {
                out.extend(inherited);
            }
            for class in 0..stride {
                let child = goto.get(state * stride + class).copied().unwrap_or(0) as usize;
                let via_fail = delta.get(fail.get(state).copied().unwrap_or(0) * stride + class).copied().unwrap_or(0);
                if child != 0 {
                    if let Some(f) = fail.get_mut(child) {
                        *f = via_fail;
                    }
                    queue.push_back(child);
                }
                if let Some(d) = delta.get_mut(state * stride + class) {
                    *d = if child != 0 { child } else { via_fail };
                }
            }
        }
        let table = delta
            .iter()
            .map(|&next| {
                let row = u32::try_from(next * stride).unwrap_or(0);
                if outputs.get(next).is_some_and(|o| !o.is_empty()) { row | MATCH } else { row }
            })
            .collect();
        let lens: Vec<usize> = keys.iter().map(Vec::len).collect();
        let max_len = lens.iter().copied().max().unwrap_or(0);
        Some(Self { classes, stride, table, outputs, lens, max_len })
    }

    /// The next state (a row start, with [`MATCH`] when a literal ends there).
    #[inline(always)]
    fn step(&self, state: u32, byte: u8) -> u32 {
        let class = self.classes[usize::from(byte)];
        self.table.get((state & !MATCH) as usize + usize::from(class)).copied().unwrap_or(0)
    }

    /// Every occurrence of every literal in `text`, as `(literal, start, end)`, in no particular
    /// order.
    pub(crate) fn find_all(&self, text: &[u8], out: &mut Vec<(u32, usize, usize)>) {
        let mut ends: Vec<(usize, u32)> = Vec::new();
        if text.len() < SPLIT_AT || self.max_len == 0 {
            self.scan(text, 0, 0, &mut ends);
        } else {
            let part = text.len() / 4;
            let (a, rest) = text.split_at(part);
            let (b, rest) = rest.split_at(part);
            let (c, rest) = rest.split_at(part);
            let (d, tail) = rest.split_at(part);
            // Each stream's state at its part's start, from the bytes just before it.
            let warm = |at: usize| {
                let from = at.saturating_sub(self.max_len);
                text.get(from..at).unwrap_or_default().iter().fold(0, |s, b| self.step(s, *b))
            };
            let mut s = [0, warm(part), warm(2 * part), warm(3 * part)];
            for (i, (((x, y), z), w)) in a.iter().zip(b).zip(c).zip(d).enumerate() {
                s[0] = self.step(s[0], *x);
                s[1] = self.step(s[1], *y);
                s[2] = self.step(s[2], *z);
                s[3] = self.step(s[3], *w);
                if (s[0] | s[1] | s[2] | s[3]) & MATCH != 0 {
                    for (k, state) in s.iter().enumerate() {
                        if state & MATCH != 0 {
                            ends.push((k * part + i + 1, state & !MATCH));
                        }
                    }
                }
            }
            self.scan(tail, 4 * part, s[3], &mut ends);
        }
        for (end, state) in ends {
            let Some(literals) = self.outputs.get(state as usize / self.stride.max(1)) else { continue };
            for &id in literals {
                let len = self.lens.get(id as usize).copied().unwrap_or(0);
                out.push((id, end - len, end));
            }
        }
    }

    /// Scans `bytes` (at `offset` in the text) from `state`, recording `(end, state)` of matches.
    fn scan(&self, bytes: &[u8], offset: usize, state: u32, ends: &mut Vec<(usize, u32)>) {
        let mut s = state;
        for (i, b) in bytes.iter().enumerate() {
            s = self.step(s, *b);
            if s & MATCH != 0 {
                ends.push((offset + i + 1, s & !MATCH));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every occurrence by brute force.
    fn naive(literals: &[&str], text: &str) -> Vec<(u32, usize, usize)> {
        let lower = text.to_ascii_lowercase();
        let mut out = Vec::new();
        for (id, l) in literals.iter().enumerate() {
            let l = l.to_ascii_lowercase();
            if l.is_empty() {
                continue;
            }
            for start in 0..lower.len() {
                if lower.as_bytes().get(start..start + l.len()) == Some(l.as_bytes()) {
                    out.push((id as u32, start, start + l.len()));
                }
            }
        }
        out.sort_unstable();
        out
    }

    fn found(literals: &[&str], text: &str) -> Vec<(u32, usize, usize)> {
        let a = Automaton::new(&literals.iter().map(|l| l.as_bytes().to_vec()).collect::<Vec<_>>()).unwrap();
        let mut out = Vec::new();
        a.find_all(text.as_bytes(), &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn finds_every_overlapping_occurrence_ignoring_ascii_case() {
        let literals = ["he", "she", "his", "hers", "Dr", "dr.", "@", "née le", "", "sk-"];
        for text in ["ushers", "Dr. Who said SHE dr", "née le NÉE LE nÉe Le", "a@b@@c", "", "h", "task-sk-x"] {
            assert_eq!(found(&literals, text), naive(&literals, text), "{text:?}");
        }
    }

    #[test]
    fn four_streams_find_what_one_finds() {
        let literals = ["dear ", "regards", "@", "ey", "born", "::", "-----BEGIN "];
        let unit = "Dear Anna, born 1985. Kind regards, a@b.io ::1 they key -----BEGIN x\n";
        for reps in [1, 8, 9, 40] {
            for cut in 0..unit.len() {
                let text = format!("{}{}", unit.repeat(reps), &unit[..cut]);
                assert_eq!(found(&literals, &text), naive(&literals, &text), "reps {reps} cut {cut}");
            }
        }
    }
}
