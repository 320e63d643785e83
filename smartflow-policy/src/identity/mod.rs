//! Authenticators: credentials in, `Principal` out, never an anonymous principal.

mod key_hash;
mod static_keys;

pub use key_hash::{KeyHash, KeyHashError, MAX_KEY_BYTES};
pub use static_keys::{StaticKey, StaticKeys};
