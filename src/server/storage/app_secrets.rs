//! Values the server generates once and keeps (`app_secrets`): the first-run setup code.

use super::{Db, StoreResult, with_pool};

impl Db {
    /// Stores `value` under `name` unless a value is there already, and returns the one
    /// that is: every instance starting on one database ends up with the same value.
    pub async fn app_secret_or_insert(
        &self,
        name: &str,
        value: &str,
        now: i64,
    ) -> StoreResult<String> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO app_secrets (name, value, created_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (name) DO NOTHING",
            )
            .bind(name)
            .bind(value)
            .bind(now)
            .execute(pool)
            .await?;
        });
        Ok(with_pool!(self, pool => sqlx::query_scalar(
                "SELECT value FROM app_secrets WHERE name = $1")
            .bind(name)
            .fetch_one(pool)
            .await?))
    }

    pub async fn app_secret(&self, name: &str) -> StoreResult<Option<String>> {
        Ok(with_pool!(self, pool => sqlx::query_scalar(
                "SELECT value FROM app_secrets WHERE name = $1")
            .bind(name)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn delete_app_secret(&self, name: &str) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM app_secrets WHERE name = $1")
                .bind(name)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Deletes the secret `name` if it holds `value`; true when this call deleted it. A
    /// claim: of two requests with the right value, one gets `true`.
    pub async fn take_app_secret(&self, name: &str, value: &str) -> StoreResult<bool> {
        let done = with_pool!(self, pool => sqlx::query(
                "DELETE FROM app_secrets WHERE name = $1 AND value = $2")
            .bind(name)
            .bind(value)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }
}
