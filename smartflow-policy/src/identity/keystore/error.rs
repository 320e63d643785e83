//! `KeyStoreError`: what can go wrong in the key store. Messages name fields, never values, so
//! no secret, hash or user data can reach a log line or a client through an error.

/// A key-store failure.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyStoreError {
    /// A spec or patch failed validation (400).
    #[error("invalid `{param}`: {reason}")]
    Invalid {
        /// The field at fault.
        param: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// No key has this id (404).
    #[error("no such key")]
    NotFound,
    /// The key is revoked and cannot be changed or rotated (409).
    #[error("the key is revoked")]
    Revoked,
    /// A stored record could not be decoded.
    #[error("a stored key record is corrupt")]
    Corrupt,
    /// The database failed.
    #[error("key storage failed: {0}")]
    Storage(#[from] sled::Error),
    /// A background task failed.
    #[error("key store task failed")]
    Internal,
}

impl KeyStoreError {
    pub(crate) fn invalid(param: &'static str, reason: &'static str) -> Self {
        Self::Invalid { param, reason }
    }
}

impl From<sled::transaction::TransactionError<KeyStoreError>> for KeyStoreError {
    fn from(e: sled::transaction::TransactionError<KeyStoreError>) -> Self {
        match e {
            sled::transaction::TransactionError::Abort(e) => e,
            sled::transaction::TransactionError::Storage(e) => Self::Storage(e),
        }
    }
}
