//! Web Push subscriptions: the devices each user asked to be notified on.

use super::{Db, StoreResult, with_pool, with_tx};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PushSubscriptionRow {
    pub id: i64,
    pub user_id: i64,
    pub endpoint: String,
    pub p256dh: String,
    pub auth: String,
    pub created_at: i64,
}

impl Db {
    /// The user's subscriptions, newest first.
    pub async fn push_subscriptions(&self, user_id: i64) -> StoreResult<Vec<PushSubscriptionRow>> {
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, PushSubscriptionRow>(
            "SELECT id, user_id, endpoint, p256dh, auth, created_at FROM push_subscriptions \
             WHERE user_id = $1 ORDER BY created_at DESC, id DESC")
            .bind(user_id)
            .fetch_all(pool)
            .await?),
        )
    }

    /// Stores a subscription for the user and returns its id. An endpoint seen before
    /// (the same browser subscribing again, perhaps with new keys, or signed in as
    /// someone else now) is updated in place and moves to this user. Beyond `keep` per
    /// user the oldest are removed.
    pub async fn put_push_subscription(
        &self,
        user_id: i64,
        (endpoint, p256dh, auth): (&str, &str, &str),
        now: i64,
        keep: i64,
    ) -> StoreResult<i64> {
        let mut tx = self.begin_write().await?;
        let id = with_tx!(tx, conn => {
            let id = sqlx::query_scalar::<_, i64>(
                "INSERT INTO push_subscriptions (user_id, endpoint, p256dh, auth, created_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (endpoint) DO UPDATE SET \
                 user_id = excluded.user_id, p256dh = excluded.p256dh, auth = excluded.auth, \
                 created_at = excluded.created_at RETURNING id")
                .bind(user_id)
                .bind(endpoint)
                .bind(p256dh)
                .bind(auth)
                .bind(now)
                .fetch_one(&mut *conn)
                .await?;
            sqlx::query(
                "DELETE FROM push_subscriptions WHERE user_id = $1 AND id NOT IN \
                 (SELECT id FROM push_subscriptions WHERE user_id = $1 \
                  ORDER BY created_at DESC, id DESC LIMIT $2)")
                .bind(user_id)
                .bind(keep)
                .execute(&mut *conn)
                .await?;
            id
        });
        tx.commit().await?;
        Ok(id)
    }

    /// Removes one of the user's subscriptions; `false` if it is not theirs.
    pub async fn delete_push_subscription(&self, user_id: i64, id: i64) -> StoreResult<bool> {
        let gone = with_pool!(self, pool => sqlx::query(
            "DELETE FROM push_subscriptions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(gone > 0)
    }

    /// Removes a subscription the push service says is gone (404/410), unless it was
    /// renewed (new keys) since it was read.
    pub async fn remove_gone_push_subscription(&self, id: i64, p256dh: &str) -> StoreResult<bool> {
        let gone = with_pool!(self, pool => sqlx::query(
            "DELETE FROM push_subscriptions WHERE id = $1 AND p256dh = $2")
            .bind(id)
            .bind(p256dh)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(gone > 0)
    }
}
