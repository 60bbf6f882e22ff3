//! Meters shared within a household: the facts `domain::access` decides on, the meters a
//! user may see, and the shares themselves.

use super::{Db, StoreResult, Tx, meters::MeterRow, with_pool, with_tx};

/// A meter with what decides a given user's standing on it (see
/// `domain::access::MeterFacts`), and its owner's name for "shared by …".
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MeterWithFacts {
    #[sqlx(flatten)]
    pub meter: MeterRow,
    pub owner_household: Option<i64>,
    pub owner_name: String,
    pub household_role: Option<String>,
    pub direct_role: Option<String>,
    /// The asking user's household, read with the meter so a change of household
    /// counts at once (the session's cached copy of the user may be a minute old).
    pub user_household: Option<i64>,
}

/// Meters `m` with their owner `o`, the asking user `me` (`$1`) and `me`'s own share
/// `s`: the joins every "which meters may user $1 see" query starts from.
macro_rules! meters_for_user_1 {
    () => {
        " FROM meters m JOIN users o ON o.id = m.owner_id JOIN users me ON me.id = $1 \
         LEFT JOIN meter_shares s ON s.meter_id = m.id AND s.user_id = $1 "
    };
}
pub(crate) use meters_for_user_1;

/// Which of those `$1` may see: their own, and what someone in their household shares
/// with the household or with them. `domain::access::grant_of` is the full rule; this is
/// its narrowing in SQL, so lists and rollup reads need no row-by-row round trips.
///
/// The leading `m.owner_id IN (…)` repeats what the rest implies (the owner is `$1` or in
/// `$1`'s household) in a form both planners answer from `users_household` and
/// `meters_owner`; without it every outlook scanned all meters (22 ms at 30 000 meters).
macro_rules! visible_to_user_1 {
    () => {
        "(m.owner_id IN (SELECT id FROM users WHERE id = $1 OR household_id = \
          (SELECT household_id FROM users WHERE id = $1)) \
          AND (m.owner_id = $1 OR (o.household_id = me.household_id \
          AND (m.household_role IS NOT NULL OR s.role IS NOT NULL))))"
    };
}
pub(crate) use visible_to_user_1;

/// The meter, its owner and the user's own share, for user `$1`.
macro_rules! meter_with_facts {
    () => {
        concat!(
            "SELECT m.id, m.owner_id, m.kind, m.name, m.unit, m.timezone, m.quota, m.reset_rule, \
             m.range_min, m.range_max, m.position, m.created_at, m.archived_at, \
             o.household_id AS owner_household, o.display_name AS owner_name, m.household_role, \
             s.role AS direct_role, me.household_id AS user_household",
            meters_for_user_1!()
        )
    };
}

/// Members of an owner's household a meter `m` is shared with (not the owner).
macro_rules! audience_sql {
    () => {
        "SELECT u.id FROM meters m JOIN users o ON o.id = m.owner_id \
         JOIN users u ON u.household_id = o.household_id AND u.id <> o.id \
         LEFT JOIN meter_shares s ON s.meter_id = m.id AND s.user_id = u.id \
         WHERE (m.household_role IS NOT NULL OR s.role IS NOT NULL)"
    };
}
pub(crate) use audience_sql;

/// Someone a meter is shared with by name.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ShareRow {
    pub user_id: i64,
    pub display_name: String,
    pub email: String,
    pub role: String,
}

/// A member of a household, as someone to share with.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct MemberRow {
    pub id: i64,
    pub display_name: String,
    pub email: String,
}

impl Db {
    /// Meter `meter_id` with the facts about user `user_id`'s standing on it.
    pub async fn meter_with_facts(
        &self,
        user_id: i64,
        meter_id: i64,
    ) -> StoreResult<Option<MeterWithFacts>> {
        let sql = concat!(meter_with_facts!(), "WHERE m.id = $2");
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, MeterWithFacts>(sql)
            .bind(user_id)
            .bind(meter_id)
            .fetch_optional(pool)
            .await?),
        )
    }

    /// Every meter user `user_id` owns or that someone in their household shares with
    /// them: their own first, in display order. The caller still asks `domain::access`
    /// about each; this only narrows the search.
    pub async fn meters_visible_to(
        &self,
        user_id: i64,
        active_only: bool,
    ) -> StoreResult<Vec<MeterWithFacts>> {
        let sql = concat!(
            meter_with_facts!(),
            "WHERE ",
            visible_to_user_1!(),
            " AND (m.archived_at IS NULL OR NOT $2) \
             ORDER BY m.owner_id <> $1, m.archived_at IS NOT NULL, m.owner_id, m.position, m.id"
        );
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, MeterWithFacts>(sql)
            .bind(user_id)
            .bind(active_only)
            .fetch_all(pool)
            .await?),
        )
    }

    /// Shares meter `meter_id` with its owner's whole household as `role`, or stops (None).
    pub async fn set_household_role(&self, meter_id: i64, role: Option<&str>) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE meters SET household_role = $1 WHERE id = $2")
                .bind(role)
                .bind(meter_id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Shares meter `meter_id` with user `user_id` as `role` (replacing an earlier role).
    pub async fn put_share(&self, meter_id: i64, user_id: i64, role: &str) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO meter_shares (meter_id, user_id, role) VALUES ($1, $2, $3) \
                 ON CONFLICT (meter_id, user_id) DO UPDATE SET role = excluded.role")
                .bind(meter_id)
                .bind(user_id)
                .bind(role)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Stops sharing meter `meter_id` with user `user_id`; `false` if it was not.
    pub async fn delete_share(&self, meter_id: i64, user_id: i64) -> StoreResult<bool> {
        let n = with_pool!(self, pool => sqlx::query(
            "DELETE FROM meter_shares WHERE meter_id = $1 AND user_id = $2")
            .bind(meter_id)
            .bind(user_id)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n == 1)
    }

    /// Who meter `meter_id` is shared with by name.
    pub async fn shares_of(&self, meter_id: i64) -> StoreResult<Vec<ShareRow>> {
        Ok(with_pool!(self, pool => sqlx::query_as::<_, ShareRow>(
            "SELECT u.id AS user_id, u.display_name, u.email, s.role FROM meter_shares s \
             JOIN users u ON u.id = s.user_id WHERE s.meter_id = $1 ORDER BY u.display_name, u.id")
            .bind(meter_id)
            .fetch_all(pool)
            .await?))
    }

    /// The members of household `household_id` other than `except`, by name.
    pub async fn household_members_except(
        &self,
        household_id: i64,
        except: i64,
    ) -> StoreResult<Vec<MemberRow>> {
        Ok(with_pool!(self, pool => sqlx::query_as::<_, MemberRow>(
            "SELECT id, display_name, email FROM users \
             WHERE household_id = $1 AND id <> $2 AND disabled_at IS NULL \
             ORDER BY display_name, id")
            .bind(household_id)
            .bind(except)
            .fetch_all(pool)
            .await?))
    }

    /// Everyone who may see meter `meter_id`: its owner and whoever it is shared with
    /// (for what a change to it makes stale).
    pub async fn audience_of_meter(&self, meter_id: i64) -> StoreResult<Vec<i64>> {
        Ok(
            with_pool!(self, pool => sqlx::query_scalar::<_, i64>(concat!(
            "SELECT m.owner_id FROM meters m WHERE m.id = $1 UNION ",
            audience_sql!(),
            " AND m.id = $1"))
            .bind(meter_id)
            .fetch_all(pool)
            .await?),
        )
    }
}

impl Tx {
    /// The users other than their owners who see any of `meter_ids`, inside a write (the
    /// outlooks a write makes stale).
    pub async fn shared_audience(&mut self, meter_ids: &[i64]) -> StoreResult<Vec<i64>> {
        let mut out = Vec::new();
        for chunk in meter_ids.chunks(1000) {
            let ids: Vec<i64> = with_tx!(self, conn => {
                let mut q = sqlx::QueryBuilder::new(concat!(audience_sql!(), " AND m.id IN ("));
                let mut list = q.separated(", ");
                for id in chunk {
                    list.push_bind(*id);
                }
                q.push(")");
                q.build_query_scalar::<i64>().fetch_all(&mut *conn).await?
            });
            out.extend(ids);
        }
        out.sort_unstable();
        out.dedup();
        Ok(out)
    }
}
