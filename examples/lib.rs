//! Runnable examples of embedding Smartflow; see the `examples/*.rs` files and run them with
//! `cargo run -p smartflow-examples --example <name>`.
