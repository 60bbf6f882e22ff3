//! What a failed database call says about the database itself rather than the request:
//! unreachable (down, restarting, its connections cut, or too busy to hand one out) or
//! out of disk. Adapters answer those with "try again" (503, 507) instead of a bug's 500.

use std::{error::Error, io};

use sqlx::postgres::PgDatabaseError;

use super::StoreError;

/// A condition of the database, not of the request that met it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outage {
    /// No connection could be had or kept: the server is down or restarting, the network
    /// dropped, or every connection stayed busy for the pool's whole acquire timeout.
    Unreachable,
    /// The database (or the disk under it) has no room left to write.
    DiskFull,
}

impl StoreError {
    /// The outage this error shows, if any.
    pub fn outage(&self) -> Option<Outage> {
        match self {
            StoreError::Sqlx(e) => sqlx_outage(e),
            _ => None,
        }
    }
}

/// The outage one error of a chain shows (a `StoreError`, a `sqlx::Error` or an I/O
/// error); walk `anyhow::Error::chain` with it to judge a wrapped error.
pub fn outage_of(err: &(dyn Error + 'static)) -> Option<Outage> {
    if let Some(e) = err.downcast_ref::<StoreError>() {
        e.outage()
    } else if let Some(e) = err.downcast_ref::<sqlx::Error>() {
        sqlx_outage(e)
    } else if let Some(e) = err.downcast_ref::<io::Error>() {
        is_disk_full(e).then_some(Outage::DiskFull)
    } else {
        None
    }
}

fn is_disk_full(e: &io::Error) -> bool {
    // ENOSPC, and EDQUOT (a quota is a full disk to this user).
    e.kind() == io::ErrorKind::StorageFull || matches!(e.raw_os_error(), Some(28 | 122))
}

fn sqlx_outage(e: &sqlx::Error) -> Option<Outage> {
    match e {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Tls(_) => Some(Outage::Unreachable),
        sqlx::Error::Io(io) if is_disk_full(io) => Some(Outage::DiskFull),
        // Talking to the server failed: connection refused, reset, closed mid-query.
        sqlx::Error::Io(_) => Some(Outage::Unreachable),
        sqlx::Error::Database(db) => {
            let code = db.code()?;
            if db.try_downcast_ref::<PgDatabaseError>().is_some() {
                postgres_outage(&code)
            } else {
                sqlite_outage(&code)
            }
        }
        _ => None,
    }
}

/// From SQLite's (extended) result code, a number.
fn sqlite_outage(code: &str) -> Option<Outage> {
    match code.parse::<i32>().ok()? & 0xff {
        13 => Some(Outage::DiskFull), // SQLITE_FULL
        // SQLITE_BUSY / SQLITE_LOCKED after the busy timeout: another writer holds the
        // file; nothing was done.
        5 | 6 => Some(Outage::Unreachable),
        _ => None,
    }
}

/// From PostgreSQL's SQLSTATE (five characters, often all digits).
fn postgres_outage(code: &str) -> Option<Outage> {
    match code {
        // disk_full; insufficient_resources' out_of_memory stays a 500.
        "53100" => Some(Outage::DiskFull),
        // too_many_connections, admin_shutdown, crash_shutdown, cannot_connect_now.
        "53300" | "57P01" | "57P02" | "57P03" => Some(Outage::Unreachable),
        // Class 08: connection exception.
        c if c.starts_with("08") => Some(Outage::Unreachable),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_without_connections_is_unreachable() {
        for e in [sqlx::Error::PoolTimedOut, sqlx::Error::PoolClosed] {
            assert_eq!(StoreError::Sqlx(e).outage(), Some(Outage::Unreachable));
        }
        let reset = io::Error::from(io::ErrorKind::ConnectionReset);
        assert_eq!(
            StoreError::Sqlx(sqlx::Error::Io(reset)).outage(),
            Some(Outage::Unreachable)
        );
    }

    #[test]
    fn a_full_disk_is_told_apart() {
        let enospc = io::Error::from_raw_os_error(28);
        assert_eq!(
            StoreError::Sqlx(sqlx::Error::Io(enospc)).outage(),
            Some(Outage::DiskFull)
        );
        assert_eq!(sqlite_outage("13"), Some(Outage::DiskFull));
        assert_eq!(postgres_outage("53100"), Some(Outage::DiskFull));
        let wrapped = anyhow::Error::new(io::Error::from_raw_os_error(28)).context("writing");
        assert_eq!(wrapped.chain().find_map(outage_of), Some(Outage::DiskFull));
    }

    #[test]
    fn restarts_and_busy_files_are_unreachable_other_errors_are_not() {
        for code in ["57P01", "57P03", "08006", "53300"] {
            assert_eq!(postgres_outage(code), Some(Outage::Unreachable), "{code}");
        }
        for code in ["5", "517", "6"] {
            assert_eq!(sqlite_outage(code), Some(Outage::Unreachable), "{code}");
        }
        // A unique violation, a syntax error, SQLite's constraint failure: bugs or input.
        for code in ["23505", "42601", "53200"] {
            assert_eq!(postgres_outage(code), None, "{code}");
        }
        for code in ["2067", "1", "19"] {
            assert_eq!(sqlite_outage(code), None, "{code}");
        }
        assert_eq!(StoreError::NotFound.outage(), None);
        assert_eq!(StoreError::Sqlx(sqlx::Error::RowNotFound).outage(), None);
    }
}
