//! The cache epoch: how out-of-process writers tell servers to drop in-process copies.

use super::{Db, StoreResult, with_pool};

impl Db {
    pub async fn cache_epoch(&self) -> StoreResult<i64> {
        let epoch: i64 = with_pool!(self, pool => {
            sqlx::query_scalar("SELECT epoch FROM cache_epoch WHERE id = 1")
                .fetch_one(pool)
                .await?
        });
        Ok(epoch)
    }

    pub async fn bump_cache_epoch(&self) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE cache_epoch SET epoch = epoch + 1 WHERE id = 1")
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
