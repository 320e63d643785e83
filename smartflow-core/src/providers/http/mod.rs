//! What every HTTP dialect adapter shares: `HttpConfig` (where the upstream is, how long to
//! wait, what to trust) and `UpstreamClient`, the pooled hyper-util client with connect,
//! first-byte and total timeouts and bounded bodies. The dialect supplies its own headers and
//! maps its own error bodies.

mod body_stream;
mod client;
mod config;
mod sse_stream;
pub(crate) mod upstream_error;

pub use body_stream::{BodyDecoder, decoded_stream};
pub use client::{MAX_RETRY_AFTER, UpstreamClient, retry_after};
pub use config::{HttpConfig, validate_base_url, validate_proxy_url};
pub(crate) use sse_stream::protocol;
pub use sse_stream::{EventHandler, chunk_stream};
