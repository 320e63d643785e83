//! `KeyStore`: virtual keys managed at run time (create, change, rotate, revoke) in sled,
//! stored only as SHA-256 hashes and looked up from memory, with the admin API that manages them.
//!
//! A key's secret exists once, in the create or rotate reply; the store keeps its hash, a
//! 7-character prefix for humans, and the attributes that make up the caller's `Principal`.

pub mod admin;
mod error;
mod index;
mod record;
mod spec;
mod store;

#[cfg(test)]
mod tests;

pub use admin::{AdminReply, MAX_ADMIN_BODY, handle};
pub use error::KeyStoreError;
pub use record::{KeyEntry, KeyRecord};
pub use spec::{KeyField, KeyFilter, KeyPatch, KeySpec, MAX_FIELD_BYTES, MAX_ITEMS};
pub use store::{HASHES_TREE, KEYS_TREE, KeyStore};
