//! `smartflowd keys`: make a new virtual key and print the hash that goes in the configuration.

use std::io::{BufRead as _, Write as _};

use ring::rand::SecureRandom as _;
use smartflow_policy::identity::KeyHash;

/// Prints the hash of `key`, or of the first line of stdin when no key is given (keeps the key
/// out of the process list and shell history).
pub fn hash(key: Option<String>) -> anyhow::Result<()> {
    let key = match key {
        Some(k) => k,
        None => {
            let mut line = String::new();
            std::io::stdin().lock().read_line(&mut line)?;
            line.trim_end_matches(['\r', '\n']).to_owned()
        }
    };
    anyhow::ensure!(!key.is_empty(), "the key is empty");
    writeln!(std::io::stdout().lock(), "{}", KeyHash::of(&key))?;
    Ok(())
}

/// Generates a random key (`sf-` + 32 hex digits, 128 bits) and prints it with its hash.
pub fn generate() -> anyhow::Result<()> {
    let mut bytes = [0u8; 16];
    ring::rand::SystemRandom::new().fill(&mut bytes).map_err(|_| anyhow::anyhow!("no system randomness"))?;
    let key = format!("sf-{}", hex::encode(bytes));
    let mut out = std::io::stdout().lock();
    writeln!(out, "key:  {key}")?;
    writeln!(out, "hash: {}", KeyHash::of(&key))?;
    writeln!(out, "Put the hash in a [[keys]] entry; the key is shown only now.")?;
    Ok(())
}
