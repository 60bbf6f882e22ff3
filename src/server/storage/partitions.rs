//! PostgreSQL's monthly partitions of the block tables: created ahead of the data that
//! needs them, dropped whole by retention. SQLite has nothing to do here.

use std::collections::BTreeSet;

use jiff::civil::Date;

use super::{Db, Pool, StoreResult};
use crate::domain::period::{date_of_day_number, day_number};

/// Tables partitioned by month of their `day` column.
pub const PARTITIONED: [&str; 2] = ["reading_blocks", "rollup_blocks"];

/// A month as `year * 12 + month0`, the cache key and the source of partition names.
fn month_of_day(day: i64) -> i64 {
    let d = date_of_day_number(day);
    i64::from(d.year()) * 12 + i64::from(d.month()) - 1
}

fn first_day_of_month(month: i64) -> i64 {
    let year = i16::try_from(month.div_euclid(12)).unwrap_or(1970);
    let m = i8::try_from(month.rem_euclid(12) + 1).unwrap_or(1);
    day_number(Date::new(year, m, 1).unwrap_or(Date::constant(1970, 1, 1)))
}

/// The partition of `table` for `month`, e.g. `reading_blocks_y2026m11`.
pub fn partition_name(table: &str, month: i64) -> String {
    format!(
        "{table}_y{:04}m{:02}",
        month.div_euclid(12),
        month.rem_euclid(12) + 1
    )
}

/// The first UTC day after partition `name` of `table` (its exclusive upper bound).
pub fn partition_end_day(table: &str, name: &str) -> Option<i64> {
    let rest = name.strip_prefix(table)?.strip_prefix("_y")?;
    let (year, month) = rest.split_once('m')?;
    let month = year.parse::<i64>().ok()? * 12 + month.parse::<i64>().ok()? - 1;
    Some(first_day_of_month(month + 1))
}

impl Db {
    /// Makes sure the months of `days` (UTC day numbers) have their partitions.
    pub async fn ensure_partitions_for_days(&self, days: &BTreeSet<i64>) -> StoreResult<()> {
        let months: BTreeSet<i64> = days.iter().map(|d| month_of_day(*d)).collect();
        self.ensure_partitions(&months).await
    }

    /// Partitions for the months around `today` (a UTC day number): the previous one, this
    /// one and the next two, so writes at month's end never wait for DDL.
    pub async fn ensure_partitions_ahead(&self, today: i64) -> StoreResult<()> {
        let m = month_of_day(today);
        self.ensure_partitions(&(m - 1..=m + 2).collect()).await
    }

    async fn ensure_partitions(&self, months: &BTreeSet<i64>) -> StoreResult<()> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(());
        };
        let missing: Vec<i64> = {
            let known = self
                .partitions
                .lock()
                .map_err(|_| sqlx::Error::PoolClosed)?;
            months
                .iter()
                .copied()
                .filter(|m| !known.contains(m))
                .collect()
        };
        for month in missing {
            // DDL in its own short transaction, serialised across instances (advisory lock
            // class 2), so concurrent writers never race to create the same partition.
            let mut tx = pool.begin().await?;
            sqlx::query("SELECT pg_advisory_xact_lock(2, 0)")
                .execute(&mut *tx)
                .await?;
            for table in PARTITIONED {
                let sql = format!(
                    "CREATE TABLE IF NOT EXISTS {} PARTITION OF {table} FOR VALUES FROM ({}) TO ({})",
                    partition_name(table, month),
                    first_day_of_month(month),
                    first_day_of_month(month + 1)
                );
                sqlx::query(&sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            if let Ok(mut known) = self.partitions.lock() {
                known.insert(month);
            }
        }
        Ok(())
    }

    /// Forgets which partitions exist (after retention dropped some).
    pub fn forget_partitions(&self) {
        if let Ok(mut known) = self.partitions.lock() {
            known.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;

    #[test]
    fn months_and_their_bounds() {
        let nov = month_of_day(day_number(date(2026, 11, 21)));
        assert_eq!(
            partition_name("reading_blocks", nov),
            "reading_blocks_y2026m11"
        );
        assert_eq!(first_day_of_month(nov), day_number(date(2026, 11, 1)));
        assert_eq!(first_day_of_month(nov + 2), day_number(date(2027, 1, 1)));
        assert_eq!(month_of_day(day_number(date(2026, 12, 31))), nov + 1);
        assert_eq!(
            partition_end_day("reading_blocks", "reading_blocks_y2026m11"),
            Some(day_number(date(2026, 12, 1)))
        );
        assert_eq!(
            partition_end_day("reading_blocks", "rollup_blocks_y2026m11"),
            None
        );
    }
}
