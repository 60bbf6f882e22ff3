//! A lease in the database that names the one instance running scheduled work.

use super::{Db, StoreResult, with_pool};

impl Db {
    /// Takes or renews lease `name` for `holder` until `expires_at`; `true` if `holder` now
    /// holds it. Someone else's lease is taken only once it has expired.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: i64,
        expires_at: i64,
    ) -> StoreResult<bool> {
        let sql = "INSERT INTO leases (name, holder, expires_at) VALUES ($1, $2, $3) \
                   ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                   expires_at = excluded.expires_at \
                   WHERE leases.holder = excluded.holder OR leases.expires_at < $4";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(name)
            .bind(holder)
            .bind(expires_at)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(done == 1)
    }

    /// Gives the lease up (on shutdown), so another instance can take over at once.
    pub async fn release_lease(&self, name: &str, holder: &str) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("DELETE FROM leases WHERE name = $1 AND holder = $2")
                .bind(name)
                .bind(holder)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Who holds lease `name` now, if anyone.
    pub async fn lease_holder(&self, name: &str, now: i64) -> StoreResult<Option<String>> {
        Ok(with_pool!(self, pool => sqlx::query_scalar::<_, String>(
            "SELECT holder FROM leases WHERE name = $1 AND expires_at >= $2")
            .bind(name)
            .bind(now)
            .fetch_optional(pool)
            .await?))
    }
}
