//! The `headroom` binary: parse the command line, load settings, run.

use std::{process::ExitCode, time::Duration};

/// mimalloc instead of glibc malloc: a request allocates small, short-lived objects on
/// every layer, and glibc's arenas cost ~15 % of a cached request's CPU under load.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// How long an idle blocking-pool thread lives (tokio's default: 10 s). A sign-in's
/// Argon2 hash takes 19 MiB on such a thread, and the allocator gives that back to the
/// system only when the thread ends: with the default, an idle server sat 18 MB over its
/// 50 MB budget for 10 s after each sign-in. A new thread costs microseconds.
const BLOCKING_THREAD_KEEP_ALIVE: Duration = Duration::from_secs(1);

fn main() -> ExitCode {
    // No transparent huge pages. mimalloc asks for them on its large reservations, and
    // one touched byte then makes 2 MB resident: 16 MB of an idle server's 55 MB were
    // such pages, mostly empty (`AnonHugePages` in /proc/PID/smaps_rollup). mimalloc is
    // built not to ask (its `no_thp` feature, which covers what it maps before `main`);
    // this covers systems whose THP setting is "always", which need no asking.
    #[cfg(target_os = "linux")]
    if let Err(e) = rustix::thread::disable_transparent_huge_pages(true) {
        eprintln!("headroom: cannot turn transparent huge pages off: {e}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .thread_keep_alive(BLOCKING_THREAD_KEEP_ALIVE)
        .build();
    match runtime {
        Ok(rt) => rt.block_on(headroom::server::cli::run()),
        Err(e) => {
            eprintln!("headroom: cannot start the async runtime: {e}");
            ExitCode::FAILURE
        }
    }
}
