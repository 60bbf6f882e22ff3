//! Persistence: SQLite (embedded default) or PostgreSQL (scale-out), chosen by the URL.
//!
//! [`Db`] holds an enum over the two pools rather than a trait object: each query is
//! compiled once per backend (static dispatch, no boxing), and where the SQL text is the
//! same for both — most of it, since times are Unix seconds and `$N` placeholders work in
//! SQLite too — [`with_pool!`] (or [`with_tx!`] inside a transaction) writes it once.
//! Backend-specific SQL matches on [`Pool`] explicitly.
//!
//! Errors are typed ([`StoreError`]); handlers turn them into HTTP answers.

pub mod alert_pass;
pub mod app_secrets;
pub mod backup;
pub mod batch;
pub mod blocks;
pub mod cache_epoch;
pub mod codec;
pub mod households;
pub mod imports;
pub mod invites;
pub mod leases;
pub mod meters;
pub mod notifications;
pub mod outage;
pub mod outlooks;
pub mod partitions;
pub mod perf;
pub mod push;
pub mod retention;
pub mod rollups;
pub mod sessions;
pub mod shares;
pub mod sources;
pub mod tokens;
pub mod users;

use std::{str::FromStr, sync::Arc, time::Duration};

use sqlx::{
    Connection, PgPool, SqlitePool,
    postgres::PgPoolOptions,
    sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous},
};

use crate::server::config::Secret;

/// Longest a query waits for a connection. Short, so that while the database is down or
/// restarting a request fails fast (503, Retry-After) instead of hanging; a pool busy
/// for this long is overloaded, and the same answer is right.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(3);

/// Runs `$body` with `$pool` bound to whichever concrete pool `$db` holds. The body is
/// compiled twice, once per backend, so it must be valid SQL for both.
macro_rules! with_pool {
    ($db:expr, $pool:ident => $body:expr) => {
        match &$db.pool {
            $crate::server::storage::Pool::Sqlite($pool) => $body,
            $crate::server::storage::Pool::Postgres($pool) => $body,
        }
    };
}
pub(crate) use with_pool;

/// Like [`with_pool!`], inside a write transaction: `$conn` is the transaction's connection.
macro_rules! with_tx {
    ($tx:expr, $conn:ident => $body:expr) => {
        match &mut $tx.inner {
            $crate::server::storage::TxInner::Sqlite(t) => {
                let $conn = &mut **t;
                $body
            }
            $crate::server::storage::TxInner::Postgres(t) => {
                let $conn = &mut **t;
                $body
            }
        }
    };
}
pub(crate) use with_tx;

/// A connection pool to one of the two supported databases.
#[derive(Clone, Debug)]
pub enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database: a pool, and for SQLite the in-process queue of writers.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: Pool,
    /// SQLite allows one writer at a time. Writers of this process queue here (fair, no
    /// polling) and then take the file's write lock with `BEGIN IMMEDIATE`, which other
    /// processes respect; a deferred transaction could instead fail half-way when it
    /// tries to upgrade its lock.
    sqlite_writer: Arc<tokio::sync::Mutex<()>>,
    /// PostgreSQL months whose block partitions are known to exist.
    partitions: Arc<std::sync::Mutex<std::collections::HashSet<i64>>>,
}

/// A write transaction on either backend. Dropping it without [`Tx::commit`] rolls back.
pub struct Tx {
    pub(crate) inner: TxInner,
    _writer: Option<tokio::sync::OwnedMutexGuard<()>>,
}

pub(crate) enum TxInner {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> StoreResult<()> {
        match self.inner {
            TxInner::Sqlite(t) => t.commit().await?,
            TxInner::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }

    pub fn backend(&self) -> Backend {
        match self.inner {
            TxInner::Sqlite(_) => Backend::Sqlite,
            TxInner::Postgres(_) => Backend::Postgres,
        }
    }
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
    /// A stored block could not be decoded: a bug or a damaged database, never user input.
    #[error("corrupt block: {0}")]
    Corrupt(#[from] codec::CodecError),
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
                .acquire_timeout(ACQUIRE_TIMEOUT)
                // When a write fails with a full disk, SQLite rolls the transaction back
                // itself; sqlx's ROLLBACK then fails and it keeps counting the connection
                // as inside a transaction, so every later BEGIN on it would fail, long
                // after space is freed. Such a connection is closed instead of reused
                // (the ping before this hook has run the queued rollback).
                .before_acquire(|conn, _| Box::pin(async move { Ok(!conn.is_in_transaction()) }))
                .connect_with(options)
                .await?;
            Ok(Db::new(Pool::Sqlite(pool)))
        } else {
            let pool = PgPoolOptions::new()
                .max_connections(max_connections)
                .acquire_timeout(ACQUIRE_TIMEOUT)
                .connect(raw)
                .await?;
            Ok(Db::new(Pool::Postgres(pool)))
        }
    }

    fn new(pool: Pool) -> Self {
        Db {
            pool,
            sqlite_writer: Arc::new(tokio::sync::Mutex::new(())),
            partitions: Arc::default(),
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Applies the backend's migrations (embedded in the binary at build time).
    pub async fn migrate(&self) -> StoreResult<()> {
        match &self.pool {
            Pool::Sqlite(pool) => sqlx::migrate!("migrations/sqlite").run(pool).await?,
            Pool::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await?,
        }
        Ok(())
    }

    /// Starts a write transaction (on SQLite: after this process's earlier writers, and
    /// holding the database's write lock from the start).
    pub async fn begin_write(&self) -> StoreResult<Tx> {
        match &self.pool {
            Pool::Sqlite(pool) => {
                let writer = self.sqlite_writer.clone().lock_owned().await;
                let t = pool.begin_with("BEGIN IMMEDIATE").await?;
                Ok(Tx {
                    inner: TxInner::Sqlite(t),
                    _writer: Some(writer),
                })
            }
            Pool::Postgres(pool) => Ok(Tx {
                inner: TxInner::Postgres(pool.begin().await?),
                _writer: None,
            }),
        }
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

    /// The most connections the pool opens (`HEADROOM_DB_MAX_CONNECTIONS`): what
    /// background work sizes its concurrency from.
    pub fn pool_max(&self) -> u32 {
        with_pool!(self, pool => pool.options().get_max_connections())
    }

    pub async fn close(&self) {
        with_pool!(self, pool => pool.close().await);
    }
}
