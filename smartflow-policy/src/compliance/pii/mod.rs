//! PII and secret detection: recognizers (one per file under [`recognizers`]) find candidate
//! spans, validate them (checksums, ranges, number-plan data), score them (context words raise
//! or lower confidence) and the [`Detector`] merges overlapping findings.
//!
//! Each recognizer declares [`Trigger`]s — literals every candidate contains or follows (`@`,
//! `sk-`, `Dear `, `born`), or digit clusters — and the window around each hit that holds its
//! candidates. The detector finds every recognizer's hits in one pass (one Aho-Corasick automaton
//! over every literal, one scan for digits) and runs each pattern only on its windows: a
//! recognizer whose triggers do not occur in a text costs nothing more.

mod automaton;
mod detector;
mod fold;
pub mod recognizers;
mod tables;
mod triggers;

pub use detector::{Detector, DetectorBuilder};
pub(crate) use fold::normalized;
pub use tables::column_name;
pub use triggers::{Accept, Trigger};

use std::fmt;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

/// What kind of sensitive value a finding is.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum EntityKind {
    /// An e-mail address.
    Email,
    /// A telephone number (validated against the numbering plan).
    Phone,
    /// A payment card number (Luhn-valid, known brand prefix and length).
    CreditCard,
    /// An IBAN (mod-97 and country length).
    Iban,
    /// A US social security number (invalid ranges excluded).
    UsSsn,
    /// An IPv4 or IPv6 address (not loopback, documentation ranges or version strings).
    IpAddress,
    /// An API key or token of a known service (OpenAI, Anthropic, AWS, GitHub, Slack...).
    ApiKey,
    /// A PEM private key block.
    PrivateKey,
    /// A JSON Web Token.
    Jwt,
    /// A URL or connection string carrying credentials (`postgres://user:pass@host`).
    UrlCredentials,
    /// A date of birth (a date next to birth context).
    DateOfBirth,
    /// A passport number (next to passport context).
    Passport,
    /// A person's name (where found without a model: after titles and name cues).
    Person,
    /// A street address.
    Address,
    /// A custom entity from a policy's regex or dictionary.
    Custom(Arc<str>),
}

impl EntityKind {
    /// The label used in placeholders and reports (`EMAIL`, `CREDIT_CARD`, custom names as given).
    pub fn label(&self) -> &str {
        match self {
            Self::Email => "EMAIL",
            Self::Phone => "PHONE",
            Self::CreditCard => "CREDIT_CARD",
            Self::Iban => "IBAN",
            Self::UsSsn => "US_SSN",
            Self::IpAddress => "IP_ADDRESS",
            Self::ApiKey => "API_KEY",
            Self::PrivateKey => "PRIVATE_KEY",
            Self::Jwt => "JWT",
            Self::UrlCredentials => "URL_CREDENTIALS",
            Self::DateOfBirth => "DATE_OF_BIRTH",
            Self::Passport => "PASSPORT",
            Self::Person => "PERSON",
            Self::Address => "ADDRESS",
            Self::Custom(name) => name,
        }
    }

    /// Parses a label (built-in kinds only).
    pub fn parse(label: &str) -> Option<Self> {
        Some(match label {
            "EMAIL" => Self::Email,
            "PHONE" => Self::Phone,
            "CREDIT_CARD" => Self::CreditCard,
            "IBAN" => Self::Iban,
            "US_SSN" => Self::UsSsn,
            "IP_ADDRESS" => Self::IpAddress,
            "API_KEY" => Self::ApiKey,
            "PRIVATE_KEY" => Self::PrivateKey,
            "JWT" => Self::Jwt,
            "URL_CREDENTIALS" => Self::UrlCredentials,
            "DATE_OF_BIRTH" => Self::DateOfBirth,
            "PASSPORT" => Self::Passport,
            "PERSON" => Self::Person,
            "ADDRESS" => Self::Address,
            _ => return None,
        })
    }
}

impl fmt::Display for EntityKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// One detected value: where it is (byte offsets into the scanned text, on char boundaries),
/// what it is, how sure, and which recognizer said so. Never carries the value itself.
#[derive(Debug, Clone, PartialEq)]
pub struct Finding {
    /// The kind.
    pub kind: EntityKind,
    /// Start byte offset.
    pub start: usize,
    /// End byte offset (exclusive).
    pub end: usize,
    /// Confidence in 0..=1 after context.
    pub score: f32,
    /// The recognizer's name.
    pub recognizer: &'static str,
}

/// A recognizer: the regexes that find its candidates (compiled once by the detector, each run on
/// its own), where they can be ([`triggers`](Self::triggers)), and the validation and scoring of
/// each candidate.
pub trait Recognizer: Send + Sync + 'static {
    /// A stable name (`email`, `credit_card`, `openai_key`...).
    fn name(&self) -> &'static str;

    /// The candidate patterns (Rust `regex` syntax). Keep them linear-time (no look-around: the
    /// `regex` crate has none) and anchored on cheap literals where possible.
    fn patterns(&self) -> Vec<String>;

    /// Judges one candidate match of pattern `pattern` (index into [`patterns`](Self::patterns))
    /// spanning `start..end` of `text`: `None` rejects it; `Some(finding)` may narrow the span.
    /// `text` is the whole text, so context around the match can be read.
    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding>;

    /// Where candidates can be (see [`Trigger`] for the contract): `Some(triggers)` runs the
    /// patterns only on the windows around the triggers' hits, and not at all in a text without
    /// a hit; `None` (the default) scans the whole text.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        None
    }
}

/// Words near a match (within `window` bytes before it, case-insensitive) that change its score.
pub fn context_near(text: &str, start: usize, window: usize, words: &[&str]) -> bool {
    let mut from = start.saturating_sub(window);
    while !text.is_char_boundary(from) {
        from -= 1;
    }
    let before = text.get(from..start).unwrap_or_default().to_lowercase();
    words.iter().any(|w| before.contains(w))
}
