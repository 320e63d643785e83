//! The subcommands of `smartflowd`.

pub mod audit;
pub mod check;
pub mod distill;
pub mod key_admin;
pub mod keys;
pub mod serve;
