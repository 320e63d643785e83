//! Applying actions to findings: block, redact to a typed placeholder (`[EMAIL_1]`), hash
//! (`[EMAIL:3f9a1c0d]`, a keyed hash of the normalized value, so equal values stay linkable
//! without being readable, however they were disguised),
//! reversible tokenization (a placeholder the caller's answer gets back as the original; the
//! originals live only in the request's [`TokenVault`], never stored), or audit only.

use std::collections::{BTreeSet, HashMap};

use ring::hmac;
use serde::{Deserialize, Serialize};

use super::pii::{EntityKind, Finding, normalized};

/// What to do with one kind of finding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PiiAction {
    /// Refuse the request.
    Block,
    /// Replace with a typed placeholder.
    Redact,
    /// Replace with a keyed hash of the value.
    Hash,
    /// Replace with a placeholder restored in the answer to the same caller.
    Tokenize,
    /// Leave the text alone; record the finding.
    Audit,
}

/// The originals behind reversible placeholders, for one request only.
#[derive(Debug, Default, Clone)]
pub struct TokenVault {
    by_placeholder: HashMap<String, String>,
    by_value: HashMap<(String, String), String>,
    counters: HashMap<String, usize>,
}

impl TokenVault {
    /// Whether no value was tokenized.
    pub fn is_empty(&self) -> bool {
        self.by_placeholder.is_empty()
    }

    /// The placeholder for `value` of `kind`: the same value gets the same placeholder.
    fn placeholder(&mut self, kind: &EntityKind, value: &str, keep: bool) -> String {
        let key = (kind.label().to_owned(), value.to_owned());
        if let Some(p) = self.by_value.get(&key) {
            return p.clone();
        }
        let n = self.counters.entry(kind.label().to_owned()).or_insert(0);
        *n += 1;
        let p = format!("[{}_{}]", kind.label(), n);
        self.by_value.insert(key, p.clone());
        if keep {
            self.by_placeholder.insert(p.clone(), value.to_owned());
        }
        p
    }

    /// Withholds every original from the request's records (they are recorded as their
    /// placeholders): the caller gets them back, sinks never do.
    pub fn withhold(&self, into: &mut smartflow_core::Withheld) {
        for (placeholder, value) in &self.by_placeholder {
            into.add(value.as_str(), placeholder.as_str());
        }
    }

    /// `text` with every reversible placeholder replaced by its original.
    pub fn restore(&self, text: &str) -> String {
        if self.by_placeholder.is_empty() || !text.contains('[') {
            return text.to_owned();
        }
        let mut out = text.to_owned();
        for (p, v) in &self.by_placeholder {
            if out.contains(p.as_str()) {
                out = out.replace(p.as_str(), v);
            }
        }
        out
    }
}

/// What applying the actions did.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Applied {
    /// The rewritten text (unchanged when nothing was replaced).
    pub text: String,
    /// Kinds whose action is `Block` that were found.
    pub blocked: BTreeSet<EntityKind>,
    /// Every kind found, whatever the action.
    pub found: BTreeSet<EntityKind>,
    /// Values replaced.
    pub replaced: usize,
}

/// Actions per kind, with a default.
#[derive(Clone)]
pub struct Redactor {
    actions: HashMap<EntityKind, PiiAction>,
    default: PiiAction,
    hash_key: hmac::Key,
}

impl std::fmt::Debug for Redactor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Redactor")
            .field("actions", &self.actions)
            .field("default", &self.default)
            .finish_non_exhaustive()
    }
}

impl Redactor {
    /// `default` for every kind not in `actions`; `hash_key` keys the `Hash` action.
    pub fn new(actions: HashMap<EntityKind, PiiAction>, default: PiiAction, hash_key: &[u8]) -> Self {
        Self { actions, default, hash_key: hmac::Key::new(hmac::HMAC_SHA256, hash_key) }
    }

    /// The action for `kind`.
    pub fn action(&self, kind: &EntityKind) -> PiiAction {
        self.actions.get(kind).copied().unwrap_or(self.default)
    }

    /// Applies the actions to `findings` (sorted, non-overlapping, from the detector) in `text`.
    pub fn apply(&self, text: &str, findings: &[Finding], vault: &mut TokenVault) -> Applied {
        let mut applied = Applied::default();
        let mut out = String::with_capacity(text.len());
        let mut last = 0;
        for f in findings {
            let Some(value) = text.get(f.start..f.end) else { continue };
            applied.found.insert(f.kind.clone());
            let replacement = match self.action(&f.kind) {
                PiiAction::Block => {
                    applied.blocked.insert(f.kind.clone());
                    None
                }
                PiiAction::Audit => None,
                PiiAction::Redact => Some(vault.placeholder(&f.kind, value, false)),
                PiiAction::Tokenize => Some(vault.placeholder(&f.kind, value, true)),
                PiiAction::Hash => {
                    let tag = hmac::sign(&self.hash_key, normalized(value).as_bytes());
                    Some(format!("[{}:{}]", f.kind.label(), hex::encode(tag.as_ref().get(..4).unwrap_or_default())))
                }
            };
            if let Some(r) = replacement
                && f.start >= last
            {
                out.push_str(text.get(last..f.start).unwrap_or_default());
                out.push_str(&r);
                last = f.end;
                applied.replaced += 1;
            }
        }
        out.push_str(text.get(last..).unwrap_or_default());
        applied.text = out;
        applied
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finding(kind: EntityKind, text: &str, value: &str) -> Finding {
        let start = text.find(value).unwrap();
        Finding { kind, start, end: start + value.len(), score: 0.9, recognizer: "test" }
    }

    #[test]
    fn each_action_does_what_it_says_and_tokens_come_back() {
        let text = "mail a@corp.io or a@corp.io, card 4111111111111111, ip 10.1.2.3, ssn 123-45-6789";
        let findings = vec![
            finding(EntityKind::Email, text, "a@corp.io"),
            Finding {
                start: text.rfind("a@corp.io").unwrap(),
                end: text.rfind("a@corp.io").unwrap() + 9,
                ..finding(EntityKind::Email, text, "a@corp.io")
            },
            finding(EntityKind::CreditCard, text, "4111111111111111"),
            finding(EntityKind::IpAddress, text, "10.1.2.3"),
            finding(EntityKind::UsSsn, text, "123-45-6789"),
        ];
        let actions = HashMap::from([
            (EntityKind::Email, PiiAction::Tokenize),
            (EntityKind::CreditCard, PiiAction::Redact),
            (EntityKind::IpAddress, PiiAction::Hash),
            (EntityKind::UsSsn, PiiAction::Block),
        ]);
        let r = Redactor::new(actions, PiiAction::Audit, b"k");
        let mut vault = TokenVault::default();
        let a = r.apply(text, &findings, &mut vault);
        assert_eq!(a.blocked, BTreeSet::from([EntityKind::UsSsn]));
        assert!(a.text.starts_with("mail [EMAIL_1] or [EMAIL_1], card [CREDIT_CARD_1], ip [IP_ADDRESS:"), "{}", a.text);
        assert!(!a.text.contains("4111") && !a.text.contains("a@corp.io") && !a.text.contains("10.1.2.3"));
        assert_eq!(
            vault.restore("Reply to [EMAIL_1] about [CREDIT_CARD_1]"),
            "Reply to a@corp.io about [CREDIT_CARD_1]"
        );
    }
}
