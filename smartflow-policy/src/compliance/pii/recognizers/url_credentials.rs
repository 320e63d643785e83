//! Credentials in URLs and connection strings.
//!
//! * `scheme://user:password@host` for http(s), ftp(s), sftp, postgres(ql), mysql, mariadb,
//!   mongodb(+srv), redis(s), amqp(s), smtp(s), ldap(s) and `jdbc:<driver>://`. The user may be
//!   empty (`redis://:password@host`). **The finding covers the whole URL** (scheme to the end of
//!   path and query, trailing punctuation excluded): host names of credentialed endpoints are
//!   sensitive too, and the longer span wins the overlap against the `password@host` an e-mail
//!   recognizer may see inside it. Score 0.95.
//! * ODBC/ADO.NET connection strings: the value of `Password=`/`Pwd=` (quoted, `{braced}` or up
//!   to `;`) when the same line also names a server (`Server=`, `Data Source=`, `Host=`,
//!   `Address=`). **The finding covers the value only.** Score 0.85.
//!
//! Not flagged: empty passwords, placeholder passwords (`password`, `pass`, `secret`,
//! `your_password`…), templated ones (`${VAR}`, `$VAR`, `{{var}}`, `%s`, `%VAR%`) and masked ones
//! (`***`, `xxxx`, `••••`).

use crate::compliance::pii::{EntityKind, Finding, Recognizer, Trigger};

/// The URL pattern's index.
const URL: usize = 0;
/// The connection-string pattern's index.
const CONNECTION_STRING: usize = 1;

/// Passwords that are placeholders (compared case-insensitively).
const PLACEHOLDERS: &[&str] = &[
    "password",
    "passwd",
    "pass",
    "pwd",
    "secret",
    "mypassword",
    "yourpassword",
    "your_password",
    "your-password",
    "<password>",
    "[password]",
    "null",
    "none",
    "redacted",
    "changeme",
    // The same words in German, French, Spanish, Italian, Portuguese and Dutch examples.
    "passwort",
    "kennwort",
    "geheim",
    "motdepasse",
    "mot_de_passe",
    "mot-de-passe",
    "contraseña",
    "contrasena",
    "clave",
    "secreto",
    "senha",
    "wachtwoord",
];

/// Credentials in URLs and connection strings ([`EntityKind::UrlCredentials`]).
#[derive(Debug, Clone, Copy, Default)]
pub struct UrlCredentials;

impl Recognizer for UrlCredentials {
    fn name(&self) -> &'static str {
        "url_credentials"
    }

    fn patterns(&self) -> Vec<String> {
        vec![
            concat!(
                r"(?i)(?:https?|ftps?|sftp|postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|smtps?|",
                r#"ldaps?|jdbc:[a-z0-9]+)://[^\s:/@?#'"<>]*:[^\s@/?#'"<>]*@[A-Za-z0-9\[][^\s'"<>]*"#
            )
            .to_owned(),
            r#"(?i)(?:password|pwd)\s*=\s*(?:"[^"\r\n]*"|'[^'\r\n]*'|\{[^}\r\n]*\}|[^;\r\n"'{]*)"#.to_owned(),
        ]
    }

    /// `://` (the scheme before it, the URL's run of non-space characters after it), and
    /// `password`/`pwd` (the value on the same line).
    fn triggers(&self) -> Option<Vec<Trigger>> {
        Some(vec![
            Trigger::literals(&["://"])
                .window(64, 1)
                .extend(|b| !b.is_ascii_whitespace() && !matches!(b, b'"' | b'\'' | b'<' | b'>'))
                .patterns(&[URL]),
            Trigger::literals_ignore_case(&["password", "pwd"])
                .window(0, 64)
                .extend(|b| b != b'\n')
                .patterns(&[CONNECTION_STRING]),
        ])
    }

    fn check(&self, text: &str, pattern: usize, start: usize, end: usize) -> Option<Finding> {
        let matched = text.get(start..end)?;
        let (start, end, score) = match pattern {
            URL => {
                if text.get(..start)?.chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric()) {
                    return None;
                }
                let user_from = matched.find("://")? + 3;
                let at = user_from + matched.get(user_from..)?.find('@')?;
                let userinfo = matched.get(user_from..at)?;
                let (user, password) = userinfo.split_once(':')?;
                if !is_real_password(password) || default_on_local_host(user, password, matched.get(at + 1..)?) {
                    return None;
                }
                let url = matched.trim_end_matches(['.', ',', ';', ':', '!', '?', ')', ']', '}', '*', '`', '_', '~']);
                (start, start + url.len(), 0.95)
            }
            CONNECTION_STRING => {
                // `Password` must be a whole key: at the start or after `;`/whitespace/quote.
                if text.get(..start)?.chars().next_back().is_some_and(|c| c.is_alphanumeric() || c == '_') {
                    return None;
                }
                let eq = matched.find('=')?;
                let raw = matched.get(eq + 1..)?;
                let value = raw.trim_start();
                let value_from = eq + 1 + (raw.len() - value.len());
                let (inner_from, inner) = match value.as_bytes().first() {
                    Some(b'"' | b'\'' | b'{') => (1, value.get(1..value.len().saturating_sub(1))?),
                    _ => (0, value.trim_end()),
                };
                if !is_real_password(inner) || value.contains("{{") || !names_server(text, start, end) {
                    return None;
                }
                let from = start + value_from + inner_from;
                (from, from + inner.len(), 0.85)
            }
            _ => return None,
        };
        Some(Finding { kind: EntityKind::UrlCredentials, start, end, score, recognizer: "url_credentials" })
    }
}

/// A password that repeats the user name (`postgres:postgres`, `guest:guest`) on a local host:
/// a development default, like the README's `user:password@localhost`.
fn default_on_local_host(user: &str, password: &str, host_and_rest: &str) -> bool {
    let host = host_and_rest.split([':', '/', '?', '#']).next().unwrap_or_default().to_ascii_lowercase();
    let local = matches!(host.as_str(), "localhost" | "127.0.0.1" | "[::1]" | "0.0.0.0" | "host.docker.internal")
        || host.ends_with(".localhost");
    local && user.eq_ignore_ascii_case(password)
}

/// Whether the line holding `start..end` is a connection string naming a server.
fn names_server(text: &str, start: usize, end: usize) -> bool {
    let line_start = text.get(..start).and_then(|b| b.rfind('\n')).map_or(0, |i| i + 1);
    let line_end = text.get(end..).and_then(|a| a.find('\n')).map_or(text.len(), |i| end + i);
    let Some(line) = text.get(line_start..line_end) else { return false };
    let compact: String = line.chars().filter(|c| !c.is_whitespace()).flat_map(char::to_lowercase).collect();
    compact.contains(';')
        && ["server=", "datasource=", "host=", "address=", "addr="].iter().any(|key| compact.contains(key))
}

/// Whether a password is a real value: not empty, not a placeholder, template or mask.
fn is_real_password(password: &str) -> bool {
    let lower = password.to_lowercase();
    if lower.is_empty() || PLACEHOLDERS.contains(&lower.as_str()) {
        return false;
    }
    // Templates: `${VAR}`, `$VAR`, `$(cmd)`, `{{var}}`, `%s`, `%(name)s`, `%VAR%`, `<var>`.
    if lower.starts_with('$')
        || lower.contains("{{")
        || lower.contains("%s")
        || lower.contains("%(")
        || (lower.len() > 2 && lower.starts_with('%') && lower.ends_with('%'))
        || lower.starts_with('<')
    {
        return false;
    }
    // Masks: one mask character repeated, or an ellipsis.
    let mask = |c: char| matches!(c, '*' | '•' | 'x' | '#' | '.');
    if lower.chars().all(mask) || lower.contains("***") || lower.contains("...") {
        return false;
    }
    !(lower.contains("your") && (lower.contains("pass") || lower.contains("pwd")))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::compliance::pii::Detector;

    fn found(text: &str) -> Vec<(String, f32)> {
        let detector = Detector::builder().recognizer(Box::new(UrlCredentials)).build().unwrap();
        detector.detect(text).into_iter().map(|f| (text[f.start..f.end].to_owned(), f.score)).collect()
    }

    #[test]
    fn credentialed_urls_are_found_whole() {
        for (text, url) in [
            (
                "DATABASE_URL=postgres://app:s3cr3t-P4ss@db.internal:5432/app",
                "postgres://app:s3cr3t-P4ss@db.internal:5432/app",
            ),
            ("postgresql://admin:Tr0ub4dor&3@10.0.0.5/prod.", "postgresql://admin:Tr0ub4dor&3@10.0.0.5/prod"),
            ("(mysql://root:hunter2@localhost:3306/shop)", "mysql://root:hunter2@localhost:3306/shop"),
            (
                "mongodb+srv://svc:Zx81%40qq@cluster0.mongodb.net/?retryWrites=true",
                "mongodb+srv://svc:Zx81%40qq@cluster0.mongodb.net/?retryWrites=true",
            ),
            ("REDIS_URL=redis://:f00b4rbaz@cache:6379/0", "redis://:f00b4rbaz@cache:6379/0"),
            ("rediss://default:AbC123xyz@eu1.upstash.io:6380", "rediss://default:AbC123xyz@eu1.upstash.io:6380"),
            ("amqp://guest:Gu3st!pw@rabbit:5672/vhost", "amqp://guest:Gu3st!pw@rabbit:5672/vhost"),
            ("see https://bob:qwerty123@example.com/private, ok", "https://bob:qwerty123@example.com/private"),
            ("https://app_rw:*byC5EsW@repo.example.co.uk/m2/", "https://app_rw:*byC5EsW@repo.example.co.uk/m2/"),
            ("ftp://anon:m1ghty@ftp.example.org/pub", "ftp://anon:m1ghty@ftp.example.org/pub"),
            ("smtp://mailer:S3ndIt@smtp.example.com:587", "smtp://mailer:S3ndIt@smtp.example.com:587"),
            ("ldaps://cn=admin:L0gin!@ldap.example.com", "ldaps://cn=admin:L0gin!@ldap.example.com"),
            (
                "url=\"jdbc:postgresql://etl:Etl2024x@warehouse:5432/dw\"",
                "jdbc:postgresql://etl:Etl2024x@warehouse:5432/dw",
            ),
        ] {
            assert_eq!(found(text), vec![(url.to_owned(), 0.95)], "{text}");
        }
    }

    #[test]
    fn placeholder_url_passwords_are_rejected() {
        for text in [
            "postgres://user:password@localhost/db",
            "postgres://user:pass@localhost/db",
            "mysql://username:password@host/db",
            "postgres://user:@localhost/db",
            "postgres://user@localhost/db",
            "postgres://app:${DB_PASSWORD}@db/app",
            "postgres://app:$DB_PASSWORD@db/app",
            "postgres://app:{{ db_password }}@db/app",
            "postgres://app:{{db_password}}@db/app",
            "postgres://app:%s@%s/app",
            "postgres://app:***@db/app",
            "postgres://app:****@db/app",
            "postgres://app:xxxx@db/app",
            "postgres://app:<password>@db/app",
            "postgres://app:your_password@db/app",
            "https://example.com:8080/path",
            "git@github.com:org/repo.git",
            "user:pass@host without a scheme",
            "xhttps://a:realpass1@host",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn connection_string_passwords_are_found() {
        for (text, value) in [
            ("Server=tcp:sql.example.net,1433;Database=app;User ID=app;Password=Q7#mv!2xL;Encrypt=True;", "Q7#mv!2xL"),
            ("Data Source=DB01;Initial Catalog=Sales;User Id=sa;Pwd=Str0ngPwd!", "Str0ngPwd!"),
            ("Driver={ODBC Driver 18};Server=db;Uid=etl;Pwd={a;b=c}", "a;b=c"),
            ("Host=pg.internal;Username=app;Password=\"w1th space\";", "w1th space"),
            ("Server = db; Password = s3cret99 ; Database = x", "s3cret99"),
        ] {
            assert_eq!(found(text), vec![(value.to_owned(), 0.85)], "{text}");
        }
    }

    #[test]
    fn connection_string_placeholders_and_non_connection_strings_are_rejected() {
        for text in [
            "Server=db;User Id=sa;Password=;",
            "Server=db;User Id=sa;Password=password;",
            "Server=db;User Id=sa;Password=${SQL_PASSWORD};",
            "Server=db;User Id=sa;Password=%SQL_PASSWORD%;",
            "Server=db;User Id=sa;Password=****;",
            "Server=db;User Id=sa;Password={{sql_password}};",
            "password=hunter22",
            "Please reset your password = it expired; thanks",
            "Server=db;User Id=sa;DbPassword=hunter22;",
        ] {
            assert!(found(text).is_empty(), "{text:?} flagged");
        }
    }

    #[test]
    fn password_judgement() {
        assert!(is_real_password("hunter2"));
        assert!(is_real_password("p%40ss"));
        assert!(!is_real_password(""));
        assert!(!is_real_password("PASSWORD"));
        assert!(!is_real_password("$(cat /run/secret)"));
        assert!(!is_real_password("••••"));
    }
}
