//! The subcommands of `smartflowd`.

pub mod check;
pub mod keys;
pub mod serve;
