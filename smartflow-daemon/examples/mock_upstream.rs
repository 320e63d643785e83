//! The integration tests' mock upstream as a standalone server, for the SDK scripts: it speaks
//! the OpenAI, Azure OpenAI, Anthropic, Gemini and Bedrock Converse wire formats on one port.
//!
//! Run with:
//!
//! ```sh
//! cargo run -p smartflow-daemon --example mock_upstream
//! ```
//!
//! It prints `mock-upstream listening ADDR` and serves until it is killed.

#![expect(unreachable_pub, reason = "the shared test modules mark helpers `pub`")]
#![expect(dead_code, reason = "the standalone server uses only part of the shared test module")]
#![expect(clippy::unwrap_used, reason = "a test server: a failed set-up step ends it")]

use std::io::Write as _;

#[path = "../tests/daemon/intent.rs"]
mod intent;
#[path = "../tests/daemon/upstream.rs"]
mod upstream;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let up = upstream::Upstream::start().await;
    let mut out = std::io::stdout().lock();
    writeln!(out, "mock-upstream listening {}", up.addr)?;
    out.flush()?;
    drop(out);
    std::future::pending::<()>().await;
    Ok(())
}
