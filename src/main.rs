//! The `headroom` binary: parse the command line, load settings, run.

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    headroom::server::cli::run().await
}
