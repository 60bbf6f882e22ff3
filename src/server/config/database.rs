//! Which database, how many connections to it, and how long its data is kept.

use std::path::Path;

use super::{secret::Secret, sources::Sources};

pub const KEYS: &[&str] = &[
    "database_url",
    "db_max_connections",
    "retention_raw_days",
    "retention_rollup_days",
    "retention_attempts_days",
];

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    pub retention: Retention,
}

/// How long each kind of data is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw_days: i64,
    pub rollup_days: i64,
    pub attempts_days: i64,
}

/// `data_dir` holds the SQLite file when no URL is set.
pub fn parse(src: &mut Sources, data_dir: &Path) -> DatabaseSettings {
    let default_url = Secret::new(format!("sqlite://{}/headroom.db", data_dir.display()));
    let url = src.parse_with(
        "database_url",
        default_url,
        "sqlite://<path> or postgres://user:pass@host/db",
        parse_db_url,
    );
    let default_pool = if url.expose().starts_with("sqlite:") {
        8
    } else {
        16
    };
    let max_connections = src.parse_with(
        "db_max_connections",
        default_pool,
        "a whole number from 1 to 512",
        |s| s.parse().ok().filter(|n| (1..=512).contains(n)),
    );
    let days = |src: &mut Sources, key: &'static str, default: i64| {
        src.parse_with(
            key,
            default,
            "a whole number of days from 1 to 36500",
            |s| s.parse().ok().filter(|n| (1..=36_500).contains(n)),
        )
    };
    let retention = Retention {
        raw_days: days(src, "retention_raw_days", 365),
        rollup_days: days(src, "retention_rollup_days", 730),
        attempts_days: days(src, "retention_attempts_days", 30),
    };
    DatabaseSettings {
        url,
        max_connections,
        retention,
    }
}

fn parse_db_url(s: &str) -> Option<Secret> {
    (s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://"))
        .then(|| Secret::new(s))
}
