//! Daily rollups (local days, with the quota summary of each day) and weekly rollups.

use super::{Db, StoreResult, Tx, with_pool, with_tx};
use crate::domain::rollup::Stats;

/// One local day of one meter.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct DailyRow {
    pub meter_id: i64,
    /// Local date as days since 1970-01-01.
    pub day: i64,
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first: f64,
    pub last: f64,
    pub first_ts: i64,
    pub last_ts: i64,
    pub last_remaining: Option<f64>,
    pub usage: Option<f64>,
    pub budget: Option<f64>,
    pub pace: Option<f64>,
}

impl DailyRow {
    pub fn stats(&self) -> Stats {
        Stats {
            count: u32::try_from(self.count).unwrap_or(u32::MAX),
            sum: self.sum,
            min: self.min,
            max: self.max,
            first: self.first,
            last: self.last,
            first_ts: self.first_ts,
            last_ts: self.last_ts,
        }
    }
}

/// One local week (Monday first) of one meter.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct WeeklyRow {
    pub meter_id: i64,
    /// The Monday, as days since 1970-01-01.
    pub week: i64,
    pub count: i64,
    pub sum: f64,
    pub min: f64,
    pub max: f64,
    pub first: f64,
    pub last: f64,
    pub first_ts: i64,
    pub last_ts: i64,
    pub usage: Option<f64>,
}

macro_rules! daily_columns {
    () => {
        "meter_id, day, count, sum, min, max, first, last, first_ts, last_ts, last_remaining, \
         usage, budget, pace"
    };
}

impl Tx {
    pub async fn put_daily(&mut self, d: &DailyRow) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO daily_rollups (",
            daily_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (meter_id, day) DO UPDATE SET count = excluded.count, \
             sum = excluded.sum, min = excluded.min, max = excluded.max, first = excluded.first, \
             last = excluded.last, first_ts = excluded.first_ts, last_ts = excluded.last_ts, \
             last_remaining = excluded.last_remaining, usage = excluded.usage, \
             budget = excluded.budget, pace = excluded.pace"
        );
        with_tx!(self, conn => {
            sqlx::query(sql)
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
                .execute(conn)
                .await?;
        });
        Ok(())
    }

    /// The newest day of `meter_id` before local day `day` that has readings.
    pub async fn daily_before(&mut self, meter_id: i64, day: i64) -> StoreResult<Option<DailyRow>> {
        let sql = concat!(
            "SELECT ",
            daily_columns!(),
            " FROM daily_rollups WHERE meter_id = $1 AND day < $2 ORDER BY day DESC LIMIT 1"
        );
        Ok(with_tx!(self, conn => sqlx::query_as::<_, DailyRow>(sql)
            .bind(meter_id)
            .bind(day)
            .fetch_optional(conn)
            .await?))
    }

    /// Whether `meter_id` has readings on local day `day`.
    pub async fn has_daily(&mut self, meter_id: i64, day: i64) -> StoreResult<bool> {
        let n: i64 = with_tx!(self, conn => sqlx::query_scalar(
            "SELECT COUNT(*) FROM daily_rollups WHERE meter_id = $1 AND day = $2")
            .bind(meter_id)
            .bind(day)
            .fetch_one(conn)
            .await?);
        Ok(n > 0)
    }

    /// Forgets a meter's daily and weekly rollups (before rebuilding them).
    pub async fn clear_local_rollups(&mut self, meter_id: i64) -> StoreResult<()> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM daily_rollups WHERE meter_id = $1").bind(meter_id).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM weekly_rollups WHERE meter_id = $1").bind(meter_id).execute(&mut *conn).await?;
        });
        Ok(())
    }

    /// Recomputes the week starting on local day `monday` from its daily rows.
    pub async fn refresh_week(&mut self, meter_id: i64, monday: i64) -> StoreResult<()> {
        let sql = concat!(
            "SELECT ",
            daily_columns!(),
            " FROM daily_rollups WHERE meter_id = $1 AND day >= $2 AND day < $3 ORDER BY day"
        );
        let days: Vec<DailyRow> = with_tx!(self, conn => sqlx::query_as::<_, DailyRow>(sql)
            .bind(meter_id)
            .bind(monday)
            .bind(monday + 7)
            .fetch_all(conn)
            .await?);
        let Some(stats) = days.iter().map(DailyRow::stats).reduce(Stats::merge) else {
            return Ok(());
        };
        let usage = days
            .iter()
            .map(|d| d.usage)
            .try_fold(0.0, |acc, u| u.map(|u| acc + u));
        with_tx!(self, conn => {
            sqlx::query(
                "INSERT INTO weekly_rollups (meter_id, week, count, sum, min, max, first, last, \
                 first_ts, last_ts, usage) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
                 ON CONFLICT (meter_id, week) DO UPDATE SET count = excluded.count, \
                 sum = excluded.sum, min = excluded.min, max = excluded.max, \
                 first = excluded.first, last = excluded.last, first_ts = excluded.first_ts, \
                 last_ts = excluded.last_ts, usage = excluded.usage",
            )
            .bind(meter_id)
            .bind(monday)
            .bind(i64::from(stats.count))
            .bind(stats.sum)
            .bind(stats.min)
            .bind(stats.max)
            .bind(stats.first)
            .bind(stats.last)
            .bind(stats.first_ts)
            .bind(stats.last_ts)
            .bind(usage)
            .execute(conn)
            .await?;
        });
        Ok(())
    }
}

impl Db {
    /// Daily rows of `meter_id` for local days `from..=to`, oldest first.
    pub async fn daily_rollups(
        &self,
        meter_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<DailyRow>> {
        let sql = concat!(
            "SELECT ",
            daily_columns!(),
            " FROM daily_rollups WHERE meter_id = $1 AND day BETWEEN $2 AND $3 ORDER BY day"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, DailyRow>(sql)
            .bind(meter_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?))
    }

    /// The newest day with readings at or before local day `day`.
    pub async fn latest_daily_at_or_before(
        &self,
        meter_id: i64,
        day: i64,
    ) -> StoreResult<Option<DailyRow>> {
        let sql = concat!(
            "SELECT ",
            daily_columns!(),
            " FROM daily_rollups WHERE meter_id = $1 AND day <= $2 ORDER BY day DESC LIMIT 1"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, DailyRow>(sql)
            .bind(meter_id)
            .bind(day)
            .fetch_optional(pool)
            .await?))
    }

    /// Weekly rows of `meter_id` whose Monday is in `from..=to`, oldest first.
    pub async fn weekly_rollups(
        &self,
        meter_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<WeeklyRow>> {
        Ok(with_pool!(self, pool => sqlx::query_as::<_, WeeklyRow>(
            "SELECT meter_id, week, count, sum, min, max, first, last, first_ts, last_ts, usage \
             FROM weekly_rollups WHERE meter_id = $1 AND week BETWEEN $2 AND $3 ORDER BY week")
            .bind(meter_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?))
    }
}
