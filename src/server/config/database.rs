//! Which database, how many connections to it, how long its data is kept, and how often
//! the embedded one is backed up.

use std::path::Path;

use super::{secret::Secret, sources::Sources};

pub const KEYS: &[&str] = &[
    "database_url",
    "db_max_connections",
    "retention_raw_days",
    "retention_rollup_days",
    "retention_attempts_days",
    "backup_hours",
    "backup_keep",
];

#[derive(Debug, Clone)]
pub struct DatabaseSettings {
    pub url: Secret,
    pub max_connections: u32,
    pub retention: Retention,
    pub backups: Backups,
}

/// Scheduled snapshots of the embedded database (`headroom backup`, taken by the jobs
/// leader) into `<data dir>/backups`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Backups {
    /// Hours between snapshots; 0: none.
    pub every_hours: u32,
    /// Snapshots kept; older ones are deleted after each new one.
    pub keep: usize,
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
    let backups = Backups {
        every_hours: src.parse_with(
            "backup_hours",
            0,
            "a whole number of hours from 0 (off) to 8760",
            |s| s.parse().ok().filter(|n| *n <= 8760),
        ),
        keep: src.parse_with(
            "backup_keep",
            7,
            "a whole number of snapshots from 1 to 1000",
            |s| s.parse().ok().filter(|n| (1..=1000).contains(n)),
        ),
    };
    if backups.every_hours > 0 && !url.expose().starts_with("sqlite:") {
        src.problem(
            "  HEADROOM_BACKUP_HOURS: scheduled backups copy the embedded SQLite database; on PostgreSQL schedule pg_dump instead (README → Backups)".into(),
        );
    }
    DatabaseSettings {
        url,
        max_connections,
        retention,
        backups,
    }
}

fn parse_db_url(s: &str) -> Option<Secret> {
    (s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://"))
        .then(|| Secret::new(s))
}
