//! Authenticators: credentials in, `Principal` out, never an anonymous principal.

mod chain;
pub mod jwt;
mod key_hash;
pub mod keystore;
pub mod ldap;
mod static_keys;

pub use chain::{Identity, Tiers};
pub use jwt::{ClaimMapping, JwksSource, JwtAuthenticator, JwtConfig, JwtError};
pub use key_hash::{KeyHash, KeyHashError, MAX_KEY_BYTES};
pub use keystore::{KeyEntry, KeyRecord, KeySpec, KeyStore, KeyStoreError};
pub use ldap::{LdapAuthenticator, LdapConfig, LdapConfigError};
pub use static_keys::{StaticKey, StaticKeys};
