//! The built-in recognizers, one per file. [`all`] lists them in the order the detector uses.

pub mod address;
pub mod api_keys;
pub mod credit_card;
pub mod date_of_birth;
pub mod email;
pub mod iban;
pub mod ip_address;
pub mod jwt;
pub mod passport;
pub mod person;
pub mod phone;
pub mod private_key;
pub mod url_credentials;
pub mod us_ssn;

use super::Recognizer;

/// Every built-in recognizer.
pub fn all() -> Vec<Box<dyn Recognizer>> {
    let mut all: Vec<Box<dyn Recognizer>> = Vec::new();
    // structured identifiers
    let structured: Vec<Box<dyn Recognizer>> = vec![
        Box::new(email::Email),
        Box::new(credit_card::CreditCard),
        Box::new(iban::Iban),
        Box::new(us_ssn::UsSsn),
        Box::new(ip_address::IpAddress),
        Box::new(phone::Phone),
        Box::new(date_of_birth::DateOfBirth),
        Box::new(passport::Passport),
    ];
    all.extend(structured);
    // secrets
    all.push(Box::new(api_keys::ApiKeys));
    all.push(Box::new(private_key::PrivateKey));
    all.push(Box::new(jwt::Jwt));
    all.push(Box::new(url_credentials::UrlCredentials));
    // names and addresses (cue-gated, precision over recall)
    all.push(Box::new(person::Person));
    all.push(Box::new(address::Address));
    all
}
