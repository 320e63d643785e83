//! Rule 3: negation and polarity.
//!
//! The number of negations must be equal on both sides. A negation is one of `not no never
//! without none nobody nothing neither nor nowhere except excluding`, a negative contraction
//! (`n't`, `cannot`, `dont`), a word starting with `non-` or ending with `-free` (`non-leap`,
//! `gluten-free`), or a word of a short list of negative-prefixed adjectives and verbs (`unsafe`,
//! `invalid`, `illegal`, `dislike`, ...; `un-`/`in-`/`dis-` are not stripped in general, since
//! `understand` or `install` are not negations).
//!
//! Polarity: for a fixed list of antonym pairs (`install`/`uninstall`, `enable`/`disable`,
//! `encrypt`/`decrypt`, `upload`/`download`, `buy`/`sell`, `good`/`bad`, `gain`/`loss`, ...), if
//! both sides use words of a pair, they must use the same pole(s).
//!
//! Cannot catch: where the negation applies (`why doesn't X work when Y is on` vs `why does X
//! work when Y isn't on` have one each), negation by vocabulary outside the lists (`fail`,
//! `lack`, `avoid`, `refuse`), antonyms outside the pairs.

use std::collections::HashMap;

use super::words::{Token, Words};

const NEG_WORDS: &[&str] = &[
    "not",
    "no",
    "never",
    "without",
    "none",
    "nobody",
    "nothing",
    "neither",
    "nor",
    "nowhere",
    "except",
    "excluding",
    "noone",
];

const NEG_PREFIXED: &[&str] = &[
    "unsafe",
    "unhealthy",
    "unable",
    "unavailable",
    "unlikely",
    "unnecessary",
    "unsupported",
    "unpaid",
    "unemployed",
    "uninsured",
    "unvaccinated",
    "unauthorized",
    "unauthorised",
    "unencrypted",
    "unpublished",
    "unreliable",
    "unstable",
    "unsuccessful",
    "unacceptable",
    "unfair",
    "unhappy",
    "unusual",
    "uncommon",
    "illegal",
    "invalid",
    "incorrect",
    "impossible",
    "inactive",
    "insecure",
    "inaccurate",
    "incomplete",
    "inappropriate",
    "irrelevant",
    "irregular",
    "ineligible",
    "inefficient",
    "dishonest",
    "disagree",
    "disagrees",
    "dislike",
    "dislikes",
    "disallow",
    "disallowed",
    "disapprove",
    "disapproved",
    "nonexistent",
    "non-existent",
];

/// The number of negations among `tokens`.
pub(crate) fn count(tokens: &[Token]) -> usize {
    tokens
        .iter()
        .filter(|t| {
            let w = t.lower.as_str();
            t.neg
                || NEG_WORDS.contains(&w)
                || (w.starts_with("non-") && w.len() > 4)
                || (w.ends_with("-free") && w.len() > 5)
                || NEG_PREFIXED.contains(&w)
        })
        .count()
}

/// Antonym pairs: (positive pole, negative pole).
const POLARITY: &[(&[&str], &[&str])] = &[
    (&["install", "installation", "set up"], &["uninstall", "uninstallation"]),
    (&["enable", "activate", "turn on", "switch on"], &["disable", "deactivate", "turn off", "switch off"]),
    (&["encrypt", "encryption"], &["decrypt", "decryption"]),
    (&["encode", "encoding"], &["decode", "decoding"]),
    (&["compress", "compression", "zip"], &["decompress", "decompression", "unzip", "extract"]),
    (&["serialize", "serialise", "serialization"], &["deserialize", "deserialise", "deserialization"]),
    (&["import"], &["export"]),
    (&["upload"], &["download"]),
    (&["buy", "purchase"], &["sell", "sale"]),
    (&["add", "insert", "append"], &["remove", "delete", "erase"]),
    (
        &["allow", "permit", "whitelist", "allowlist"],
        &["deny", "block", "forbid", "prohibit", "blacklist", "blocklist", "ban"],
    ),
    (&["include", "including"], &["exclude"]),
    (&["open"], &["close"]),
    (&["start", "begin"], &["stop", "end", "halt"]),
    (&["push"], &["pull"]),
    (&["login", "log in", "sign in"], &["logout", "log out", "sign out"]),
    (&["subscribe", "subscription"], &["unsubscribe"]),
    (
        &["hire", "hiring", "onboard", "onboarding"],
        &["fire", "firing", "lay off", "layoff", "offboard", "offboarding", "dismiss"],
    ),
    (&["approve", "approval", "accept", "acceptance"], &["reject", "rejection", "decline", "refuse"]),
    (&["win", "winning"], &["lose", "losing"]),
    (&["true"], &["false"]),
    (&["positive"], &["negative"]),
    (
        &["benefit", "advantage", "pro", "pros", "upside"],
        &["drawback", "disadvantage", "con", "cons", "downside", "risk", "risks"],
    ),
    (&["safe", "safely", "safety"], &["dangerous", "harmful", "hazardous", "toxic"]),
    (&["legal", "lawful"], &["illegal", "unlawful"]),
    (&["valid"], &["invalid"]),
    (&["correct", "right"], &["incorrect", "wrong"]),
    (&["succeed", "success", "successful", "pass"], &["fail", "failed", "failing"]),
    (&["agree"], &["disagree"]),
    (&["healthy"], &["unhealthy"]),
    (&["lock"], &["unlock"]),
    (&["block"], &["unblock"]),
    (&["follow"], &["unfollow"]),
    (&["connect", "connection"], &["disconnect"]),
    (&["mount"], &["unmount"]),
    (&["attach"], &["detach"]),
    (&["show", "display", "unhide"], &["hide"]),
    (&["expand"], &["collapse"]),
    (&["freeze"], &["unfreeze", "thaw"]),
    (&["merge", "combine", "join"], &["split", "separate"]),
    (&["gain"], &["loss", "lose"]),
    (&["profit"], &["loss"]),
    (&["credit"], &["debit"]),
    (&["deposit"], &["withdraw", "withdrawal"]),
    (&["income", "revenue"], &["expense", "expenses", "cost", "spending"]),
    (&["asset", "assets"], &["liability", "liabilities"]),
    (&["borrow"], &["lend"]),
    (&["input"], &["output"]),
    (&["inbound", "incoming"], &["outbound", "outgoing"]),
    (&["send", "sending"], &["receive", "receiving"]),
    (&["upgrade"], &["downgrade"]),
    (&["hot", "warm", "heat"], &["cold", "cool", "chill"]),
    (&["early"], &["late"]),
    (&["internal"], &["external"]),
    (&["public"], &["private"]),
    (&["male", "men", "man"], &["female", "women", "woman"]),
    (&["light"], &["dark"]),
    (&["sync", "synchronous", "synchronously"], &["async", "asynchronous", "asynchronously"]),
    (&["good"], &["bad"]),
    (&["like", "love"], &["hate"]),
    (&["buyer"], &["seller"]),
    (&["client"], &["server"]),
    (&["encourage"], &["discourage"]),
    (&["arrive", "arrival"], &["depart", "departure"]),
    (&["overweight", "obese"], &["underweight"]),
    (&["overestimate"], &["underestimate"]),
    (&["overpaid", "overpay"], &["underpaid", "underpay"]),
    (&["inhale"], &["exhale"]),
    (&["maximum"], &["minimum"]),
    (&["north"], &["south"]),
    (&["east"], &["west"]),
    (&["left"], &["right"]),
    (&["top"], &["bottom"]),
    (&["upstream"], &["downstream"]),
    (&["horizontal", "horizontally"], &["vertical", "vertically"]),
];

/// Polarity table: term key → (pair index, pole bit).
pub(crate) struct Polarity {
    map: HashMap<String, Vec<(usize, u8)>>,
}

impl Polarity {
    pub(crate) fn new(words: &Words) -> Self {
        let mut map: HashMap<String, Vec<(usize, u8)>> = HashMap::new();
        for (i, (pos, neg)) in POLARITY.iter().enumerate() {
            for (pole, list) in [(1u8, *pos), (2u8, *neg)] {
                for w in list {
                    for key in [(*w).to_owned(), words.key(w), super::words::stem(w)] {
                        let entry = map.entry(key).or_default();
                        if !entry.contains(&(i, pole)) {
                            entry.push((i, pole));
                        }
                    }
                }
            }
        }
        Self { map }
    }

    /// Poles used per pair, from the term keys and lower forms of one side.
    pub(crate) fn poles<'a>(&self, keys: impl Iterator<Item = &'a str>) -> HashMap<usize, u8> {
        let mut out: HashMap<usize, u8> = HashMap::new();
        for k in keys {
            if let Some(list) = self.map.get(k) {
                for &(pair, pole) in list {
                    *out.entry(pair).or_default() |= pole;
                }
            }
        }
        out
    }
}

/// Rule 3: equal negation counts, and no pair used with different poles.
pub(crate) fn check(neg_a: usize, neg_b: usize, poles_a: &HashMap<usize, u8>, poles_b: &HashMap<usize, u8>) -> bool {
    if neg_a != neg_b {
        return false;
    }
    poles_a.iter().all(|(pair, pa)| poles_b.get(pair).is_none_or(|pb| pa == pb))
}

#[cfg(test)]
mod tests {
    use super::super::words::{normalize, tokenize};
    use super::super::{SlotGuard, Veto};
    use super::*;

    fn negs(s: &str) -> usize {
        count(&tokenize(&normalize(s)))
    }

    #[test]
    fn counts() {
        assert_eq!(negs("Is it safe to eat raw eggs?"), 0);
        assert_eq!(negs("Is it not safe to eat raw eggs?"), 1);
        assert_eq!(negs("Isn't it safe? I can't tell, it's never clear"), 3);
        assert_eq!(negs("List gluten-free foods"), 1);
        assert_eq!(negs("How many days in a non-leap year"), 1);
        assert_eq!(negs("Is it unsafe?"), 1);
        assert_eq!(negs("I understand how to install it"), 0);
    }

    #[test]
    fn rule() {
        let g = SlotGuard::new();
        assert_eq!(
            g.check("List foods that contain gluten", "List foods that do not contain gluten"),
            Err(Veto::Negation)
        );
        assert_eq!(g.check("List foods without gluten", "List gluten-free foods"), Ok(()));
        assert_eq!(g.check("How do I enable 2FA on GitHub?", "How do I disable 2FA on GitHub?"), Err(Veto::Negation));
        assert_eq!(
            g.check("How do I install Docker on Ubuntu?", "How do I uninstall Docker on Ubuntu?"),
            Err(Veto::Negation)
        );
        assert_eq!(g.check("Is coffee good for you?", "Is coffee bad for you?"), Err(Veto::Negation));
        assert_eq!(g.check("How do I turn on dark mode?", "How do I turn off dark mode?"), Err(Veto::Negation));
    }
}
