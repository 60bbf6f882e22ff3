//! Daily rollups (local days, with the quota summary of each day) and weekly rollups.

use super::{
    Db, StoreResult, Tx,
    shares::{meters_for_user_1, visible_to_user_1},
    with_pool, with_tx,
};
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

/// The quota columns of one local day of one meter: where it ended and what it used
/// against its budget (the notification rules read nothing else).
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct QuotaDayRow {
    pub meter_id: i64,
    pub day: i64,
    pub last: f64,
    pub last_ts: i64,
    pub last_remaining: Option<f64>,
    pub usage: Option<f64>,
    pub budget: Option<f64>,
}

/// `stats()` for a rollup row: the bucket's statistics, from the columns every tier
/// keeps alike (days and weeks differ only in their key and quota columns).
macro_rules! stats_of_row {
    ($row:ty) => {
        impl $row {
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
    };
}
stats_of_row!(DailyRow);
stats_of_row!(WeeklyRow);

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

/// Which days of a stretch of [`VERDICT_CHUNK_DAYS`] stayed within budget and which went
/// over, as bit masks (bit `i` is day `chunk * VERDICT_CHUNK_DAYS + i`): a year of
/// verdicts for streaks in a handful of rows. Days in neither mask had no verdict.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct VerdictChunkRow {
    pub meter_id: i64,
    pub chunk: i64,
    pub within_bits: i64,
    pub over_bits: i64,
}

/// Days per verdict chunk: as many as fit below the sign bit of an `i64`.
pub const VERDICT_CHUNK_DAYS: i64 = 62;

/// The bits of chunk `chunk` that are days within `from..=to`.
fn days_mask(chunk: i64, from: i64, to: i64) -> i64 {
    let first = chunk * VERDICT_CHUNK_DAYS;
    let low = (from - first).clamp(0, VERDICT_CHUNK_DAYS);
    let high = (to - first + 1).clamp(0, VERDICT_CHUNK_DAYS);
    if low >= high {
        return 0;
    }
    // Both at most 62: the shifts stay below the sign bit.
    let below = |n: i64| (1i64 << n) - 1;
    below(high) & !below(low)
}

/// The active quota meters user `$1` sees (their own and those shared with them), as a
/// subquery: one round trip serves all of them.
macro_rules! visible_quota_meters {
    () => {
        concat!(
            "SELECT m.id",
            meters_for_user_1!(),
            "WHERE m.kind = 'quota' AND m.archived_at IS NULL AND ",
            visible_to_user_1!()
        )
    };
}

macro_rules! daily_columns {
    () => {
        "meter_id, day, count, sum, min, max, first, last, first_ts, last_ts, last_remaining, \
         usage, budget, pace"
    };
}

impl Tx {
    /// Forgets a meter's daily and weekly rollups (before rebuilding them).
    pub async fn clear_local_rollups(&mut self, meter_id: i64) -> StoreResult<()> {
        with_tx!(self, conn => {
            sqlx::query("DELETE FROM daily_rollups WHERE meter_id = $1").bind(meter_id).execute(&mut *conn).await?;
            sqlx::query("DELETE FROM weekly_rollups WHERE meter_id = $1").bind(meter_id).execute(&mut *conn).await?;
        });
        Ok(())
    }
}

impl Db {
    /// The verdicts of days `from..=to` of every active quota meter `user_id` sees, by
    /// meter then chunk, from `verdict_chunks` (kept summed from the daily rows by the
    /// migration's triggers; the verdict mirrors `DayRecord::within_budget`, tolerance
    /// included). A few rows a year, where summing the daily rows read one per day: on
    /// PostgreSQL that was the slowest of the outlook's reads. Days of the first and last
    /// chunk outside `from..=to` are masked out.
    pub async fn visible_verdicts(
        &self,
        user_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<VerdictChunkRow>> {
        let sql = concat!(
            "SELECT meter_id, chunk, within_bits, over_bits FROM verdict_chunks WHERE meter_id IN (",
            visible_quota_meters!(),
            ") AND chunk BETWEEN $2 AND $3 ORDER BY meter_id, chunk"
        );
        let mut rows = with_pool!(self, pool => sqlx::query_as::<_, VerdictChunkRow>(sql)
            .bind(user_id)
            .bind(from.div_euclid(VERDICT_CHUNK_DAYS))
            .bind(to.div_euclid(VERDICT_CHUNK_DAYS))
            .fetch_all(pool)
            .await?);
        for row in &mut rows {
            let keep = days_mask(row.chunk, from, to);
            row.within_bits &= keep;
            row.over_bits &= keep;
        }
        rows.retain(|r| r.within_bits != 0 || r.over_bits != 0);
        Ok(rows)
    }

    /// Full daily rows of every active quota meter `user_id` sees for local days
    /// `from..=to`, by meter then day.
    pub async fn visible_daily_rollups(
        &self,
        user_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<DailyRow>> {
        let sql = concat!(
            "SELECT ",
            daily_columns!(),
            " FROM daily_rollups WHERE meter_id IN (",
            visible_quota_meters!(),
            ") AND day BETWEEN $2 AND $3 ORDER BY meter_id, day"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, DailyRow>(sql)
            .bind(user_id)
            .bind(from)
            .bind(to)
            .fetch_all(pool)
            .await?))
    }

    /// The quota columns of the daily rows of each of `meter_ids` for local days
    /// `from..=to`, by meter then day: the scheduler's rule pass reads a page of meters
    /// at once. Only these columns, because sqlx's SQLite driver copies every value it
    /// returns: the full rows made the pass twice as slow.
    pub async fn quota_days_of(
        &self,
        meter_ids: &[i64],
        from: i64,
        to: i64,
    ) -> StoreResult<Vec<QuotaDayRow>> {
        let mut out = Vec::new();
        for chunk in meter_ids.chunks(1000) {
            let rows: Vec<QuotaDayRow> = with_pool!(self, pool => {
                let mut q = sqlx::QueryBuilder::new(
                    "SELECT meter_id, day, last, last_ts, last_remaining, usage, budget \
                     FROM daily_rollups WHERE day BETWEEN ",
                );
                q.push_bind(from).push(" AND ").push_bind(to).push(" AND meter_id IN (");
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_as::<QuotaDayRow>().fetch_all(pool).await?
            });
            out.extend(rows);
        }
        out.sort_unstable_by_key(|r| (r.meter_id, r.day));
        Ok(out)
    }

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

/// A meter that might belong to a peer, with its latest end-of-day pace.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PeerCandidate {
    pub owner_id: i64,
    /// The owner's household: a household counts once, however many members it has.
    pub household_id: Option<i64>,
    pub unit: String,
    pub quota: f64,
    pub pace: Option<f64>,
}

impl Db {
    /// The latest end-of-day pace of a quota meter.
    pub async fn latest_pace(&self, meter_id: i64) -> StoreResult<Option<f64>> {
        Ok(
            with_pool!(self, pool => sqlx::query_scalar::<_, Option<f64>>(
            "SELECT pace FROM daily_rollups WHERE meter_id = $1 ORDER BY day DESC LIMIT 1")
            .bind(meter_id)
            .fetch_optional(pool)
            .await?)
            .flatten(),
        )
    }

    /// Other users' active quota meters in `location` with `unit` and a quota in
    /// `[low, high]`, with their latest pace.
    pub async fn peer_candidates(
        &self,
        user_id: i64,
        location: &str,
        unit: &str,
        low: f64,
        high: f64,
    ) -> StoreResult<Vec<PeerCandidate>> {
        let sql = "SELECT m.owner_id, u.household_id, m.unit, m.quota, \
                   (SELECT d.pace FROM daily_rollups d WHERE d.meter_id = m.id ORDER BY d.day DESC LIMIT 1) AS pace \
                   FROM meters m JOIN users u ON u.id = m.owner_id \
                   WHERE m.kind = 'quota' AND m.archived_at IS NULL AND u.disabled_at IS NULL \
                   AND u.id <> $1 AND lower(u.location) = lower($2) AND lower(m.unit) = lower($3) \
                   AND NOT EXISTS (SELECT 1 FROM users me WHERE me.id = $1 \
                                   AND me.household_id = u.household_id) \
                   AND m.quota BETWEEN $4 AND $5 ORDER BY m.owner_id, m.position, m.id";
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, PeerCandidate>(sql)
            .bind(user_id)
            .bind(location)
            .bind(unit)
            .bind(low)
            .bind(high)
            .fetch_all(pool)
            .await?),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_mask_keeps_the_days_of_a_chunk_within_the_range() {
        let chunk = 330;
        let first = chunk * VERDICT_CHUNK_DAYS;
        let all = (1i64 << VERDICT_CHUNK_DAYS) - 1;
        assert_eq!(days_mask(chunk, first - 100, first + 100), all);
        assert_eq!(days_mask(chunk, first, first + 61), all);
        assert_eq!(days_mask(chunk, first + 2, first + 100), all & !0b11);
        assert_eq!(days_mask(chunk, first - 5, first + 2), 0b111);
        assert_eq!(days_mask(chunk, first + 3, first + 3), 0b1000);
        assert_eq!(days_mask(chunk, first + 61, first + 61), 1 << 61);
        assert_eq!(days_mask(chunk, first + 62, first + 100), 0);
        assert_eq!(days_mask(chunk, first - 10, first - 1), 0);
    }
}
