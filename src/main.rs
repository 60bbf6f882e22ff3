//! The `headroom` binary: parse the command line, load settings, run.

use std::process::ExitCode;

/// mimalloc instead of glibc malloc: a request allocates small, short-lived objects on
/// every layer, and glibc's arenas cost ~15 % of a cached request's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> ExitCode {
    headroom::server::cli::run().await
}
