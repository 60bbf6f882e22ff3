//! Single-use links: account invitations, household invitations and password resets.
//! Only the SHA-256 of a link's secret is stored.

use super::{Db, StoreResult, with_pool};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct InviteRow {
    pub id: i64,
    pub kind: String,
    pub role: String,
    pub household_id: Option<i64>,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

/// What it takes to make a link.
pub struct NewInvite<'a> {
    pub token_hash: &'a [u8],
    pub kind: &'a str,
    pub created_by: Option<i64>,
    pub role: &'a str,
    pub household_id: Option<i64>,
    pub user_id: Option<i64>,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, kind, role, household_id, user_id, created_at, expires_at, used_at";

impl Db {
    pub async fn create_invite(&self, i: &NewInvite<'_>) -> StoreResult<i64> {
        let sql = "INSERT INTO invites (token_hash, kind, created_by, role, household_id, \
                   user_id, created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                   RETURNING id";
        Ok(with_pool!(self, pool => sqlx::query_scalar(sql)
            .bind(i.token_hash)
            .bind(i.kind)
            .bind(i.created_by)
            .bind(i.role)
            .bind(i.household_id)
            .bind(i.user_id)
            .bind(i.created_at)
            .bind(i.expires_at)
            .fetch_one(pool)
            .await?))
    }

    /// The link with this hash, used or not (to say why it no longer works).
    pub async fn invite_by_hash(&self, token_hash: &[u8]) -> StoreResult<Option<InviteRow>> {
        let sql = format!("SELECT {COLUMNS} FROM invites WHERE token_hash = $1");
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, InviteRow>(&sql)
            .bind(token_hash)
            .fetch_optional(pool)
            .await?),
        )
    }

    /// Marks the link used, if it is of `kind`, unused and unexpired at `now`, and returns
    /// it; `None` otherwise. One statement, so two requests racing for one link cannot
    /// both have it.
    pub async fn take_invite(
        &self,
        token_hash: &[u8],
        kinds: &[&str],
        now: i64,
    ) -> StoreResult<Option<InviteRow>> {
        let sql = format!(
            "UPDATE invites SET used_at = $2 WHERE token_hash = $1 AND used_at IS NULL \
             AND expires_at > $2 AND kind IN ($3, $4) RETURNING {COLUMNS}"
        );
        let first = kinds.first().copied().unwrap_or("");
        let second = kinds.get(1).copied().unwrap_or(first);
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, InviteRow>(&sql)
            .bind(token_hash)
            .bind(now)
            .bind(first)
            .bind(second)
            .fetch_optional(pool)
            .await?),
        )
    }

    /// Gives a taken link back (the step after taking it failed, e.g. the email was
    /// already in use), so the invitee can try again.
    pub async fn untake_invite(&self, id: i64) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE invites SET used_at = NULL WHERE id = $1")
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }
}
