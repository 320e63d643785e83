//! `examples/configs/compliance.toml` as shipped: the echo model shows every entity type the
//! gateway redacted on the way in, the tokenized e-mail comes back restored, streams included,
//! and the audit on stdout holds none of the values.

use serde_json::{Value, json};

use crate::support::*;

/// One value of every built-in entity type, each with the cue its recognizer needs.
const VALUES: [(&str, &str); 14] = [
    ("EMAIL", "p.whitaker@kestrel-analytics.co.uk"),
    ("PHONE", "+1-415-444-5912"),
    ("CREDIT_CARD", "6521 3557 7601 4321"),
    ("IBAN", "NL51ABNA3751807837"),
    ("US_SSN", "545-35-4865"),
    ("IP_ADDRESS", "62.220.24.210"),
    ("API_KEY", "xoxb-379563094546-3382606058651-QA6TCvY4dhKMlRdZQ9QsTXUu"),
    (
        "PRIVATE_KEY",
        "-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEI+tGF4kodkjkf5uEZt6vNciTwR+IorsPtDilSaCajZpdgazfSpcy9tSj\n\
         Ivy65NTnkG9Z4HoHw+299BsT7WciGLz/ADG7PchbXAODRldQOZgB5RTEElufolOq\n\
         6a3jdUhfd+fy79zBnB2tOigs4v0kK70Vq8==\n-----END EC PRIVATE KEY-----",
    ),
    (
        "JWT",
        "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiJhY2N0X29keHJxdGF2bWYiLCJpYXQiOjE3Mjg0MTE0NDEsImV4cCI6MTcyODQ5Nzg0MSwic2NvcGUiOiJhZG1pbiJ9.UvoGZZ1uxYdHABrFqLqPBi7OQUW35pnDgrfJlYjBXYk",
    ),
    ("URL_CREDENTIALS", "redis://default:BcnwDDOOAZvw6d3eK3pxFk@cache-3.hafenkontor.de:6379/0"),
    ("DATE_OF_BIRTH", "12 March 1964"),
    ("PASSPORT", "649106549"),
    ("PERSON", "Priya Tanaka"),
    ("ADDRESS", "1200 Market Street"),
];

/// A ticket holding every value, each after its cue.
fn ticket() -> String {
    let v = |kind: &str| VALUES.iter().find(|(k, _)| *k == kind).map(|(_, v)| *v).unwrap();
    format!(
        "Dear Ms {person},\nyour KYC check: date of birth {dob}, passport number {passport}. We ship to {address} \
         and reach you at {email} or {phone}. Card {card}, payout IBAN {iban}, SSN {ssn}.\n\
         Ops notes: login from {ip}; the bot token {key} and the cache at {url} leaked with\n{pem}\n\
         and a session token {jwt}.",
        person = v("PERSON"),
        dob = v("DATE_OF_BIRTH"),
        passport = v("PASSPORT"),
        address = v("ADDRESS"),
        email = v("EMAIL"),
        phone = v("PHONE"),
        card = v("CREDIT_CARD"),
        iban = v("IBAN"),
        ssn = v("US_SSN"),
        ip = v("IP_ADDRESS"),
        key = v("API_KEY"),
        url = v("URL_CREDENTIALS"),
        pem = v("PRIVATE_KEY"),
        jwt = v("JWT"),
    )
}

/// The example as shipped (the test harness moves its listeners to ephemeral ports).
fn example() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/configs/compliance.toml")).unwrap()
}

fn ask(stream: bool) -> String {
    json!({"model": "smartflow-echo", "stream": stream, "messages": [{"role": "user", "content": ticket()}]})
        .to_string()
}

/// The echo answer: every value but the tokenized e-mail is its placeholder.
fn assert_redacted_echo(answer: &str) {
    let (email, rest): (Vec<&(&str, &str)>, Vec<_>) = VALUES.iter().partition(|(k, _)| *k == "EMAIL");
    assert!(answer.contains(email[0].1), "the tokenized e-mail comes back to its caller: {answer}");
    for (kind, value) in rest {
        assert!(!answer.contains(value), "{kind} reached the echo model: {answer}");
        assert!(answer.contains(&format!("[{kind}_1]")), "{kind} has no placeholder: {answer}");
    }
}

#[tokio::test]
async fn the_example_redacts_every_entity_type_and_restores_the_tokenized_email() {
    let dir = tempfile::tempdir().unwrap();
    let (d, logs) = Daemon::start_logged(dir, &example(), &[]).await;
    let url = d.url("/v1/chat/completions");

    let r = request("POST", &url, Some(DEMO_KEY), ask(false)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let answer = r.json()["choices"][0]["message"]["content"].as_str().unwrap_or_default().to_owned();
    assert_redacted_echo(&answer);

    let r = request("POST", &url, Some(DEMO_KEY), ask(true)).await;
    assert_eq!(r.status, 200, "{}", r.text());
    let streamed: String = r
        .events()
        .iter()
        .filter(|e| e.as_str() != "[DONE]")
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str().map(str::to_owned))
        .collect();
    assert_redacted_echo(&streamed);

    d.stop().await;
    let out = logs.text();
    assert!(out.contains("pii.tokenize.EMAIL"), "the decisions are audited on stdout: {out}");
    for (kind, value) in VALUES {
        assert!(!out.contains(value), "{kind} in the daemon's output");
    }
}
