//! `DataLabels`: what request policies learned about a request's data, for the stages after
//! them (the cache's scope and sharing decisions, stores).

use std::collections::BTreeSet;

/// Kept in `RequestContext::extensions`; policies add to it, the cache reads it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DataLabels {
    /// Sensitive data (PII, secrets) was detected in the prompt, whatever was done about it: the
    /// answer is never shared across users.
    pub sensitive: bool,
    /// The answer must not be stored at all (it carries restored or redacted personal data).
    pub no_store: bool,
    /// The caller's information-barrier segments: cache entries never cross them.
    pub segments: BTreeSet<String>,
    /// Classification labels the prompt carries (`segment:legal`...).
    pub labels: BTreeSet<String>,
}

impl DataLabels {
    /// The labels of a request, created empty on first use.
    pub fn of(extensions: &mut http::Extensions) -> &mut DataLabels {
        extensions.get_or_insert_default::<DataLabels>()
    }
}

/// Values the caller gets back in clear that no record may hold — the originals behind
/// reversible placeholders, restored in the answer to the same caller — each with the
/// placeholder that stands for it. The audit record's prompt and completion are masked with it,
/// so a restored value never reaches a sink. Kept in `RequestContext::extensions`.
///
/// Its `Debug` output shows how many values it holds, never the values.
#[derive(Clone, Default)]
pub struct Withheld {
    /// (value, placeholder), longest value first.
    pairs: Vec<(String, String)>,
}

impl std::fmt::Debug for Withheld {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Withheld").field("values", &self.pairs.len()).finish()
    }
}

impl Withheld {
    /// The withheld values of a request, created empty on first use.
    pub fn of(extensions: &mut http::Extensions) -> &mut Withheld {
        extensions.get_or_insert_default::<Withheld>()
    }

    /// Withholds `value`, recorded as `placeholder` instead. Empty values are ignored.
    pub fn add(&mut self, value: impl Into<String>, placeholder: impl Into<String>) {
        let value = value.into();
        if value.is_empty() || self.pairs.iter().any(|(v, _)| *v == value) {
            return;
        }
        self.pairs.push((value, placeholder.into()));
        // Longest first: a value that contains another is replaced whole.
        self.pairs.sort_by_key(|(value, _)| std::cmp::Reverse(value.len()));
    }

    /// Whether nothing is withheld.
    pub fn is_empty(&self) -> bool {
        self.pairs.is_empty()
    }

    /// `text` with every withheld value replaced by its placeholder.
    pub fn mask(&self, text: &str) -> String {
        let mut out = text.to_owned();
        for (value, placeholder) in &self.pairs {
            if out.contains(value.as_str()) {
                out = out.replace(value.as_str(), placeholder);
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn withheld_values_are_masked_longest_first_and_never_shown() {
        let mut ext = http::Extensions::new();
        let w = Withheld::of(&mut ext);
        w.add("ann@corp.io", "[EMAIL_1]");
        w.add("ann", "[PERSON_1]");
        w.add("", "[NOTHING]");
        assert_eq!(w.mask("ann wrote from ann@corp.io"), "[PERSON_1] wrote from [EMAIL_1]");
        assert_eq!(format!("{w:?}"), "Withheld { values: 2 }");
        assert_eq!(w.mask("nothing to hide"), "nothing to hide");
    }
}
