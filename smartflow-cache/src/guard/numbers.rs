//! Rule 1: the multiset of numbers, and the number of percent markers, must be equal.
//!
//! Numbers are digit literals (`5`, `-3`, `2.5`, `1,000` = `1000`, `.5` = `0.5`), digit runs
//! inside other tokens (`GPT4`, `iPhone 15`, `UTF-8`, `12:30` give 4, 15, 8, 12 and 30),
//! spelled-out cardinals (`zero`…`twenty`, `thirty`…`ninety`, `hundred`, `thousand`, `million`,
//! `billion`, `trillion`, combined: `two hundred and fifty` = 250, `twenty-five` = 25), a digit
//! literal with a scale word (`5 million` = 5000000, `two dozen` = 24), `a dozen` = 12, `half` =
//! 0.5, `minus 3`/`negative 3` = -3, and ordinals `first`…`tenth` (also `1st`…`10th`) = 1…10.
//! Number words inside hyphenated words count (`five-year-old` → 5, `two-factor` → 2). `one`
//! after a determiner (`which one`, `the one`, `no one`) and `second` as a unit of time (`a
//! second`, `5 second`, `seconds`) are not numbers. `%`, `percent`, `per cent`, `percentage`
//! and `pct` count as percent markers.
//!
//! Cannot catch: numbers written in other ways (`a couple`, `a few`, `twice`, `5k`, Roman
//! numerals, `III`), a number that moves to another slot with the multiset unchanged (`3 cats,
//! 5 dogs` vs `5 cats, 3 dogs`), equal values written differently (`5.0` vs `5` are vetoed, a
//! false veto only).

use super::words::{Kind, Token};

/// A number found in a prompt: its normalised value and the tokens it spans.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct NumberAt {
    pub(crate) value: String,
    pub(crate) first: usize,
    pub(crate) last: usize,
    /// A cardinal written as one or more whole tokens (as opposed to digits inside a word, or
    /// an ordinal): the tokens take no other part in the analysis.
    pub(crate) covers: bool,
}

/// The numbers of one prompt.
#[derive(Debug, Default, Clone)]
pub(crate) struct Numbers {
    pub(crate) found: Vec<NumberAt>,
    pub(crate) percent: usize,
}

impl Numbers {
    /// Sorted values (the multiset).
    pub(crate) fn multiset(&self) -> Vec<&str> {
        let mut v: Vec<&str> = self.found.iter().map(|n| n.value.as_str()).collect();
        v.sort_unstable();
        v
    }

    /// True when token `i` is (part of) a whole-token cardinal.
    pub(crate) fn covers(&self, i: usize) -> bool {
        self.found.iter().any(|n| n.covers && n.first <= i && i <= n.last)
    }
}

fn unit_value(w: &str) -> Option<u64> {
    Some(match w {
        "zero" => 0,
        "one" => 1,
        "two" => 2,
        "three" => 3,
        "four" => 4,
        "five" => 5,
        "six" => 6,
        "seven" => 7,
        "eight" => 8,
        "nine" => 9,
        "ten" => 10,
        "eleven" => 11,
        "twelve" => 12,
        "thirteen" => 13,
        "fourteen" => 14,
        "fifteen" => 15,
        "sixteen" => 16,
        "seventeen" => 17,
        "eighteen" => 18,
        "nineteen" => 19,
        _ => return None,
    })
}

fn tens_value(w: &str) -> Option<u64> {
    Some(match w {
        "twenty" => 20,
        "thirty" => 30,
        "forty" => 40,
        "fifty" => 50,
        "sixty" => 60,
        "seventy" => 70,
        "eighty" => 80,
        "ninety" => 90,
        _ => return None,
    })
}

fn scale_value(w: &str) -> Option<u64> {
    Some(match w {
        "hundred" => 100,
        "thousand" => 1_000,
        "million" => 1_000_000,
        "billion" => 1_000_000_000,
        "trillion" => 1_000_000_000_000,
        "dozen" => 12,
        _ => return None,
    })
}

fn ordinal_value(w: &str) -> Option<u64> {
    Some(match w {
        "first" => 1,
        "second" => 2,
        "third" => 3,
        "fourth" => 4,
        "fifth" => 5,
        "sixth" => 6,
        "seventh" => 7,
        "eighth" => 8,
        "ninth" => 9,
        "tenth" => 10,
        _ => return None,
    })
}

const ONE_DETERMINERS: &[&str] = &[
    "which",
    "this",
    "that",
    "the",
    "each",
    "every",
    "any",
    "no",
    "another",
    "some",
    "a",
    "an",
    "other",
    "only",
    "right",
    "wrong",
    "new",
    "old",
    "last",
    "next",
    "good",
    "best",
    "better",
    "favorite",
    "favourite",
    "little",
    "big",
    "small",
    "into",
];

/// Normalises a digit literal: no `+`, no digit-grouping commas, `.5` → `0.5`.
fn normalize_literal(lit: &str) -> String {
    let (sign, body) = match lit.as_bytes().first() {
        Some(b'-') => ("-", &lit[1..]),
        Some(b'+') => ("", &lit[1..]),
        _ => ("", lit),
    };
    let body = if is_grouped(body) { body.replace(',', "") } else { body.to_owned() };
    let body = if body.starts_with('.') { format!("0{body}") } else { body };
    format!("{sign}{body}")
}

/// `d{1,3}(,ddd)+` optionally followed by `.d+`.
fn is_grouped(s: &str) -> bool {
    let int = s.split('.').next().unwrap_or("");
    let mut groups = int.split(',');
    let first_ok = groups.next().is_some_and(|g| (1..=3).contains(&g.len()));
    let mut rest = 0usize;
    for g in groups {
        if g.len() != 3 {
            return false;
        }
        rest += 1;
    }
    first_ok && rest > 0
}

fn format_value(v: f64) -> String {
    format!("{v}")
}

/// Finds the numbers of `tokens`.
pub(crate) fn extract(tokens: &[Token]) -> Numbers {
    let mut out = Numbers::default();
    let mut i = 0usize;
    while i < tokens.len() {
        let t = &tokens[i];
        let prev = i.checked_sub(1).map(|p| tokens[p].lower.as_str());
        match t.kind {
            Kind::Symbol => {
                if t.lower == "%" {
                    out.percent += 1;
                }
                i += 1;
            }
            Kind::Number => {
                let mut value = normalize_literal(&t.lower);
                let mut last = i;
                if let Some(scale) = tokens.get(i + 1).and_then(|n| scale_value(&n.lower))
                    && let Ok(v) = value.parse::<f64>()
                {
                    #[expect(clippy::cast_precision_loss, reason = "scales are at most 1e12, exact in f64")]
                    let scaled = v * scale as f64;
                    value = format_value(scaled);
                    last = i + 1;
                }
                if matches!(prev, Some("minus" | "negative")) && !value.starts_with('-') {
                    value = format!("-{value}");
                }
                out.found.push(NumberAt { value, first: i, last, covers: true });
                i = last + 1;
            }
            Kind::Word => {
                if matches!(t.lower.as_str(), "percent" | "percentage" | "percentages" | "pct")
                    || (t.lower == "per" && tokens.get(i + 1).is_some_and(|n| n.lower == "cent"))
                {
                    out.percent += 1;
                    i += if t.lower == "per" { 2 } else { 1 };
                    continue;
                }
                if let Some((value, last)) = word_number(tokens, i) {
                    let value = if matches!(prev, Some("minus" | "negative")) { format!("-{value}") } else { value };
                    out.found.push(NumberAt { value, first: i, last, covers: true });
                    i = last + 1;
                    continue;
                }
                if let Some(v) = ordinal_value(&t.lower) {
                    let time_unit = t.lower == "second"
                        && (prev.is_some_and(|p| matches!(p, "a" | "per" | "one" | "each" | "every" | "split"))
                            || i.checked_sub(1).is_some_and(|p| tokens[p].kind == Kind::Number));
                    if !time_unit {
                        out.found.push(NumberAt { value: v.to_string(), first: i, last: i, covers: false });
                    }
                    i += 1;
                    continue;
                }
                inner_numbers(t, i, &mut out);
                i += 1;
            }
        }
    }
    out
}

/// Digit runs and hyphenated number words inside a word token (`gpt4`, `five-year-old`).
fn inner_numbers(t: &Token, i: usize, out: &mut Numbers) {
    if t.has_digit() {
        let mut run = String::new();
        let chars: Vec<char> = t.lower.chars().collect();
        for (k, &c) in chars.iter().enumerate() {
            let joins = c == '.' && !run.is_empty() && chars.get(k + 1).is_some_and(char::is_ascii_digit);
            if c.is_ascii_digit() || joins {
                run.push(c);
            } else if !run.is_empty() {
                out.found.push(NumberAt { value: std::mem::take(&mut run), first: i, last: i, covers: false });
            }
        }
        if !run.is_empty() {
            out.found.push(NumberAt { value: run, first: i, last: i, covers: false });
        }
    } else if t.lower.contains('-') {
        for part in t.lower.split('-') {
            if let Some(v) = unit_value(part).or_else(|| tens_value(part)) {
                out.found.push(NumberAt { value: v.to_string(), first: i, last: i, covers: false });
            }
        }
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Last {
    None,
    Unit,
    Tens,
    Scale,
}

/// A spelled-out cardinal starting at `tokens[start]`: (value, last token index).
fn word_number(tokens: &[Token], start: usize) -> Option<(String, usize)> {
    let first = tokens.get(start)?;
    // "twenty-five" as one token.
    if first.lower.contains('-') {
        let mut parts = first.lower.split('-');
        let (a, b) = (parts.next()?, parts.next()?);
        if parts.next().is_none()
            && let (Some(t), Some(u)) = (tens_value(a), unit_value(b))
        {
            return Some(((t + u).to_string(), start));
        }
        return None;
    }
    if first.lower == "one" {
        let prev = start.checked_sub(1).map(|p| tokens[p].lower.as_str());
        if prev.is_some_and(|p| ONE_DETERMINERS.contains(&p)) {
            return None;
        }
    }
    let mut total: u64 = 0;
    let mut current: u64 = 0;
    let mut last = Last::None;
    let mut end = None;
    let mut half = false;
    let mut i = start;
    while let Some(t) = tokens.get(i) {
        let w = t.lower.as_str();
        if t.kind != Kind::Word {
            break;
        }
        if w == "a" && last == Last::None && i == start {
            // "a dozen", "a hundred", "a half"
            match tokens.get(i + 1).map(|n| n.lower.as_str()) {
                Some(n) if scale_value(n).is_some() => {
                    current = 1;
                    last = Last::Unit;
                    i += 1;
                    continue;
                }
                Some("half") => {
                    return Some(("0.5".to_owned(), i + 1));
                }
                _ => return None,
            }
        }
        if w == "half" && last == Last::None {
            return Some(("0.5".to_owned(), i));
        }
        if w == "and" && last != Last::None {
            // "two hundred and fifty", "one and a half"
            let n1 = tokens.get(i + 1).map(|n| n.lower.as_str());
            let n2 = tokens.get(i + 2).map(|n| n.lower.as_str());
            if n1 == Some("a") && n2 == Some("half") {
                half = true;
                end = Some(i + 2);
                break;
            }
            if last == Last::Scale && n1.is_some_and(|n| unit_value(n).is_some() || tens_value(n).is_some()) {
                i += 1;
                continue;
            }
            break;
        }
        if let Some(u) = unit_value(w) {
            if matches!(last, Last::Unit) {
                break;
            }
            if last == Last::Tens && u >= 10 {
                break;
            }
            current += u;
            last = Last::Unit;
        } else if let Some(tv) = tens_value(w) {
            if matches!(last, Last::Unit | Last::Tens) {
                break;
            }
            current += tv;
            last = Last::Tens;
        } else if let Some(s) = scale_value(w) {
            if last == Last::None {
                break;
            }
            if s == 100 || s == 12 {
                current = current.max(1).saturating_mul(s);
            } else {
                total = total.saturating_add(current.max(1).saturating_mul(s));
                current = 0;
            }
            last = Last::Scale;
        } else {
            break;
        }
        end = Some(i);
        i += 1;
    }
    let end = end?;
    let value = total.saturating_add(current);
    let text = if half { format!("{value}.5") } else { value.to_string() };
    Some((text, end))
}

/// Rule 1.
pub(crate) fn check(a: &Numbers, b: &Numbers) -> bool {
    a.percent == b.percent && a.multiset() == b.multiset()
}

#[cfg(test)]
mod tests {
    use super::super::words::{normalize, tokenize};
    use super::*;

    fn values(s: &str) -> Vec<String> {
        let n = extract(&tokenize(&normalize(s)));
        n.multiset().into_iter().map(str::to_owned).collect()
    }

    fn same(a: &str, b: &str) -> bool {
        check(&extract(&tokenize(&normalize(a))), &extract(&tokenize(&normalize(b))))
    }

    #[test]
    fn literals_and_words() {
        assert_eq!(values("Give me three ideas"), ["3"]);
        assert_eq!(values("two hundred and fifty apples and 1,000 pears"), ["1000", "250"]);
        assert_eq!(values("twenty-five or twenty five"), ["25", "25"]);
        assert_eq!(values("5 million users"), ["5000000"]);
        assert_eq!(values("a dozen eggs"), ["12"]);
        assert_eq!(values("half a cup and .5 cups"), ["0.5", "0.5"]);
        assert_eq!(values("minus 3 and -3"), ["-3", "-3"]);
        assert_eq!(values("the 3rd and third"), ["3", "3"]);
        assert_eq!(values("GPT4 vs iPhone 15 at 12:30"), ["12", "15", "30", "4"]);
        assert_eq!(values("a five-year-old"), ["5"]);
        assert!(values("which one is better, the one on the left? no one knows").is_empty());
        assert!(values("wait a second, 10 seconds").len() == 1);
    }

    #[test]
    fn rule() {
        assert!(same("Calculate 15% of 200", "What is fifteen percent of 200?"));
        assert!(same("Suggest 3 birthday party ideas", "Give me three ideas for a birthday party"));
        assert!(!same("Convert 5 km to miles", "Convert 50 km to miles"));
        assert!(!same("15% of 200", "15 of 200"));
        assert!(!same("What is 5.5 times 2", "What is 55 times 2"));
        assert!(!same("Is -3 less than 2", "Is 3 less than 2"));
        assert!(!same("World War 1", "World War 2"));
        assert!(!same("Undo the last commit", "Undo the last three commits"));
    }
}
