//! Instants as the API and the pages show them.

use jiff::Timestamp;

/// Unix seconds as RFC 3339 (`2026-11-21T07:00:00Z`); out-of-range values show the epoch.
pub fn rfc3339(secs: i64) -> String {
    Timestamp::from_second(secs)
        .unwrap_or(Timestamp::UNIX_EPOCH)
        .to_string()
}
