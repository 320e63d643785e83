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
