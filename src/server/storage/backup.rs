//! Snapshots of an embedded (SQLite) database, taken while the server runs and ingests,
//! and restoring one into an empty database.
//!
//! A snapshot is SQLite's `VACUUM INTO`: it reads the database in one read transaction,
//! so it holds exactly what was committed when it began, and in WAL mode writers carry on
//! meanwhile (a reading acknowledged before the snapshot began is in it; one acknowledged
//! during it may or may not be). The copy is written compacted, then opened again and
//! checked (`PRAGMA integrity_check`, the migrations table, the row counts) before it is
//! reported, so a backup that cannot be read back is an error, not a file.
//!
//! PostgreSQL has its own tools for this (`pg_dump`, see README → Backups): a copy made
//! through the application would be slower and no more consistent.

use std::{
    path::{Path, PathBuf},
    str::FromStr,
};

use sqlx::{
    Connection, Row,
    sqlite::{SqliteConnectOptions, SqliteConnection},
};

use super::{Db, Pool};
use crate::server::config::Secret;

#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    #[error(
        "backups of a PostgreSQL database are taken with pg_dump (see README → Backups); `headroom backup` copies the embedded SQLite database"
    )]
    NotSqlite,
    #[error("{0} exists already; a backup never overwrites a file")]
    Exists(PathBuf),
    #[error("{path} is not a usable backup: {why}")]
    Unreadable { path: PathBuf, why: String },
    #[error("the database at {0} already holds data; restore only into an empty (new) database")]
    NotEmpty(PathBuf),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// What a snapshot was found to hold when it was read back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verified {
    pub path: PathBuf,
    pub bytes: u64,
    /// The newest migration applied in it.
    pub schema_version: i64,
    pub users: i64,
    pub meters: i64,
    /// Day blocks of readings (each holds one meter's readings of one UTC day).
    pub reading_blocks: i64,
}

impl Db {
    /// Writes a consistent snapshot of this (SQLite) database to `dest`, a file that must
    /// not exist yet, and reads it back.
    pub async fn backup_to(&self, dest: &Path) -> Result<Verified, BackupError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(BackupError::NotSqlite);
        };
        if dest.exists() {
            return Err(BackupError::Exists(dest.to_owned()));
        }
        vacuum_into(pool, dest).await?;
        verify(dest).await
    }
}

/// Opens `path` read-only and checks it is a whole Headroom database.
pub async fn verify(path: &Path) -> Result<Verified, BackupError> {
    let unreadable = |why: String| BackupError::Unreadable {
        path: path.to_owned(),
        why,
    };
    if !path.is_file() {
        return Err(unreadable("no such file".into()));
    }
    let options = SqliteConnectOptions::new()
        .filename(path)
        .read_only(true)
        .create_if_missing(false);
    let mut conn = SqliteConnection::connect_with(&options)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    let integrity: String = sqlx::query_scalar("PRAGMA integrity_check")
        .fetch_one(&mut conn)
        .await
        .map_err(|e| unreadable(e.to_string()))?;
    if integrity != "ok" {
        return Err(unreadable(format!("integrity check: {integrity}")));
    }
    let counts = sqlx::query(
        "SELECT (SELECT max(version) FROM _sqlx_migrations WHERE success), \
                (SELECT count(*) FROM users), (SELECT count(*) FROM meters), \
                (SELECT count(*) FROM reading_blocks)",
    )
    .fetch_one(&mut conn)
    .await
    .map_err(|e| unreadable(format!("not a Headroom database ({e})")))?;
    conn.close().await?;
    Ok(Verified {
        path: path.to_owned(),
        bytes: std::fs::metadata(path)?.len(),
        schema_version: counts.try_get::<Option<i64>, _>(0)?.unwrap_or(0),
        users: counts.try_get(1)?,
        meters: counts.try_get(2)?,
        reading_blocks: counts.try_get(3)?,
    })
}

/// Restores the snapshot at `backup` as the SQLite database of `target`, which must not
/// exist or hold no users and no meters. The snapshot is checked first, and the
/// restored file after; migrations newer than the snapshot apply at the next start.
pub async fn restore(backup: &Path, target: &Secret) -> Result<Verified, BackupError> {
    if !target.expose().starts_with("sqlite:") {
        return Err(BackupError::NotSqlite);
    }
    let dest = SqliteConnectOptions::from_str(target.expose())?
        .get_filename()
        .to_owned();
    verify(backup).await?;
    if dest.exists() {
        if holds_data(&dest).await? {
            return Err(BackupError::NotEmpty(dest));
        }
        // An empty database (created, perhaps migrated, never used) is replaced whole.
        for suffix in ["", "-wal", "-shm"] {
            let mut file = dest.clone().into_os_string();
            file.push(suffix);
            match std::fs::remove_file(&file) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
                _ => {}
            }
        }
    }
    let options = SqliteConnectOptions::new().filename(backup).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    vacuum_into(&mut conn, &dest).await?;
    conn.close().await?;
    verify(&dest).await
}

/// Writes the database `db` reads as a compacted copy at `dest` (its folder made first):
/// the one way both backup and restore copy a database.
async fn vacuum_into<'c, E>(db: E, dest: &Path) -> Result<(), BackupError>
where
    E: sqlx::Executor<'c, Database = sqlx::Sqlite>,
{
    if let Some(dir) = dest.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)?;
    }
    sqlx::query("VACUUM INTO $1")
        .bind(path_text(dest)?)
        .execute(db)
        .await?;
    Ok(())
}

/// Whether the database at `path` has any user or meter (a file without those tables
/// holds nothing of Headroom's).
async fn holds_data(path: &Path) -> Result<bool, BackupError> {
    let options = SqliteConnectOptions::new().filename(path).read_only(true);
    let mut conn = SqliteConnection::connect_with(&options).await?;
    let has_tables: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('users', 'meters')",
    )
    .fetch_one(&mut conn)
    .await?;
    let rows: i64 = if has_tables == 2 {
        sqlx::query_scalar("SELECT (SELECT count(*) FROM users) + (SELECT count(*) FROM meters)")
            .fetch_one(&mut conn)
            .await?
    } else {
        0
    };
    conn.close().await?;
    Ok(rows > 0)
}

/// Where a scheduled or unnamed backup taken at `now` goes: `dir/headroom-<UTC time>.db`,
/// names that sort by time.
pub fn snapshot_path(dir: &Path, now: jiff::Timestamp) -> PathBuf {
    dir.join(format!("headroom-{}.db", now.strftime("%Y%m%dT%H%M%SZ")))
}

/// When the newest snapshot in `dir` (by its name) was taken, if there is one.
pub fn newest_snapshot(dir: &Path) -> std::io::Result<Option<jiff::Timestamp>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(e),
    };
    Ok(entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            let stamp = name.strip_prefix("headroom-")?.strip_suffix(".db")?;
            jiff::Timestamp::strptime("%Y%m%dT%H%M%S%#z", stamp.replace('Z', "+0000")).ok()
        })
        .max())
}

/// Deletes all but the newest `keep` snapshots in `dir` (files named by
/// [`snapshot_path`]); returns how many were deleted.
pub fn prune(dir: &Path, keep: usize) -> std::io::Result<usize> {
    let mut snapshots: Vec<PathBuf> = match std::fs::read_dir(dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| {
                p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("headroom-") && n.ends_with(".db"))
            })
            .collect(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(0),
        Err(e) => return Err(e),
    };
    snapshots.sort();
    let excess = snapshots.len().saturating_sub(keep);
    for old in &snapshots[..excess] {
        std::fs::remove_file(old)?;
    }
    Ok(excess)
}

fn path_text(path: &Path) -> Result<&str, BackupError> {
    path.to_str().ok_or_else(|| BackupError::Unreadable {
        path: path.to_owned(),
        why: "the path is not valid UTF-8".into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_newest_snapshots_are_kept() {
        let dir = std::env::temp_dir().join(format!("headroom-prune-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let start = jiff::Timestamp::from_second(1_800_000_000).expect("time");
        for h in 0..5 {
            let at = start + jiff::SignedDuration::from_hours(h);
            std::fs::write(snapshot_path(&dir, at), b"x").expect("write");
        }
        std::fs::write(dir.join("notes.txt"), b"kept").expect("write");
        let newest = newest_snapshot(&dir).expect("read").expect("one");
        assert_eq!(newest, start + jiff::SignedDuration::from_hours(4));
        assert_eq!(prune(&dir, 2).expect("prune"), 3);
        let mut left: Vec<String> = std::fs::read_dir(&dir)
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(
            left,
            [
                "headroom-20270115T110000Z.db",
                "headroom-20270115T120000Z.db",
                "notes.txt"
            ]
        );
        std::fs::remove_dir_all(&dir).expect("clean");
    }
}
