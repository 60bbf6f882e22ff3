//! Households: groups of users who may share meters.

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct HouseholdRow {
    pub id: i64,
    pub name: String,
    pub created_at: i64,
    /// How many users are in it.
    pub members: i64,
}

impl Db {
    pub async fn create_household(&self, name: &str, now: i64) -> StoreResult<i64> {
        let sql = "INSERT INTO households (name, created_at) VALUES ($1, $2) RETURNING id";
        Ok(with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(name)
            .bind(now)
            .fetch_one(pool)
            .await?))
    }

    pub async fn households(&self) -> StoreResult<Vec<HouseholdRow>> {
        let sql = "SELECT h.id, h.name, h.created_at, \
                   (SELECT COUNT(*) FROM users u WHERE u.household_id = h.id) AS members \
                   FROM households h ORDER BY h.id";
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, HouseholdRow>(sql)
            .fetch_all(pool)
            .await?),
        )
    }

    pub async fn household_exists(&self, id: i64) -> StoreResult<bool> {
        let sql = "SELECT COUNT(*) FROM households WHERE id = $1";
        let n: i64 = with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(id)
            .fetch_one(pool)
            .await?);
        Ok(n > 0)
    }
}
