//! Server-side sessions, keyed by the SHA-256 of the cookie value.

use super::{Db, StoreResult, users::UserRow, with_pool};

/// A live session's user and its end.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    #[sqlx(flatten)]
    pub user: UserRow,
    pub expires_at: i64,
    pub last_seen_at: Option<i64>,
}

/// One of a user's sessions, as its owner sees it in the list.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct DeviceRow {
    pub token_hash: Vec<u8>,
    pub user_agent: String,
    pub created_at: i64,
    pub last_seen_at: Option<i64>,
    pub expires_at: i64,
}

impl Db {
    pub async fn create_session(
        &self,
        token_hash: &[u8],
        user_id: i64,
        now: i64,
        expires_at: i64,
        user_agent: &str,
    ) -> StoreResult<()> {
        let sql = "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, \
                   user_agent, last_seen_at) VALUES ($1, $2, $3, $4, $5, $3)";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(token_hash)
                .bind(user_id)
                .bind(now)
                .bind(expires_at)
                .bind(user_agent)
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
                   u.location, u.timezone, u.created_at, u.disabled_at, u.household_id, s.expires_at, \
                   s.last_seen_at \
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

    /// The live sessions of `user_id`, most recently used first.
    pub async fn sessions_of(&self, user_id: i64, now: i64) -> StoreResult<Vec<DeviceRow>> {
        let sql = "SELECT token_hash, user_agent, created_at, last_seen_at, expires_at \
                   FROM sessions WHERE user_id = $1 AND expires_at > $2 \
                   ORDER BY COALESCE(last_seen_at, created_at) DESC, created_at DESC";
        Ok(with_pool!(self, pool => sqlx::query_as::<_, DeviceRow>(sql)
            .bind(user_id)
            .bind(now)
            .fetch_all(pool)
            .await?))
    }

    /// Deletes every session of `user_id` but `keep` (if given); returns the token hashes
    /// deleted, so their cached copies can be dropped too.
    pub async fn delete_sessions_of(
        &self,
        user_id: i64,
        keep: Option<&[u8]>,
    ) -> StoreResult<Vec<Vec<u8>>> {
        let keep = keep.unwrap_or(&[]);
        let sql = "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2 \
                   RETURNING token_hash";
        Ok(
            with_pool!(self, pool => sqlx::query_scalar::<_, Vec<u8>>(sql)
            .bind(user_id)
            .bind(keep)
            .fetch_all(pool)
            .await?),
        )
    }

    /// The token hashes of every session of `user_id` (to drop their cached copies when
    /// the user changes but the sessions stay).
    pub async fn session_hashes_of(&self, user_id: i64) -> StoreResult<Vec<Vec<u8>>> {
        let sql = "SELECT token_hash FROM sessions WHERE user_id = $1";
        Ok(
            with_pool!(self, pool => sqlx::query_scalar::<_, Vec<u8>>(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await?),
        )
    }

    /// Records that the session was used at `now`, unless that was already recorded less
    /// than a minute ago (by this or another instance): at most one write a minute.
    pub async fn touch_session(&self, token_hash: &[u8], now: i64) -> StoreResult<()> {
        let sql = "UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1 \
                   AND (last_seen_at IS NULL OR last_seen_at <= $2 - 60)";
        with_pool!(self, pool => {
            sqlx::query(sql)
                .bind(token_hash)
                .bind(now)
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
