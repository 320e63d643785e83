//! What every HTTP dialect adapter shares: `HttpConfig` (where the upstream is, how long to
//! wait, what to trust) and `UpstreamClient`, the pooled hyper-util client with connect,
//! first-byte and total timeouts and bounded bodies. The dialect supplies its own headers and
//! maps its own error bodies.

mod client;
mod config;

pub use client::UpstreamClient;
pub use config::{HttpConfig, validate_base_url, validate_proxy_url};
