//! Persistence: SQLite (embedded default) or PostgreSQL (scale-out), chosen by the URL.
//!
//! [`Db`] is an enum over the two pools rather than a trait object: each query is compiled
//! once per backend (static dispatch, no boxing), and where the SQL text is the same for both
//! — most of it, since times are Unix seconds and `$N` placeholders work in SQLite too —
//! [`with_pool!`] writes it once. Backend-specific SQL matches on the enum explicitly.
//!
//! Errors are typed ([`StoreError`]); handlers turn them into HTTP answers.

pub mod meters;
pub mod readings;
pub mod sessions;
pub mod users;

use std::{str::FromStr, time::Duration};

use sqlx::{
    PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::server::config::Secret;

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds. The body is
/// compiled twice, once per backend, so it must be valid SQL for both.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match $db {
            $crate::server::storage::Db::Sqlite($pool) => $body,
            $crate::server::storage::Db::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn as_str(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("not found")]
    NotFound,
    /// A uniqueness rule was hit; the string names the field users know it by.
    #[error("{0} already exists")]
    Conflict(&'static str),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl StoreError {
    /// Maps a unique-constraint violation to [`StoreError::Conflict`] naming `field`.
    pub fn conflict_on(err: sqlx::Error, field: &'static str) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.is_unique_violation() => StoreError::Conflict(field),
            _ => StoreError::Sqlx(err),
        }
    }
}

pub type StoreResult<T> = Result<T, StoreError>;

impl Db {
    /// Opens a pool for `url`. For SQLite the file (and its folder) is created when missing,
    /// in WAL mode with foreign keys enforced.
    pub async fn connect(url: &Secret, max_connections: u32) -> StoreResult<Self> {
        let raw = url.expose();
        if raw.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(raw)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // NORMAL is durable across application crashes in WAL mode; only a power
                // cut can lose the last transactions, and never corrupts the file.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                .busy_timeout(Duration::from_secs(5))
                .pragma("temp_store", "memory");
            if let Some(dir) = options.get_filename().parent()
                && !dir.as_os_str().is_empty()
            {
                std::fs::create_dir_all(dir).map_err(sqlx::Error::Io)?;
            }
            let pool = SqlitePoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            Ok(Db::Sqlite(pool))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(Duration::from_secs(10))
                .connect(raw)
                .await?;
            Ok(Db::Postgres(pool))
        }
    }

    pub fn backend(&self) -> Backend {
        match self {
            Db::Sqlite(_) => Backend::Sqlite,
            Db::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's migrations (embedded in the binary at build time).
    pub async fn migrate(&self) -> StoreResult<()> {
        match self {
            Db::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Db::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// A round trip to the database, for health checks.
    pub async fn ping(&self) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("SELECT 1").execute(pool).await?;
        });
        Ok(())
    }

    /// Open connections in the pool (busy and idle), for health and monitoring.
    pub fn pool_size(&self) -> u32 {
        with_pool!(self, pool => pool.size())
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}
