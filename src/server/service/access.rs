//! The one door to a meter: "may this caller do this to this meter?", asked by every
//! use-case that touches one. The facts come from the database in the same query as the
//! meter (`storage::shares`), the answer from `domain::access`.
//!
//! A meter the caller has no standing on is "not found" — exactly as if it did not
//! exist, so ids reveal nothing across households. A meter the caller may see but not
//! change (a viewer's write) is "forbidden".

use crate::{
    domain::access::{Grant, MeterAction, MeterFacts, ShareRole, grant_of},
    server::{
        auth::CurrentUser,
        service::{ServiceError, ServiceResult},
        state::AppState,
        storage::{meters::MeterRow, shares::MeterWithFacts},
    },
};

/// A meter and the caller's standing on it.
#[derive(Debug, Clone)]
pub struct MeterAccess {
    pub meter: MeterRow,
    pub grant: Grant,
    /// The owner's display name, for "shared by …".
    pub owner_name: String,
    /// How the owner shares it with their whole household, if they do.
    pub household_role: Option<ShareRole>,
    /// The owner's household (read with the meter), if they have one.
    pub owner_household: Option<i64>,
}

impl MeterAccess {
    /// Whether the meter is someone else's, seen through a share.
    pub fn shared(&self) -> bool {
        self.grant != Grant::Owner
    }

    pub fn may(&self, action: MeterAction) -> bool {
        self.grant.permits(action)
    }
}

fn facts(row: &MeterWithFacts) -> MeterFacts {
    MeterFacts {
        owner_id: row.meter.owner_id,
        owner_household: row.owner_household,
        household_role: row.household_role.as_deref().and_then(ShareRole::parse),
        direct_role: row.direct_role.as_deref().and_then(ShareRole::parse),
    }
}

fn standing(row: MeterWithFacts, user_id: i64) -> Option<MeterAccess> {
    let facts = facts(&row);
    let grant = grant_of(&facts, user_id, row.user_household)?;
    Some(MeterAccess {
        meter: row.meter,
        grant,
        owner_name: row.owner_name,
        household_role: facts.household_role,
        owner_household: facts.owner_household,
    })
}

/// Meter `id` if user `user_id` may do `action` to it.
pub async fn meter_of_user(
    state: &AppState,
    user_id: i64,
    id: i64,
    action: MeterAction,
) -> ServiceResult<MeterAccess> {
    let row = state
        .db
        .meter_with_facts(user_id, id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let access = standing(row, user_id).ok_or(ServiceError::NotFound)?;
    if !access.may(action) {
        return Err(ServiceError::Forbidden(match action {
            MeterAction::Read => "you may not see this meter",
            MeterAction::WriteReadings => {
                "this meter is shared with you to view, not to add readings"
            }
            MeterAction::Edit => "this meter is shared with you to view, not to change",
            MeterAction::Manage => "only the meter's owner may do this",
        }));
    }
    Ok(access)
}

/// Meter `id` if `user` may do `action` to it (and, for a caller acting through a
/// token, if the token reaches that far: a meter beyond it is "not found").
pub async fn meter(
    state: &AppState,
    user: &CurrentUser,
    id: i64,
    action: MeterAction,
) -> ServiceResult<MeterAccess> {
    if let Some(reach) = &user.via_token
        && !reach.permits(id, action)
    {
        return Err(if reach.meter_ids.contains(&id) {
            ServiceError::Forbidden("this token may not do that")
        } else {
            ServiceError::NotFound
        });
    }
    meter_of_user(state, user.id, id, action).await
}

/// Every meter `user_id` may see (their own first), archived ones too unless
/// `active_only`; with `only`, just those of them.
pub async fn visible(
    state: &AppState,
    user_id: i64,
    active_only: bool,
    only: Option<&[i64]>,
) -> ServiceResult<Vec<MeterAccess>> {
    Ok(state
        .db
        .meters_visible_to(user_id, active_only)
        .await?
        .into_iter()
        .filter(|row| only.is_none_or(|ids| ids.contains(&row.meter.id)))
        .filter_map(|row| standing(row, user_id))
        .collect())
}

/// The meters a read-token caller may read: the token's (None for a signed-in user,
/// who sees everything visible).
pub fn token_meters(user: &CurrentUser) -> Option<&[i64]> {
    user.via_token.as_ref().map(|r| r.meter_ids.as_slice())
}

/// Whether `caller` may read user `user_id`'s outlook as a whole (the seed API's
/// per-user views): everyone their own; an administrator also the members of their own
/// household, never another household's; a token only its own user. Both households are
/// read now, since a cached session may be a minute behind a move.
pub async fn may_read_user(
    state: &AppState,
    caller: &CurrentUser,
    user_id: i64,
) -> ServiceResult<bool> {
    if caller.id == user_id {
        return Ok(true);
    }
    if !caller.is_admin() || caller.via_token.is_some() {
        return Ok(false);
    }
    let household = |id| async move {
        Ok::<_, ServiceError>(state.db.user_by_id(id).await?.and_then(|u| u.household_id))
    };
    let mine = household(caller.id).await?;
    Ok(mine.is_some() && household(user_id).await? == mine)
}
