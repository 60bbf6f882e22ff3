//! Where a meter's readings are collected from, and the log of every attempt.

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct SourceRow {
    pub meter_id: i64,
    pub kind: String,
    pub url: Option<String>,
    /// JSON object of extra request headers.
    pub headers: String,
    pub bearer_token: Option<String>,
    pub used_path: Option<String>,
    pub remaining_path: Option<String>,
    pub quota_path: Option<String>,
    pub scale: f64,
    pub interval_secs: i64,
    pub timeout_secs: i64,
    pub enabled: bool,
    pub next_due_at: i64,
    pub consecutive_failures: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AttemptRow {
    pub meter_id: i64,
    pub started_at: i64,
    pub attempt: i64,
    pub status: String,
    pub response_ms: Option<i64>,
    pub http_status: Option<i64>,
    pub error: Option<String>,
}

macro_rules! source_columns {
    () => {
        "meter_id, kind, url, headers, bearer_token, used_path, remaining_path, quota_path, \
         scale, interval_secs, timeout_secs, enabled, next_due_at, consecutive_failures"
    };
}

impl Db {
    pub async fn source(&self, meter_id: i64) -> StoreResult<Option<SourceRow>> {
        let sql = concat!(
            "SELECT ",
            source_columns!(),
            " FROM meter_sources WHERE meter_id = $1"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, SourceRow>(sql)
            .bind(meter_id)
            .fetch_optional(pool)
            .await?))
    }

    /// Creates or replaces a meter's source; it is due at once.
    pub async fn put_source(&self, s: &SourceRow) -> StoreResult<()> {
        let sql = concat!(
            "INSERT INTO meter_sources (",
            source_columns!(),
            ") VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (meter_id) DO UPDATE SET kind = excluded.kind, url = excluded.url, \
             headers = excluded.headers, bearer_token = excluded.bearer_token, \
             used_path = excluded.used_path, remaining_path = excluded.remaining_path, \
             quota_path = excluded.quota_path, scale = excluded.scale, \
             interval_secs = excluded.interval_secs, timeout_secs = excluded.timeout_secs, \
             enabled = excluded.enabled, next_due_at = excluded.next_due_at, \
             consecutive_failures = excluded.consecutive_failures"
        );
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(s.meter_id)
                .bind(&s.kind)
                .bind(&s.url)
                .bind(&s.headers)
                .bind(&s.bearer_token)
                .bind(&s.used_path)
                .bind(&s.remaining_path)
                .bind(&s.quota_path)
                .bind(s.scale)
                .bind(s.interval_secs)
                .bind(s.timeout_secs)
                .bind(s.enabled)
                .bind(s.next_due_at)
                .bind(s.consecutive_failures)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn delete_source(&self, meter_id: i64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM meter_sources WHERE meter_id = $1").bind(meter_id).execute(pool).await?;
        });
        Ok(())
    }

    /// Enabled sources of active meters that are due at `now`, most overdue first.
    pub async fn due_sources(&self, now: i64, limit: i64) -> StoreResult<Vec<SourceRow>> {
        let sql = "SELECT s.meter_id, s.kind, s.url, s.headers, s.bearer_token, s.used_path, \
                   s.remaining_path, s.quota_path, s.scale, s.interval_secs, s.timeout_secs, \
                   s.enabled, s.next_due_at, s.consecutive_failures \
                   FROM meter_sources s JOIN meters m ON m.id = s.meter_id \
                   WHERE s.enabled AND s.next_due_at <= $1 AND m.archived_at IS NULL \
                   ORDER BY s.next_due_at LIMIT $2";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, SourceRow>(sql)
            .bind(now)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Moves a source's next run on; `failures` is its new count of failures in a row.
    pub async fn reschedule_source(
        &self,
        meter_id: i64,
        next_due_at: i64,
        failures: Option<i64>,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE meter_sources SET next_due_at = $1, \
                 consecutive_failures = COALESCE($2, consecutive_failures) WHERE meter_id = $3")
                .bind(next_due_at)
                .bind(failures)
                .bind(meter_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn record_attempt(&self, a: &AttemptRow) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO collection_attempts (meter_id, started_at, attempt, status, response_ms, \
                 http_status, error) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (meter_id, started_at, attempt) DO NOTHING")
                .bind(a.meter_id)
                .bind(a.started_at)
                .bind(a.attempt)
                .bind(&a.status)
                .bind(a.response_ms)
                .bind(a.http_status)
                .bind(&a.error)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The newest attempts for a meter.
    pub async fn attempts(&self, meter_id: i64, limit: i64) -> StoreResult<Vec<AttemptRow>> {
        Ok(with_pool!(self, pool => sqlx::query_as::<_, AttemptRow>(
            "SELECT meter_id, started_at, attempt, status, response_ms, http_status, error \
             FROM collection_attempts WHERE meter_id = $1 ORDER BY started_at DESC, attempt DESC LIMIT $2")
            .bind(meter_id)
            .bind(limit)
            .fetch_all(pool)
            .await?))
    }

    /// Sets a meter's quota (a source reported a plan change).
    pub async fn set_meter_quota(&self, meter_id: i64, quota: f64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE meters SET quota = $1 WHERE id = $2").bind(quota).bind(meter_id).execute(pool).await?;
        });
        Ok(())
    }
}
