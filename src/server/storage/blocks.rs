//! Reading blocks and rollup blocks: one row per meter and UTC day, contents encoded by
//! [`codec`](super::codec).
//!
//! SQLite keys a block by the integer `meter_id * 2^20 + day` (its rowid); PostgreSQL by
//! `(meter_id, day)` in a table partitioned by month. The SQL therefore differs per backend.

use std::collections::BTreeMap;

use super::{
    Db, Pool, StoreResult,
    codec::{self, DayRollups},
};
use crate::domain::rollup::Reading;

pub const SECS_PER_DAY: i64 = 86_400;

/// The UTC day (Unix seconds / 86 400) an instant falls on.
pub fn utc_day(ts: i64) -> i64 {
    ts.div_euclid(SECS_PER_DAY)
}

/// SQLite's block key: the meter in the high bits, the day in the low 20 (good until the
/// year 4840; readings before 1970 are refused at the edge).
fn sqlite_key(meter_id: i64, day: i64) -> i64 {
    (meter_id << 20) | (day & 0xF_FFFF)
}

impl Db {
    /// The readings of `meter_id` on UTC days `from..=to`, by day.
    pub async fn reading_blocks(
        &self,
        meter_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<BTreeMap<i64, Vec<Reading>>> {
        let rows: Vec<(i64, Vec<u8>)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as("SELECT day, data FROM reading_blocks WHERE id BETWEEN $1 AND $2 ORDER BY id")
                    .bind(sqlite_key(meter_id, from.max(0)))
                    .bind(sqlite_key(meter_id, to.min(0xF_FFFF)))
                    .fetch_all(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_as(
                    "SELECT day, data FROM reading_blocks WHERE meter_id = $1 AND day BETWEEN $2 AND $3 \
                     ORDER BY day",
                )
                .bind(meter_id)
                .bind(from)
                .bind(to)
                .fetch_all(pool)
                .await?
            }
        };
        rows.into_iter()
            .map(|(day, data)| Ok((day, codec::decode_readings(&data)?)))
            .collect()
    }

    /// The quarter-hour and hourly rollups of `meter_id` on UTC days `from..=to`, by day.
    pub async fn rollup_blocks(
        &self,
        meter_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<BTreeMap<i64, DayRollups>> {
        let rows: Vec<(i64, Vec<u8>)> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_as(
                    "SELECT day, data FROM rollup_blocks WHERE id BETWEEN $1 AND $2 ORDER BY id",
                )
                .bind(sqlite_key(meter_id, from.max(0)))
                .bind(sqlite_key(meter_id, to.min(0xF_FFFF)))
                .fetch_all(pool)
                .await?
            }
            Pool::Postgres(pool) => sqlx::query_as(
                "SELECT day, data FROM rollup_blocks WHERE meter_id = $1 AND day BETWEEN $2 AND $3 \
                     ORDER BY day",
            )
            .bind(meter_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?,
        };
        rows.into_iter()
            .map(|(day, data)| Ok((day, codec::decode_rollups(day * SECS_PER_DAY, &data)?)))
            .collect()
    }

    /// The newest reading of `meter_id` at or before `at`, looking back at most `days`.
    pub async fn reading_at_or_before(
        &self,
        meter_id: i64,
        at: i64,
        days: i64,
    ) -> StoreResult<Option<Reading>> {
        let to = utc_day(at);
        let blocks = self.reading_blocks(meter_id, to - days, to).await?;
        Ok(blocks
            .values()
            .rev()
            .flat_map(|b| b.iter().rev())
            .find(|r| r.ts <= at)
            .copied())
    }

    /// How many readings `meter_id` has in all.
    pub async fn count_readings(&self, meter_id: i64) -> StoreResult<i64> {
        let n: Option<i64> = match &self.pool {
            Pool::Sqlite(pool) => {
                sqlx::query_scalar(
                    "SELECT SUM(count) FROM reading_blocks WHERE id BETWEEN $1 AND $2",
                )
                .bind(sqlite_key(meter_id, 0))
                .bind(sqlite_key(meter_id, 0xF_FFFF))
                .fetch_one(pool)
                .await?
            }
            Pool::Postgres(pool) => {
                sqlx::query_scalar(
                    "SELECT SUM(count)::BIGINT FROM reading_blocks WHERE meter_id = $1",
                )
                .bind(meter_id)
                .fetch_one(pool)
                .await?
            }
        };
        Ok(n.unwrap_or(0))
    }
}
