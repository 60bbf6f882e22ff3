//! The write side of readings and rollups, a batch at a time: each operation takes every
//! row of a write at once. On PostgreSQL that is one statement per operation (arrays
//! unnested server-side), so a 10 000-reading batch over 100 meters costs a handful of
//! round trips instead of a thousand; on SQLite, which runs in-process, it is a loop of
//! prepared statements.

use std::collections::{HashMap, HashSet};

use super::{
    StoreResult, Tx, TxInner,
    codec::{self, DayRollups},
    rollups::{DailyRow, WeeklyRow},
};
use crate::domain::rollup::Reading;

/// SQLite's block key (see `blocks`).
fn sqlite_key(meter_id: i64, day: i64) -> i64 {
    (meter_id << 20) | (day & 0xF_FFFF)
}

/// A day block to store: its readings (sorted, distinct instants) and their rollups.
pub struct BlockWrite<'a> {
    pub meter_id: i64,
    pub day: i64,
    pub readings: &'a [Reading],
    pub rollups: &'a DayRollups,
}

/// A day block ready for the database: its two encoded blobs and the figures kept beside.
struct EncodedBlock {
    meter_id: i64,
    day: i64,
    count: i64,
    first_ts: i64,
    last_ts: i64,
    data: Vec<u8>,
    rollups: Vec<u8>,
}

impl EncodedBlock {
    fn of(b: &BlockWrite<'_>) -> Option<Self> {
        let (first, last) = (b.readings.first()?, b.readings.last()?);
        Some(EncodedBlock {
            meter_id: b.meter_id,
            day: b.day,
            count: b.readings.len() as i64,
            first_ts: first.ts,
            last_ts: last.ts,
            data: codec::encode_readings(b.readings),
            rollups: codec::encode_rollups(b.day * 86_400, b.rollups),
        })
    }
}

/// A daily row found for a query key (meter, day).
#[derive(sqlx::FromRow)]
struct DailyFor {
    query_day: i64,
    #[sqlx(flatten)]
    row: DailyRow,
}

macro_rules! daily_cols {
    ($p:literal) => {
        concat!(
            $p,
            "meter_id, ",
            $p,
            "day, ",
            $p,
            "count, ",
            $p,
            "sum, ",
            $p,
            "min, ",
            $p,
            "max, ",
            $p,
            "first, ",
            $p,
            "last, ",
            $p,
            "first_ts, ",
            $p,
            "last_ts, ",
            $p,
            "last_remaining, ",
            $p,
            "usage, ",
            $p,
            "budget, ",
            $p,
            "pace"
        )
    };
}

const DAILY_UPSERT_TAIL: &str = " ON CONFLICT (meter_id, day) DO UPDATE SET count = excluded.count, \
     sum = excluded.sum, min = excluded.min, max = excluded.max, first = excluded.first, \
     last = excluded.last, first_ts = excluded.first_ts, last_ts = excluded.last_ts, \
     last_remaining = excluded.last_remaining, usage = excluded.usage, \
     budget = excluded.budget, pace = excluded.pace";

const WEEKLY_UPSERT_TAIL: &str = " ON CONFLICT (meter_id, week) DO UPDATE SET count = excluded.count, \
     sum = excluded.sum, min = excluded.min, max = excluded.max, first = excluded.first, \
     last = excluded.last, first_ts = excluded.first_ts, last_ts = excluded.last_ts, \
     usage = excluded.usage";

impl Tx {
    /// Serialises writers of these meters until the transaction ends. On SQLite the single
    /// writer already does; on PostgreSQL transaction-scoped advisory locks do (class 1:
    /// meter writes). Ids must be sorted, so writers always lock in the same order and
    /// cannot deadlock.
    pub async fn lock_meters(&mut self, sorted_ids: &[i64]) -> StoreResult<()> {
        if let TxInner::Postgres(t) = &mut self.inner {
            // Rows of an unnested array come in array order, so the locks are taken in
            // id order.
            sqlx::query("SELECT pg_advisory_xact_lock(1, m::INT) FROM UNNEST($1::BIGINT[]) AS m")
                .bind(sorted_ids)
                .execute(&mut **t)
                .await?;
        }
        Ok(())
    }

    /// The stored readings of each (meter, UTC day) asked for; absent keys have none.
    pub async fn load_blocks(
        &mut self,
        keys: &[(i64, i64)],
    ) -> StoreResult<HashMap<(i64, i64), Vec<Reading>>> {
        let mut out = HashMap::with_capacity(keys.len());
        if keys.is_empty() {
            return Ok(out);
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                for &(meter, day) in keys {
                    let data: Option<Vec<u8>> =
                        sqlx::query_scalar("SELECT data FROM reading_blocks WHERE id = $1")
                            .bind(sqlite_key(meter, day))
                            .fetch_optional(&mut **t)
                            .await?;
                    if let Some(bytes) = data {
                        out.insert((meter, day), codec::decode_readings(&bytes)?);
                    }
                }
            }
            TxInner::Postgres(t) => {
                let (meters, days): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
                let (lo, hi) = (days.iter().min().copied(), days.iter().max().copied());
                let rows: Vec<(i64, i64, Vec<u8>)> = sqlx::query_as(
                    "SELECT b.meter_id, b.day, b.data FROM reading_blocks b \
                     JOIN UNNEST($1::BIGINT[], $2::BIGINT[]) AS k(meter_id, day) \
                     ON b.meter_id = k.meter_id AND b.day = k.day \
                     WHERE b.day BETWEEN $3 AND $4",
                )
                .bind(&meters)
                .bind(&days)
                .bind(lo)
                .bind(hi)
                .fetch_all(&mut **t)
                .await?;
                for (meter, day, bytes) in rows {
                    out.insert((meter, day), codec::decode_readings(&bytes)?);
                }
            }
        }
        Ok(out)
    }

    /// Stores day blocks and their rollup blocks, replacing what was there.
    pub async fn put_blocks(&mut self, blocks: &[BlockWrite<'_>]) -> StoreResult<()> {
        let encoded: Vec<EncodedBlock> = blocks.iter().filter_map(EncodedBlock::of).collect();
        if encoded.is_empty() {
            return Ok(());
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                for b in encoded {
                    sqlx::query(
                        "INSERT INTO reading_blocks (id, meter_id, day, count, first_ts, last_ts, data) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO UPDATE SET \
                         count = excluded.count, first_ts = excluded.first_ts, \
                         last_ts = excluded.last_ts, data = excluded.data",
                    )
                    .bind(sqlite_key(b.meter_id, b.day))
                    .bind(b.meter_id)
                    .bind(b.day)
                    .bind(b.count)
                    .bind(b.first_ts)
                    .bind(b.last_ts)
                    .bind(b.data)
                    .execute(&mut **t)
                    .await?;
                    sqlx::query(
                        "INSERT INTO rollup_blocks (id, meter_id, day, data) VALUES ($1, $2, $3, $4) \
                         ON CONFLICT (id) DO UPDATE SET data = excluded.data",
                    )
                    .bind(sqlite_key(b.meter_id, b.day))
                    .bind(b.meter_id)
                    .bind(b.day)
                    .bind(b.rollups)
                    .execute(&mut **t)
                    .await?;
                }
            }
            TxInner::Postgres(t) => {
                let ints = |f: fn(&EncodedBlock) -> i64| encoded.iter().map(f).collect::<Vec<_>>();
                let (meters, days) = (ints(|b| b.meter_id), ints(|b| b.day));
                sqlx::query(
                    "INSERT INTO reading_blocks (meter_id, day, count, first_ts, last_ts, data) \
                     SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::BIGINT[], \
                     $5::BIGINT[], $6::BYTEA[]) ON CONFLICT (meter_id, day) DO UPDATE SET \
                     count = excluded.count, first_ts = excluded.first_ts, \
                     last_ts = excluded.last_ts, data = excluded.data",
                )
                .bind(&meters)
                .bind(&days)
                .bind(ints(|b| b.count))
                .bind(ints(|b| b.first_ts))
                .bind(ints(|b| b.last_ts))
                .bind(
                    encoded
                        .iter()
                        .map(|b| b.data.as_slice())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut **t)
                .await?;
                sqlx::query(
                    "INSERT INTO rollup_blocks (meter_id, day, data) \
                     SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], $3::BYTEA[]) \
                     ON CONFLICT (meter_id, day) DO UPDATE SET data = excluded.data",
                )
                .bind(&meters)
                .bind(&days)
                .bind(
                    encoded
                        .iter()
                        .map(|b| b.rollups.as_slice())
                        .collect::<Vec<_>>(),
                )
                .execute(&mut **t)
                .await?;
            }
        }
        Ok(())
    }

    /// For each (meter, local day): the newest daily row of that meter before that day.
    pub async fn dailies_before(
        &mut self,
        keys: &[(i64, i64)],
    ) -> StoreResult<HashMap<(i64, i64), DailyRow>> {
        let mut out = HashMap::with_capacity(keys.len());
        if keys.is_empty() {
            return Ok(out);
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                let sql = concat!(
                    "SELECT ",
                    daily_cols!(""),
                    " FROM daily_rollups WHERE meter_id = $1 AND day < $2 ORDER BY day DESC LIMIT 1"
                );
                for &(meter, day) in keys {
                    if let Some(row) = sqlx::query_as::<_, DailyRow>(sql)
                        .bind(meter)
                        .bind(day)
                        .fetch_optional(&mut **t)
                        .await?
                    {
                        out.insert((meter, day), row);
                    }
                }
            }
            TxInner::Postgres(t) => {
                let (meters, days): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
                let sql = concat!(
                    "SELECT q.day AS query_day, ",
                    daily_cols!("d."),
                    " FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS q(meter_id, day) \
                     CROSS JOIN LATERAL (SELECT * FROM daily_rollups r \
                     WHERE r.meter_id = q.meter_id AND r.day < q.day ORDER BY r.day DESC LIMIT 1) d"
                );
                let rows: Vec<DailyFor> = sqlx::query_as(sql)
                    .bind(&meters)
                    .bind(&days)
                    .fetch_all(&mut **t)
                    .await?;
                for r in rows {
                    out.insert((r.row.meter_id, r.query_day), r.row);
                }
            }
        }
        Ok(out)
    }

    /// For each `(meter, day)`, the first stored day after it, if any: that day's usage and
    /// budget start from the last reading before it, so a write to `day` changes it even
    /// when days without readings lie between them.
    pub async fn next_dailies(&mut self, keys: &[(i64, i64)]) -> StoreResult<HashSet<(i64, i64)>> {
        let mut out = HashSet::new();
        if keys.is_empty() {
            return Ok(out);
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                for &(meter, day) in keys {
                    let next: Option<i64> = sqlx::query_scalar(
                        "SELECT MIN(day) FROM daily_rollups WHERE meter_id = $1 AND day > $2",
                    )
                    .bind(meter)
                    .bind(day)
                    .fetch_one(&mut **t)
                    .await?;
                    if let Some(next) = next {
                        out.insert((meter, next));
                    }
                }
            }
            TxInner::Postgres(t) => {
                let (meters, days): (Vec<i64>, Vec<i64>) = keys.iter().copied().unzip();
                let rows: Vec<(i64, Option<i64>)> = sqlx::query_as(
                    "SELECT q.meter_id, (SELECT MIN(d.day) FROM daily_rollups d \
                     WHERE d.meter_id = q.meter_id AND d.day > q.day) \
                     FROM UNNEST($1::BIGINT[], $2::BIGINT[]) AS q(meter_id, day)",
                )
                .bind(&meters)
                .bind(&days)
                .fetch_all(&mut **t)
                .await?;
                out.extend(rows.into_iter().filter_map(|(m, d)| Some((m, d?))));
            }
        }
        Ok(out)
    }

    pub async fn put_dailies(&mut self, rows: &[DailyRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                let sql = format!(
                    "INSERT INTO daily_rollups ({}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14){DAILY_UPSERT_TAIL}",
                    daily_cols!("")
                );
                for d in rows {
                    sqlx::query(&sql)
                        .bind(d.meter_id)
                        .bind(d.day)
                        .bind(d.count)
                        .bind(d.sum)
                        .bind(d.min)
                        .bind(d.max)
                        .bind(d.first)
                        .bind(d.last)
                        .bind(d.first_ts)
                        .bind(d.last_ts)
                        .bind(d.last_remaining)
                        .bind(d.usage)
                        .bind(d.budget)
                        .bind(d.pace)
                        .execute(&mut **t)
                        .await?;
                }
            }
            TxInner::Postgres(t) => {
                let col = |f: fn(&DailyRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
                let fcol = |f: fn(&DailyRow) -> f64| rows.iter().map(f).collect::<Vec<_>>();
                let ocol = |f: fn(&DailyRow) -> Option<f64>| rows.iter().map(f).collect::<Vec<_>>();
                let sql = format!(
                    "INSERT INTO daily_rollups ({}) SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], \
                     $3::BIGINT[], $4::FLOAT8[], $5::FLOAT8[], $6::FLOAT8[], $7::FLOAT8[], $8::FLOAT8[], \
                     $9::BIGINT[], $10::BIGINT[], $11::FLOAT8[], $12::FLOAT8[], $13::FLOAT8[], \
                     $14::FLOAT8[]){DAILY_UPSERT_TAIL}",
                    daily_cols!("")
                );
                sqlx::query(&sql)
                    .bind(col(|d| d.meter_id))
                    .bind(col(|d| d.day))
                    .bind(col(|d| d.count))
                    .bind(fcol(|d| d.sum))
                    .bind(fcol(|d| d.min))
                    .bind(fcol(|d| d.max))
                    .bind(fcol(|d| d.first))
                    .bind(fcol(|d| d.last))
                    .bind(col(|d| d.first_ts))
                    .bind(col(|d| d.last_ts))
                    .bind(ocol(|d| d.last_remaining))
                    .bind(ocol(|d| d.usage))
                    .bind(ocol(|d| d.budget))
                    .bind(ocol(|d| d.pace))
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(())
    }

    /// Daily rows of each (meter, first day, last day) range, ordered by meter and day.
    pub async fn dailies_in(&mut self, ranges: &[(i64, i64, i64)]) -> StoreResult<Vec<DailyRow>> {
        if ranges.is_empty() {
            return Ok(Vec::new());
        }
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                let sql = concat!(
                    "SELECT ",
                    daily_cols!(""),
                    " FROM daily_rollups WHERE meter_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day"
                );
                let mut out = Vec::new();
                for &(meter, lo, hi) in ranges {
                    out.extend(
                        sqlx::query_as::<_, DailyRow>(sql)
                            .bind(meter)
                            .bind(lo)
                            .bind(hi)
                            .fetch_all(&mut **t)
                            .await?,
                    );
                }
                Ok(out)
            }
            TxInner::Postgres(t) => {
                let meters: Vec<i64> = ranges.iter().map(|r| r.0).collect();
                let los: Vec<i64> = ranges.iter().map(|r| r.1).collect();
                let his: Vec<i64> = ranges.iter().map(|r| r.2).collect();
                let sql = concat!(
                    "SELECT ",
                    daily_cols!("d."),
                    " FROM daily_rollups d JOIN UNNEST($1::BIGINT[], $2::BIGINT[], $3::BIGINT[]) \
                     AS q(meter_id, lo, hi) ON d.meter_id = q.meter_id AND d.day BETWEEN q.lo AND q.hi \
                     ORDER BY d.meter_id, d.day"
                );
                Ok(sqlx::query_as::<_, DailyRow>(sql)
                    .bind(&meters)
                    .bind(&los)
                    .bind(&his)
                    .fetch_all(&mut **t)
                    .await?)
            }
        }
    }

    pub async fn put_weeklies(&mut self, rows: &[WeeklyRow]) -> StoreResult<()> {
        if rows.is_empty() {
            return Ok(());
        }
        let cols = "meter_id, week, count, sum, min, max, first, last, first_ts, last_ts, usage";
        match &mut self.inner {
            TxInner::Sqlite(t) => {
                let sql = format!(
                    "INSERT INTO weekly_rollups ({cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11){WEEKLY_UPSERT_TAIL}"
                );
                for w in rows {
                    sqlx::query(&sql)
                        .bind(w.meter_id)
                        .bind(w.week)
                        .bind(w.count)
                        .bind(w.sum)
                        .bind(w.min)
                        .bind(w.max)
                        .bind(w.first)
                        .bind(w.last)
                        .bind(w.first_ts)
                        .bind(w.last_ts)
                        .bind(w.usage)
                        .execute(&mut **t)
                        .await?;
                }
            }
            TxInner::Postgres(t) => {
                let col = |f: fn(&WeeklyRow) -> i64| rows.iter().map(f).collect::<Vec<_>>();
                let fcol = |f: fn(&WeeklyRow) -> f64| rows.iter().map(f).collect::<Vec<_>>();
                let sql = format!(
                    "INSERT INTO weekly_rollups ({cols}) SELECT * FROM UNNEST($1::BIGINT[], $2::BIGINT[], \
                     $3::BIGINT[], $4::FLOAT8[], $5::FLOAT8[], $6::FLOAT8[], $7::FLOAT8[], $8::FLOAT8[], \
                     $9::BIGINT[], $10::BIGINT[], $11::FLOAT8[]){WEEKLY_UPSERT_TAIL}"
                );
                sqlx::query(&sql)
                    .bind(col(|w| w.meter_id))
                    .bind(col(|w| w.week))
                    .bind(col(|w| w.count))
                    .bind(fcol(|w| w.sum))
                    .bind(fcol(|w| w.min))
                    .bind(fcol(|w| w.max))
                    .bind(fcol(|w| w.first))
                    .bind(fcol(|w| w.last))
                    .bind(col(|w| w.first_ts))
                    .bind(col(|w| w.last_ts))
                    .bind(rows.iter().map(|w| w.usage).collect::<Vec<_>>())
                    .execute(&mut **t)
                    .await?;
            }
        }
        Ok(())
    }
}
