//! Structured logs through `tracing`: human-readable by default, JSON lines for log
//! shippers (`HEADROOM_LOG_FORMAT=json`).
//!
//! With monitoring on, a second layer listens (through its own filter) for sqlx's
//! statement events only, for the performance center's per-statement statistics; the log
//! filter still decides alone what is printed.

use tracing_subscriber::{EnvFilter, Layer, fmt, prelude::*};

use crate::server::{config::LogFormat, perf::sql};

/// Installs the global subscriber. Safe to call more than once (later calls do nothing),
/// which tests rely on.
pub fn init(filter: &str, format: LogFormat, monitoring: bool) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let sql_layer = monitoring.then(|| sql::SqlLayer.with_filter(sql::filter()));
    let registry = tracing_subscriber::registry().with(sql_layer);
    let _ = match format {
        LogFormat::Pretty => registry
            .with(fmt::layer().with_target(false).with_filter(filter))
            .try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true)
                    .with_filter(filter),
            )
            .try_init(),
    };
}

/// For embedders that install no subscriber of their own (the test suite): listens for
/// statement events only. Does nothing when a global subscriber is already set.
///
/// `HEADROOM_TEST_LOG` (a tracing filter, e.g. `headroom=debug,sqlx::query=debug`) also
/// prints the servers' logs into each test's captured output, so a rare failure on a busy
/// machine shows what its server was doing (which request stalled, and where).
pub fn init_statement_listener() {
    let test_log = std::env::var("HEADROOM_TEST_LOG").ok().map(|filter| {
        fmt::layer()
            .with_test_writer()
            .with_filter(EnvFilter::new(filter))
    });
    let _ = tracing_subscriber::registry()
        .with(sql::SqlLayer.with_filter(sql::filter()))
        .with(test_log)
        .try_init();
}
