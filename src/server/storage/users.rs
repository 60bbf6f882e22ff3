//! Accounts: who can sign in, with which role, plan tier, location and timezone.

use super::{Db, StoreError, StoreResult, with_pool};

/// A user as stored, password hash included; never sent to a client as is.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: String,
    pub plan_tier: String,
    pub location: String,
    pub timezone: String,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
    /// The household the user belongs to, if any (a user is in at most one).
    pub household_id: Option<i64>,
}

/// What it takes to create an account.
#[derive(Debug, Clone)]
pub struct NewUser<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password_hash: &'a str,
    pub role: &'a str,
    pub plan_tier: &'a str,
    pub location: &'a str,
    pub timezone: &'a str,
    pub created_at: i64,
}

/// The columns of [`UserRow`], as a literal so queries can be built with `concat!`.
macro_rules! user_columns {
    () => {
        "id, email, display_name, password_hash, role, plan_tier, location, timezone, \
         created_at, disabled_at, household_id"
    };
}

impl Db {
    pub async fn create_user(&self, u: &NewUser<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO users (email, display_name, password_hash, role, plan_tier, \
                   location, timezone, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                   RETURNING id";
        let id: i64 = with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(u.email.to_lowercase())
            .bind(u.display_name)
            .bind(u.password_hash)
            .bind(u.role)
            .bind(u.plan_tier)
            .bind(u.location)
            .bind(u.timezone)
            .bind(u.created_at)
            .fetch_one(pool)
            .await)
        .map_err(|e| StoreError::conflict_on(e, "email"))?;
        Ok(id)
    }

    pub async fn user_by_email(&self, email: &str) -> StoreResult<Option<UserRow>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE email = $1");
        let email = email.trim().to_lowercase();
        Ok(with_pool!(self, pool => sqlx::query_as::<_, UserRow>(sql)
            .bind(email)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn user_by_id(&self, id: i64) -> StoreResult<Option<UserRow>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
        Ok(with_pool!(self, pool => sqlx::query_as::<_, UserRow>(sql)
            .bind(id)
            .fetch_optional(pool)
            .await?))
    }

    pub async fn all_users(&self) -> StoreResult<Vec<UserRow>> {
        let sql = concat!("SELECT ", user_columns!(), " FROM users ORDER BY id");
        Ok(with_pool!(self, pool => sqlx::query_as::<_, UserRow>(sql).fetch_all(pool).await?))
    }

    pub async fn count_users(&self) -> StoreResult<i64> {
        Ok(
            with_pool!(self, pool => sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM users")
            .fetch_one(pool)
            .await?),
        )
    }

    pub async fn set_display_name(&self, id: i64, name: &str) -> StoreResult<()> {
        self.update_user(id, "UPDATE users SET display_name = $2 WHERE id = $1", name)
            .await
    }

    pub async fn set_password_hash(&self, id: i64, hash: &str) -> StoreResult<()> {
        self.update_user(
            id,
            "UPDATE users SET password_hash = $2 WHERE id = $1",
            hash,
        )
        .await
    }

    async fn update_user(&self, id: i64, sql: &'static str, value: &str) -> StoreResult<()> {
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(value)
            .execute(pool)
            .await?
            .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Moves the user into `household` (or out of any, with `None`).
    pub async fn set_household(&self, id: i64, household: Option<i64>) -> StoreResult<()> {
        let done = with_pool!(self, pool => sqlx::query(
                "UPDATE users SET household_id = $2 WHERE id = $1")
            .bind(id)
            .bind(household)
            .execute(pool)
            .await?
            .rows_affected());
        if done == 0 {
            return Err(StoreError::NotFound);
        }
        Ok(())
    }

    /// Sets the user's role and whether they are disabled (`disabled_at`, kept when they
    /// already were), unless that would leave no active administrator: the check is part
    /// of the statement, so it cannot pass on a count read before another write.
    /// `Ok(false)` when refused for that reason.
    pub async fn set_role_and_disabled(
        &self,
        id: i64,
        role: &str,
        disabled_at: Option<i64>,
    ) -> StoreResult<bool> {
        let sql = "UPDATE users SET role = $2, \
                   disabled_at = CASE WHEN $3 IS NULL THEN NULL ELSE COALESCE(disabled_at, $3) END \
                   WHERE id = $1 AND (($2 = 'admin' AND $3 IS NULL) \
                   OR NOT (role = 'admin' AND disabled_at IS NULL) OR EXISTS (\
                   SELECT 1 FROM users o WHERE o.id <> $1 AND o.role = 'admin' \
                   AND o.disabled_at IS NULL))";
        let done = with_pool!(self, pool => sqlx::query(sql)
            .bind(id)
            .bind(role)
            .bind(disabled_at)
            .execute(pool)
            .await?
            .rows_affected());
        if done == 1 {
            return Ok(true);
        }
        match self.user_by_id(id).await? {
            Some(_) => Ok(false),
            None => Err(StoreError::NotFound),
        }
    }
}
