//! The performance center's tables: thresholds (one JSON row), alerts, and the per-minute
//! history kept for 7 days.

use serde::Serialize;

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct AlertRow {
    pub id: i64,
    pub metric: String,
    pub severity: String,
    pub message: String,
    pub value: f64,
    pub threshold: f64,
    pub ratio: f64,
    pub raised_at: i64,
    pub updated_at: i64,
    pub acknowledged_at: Option<i64>,
    pub acknowledged_by: Option<String>,
    pub resolved_at: Option<i64>,
    pub resolved_by: Option<String>,
}

pub struct NewAlert<'a> {
    pub metric: &'a str,
    pub severity: &'a str,
    pub message: &'a str,
    pub value: f64,
    pub threshold: f64,
    pub ratio: f64,
    pub at: i64,
}

#[derive(Debug, Clone, Default, Serialize, sqlx::FromRow)]
pub struct HistoryRow {
    pub ts: i64,
    pub instance: String,
    pub requests: i64,
    pub errors: i64,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub queries: i64,
    pub query_p95_ms: Option<f64>,
    pub slow_queries: i64,
    pub cache_hits: i64,
    pub cache_misses: i64,
    pub rss_mb: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub disk_free_mb: Option<f64>,
    pub db_connections: i64,
    pub score: i64,
}

const ALERT_COLUMNS: &str = "id, metric, severity, message, value, threshold, ratio, raised_at, updated_at, \
     acknowledged_at, acknowledged_by, resolved_at, resolved_by";

impl Db {
    pub async fn perf_thresholds(&self) -> StoreResult<Option<String>> {
        let body: Option<String> = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT body FROM perf_thresholds WHERE id = 1")
                .fetch_optional(pool)
                .await?
        });
        Ok(body)
    }

    pub async fn save_perf_thresholds(&self, body: &str, now: i64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO perf_thresholds (id, body, updated_at) VALUES (1, $1, $2) \
                 ON CONFLICT (id) DO UPDATE SET body = excluded.body, updated_at = excluded.updated_at",
            )
            .bind(body)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    pub async fn insert_perf_alert(&self, a: &NewAlert<'_>) -> StoreResult<i64> {
        let id: i64 = with_pool!(self, pool => {
            sqlx::query_scalar(
                "INSERT INTO perf_alerts (metric, severity, message, value, threshold, ratio, raised_at, updated_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $7) RETURNING id",
            )
            .bind(a.metric)
            .bind(a.severity)
            .bind(a.message)
            .bind(a.value)
            .bind(a.threshold)
            .bind(a.ratio)
            .bind(a.at)
            .fetch_one(pool)
            .await?
        });
        Ok(id)
    }

    pub async fn update_perf_alert(
        &self,
        id: i64,
        severity: &str,
        message: &str,
        value: f64,
        ratio: f64,
        now: i64,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE perf_alerts SET severity = $2, message = $3, value = $4, ratio = $5, updated_at = $6 \
                 WHERE id = $1 AND resolved_at IS NULL",
            )
            .bind(id)
            .bind(severity)
            .bind(message)
            .bind(value)
            .bind(ratio)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Resolves an open alert; `false` when there is no such open alert.
    pub async fn resolve_perf_alert(&self, id: i64, by: &str, now: i64) -> StoreResult<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE perf_alerts SET resolved_at = $2, resolved_by = $3, updated_at = $2 \
                 WHERE id = $1 AND resolved_at IS NULL",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    /// Acknowledges an alert (it stays open); `false` when there is no such alert.
    pub async fn acknowledge_perf_alert(&self, id: i64, by: &str, now: i64) -> StoreResult<bool> {
        let n = with_pool!(self, pool => {
            sqlx::query(
                "UPDATE perf_alerts SET acknowledged_at = COALESCE(acknowledged_at, $2), \
                 acknowledged_by = COALESCE(acknowledged_by, $3) WHERE id = $1",
            )
            .bind(id)
            .bind(now)
            .bind(by)
            .execute(pool)
            .await?
            .rows_affected()
        });
        Ok(n == 1)
    }

    pub async fn perf_alert(&self, id: i64) -> StoreResult<Option<AlertRow>> {
        let sql = format!("SELECT {ALERT_COLUMNS} FROM perf_alerts WHERE id = $1");
        let row = with_pool!(self, pool => {
            sqlx::query_as::<_, AlertRow>(&sql).bind(id).fetch_optional(pool).await?
        });
        Ok(row)
    }

    /// Alerts, newest first: open ones (`Some(false)`), resolved ones (`Some(true)`) or all.
    pub async fn perf_alerts(
        &self,
        resolved: Option<bool>,
        limit: i64,
    ) -> StoreResult<Vec<AlertRow>> {
        let filter = match resolved {
            Some(true) => "WHERE resolved_at IS NOT NULL",
            Some(false) => "WHERE resolved_at IS NULL",
            None => "",
        };
        let sql =
            format!("SELECT {ALERT_COLUMNS} FROM perf_alerts {filter} ORDER BY id DESC LIMIT $1");
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, AlertRow>(&sql).bind(limit).fetch_all(pool).await?
        });
        Ok(rows)
    }

    pub async fn insert_perf_history(&self, r: &HistoryRow) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO perf_history (ts, instance, requests, errors, p50_ms, p95_ms, p99_ms, queries, \
                 query_p95_ms, slow_queries, cache_hits, cache_misses, rss_mb, cpu_percent, disk_free_mb, \
                 db_connections, score) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17)",
            )
            .bind(r.ts)
            .bind(&r.instance)
            .bind(r.requests)
            .bind(r.errors)
            .bind(r.p50_ms)
            .bind(r.p95_ms)
            .bind(r.p99_ms)
            .bind(r.queries)
            .bind(r.query_p95_ms)
            .bind(r.slow_queries)
            .bind(r.cache_hits)
            .bind(r.cache_misses)
            .bind(r.rss_mb)
            .bind(r.cpu_percent)
            .bind(r.disk_free_mb)
            .bind(r.db_connections)
            .bind(r.score)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// History rows at or after `since` (Unix seconds), oldest first.
    pub async fn perf_history(&self, since: i64) -> StoreResult<Vec<HistoryRow>> {
        let rows = with_pool!(self, pool => {
            sqlx::query_as::<_, HistoryRow>(
                "SELECT ts, instance, requests, errors, p50_ms, p95_ms, p99_ms, queries, query_p95_ms, \
                 slow_queries, cache_hits, cache_misses, rss_mb, cpu_percent, disk_free_mb, db_connections, score \
                 FROM perf_history WHERE ts >= $1 ORDER BY ts, id LIMIT 50000",
            )
            .bind(since)
            .fetch_all(pool)
            .await?
        });
        Ok(rows)
    }

    pub async fn prune_perf_history(&self, before: i64) -> StoreResult<u64> {
        let n = with_pool!(self, pool => {
            sqlx::query("DELETE FROM perf_history WHERE ts < $1")
                .bind(before)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(n)
    }
}
