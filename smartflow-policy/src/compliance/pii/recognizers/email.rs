//! E-mail addresses: an RFC 5322-ish `local@domain.tld` (dot-atom local part, LDH domain labels,
//! alphabetic TLD of 2–24 letters).
//!
//! Not reported:
//! - reserved and placeholder domains (RFC 2606 / RFC 6761): `example.com`, `example.org`,
//!   `example.net` and their subdomains, anything under `.example`, `.test`, `.invalid`,
//!   `.localhost`, and `localhost` itself;
//! - obvious templates: any address at a placeholder domain label (`domain`, `yourdomain`,
//!   `mydomain`, `yourcompany`, `companyname`), and a placeholder local part (`user`, `username`,
//!   `name`, `yourname`, `your.name`, `firstname.lastname`, `first.last`, `email`, `someone`) at
//!   `company.com` / `email.com` / `mail.com`. A placeholder local part at a real-looking domain
//!   (`name@acme.io`) *is* reported: it may be a real mailbox.
//!
//! Quoted local parts, IP-literal domains and internationalised (non-ASCII) addresses are not
//! recognised.

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger, context_near};

/// Finds e-mail addresses (score 0.9; 1.0 next to "email"/"e-mail"/"mail"/"contact").
#[derive(Debug, Clone, Copy, Default)]
pub struct Email;

const NAME: &str = "email";
const SCORE: f32 = 0.9;
const SCORE_WITH_CONTEXT: f32 = 1.0;
const CONTEXT: &[&str] = &["email", "e-mail", "mail", "contact", "courriel", "correo"];

const RESERVED_TLDS: &[&str] = &["example", "test", "invalid", "localhost", "local"];
const RESERVED_DOMAINS: &[&str] = &["example.com", "example.org", "example.net"];
const PLACEHOLDER_LABELS: &[&str] = &["domain", "yourdomain", "mydomain", "yourcompany", "companyname"];
const PLACEHOLDER_LOCALS: &[&str] =
    &["user", "username", "name", "yourname", "your.name", "firstname.lastname", "first.last", "email", "someone"];
const PLACEHOLDER_PROVIDERS: &[&str] = &["company.com", "email.com", "mail.com"];

impl Recognizer for Email {
    fn name(&self) -> &'static str {
        NAME
    }

    fn patterns(&self) -> Vec<String> {
        vec![
            r"\b[A-Za-z0-9][A-Za-z0-9._%+\-]{0,63}@[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?)*\.[A-Za-z]{2,24}\b"
                .to_owned(),
        ]
    }

    /// The `@`: the local part (at most 64 bytes) before it, the domain's run of letters, digits,
    /// dots and dashes after it.
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![
            Trigger::literals(&["@"]).window(64, 1).extend(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-')),
        ])
    }

    fn check(&self, text: &str, _pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let candidate = text.get(start..end)?;
        let (local, domain) = candidate.split_once('@')?;
        if local.ends_with('.') || local.contains("..") {
            return None;
        }
        // `git@github.com:org/repo.git`: an SSH remote, not a mailbox.
        let mut after = text.get(end..).unwrap_or_default().chars();
        if after.next() == Some(':') && after.next().is_some_and(|c| !c.is_whitespace()) {
            return None;
        }
        // A URL's user (`scheme://user:pass@host`, `ssh://git@host/repo`, a Sentry DSN's
        // `https://key@host/1`) is not a mailbox either.
        let token_before = text.get(..start).unwrap_or_default().rsplit(char::is_whitespace).next().unwrap_or_default();
        if (token_before.ends_with(':') && token_before.contains("://")) || token_before.ends_with("://") {
            return None;
        }
        // `a@b.com@c.org` or `x.y@z.com.`-style run-ons: the next char must not continue an address.
        if text
            .get(end..)
            .and_then(|s| s.chars().next())
            .is_some_and(|c| c == '@' || c == '-' || c.is_ascii_alphanumeric())
        {
            return None;
        }
        let domain = domain.to_ascii_lowercase();
        let local = local.to_ascii_lowercase();
        if is_reserved(&domain) || is_template(&local, &domain) {
            return None;
        }
        let score = if context_near(text, start, 40, CONTEXT) { SCORE_WITH_CONTEXT } else { SCORE };
        Some(Finding { kind: EntityKind::Email, start, end, score, recognizer: NAME })
    }
}

fn is_reserved(domain: &str) -> bool {
    let tld = domain.rsplit('.').next().unwrap_or_default();
    RESERVED_TLDS.contains(&tld)
        || RESERVED_DOMAINS.iter().any(|d| domain == *d || domain.strip_suffix(d).is_some_and(|p| p.ends_with('.')))
}

fn is_template(local: &str, domain: &str) -> bool {
    let mut labels = domain.rsplit('.');
    let _tld = labels.next();
    let registrable = labels.next().unwrap_or_default();
    PLACEHOLDER_LABELS.contains(&registrable)
        || (PLACEHOLDER_LOCALS.contains(&local) && PLACEHOLDER_PROVIDERS.contains(&domain))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn spans(text: &str) -> Vec<&str> {
        let d = Detector::builder().recognizer(Box::new(Email)).build().unwrap();
        d.detect(text).iter().map(|f| &text[f.start..f.end]).collect()
    }

    #[test]
    fn email_finds_addresses_with_exact_span() {
        assert_eq!(spans("Contact jane.doe+tag@acme-corp.co.uk today."), ["jane.doe+tag@acme-corp.co.uk"]);
        assert_eq!(spans("<bob_smith@mail.example.de>"), ["bob_smith@mail.example.de"]);
        assert_eq!(spans("a: x1@sub.domain-one.io, b: y@z.fr"), ["x1@sub.domain-one.io", "y@z.fr"]);
        assert_eq!(spans("name@acme.io"), ["name@acme.io"]);
    }

    #[test]
    fn email_context_raises_score() {
        let d = Detector::builder().recognizer(Box::new(Email)).build().unwrap();
        assert_eq!(d.detect("my email: a.b@corp.com")[0].score, SCORE_WITH_CONTEXT);
        assert_eq!(d.detect("ping a.b@corp.com")[0].score, SCORE);
    }

    #[test]
    fn email_rejects_placeholders_and_reserved_domains() {
        for text in [
            "user@example.com",
            "someone@mail.example.org",
            "a@example.net",
            "ops@host.test",
            "root@box.localhost",
            "x@foo.invalid",
            "me@site.example",
            "user@domain.com",
            "john@yourcompany.com",
            "name@company.com",
            "firstname.lastname@company.com",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }

    #[test]
    fn email_skips_ssh_remotes_and_url_credentials_but_not_mailto() {
        let d = crate::compliance::pii::Detector::builder().recognizer(Box::new(Email)).build().unwrap();
        assert!(d.detect("git remote add origin git@github.com:acme/gw.git").is_empty());
        assert!(d.detect("git clone ssh://git@github.com/acme/gw.git").is_empty());
        assert!(d.detect("SENTRY_DSN=https://0350b322107172529e1051a91c5ab8e4@o450123.ingest.sentry.io/55").is_empty());
        assert_eq!(d.detect("mailto:ann.lee@corp-mail.io").len(), 1);
        assert!(d.detect("postgres://app:s3cretpw@db.internal.acme.io/prod").is_empty());
        assert_eq!(d.detect("write to mailto:ann@corp-mail.io today").len(), 1);
        assert_eq!(d.detect("Email:ann@corp-mail.io").len(), 1);
    }

    #[test]
    fn email_rejects_non_addresses() {
        for text in [
            "git@github",
            "user@localhost",
            "@handle on twitter",
            "a..b@corp.com",
            "v1.2.3@4.5.6",
            "foo@bar.123",
            "550e8400-e29b-41d4-a716-446655440000",
            "2024-01-15T10:30:00Z",
        ] {
            assert!(spans(text).is_empty(), "{text}");
        }
    }
}
