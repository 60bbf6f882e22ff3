//! Readings: `(meter, instant, value)`, unique per meter and instant.

use sqlx::QueryBuilder;

use super::{Db, StoreResult, with_pool};

/// One reading as stored. `remaining` is kept only when the source reported it.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct ReadingRow {
    pub meter_id: i64,
    pub ts: i64,
    pub value: f64,
    pub remaining: Option<f64>,
}

/// A reading without its meter, as range queries return it.
#[derive(Debug, Clone, Copy, PartialEq, sqlx::FromRow)]
pub struct Sample {
    pub ts: i64,
    pub value: f64,
    pub remaining: Option<f64>,
}

/// Rows per INSERT statement: 4 binds each stays far below both backends' bind limits
/// (SQLite 32 766, PostgreSQL 65 535) while amortising the statement overhead.
const ROWS_PER_STATEMENT: usize = 1000;

impl Db {
    /// Stores readings in one transaction. Re-sending a reading for the same meter and
    /// instant replaces it instead of duplicating it, so retries are safe.
    pub async fn upsert_readings(&self, rows: &[ReadingRow]) -> StoreResult<u64> {
        let mut written = 0;
        with_pool!(self, pool => {
            let mut tx = pool.begin().await?;
            for chunk in rows.chunks(ROWS_PER_STATEMENT) {
                let mut q = QueryBuilder::new("INSERT INTO readings (meter_id, ts, value, remaining) ");
                q.push_values(chunk, |mut b, r| {
                    b.push_bind(r.meter_id)
                        .push_bind(r.ts)
                        .push_bind(r.value)
                        .push_bind(r.remaining);
                });
                q.push(
                    " ON CONFLICT (meter_id, ts) DO UPDATE \
                     SET value = excluded.value, remaining = excluded.remaining",
                );
                written += q.build().execute(&mut *tx).await?.rows_affected();
            }
            tx.commit().await?;
        });
        Ok(written)
    }

    /// The newest reading of `meter_id` in `[from, to]` (Unix seconds).
    pub async fn latest_reading_between(
        &self,
        meter_id: i64,
        from: i64,
        to: i64,
    ) -> StoreResult<Option<Sample>> {
        let sql = "SELECT ts, value, remaining FROM readings \
                   WHERE meter_id = $1 AND ts >= $2 AND ts <= $3 ORDER BY ts DESC LIMIT 1";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, Sample>(sql)
            .bind(meter_id)
            .bind(from)
            .bind(to)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn count_readings(&self, meter_id: i64) -> StoreResult<i64> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM readings WHERE meter_id = $1")
            .bind(meter_id)
            .fetch_one(pool)
            .await?))
    }
}
