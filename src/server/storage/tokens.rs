//! API tokens: stored as SHA-256 hashes, scoped to the meters they may write.

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub scope: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

macro_rules! token_columns {
    () => {
        "id, user_id, name, prefix, scope, created_at, last_used_at, expires_at, revoked_at"
    };
}

impl Db {
    /// Creates a token of `scope` for `meter_ids`, made `now` and ending at `expires_at`
    /// (if ever); returns its id.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_token(
        &self,
        user_id: i64,
        name: &str,
        token_hash: &[u8],
        prefix: &str,
        scope: &str,
        meter_ids: &[i64],
        (now, expires_at): (i64, Option<i64>),
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id: i64 = super::with_tx!(tx, conn => {
            let id: i64 = sqlx::query_scalar(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, scope, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id")
                .bind(user_id)
                .bind(name)
                .bind(token_hash)
                .bind(prefix)
                .bind(scope)
                .bind(now)
                .bind(expires_at)
                .fetch_one(&mut *conn)
                .await?;
            for meter_id in meter_ids {
                sqlx::query("INSERT INTO api_token_meters (token_id, meter_id) VALUES ($1, $2)")
                    .bind(id)
                    .bind(meter_id)
                    .execute(&mut *conn)
                    .await?;
            }
            id
        });
        tx.commit().await?;
        Ok(id)
    }

    /// The live token with this hash at `now` — not revoked, not expired, its user not
    /// disabled — and the meters it covers.
    pub async fn live_token_by_hash(
        &self,
        token_hash: &[u8],
        now: i64,
    ) -> StoreResult<Option<(TokenRow, Vec<i64>)>> {
        let sql = "SELECT t.id, t.user_id, t.name, t.prefix, t.scope, t.created_at, \
                   t.last_used_at, t.expires_at, t.revoked_at \
                   FROM api_tokens t JOIN users u ON u.id = t.user_id \
                   WHERE t.token_hash = $1 AND t.revoked_at IS NULL \
                   AND (t.expires_at IS NULL OR t.expires_at > $2) AND u.disabled_at IS NULL";
        let Some(token) = with_pool!(self, pool => sqlx::query_as::<_, TokenRow>(sql)
            .bind(token_hash)
            .bind(now)
            .fetch_optional(pool)
            .await?)
        else {
            return Ok(None);
        };
        let meters = self.token_meters(token.id).await?;
        Ok(Some((token, meters)))
    }

    pub async fn token_meters(&self, token_id: i64) -> StoreResult<Vec<i64>> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, i64>(
            "SELECT meter_id FROM api_token_meters WHERE token_id = $1 ORDER BY meter_id")
            .bind(token_id)
            .fetch_all(pool)
            .await?))
    }

    /// A user's tokens, newest first, revoked ones included (they show as revoked).
    pub async fn tokens_of(&self, user_id: i64) -> StoreResult<Vec<TokenRow>> {
        let sql = concat!(
            "SELECT ",
            token_columns!(),
            " FROM api_tokens WHERE user_id = $1 ORDER BY id DESC"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, TokenRow>(sql)
            .bind(user_id)
            .fetch_all(pool)
            .await?))
    }

    /// Revokes a token of `user_id`; `false` when there is no such live token.
    pub async fn revoke_token(&self, user_id: i64, token_id: i64, now: i64) -> StoreResult<bool> {
        let done = with_pool!(self, pool => sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL")
            .bind(now)
            .bind(token_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Records use, at most once a minute per token (a write per request would be waste).
    pub async fn touch_token(&self, token_id: i64, now: i64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2 \
                 AND (last_used_at IS NULL OR last_used_at < $3)")
                .bind(now)
                .bind(token_id)
                .bind(now - 60)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
