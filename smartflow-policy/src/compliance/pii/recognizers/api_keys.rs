//! API keys and tokens of known services: OpenAI, Anthropic, AWS, GitHub, GitLab, Slack, Stripe,
//! Google, Twilio, SendGrid, npm, Hugging Face and Azure Storage. One pattern per vendor, anchored
//! on the vendor's prefix; `check` verifies the token's boundaries (no key character right before
//! or after it), its length and charset, and rejects placeholders (`sk-xxxx…`, `AKIAXXXX…`),
//! documentation values (anything containing `EXAMPLE`, the Azure storage emulator key), masked
//! values and sequences (`abcdefgh`, `12345678`).
//!
//! Vendor-prefixed tokens score 0.95 (Stripe test keys 0.6); values recognised only through
//! their context (AWS secret access keys, Twilio API key SIDs) score 0.8–0.85. The AWS secret
//! access key and Azure `AccountKey=` patterns include their context; the finding covers the
//! value only.

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, context_near};

/// Which characters make up a token's body (used for the boundary check after the match).
#[derive(Clone, Copy)]
enum Charset {
    /// `[A-Za-z0-9]`.
    Alnum,
    /// `[A-Za-z0-9_-]`.
    Word,
    /// `[A-Za-z0-9+/=]`.
    Base64,
}

impl Charset {
    fn contains(self, c: char) -> bool {
        match self {
            Self::Alnum => c.is_ascii_alphanumeric(),
            Self::Word => c.is_ascii_alphanumeric() || c == '_' || c == '-',
            Self::Base64 => c.is_ascii_alphanumeric() || c == '+' || c == '/' || c == '=',
        }
    }
}

/// One vendor's token format.
struct Vendor {
    /// The candidate pattern.
    pattern: &'static str,
    /// Bytes of the token that are a fixed prefix (not checked for placeholders).
    prefix: usize,
    /// The body's charset (the character after the match must not belong to it).
    charset: Charset,
    /// Score when valid.
    score: f32,
    /// Whether the match starts with context (then the finding is the last `value_len` bytes
    /// and the character before the match is not checked).
    value_len: Option<usize>,
    /// Words that must appear shortly before the token, if any.
    context: &'static [&'static str],
    /// The literals every match starts with (its trigger), if any.
    starts: &'static [&'static str],
}

const VENDORS: &[Vendor] = &[
    // 0: OpenAI legacy (`sk-` + 48).
    Vendor {
        pattern: r"sk-[A-Za-z0-9]{48}",
        prefix: 3,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["sk-"],
        context: &[],
    },
    // 1: OpenAI project, service-account and admin keys.
    Vendor {
        pattern: r"sk-(?:proj|svcacct|admin)-[A-Za-z0-9_-]{40,256}",
        prefix: 8,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["sk-"],
        context: &[],
    },
    // 2: Anthropic API and admin keys.
    Vendor {
        pattern: r"sk-ant-(?:api03|admin01)-[A-Za-z0-9_-]{80,120}",
        prefix: 13,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["sk-"],
        context: &[],
    },
    // 3: AWS access key id.
    Vendor {
        pattern: r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}",
        prefix: 4,
        charset: Charset::Alnum,
        score: 0.95,
        value_len: None,
        starts: &["AKIA", "ASIA", "ABIA", "ACCA"],
        context: &[],
    },
    // 4: AWS secret access key, only after its name (`secret_key` is Terraform's and boto's; a
    // value of exactly 40 base64 characters with every character class after it is AWS's shape).
    Vendor {
        pattern: r#"(?i:aws_secret_access_key|secret_access_key|secret access key|secretaccesskey|secret_key)["']?\s*(?:[:=]|=>|is)?\s*["']?[A-Za-z0-9/+]{40}"#,
        prefix: 0,
        charset: Charset::Base64,
        score: 0.85,
        value_len: Some(40),
        starts: &[],
        context: &[],
    },
    // 5: GitHub classic tokens.
    Vendor {
        pattern: r"gh[pousr]_[A-Za-z0-9]{36}",
        prefix: 4,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["ghp_", "gho_", "ghu_", "ghs_", "ghr_"],
        context: &[],
    },
    // 6: GitHub fine-grained personal access tokens.
    Vendor {
        pattern: r"github_pat_[A-Za-z0-9_]{82}",
        prefix: 11,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["github_pat_"],
        context: &[],
    },
    // 7: GitLab personal access tokens.
    Vendor {
        pattern: r"glpat-[A-Za-z0-9_-]{20}",
        prefix: 6,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["glpat-"],
        context: &[],
    },
    // 8: Slack tokens.
    Vendor {
        pattern: r"xox[bpars]-[0-9]{6,}-[A-Za-z0-9-]{8,250}",
        prefix: 5,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["xoxb-", "xoxp-", "xoxa-", "xoxr-", "xoxs-"],
        context: &[],
    },
    // 9: Slack incoming webhooks.
    Vendor {
        pattern: r"https://hooks\.slack\.com/services/T[A-Z0-9]{8,12}/B[A-Z0-9]{8,12}/[A-Za-z0-9]{20,32}",
        prefix: 33,
        charset: Charset::Alnum,
        score: 0.95,
        value_len: None,
        starts: &["https://hooks.slack.com/services/"],
        context: &[],
    },
    // 10: Stripe secret and restricted keys (test keys score lower).
    Vendor {
        pattern: r"(?:sk|rk)_(?:live|test)_[A-Za-z0-9]{20,250}",
        prefix: 8,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["sk_", "rk_"],
        context: &[],
    },
    // 11: Google API keys.
    Vendor {
        pattern: r"AIza[A-Za-z0-9_-]{35}",
        prefix: 4,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["AIza"],
        context: &[],
    },
    // 12: Google OAuth client secrets.
    Vendor {
        pattern: r"GOCSPX-[A-Za-z0-9_-]{28}",
        prefix: 7,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["GOCSPX-"],
        context: &[],
    },
    // 13: Twilio API key SIDs, only near "twilio".
    Vendor {
        pattern: r"SK[0-9a-f]{32}",
        prefix: 2,
        charset: Charset::Alnum,
        score: 0.8,
        value_len: None,
        starts: &[],
        context: &["twilio"],
    },
    // 14: SendGrid API keys.
    Vendor {
        pattern: r"SG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}",
        prefix: 3,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["SG."],
        context: &[],
    },
    // 15: npm access tokens.
    Vendor {
        pattern: r"npm_[A-Za-z0-9]{36}",
        prefix: 4,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["npm_"],
        context: &[],
    },
    // 16: Hugging Face tokens.
    Vendor {
        pattern: r"hf_[A-Za-z0-9]{34}",
        prefix: 3,
        charset: Charset::Word,
        score: 0.95,
        value_len: None,
        starts: &["hf_"],
        context: &[],
    },
    // 17: Azure Storage account keys in connection strings.
    Vendor {
        pattern: r"AccountKey=[A-Za-z0-9+/]{86}==",
        prefix: 0,
        charset: Charset::Base64,
        score: 0.9,
        value_len: Some(88),
        starts: &["AccountKey="],
        context: &[],
    },
];

/// The AWS secret access key pattern's index (found after its name).
const AWS_SECRET: usize = 4;
/// The Twilio API key SID pattern's index (found after `twilio`).
const TWILIO: usize = 13;

/// The well-known Azure Storage emulator (Azurite) account key, published in Microsoft's docs.
const AZURE_EMULATOR_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Words that mark a value as a placeholder (compared case-insensitively).
const PLACEHOLDER_WORDS: &[&str] =
    &["example", "xxxxx", "your", "placeholder", "redacted", "dummy", "insert", "replace", "sample"];

/// API keys and tokens of known services ([`EntityKind::ApiKey`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiKeys;

impl Recognizer for ApiKeys {
    fn name(&self) -> &'static str {
        "api_key"
    }

    fn patterns(&self) -> Vec<String> {
        VENDORS.iter().map(|v| v.pattern.to_owned()).collect()
    }

    /// Each vendor's prefix (the token runs over key characters after it), the AWS secret key's
    /// names (the value follows within ~100 bytes) and `twilio` (an API key SID follows within
    /// 120 bytes).
    fn triggers(&self) -> Option<Vec<Trigger>> {
        let key = |b: u8| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'-' | b'+' | b'/' | b'=' | b'.');
        let mut triggers: Vec<Trigger> = VENDORS
            .iter()
            .enumerate()
            .filter(|(_, v)| !v.starts.is_empty())
            .map(|(i, v)| Trigger::literals(v.starts).window(0, 1).extend(key).patterns(&[i]))
            .collect();
        triggers.push(
            // The name, then quotes, blanks, `:`, `=`, `=>` or `is`, then the 40-character value.
            Trigger::literals_ignore_case(&["secret_access_key", "secret access key", "secretaccesskey", "secret_key"])
                .window(0, 41)
                .extend(|b| b.is_ascii_whitespace() || matches!(b, b'"' | b'\'' | b':' | b'=' | b'>' | b'i' | b's'))
                .patterns(&[AWS_SECRET]),
        );
        triggers.push(Trigger::literals_ignore_case(&["twilio"]).window(0, 176).patterns(&[TWILIO]));
        Some(triggers)
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let vendor = VENDORS.get(pattern)?;
        let next = text.get(end..)?.chars().next();
        if next.is_some_and(|c| vendor.charset.contains(c)) {
            return None;
        }
        let start = match vendor.value_len {
            Some(len) => end.checked_sub(len).filter(|s| *s >= start)?,
            None => {
                let prev = text.get(..start)?.chars().next_back();
                if prev.is_some_and(|c| c.is_ascii_alphanumeric()) {
                    return None;
                }
                start
            }
        };
        let token = text.get(start..end)?;
        let body = token.get(vendor.prefix..)?;
        if is_placeholder(body) || token == AZURE_EMULATOR_KEY {
            return None;
        }
        if !vendor.context.is_empty() && !context_near(text, start, 120, vendor.context) {
            return None;
        }
        let mut score = vendor.score;
        match pattern {
            // AWS secrets are random base64: expect every character class.
            AWS_SECRET if !mixed(body) => return None,
            // Slack tokens end in a random part; all-digit tails are not tokens.
            8 if !body.bytes().any(|b| b.is_ascii_alphabetic()) => return None,
            10 if token.get(3..8) == Some("test_") => score = 0.6,
            _ => {}
        }
        Some(Finding { kind: EntityKind::ApiKey, start, end, score, recognizer: "api_key" })
    }
}

/// Upper case, lower case and a digit are all present.
fn mixed(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_uppercase())
        && s.bytes().any(|b| b.is_ascii_lowercase())
        && s.bytes().any(|b| b.is_ascii_digit())
}

/// Whether a token body is a placeholder, documentation value, mask or sequence rather than a
/// random secret: placeholder words, six identical characters in a row, eight consecutive
/// ascending characters (`abcdefgh`, `12345678`), mask characters, or too few distinct characters.
pub(crate) fn is_placeholder(body: &str) -> bool {
    let lower = body.to_ascii_lowercase();
    if PLACEHOLDER_WORDS.iter().any(|w| lower.contains(w)) || body.contains("...") {
        return true;
    }
    if body.chars().any(|c| matches!(c, '*' | '•' | '<' | '>')) {
        return true;
    }
    let bytes = body.as_bytes();
    let (mut same, mut ascending) = (1_usize, 1_usize);
    for pair in bytes.windows(2) {
        let (a, b) = match pair {
            [a, b] => (*a, *b),
            _ => continue,
        };
        same = if a == b { same + 1 } else { 1 };
        ascending = if a.is_ascii_alphanumeric() && b == a.wrapping_add(1) { ascending + 1 } else { 1 };
        if same >= 6 || ascending >= 8 {
            return true;
        }
    }
    let mut seen = [false; 128];
    let mut distinct = 0_usize;
    for b in bytes.iter().copied().filter(u8::is_ascii) {
        if let Some(slot) = seen.get_mut(usize::from(b))
            && !*slot
        {
            *slot = true;
            distinct += 1;
        }
    }
    distinct < (bytes.len() / 3).min(10)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    /// A deterministic pseudo-random string over `alphabet` (test keys are generated, never
    /// written out, so the source holds nothing that looks like a real secret).
    fn random(seed: u64, len: usize, alphabet: &str) -> String {
        let chars: Vec<char> = alphabet.chars().collect();
        let mut state = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
        (0..len)
            .map(|_| {
                state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                chars[((state >> 33) % chars.len() as u64) as usize]
            })
            .collect()
    }

    const ALNUM: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    const UPPER: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    const WORD: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-";
    const B64: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const HEX: &str = "0123456789abcdef";

    fn detector() -> Detector {
        Detector::builder().recognizer(Box::new(ApiKeys)).build().unwrap()
    }

    /// The findings' texts and scores.
    fn found(text: &str) -> Vec<(String, f32)> {
        detector().detect(text).into_iter().map(|f| (text[f.start..f.end].to_owned(), f.score)).collect()
    }

    fn assert_one(text: &str, token: &str, score: f32) {
        assert_eq!(found(text), vec![(token.to_owned(), score)], "in {text:?}");
    }

    #[test]
    fn vendor_prefixed_tokens_are_found() {
        let tokens = [
            format!("sk-{}", random(1, 48, ALNUM)),
            format!("sk-proj-{}", random(2, 156, WORD)),
            format!("sk-svcacct-{}", random(3, 120, WORD)),
            format!("sk-admin-{}", random(4, 100, WORD)),
            format!("sk-ant-api03-{}AA", random(5, 93, WORD)),
            format!("sk-ant-admin01-{}AA", random(6, 93, WORD)),
            format!("AKIA{}", random(7, 16, UPPER)),
            format!("ASIA{}", random(8, 16, UPPER)),
            format!("ghp_{}", random(9, 36, ALNUM)),
            format!("gho_{}", random(10, 36, ALNUM)),
            format!("ghs_{}", random(11, 36, ALNUM)),
            format!("github_pat_{}_{}", random(12, 22, ALNUM), random(13, 59, ALNUM)),
            format!("glpat-{}", random(14, 20, WORD)),
            format!("xoxb-{}-{}-{}", random(15, 12, "0123456789"), random(16, 13, "0123456789"), random(17, 24, ALNUM)),
            format!("xoxp-{}-{}-{}", random(18, 11, "0123456789"), random(19, 12, "0123456789"), random(20, 32, HEX)),
            format!(
                "https://hooks.slack.com/services/T{}/B{}/{}",
                random(21, 8, UPPER),
                random(22, 10, UPPER),
                random(23, 24, ALNUM)
            ),
            format!("sk_live_{}", random(24, 99, ALNUM)),
            format!("rk_live_{}", random(25, 99, ALNUM)),
            format!("AIza{}", random(26, 35, WORD)),
            format!("GOCSPX-{}", random(27, 28, WORD)),
            format!("SG.{}.{}", random(28, 22, WORD), random(29, 43, WORD)),
            format!("npm_{}", random(30, 36, ALNUM)),
            format!("hf_{}", random(31, 34, ALNUM)),
        ];
        for token in &tokens {
            assert_one(&format!("export KEY={token}\n"), token, 0.95);
            assert_one(&format!("use \"{token}\" please"), token, 0.95);
            assert_one(token, token, 0.95);
        }
    }

    #[test]
    fn stripe_test_keys_score_lower() {
        let token = format!("sk_test_{}", random(40, 24, ALNUM));
        assert_one(&format!("stripe.api_key = '{token}'"), &token, 0.6);
        let publishable = format!("pk_live_{}", random(41, 24, ALNUM));
        assert!(found(&publishable).is_empty());
    }

    #[test]
    fn aws_secret_needs_context_and_covers_the_value_only() {
        let secret = random(50, 40, B64);
        for text in [
            format!("aws_secret_access_key = {secret}"),
            format!("AWS_SECRET_ACCESS_KEY=\"{secret}\""),
            format!("  secret_key = \"{secret}\""),
            format!("{{\"SecretAccessKey\": \"{secret}\"}}"),
            format!("the secret access key is {secret}."),
        ] {
            assert_one(&text, &secret, 0.85);
        }
        assert!(found(&format!("token = {secret}")).is_empty());
        assert!(found(&format!("aws_secret_access_key = {secret}x")).is_empty());
    }

    #[test]
    fn twilio_sid_needs_context() {
        let sid = format!("SK{}", random(60, 32, HEX));
        assert_one(&format!("TWILIO_API_KEY={sid}"), &sid, 0.8);
        assert!(found(&format!("id: {sid}")).is_empty());
    }

    #[test]
    fn azure_account_key_covers_the_value() {
        let key = format!("{}==", random(70, 86, B64));
        let text =
            format!("DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={key};EndpointSuffix=core.windows.net");
        assert_one(&text, &key, 0.9);
        let emulator = format!("AccountName=devstoreaccount1;AccountKey={AZURE_EMULATOR_KEY};");
        assert!(found(&emulator).is_empty());
    }

    #[test]
    fn aws_documentation_examples_are_not_flagged() {
        assert!(found("aws_access_key_id = AKIAIOSFODNN7EXAMPLE").is_empty());
        assert!(found("aws_secret_access_key = wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY").is_empty());
        assert!(found("AKIAXXXXXXXXXXXXXXXX").is_empty());
        assert!(found("AKIA0000000000000000").is_empty());
    }

    #[test]
    fn placeholders_and_masks_are_not_flagged() {
        for text in [
            "OPENAI_API_KEY=sk-...",
            "OPENAI_API_KEY=sk-xxxx",
            "OPENAI_API_KEY=sk-your-key-here",
            "Authorization: Bearer <your-api-key>",
            "sk-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
            "sk-abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuv",
            "sk-123456789012345678901234567890123456789012345678",
            "sk-****1234",
            "ghp_••••",
            "ghp_************************************",
            "ghp_XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
            "sk-proj-YOUR_PROJECT_KEY_GOES_HERE_0123456789abcdefghijklmnop",
            "hf_yourtokenhereyourtokenhereyourtok",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn boundaries_are_respected() {
        let body = random(80, 48, ALNUM);
        // Embedded in a longer word: not a key.
        assert!(found(&format!("task-{body}")).is_empty());
        // Too long for the fixed-length format.
        assert!(found(&format!("sk-{body}Q")).is_empty());
        assert!(found(&format!("ghp_{}", random(81, 40, ALNUM))).is_empty());
        assert!(found(&format!("xAKIA{}", random(82, 16, UPPER))).is_empty());
    }

    #[test]
    fn ordinary_text_is_not_flagged() {
        for text in [
            "skip the sk-learn install; use scikit-learn instead",
            "the ghp_ prefix marks GitHub tokens",
            "AKIA is the prefix of an access key id",
            "xoxb-123456789012-000000000000",
            "SG.abc.def",
            "ask-proj-manager about the roadmap",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn placeholder_heuristics() {
        assert!(is_placeholder("xxxxxxxx"));
        assert!(is_placeholder("EXAMPLEKEY"));
        assert!(is_placeholder("aaaaaab"));
        assert!(is_placeholder("0123456789"));
        assert!(!is_placeholder(&random(90, 40, ALNUM)));
    }
}
