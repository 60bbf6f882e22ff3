//! Server-side sessions, keyed by the SHA-256 of the cookie value.

use super::{Db, StoreResult, users::UserRow, with_pool};

/// A live session's user and its end.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub expires_at: i64,
}

impl Db {
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) \
                   VALUES ($1, $2, $3, $4)";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(token_hash)
                .bind(user_id)
                .bind(now)
                .bind(expires_at)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// The active (unexpired, not disabled) user behind a session, and when the session
    /// ends.
    pub async fn session_user(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<SessionRow>> {
        let sql = "SELECT u.id, u.email, u.display_name, u.password_hash, u.role, u.plan_tier, \
                   u.location, u.timezone, u.created_at, u.disabled_at, u.household_id, s.expires_at \
                   FROM sessions s JOIN users u ON u.id = s.user_id \
                   WHERE s.token_hash = $1 AND s.expires_at > $2 AND u.disabled_at IS NULL";
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, SessionRow>(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?),
        )
    }

    pub async fn delete_session(&self, token_hash: &[u8]) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
                .bind(token_hash)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Removes sessions that ended before `now`; returns how many.
    pub async fn delete_expired_sessions(&self, now: i64) -> StoreResult<u64> {
        let done = with_pool!(self, pool => sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done)
    }
}
