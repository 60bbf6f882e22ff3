//! Deleting old data in small batches, each its own short transaction, so ingest and
//! readers never wait long behind retention. On PostgreSQL whole old month partitions are
//! dropped instead of emptied row by row.

use std::time::{Duration, Instant};

use super::{Db, Pool, StoreResult, partitions, with_tx};

/// Rows per delete batch: small enough that one batch takes milliseconds.
pub const BATCH: i64 = 500;

/// What one batch did and how long it held its locks.
#[derive(Debug, Clone, Copy)]
pub struct Batch {
    pub rows: u64,
    pub took: Duration,
}

impl Db {
    /// Deletes up to [`BATCH`] rows of a block table (`reading_blocks`, `rollup_blocks`)
    /// older than UTC day `before`.
    pub async fn delete_blocks_batch(
        &self,
        table: &'static str,
        before: i64,
    ) -> StoreResult<Batch> {
        let sql = match self.pool {
            Pool::Sqlite(_) => format!(
                "DELETE FROM {table} WHERE id IN (SELECT id FROM {table} WHERE day < $1 LIMIT $2)"
            ),
            Pool::Postgres(_) => format!(
                "DELETE FROM {table} WHERE (meter_id, day) IN \
                 (SELECT meter_id, day FROM {table} WHERE day < $1 LIMIT $2)"
            ),
        };
        self.batch(&sql, before).await
    }

    /// Deletes up to [`BATCH`] collection attempts that started before `before`.
    pub async fn delete_attempts_batch(&self, before: i64) -> StoreResult<Batch> {
        let sql = "DELETE FROM collection_attempts WHERE (meter_id, started_at, attempt) IN \
                   (SELECT meter_id, started_at, attempt FROM collection_attempts \
                   WHERE started_at < $1 LIMIT $2)";
        self.batch(sql, before).await
    }

    async fn batch(&self, sql: &str, before: i64) -> StoreResult<Batch> {
        let mut tx = self.begin_write().await?;
        let started = Instant::now();
        let rows = with_tx!(tx, conn => sqlx::query(sql)
            .bind(before)
            .bind(BATCH)
            .execute(conn)
            .await?
            .rows_affected());
        tx.commit().await?;
        Ok(Batch {
            rows,
            took: started.elapsed(),
        })
    }

    /// PostgreSQL: drops the partitions of `table` that end on or before UTC day `before`;
    /// returns their names. Nothing to do on SQLite.
    pub async fn drop_partitions_before(
        &self,
        table: &'static str,
        before: i64,
    ) -> StoreResult<Vec<String>> {
        let Pool::Postgres(pool) = &self.pool else {
            return Ok(Vec::new());
        };
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT c.relname::TEXT FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid \
             JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = $1 ORDER BY 1",
        )
        .bind(table)
        .fetch_all(pool)
        .await?;
        let mut dropped = Vec::new();
        for name in names {
            let Some(end) = partitions::partition_end_day(table, &name) else {
                continue;
            };
            if end <= before {
                sqlx::query(&format!("DROP TABLE IF EXISTS {name}"))
                    .execute(pool)
                    .await?;
                dropped.push(name);
            }
        }
        if !dropped.is_empty() {
            self.forget_partitions();
        }
        Ok(dropped)
    }
}
