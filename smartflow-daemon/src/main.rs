//! `smartflowd`: the Smartflow AI gateway daemon. Everything but the allocator lives in the
//! library (`smartflow_daemon::cli`).

use std::process::ExitCode;

/// mimalloc: the request path allocates many short-lived buffers across worker threads.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> ExitCode {
    smartflow_daemon::cli::run()
}
