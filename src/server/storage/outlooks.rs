//! Precomputed outlooks, and the tips of the day.

use super::{Db, StoreResult, Tx, with_pool, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TipRow {
    pub id: i64,
    pub title: String,
    pub body: String,
    pub active: bool,
    pub updated_at: i64,
}

impl Db {
    /// The stored outlook of `user_id` for local day `day`, unless it went stale.
    pub async fn fresh_outlook(&self, user_id: i64, day: i64) -> StoreResult<Option<String>> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT data FROM outlooks WHERE user_id = $1 AND day = $2 AND NOT stale")
            .bind(user_id)
            .bind(day)
            .fetch_optional(pool)
            .await?))
    }

    /// Keeps a computed outlook as the user's row for `day`. On PostgreSQL the table is
    /// unlogged (its migration 0012): the row is a cache of what the rollups give, so the
    /// write waits for no WAL flush and a crash costs one computation per user.
    pub async fn put_outlook(
        &self,
        user_id: i64,
        day: i64,
        computed_at: i64,
        data: &str,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
            "INSERT INTO outlooks (user_id, day, computed_at, stale, data) VALUES ($1, $2, $3, FALSE, $4) \
             ON CONFLICT (user_id, day) DO UPDATE SET computed_at = excluded.computed_at, \
             stale = FALSE, data = excluded.data")
            .bind(user_id)
            .bind(day)
            .bind(computed_at)
            .bind(data)
            .execute(pool)
            .await?;
        });
        Ok(())
    }

    /// Which of `user_ids` have a fresh outlook for local day `day`.
    pub async fn users_with_fresh_outlook(&self, day: i64) -> StoreResult<Vec<i64>> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT user_id FROM outlooks WHERE day = $1 AND NOT stale")
            .bind(day)
            .fetch_all(pool)
            .await?))
    }

    /// Marks every stored outlook of these users stale (what they see changed).
    pub async fn stale_outlooks_of(&self, user_ids: &[i64]) -> StoreResult<()> {
        for id in user_ids {
            with_pool!(self, pool => {
                sqlx::query("UPDATE outlooks SET stale = TRUE WHERE user_id = $1 AND NOT stale")
                    .bind(id)
                    .execute(pool)
                    .await?;
            });
        }
        Ok(())
    }

    /// Marks every stored outlook stale (e.g. the tips changed).
    pub async fn stale_all_outlooks(&self) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE outlooks SET stale = TRUE WHERE NOT stale").execute(pool).await?;
        });
        Ok(())
    }

    /// Deletes outlooks of local days before `day`.
    pub async fn delete_outlooks_before(&self, day: i64) -> StoreResult<u64> {
        Ok(
            with_pool!(self, pool => sqlx::query("DELETE FROM outlooks WHERE day < $1")
            .bind(day)
            .execute(pool)
            .await?
            .rows_affected()),
        )
    }

    /// Tips, active first, then by id.
    pub async fn tips(&self) -> StoreResult<Vec<TipRow>> {
        Ok(with_pool!(self, pool => sqlx::query_as::<_, TipRow>(
            "SELECT id, title, body, active, updated_at FROM content_templates WHERE kind = 'tip' \
             ORDER BY active DESC, id")
            .fetch_all(pool)
            .await?))
    }

    pub async fn create_tip(&self, title: &str, body: &str, now: i64) -> StoreResult<i64> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "INSERT INTO content_templates (kind, title, body, active, created_at, updated_at) \
             VALUES ('tip', $1, $2, TRUE, $3, $3) RETURNING id")
            .bind(title)
            .bind(body)
            .bind(now)
            .fetch_one(pool)
            .await?))
    }

    /// Changes a tip; `false` when there is no such tip.
    pub async fn update_tip(
        &self,
        id: i64,
        title: &str,
        body: &str,
        active: bool,
        now: i64,
    ) -> StoreResult<bool> {
        let n = with_pool!(self, pool => sqlx::query(
            "UPDATE content_templates SET title = $1, body = $2, active = $3, updated_at = $4 \
             WHERE id = $5 AND kind = 'tip'")
            .bind(title)
            .bind(body)
            .bind(active)
            .bind(now)
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n == 1)
    }
}

impl Tx {
    /// Marks the outlooks of these users stale, inside a write.
    pub async fn stale_outlooks(&mut self, user_ids: &[i64]) -> StoreResult<()> {
        for id in user_ids {
            with_tx!(self, conn => {
                sqlx::query("UPDATE outlooks SET stale = TRUE WHERE user_id = $1 AND NOT stale")
                    .bind(id)
                    .execute(conn)
                    .await?;
            });
        }
        Ok(())
    }
}
