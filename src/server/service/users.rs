//! Administrators managing accounts: the list, disabling and enabling, roles, moving a
//! user into or out of a household, and password-reset links.
//!
//! Whatever changes who a user is or whether they may act ends or refreshes their
//! sessions here, in the same call: disabling and a role change delete every session
//! (rows and cached copies on every instance), a household move drops the cached copies
//! so the next request carries the new household.

use crate::{
    domain::DomainError,
    dto::{Role, accounts::UserView},
    server::{
        auth::CurrentUser,
        service::{
            ServiceError, ServiceResult,
            auth::{end_sessions, refresh_sessions},
            time::rfc3339,
        },
        state::AppState,
        storage::users::UserRow,
    },
};

/// A change to one user; `None` leaves that part as it is.
#[derive(Debug, Default)]
pub struct UserPatch {
    pub disabled: Option<bool>,
    pub role: Option<Role>,
    /// `Some(None)` takes the user out of their household.
    pub household_id: Option<Option<i64>>,
}

fn view(u: UserRow, households: &[(i64, String)]) -> UserView {
    let household = u
        .household_id
        .and_then(|h| households.iter().find(|(id, _)| *id == h))
        .map(|(_, name)| name.clone());
    UserView {
        id: u.id,
        email: u.email,
        display_name: u.display_name,
        role: Role::parse(&u.role).unwrap_or(Role::Member),
        household_id: u.household_id,
        household,
        disabled: u.disabled_at.is_some(),
        created_at: rfc3339(u.created_at),
    }
}

async fn household_names(state: &AppState) -> ServiceResult<Vec<(i64, String)>> {
    Ok(state
        .db
        .households()
        .await?
        .into_iter()
        .map(|h| (h.id, h.name))
        .collect())
}

pub async fn list(state: &AppState) -> ServiceResult<Vec<UserView>> {
    let names = household_names(state).await?;
    Ok(state
        .db
        .all_users()
        .await?
        .into_iter()
        .map(|u| view(u, &names))
        .collect())
}

/// Applies `patch` to user `id`. Refuses (422 naming the field) a change that would leave
/// no active administrator, whoever makes it.
pub async fn update(
    state: &AppState,
    admin: &CurrentUser,
    id: i64,
    patch: &UserPatch,
) -> ServiceResult<UserView> {
    let user = state
        .db
        .user_by_id(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if let Some(Some(h)) = patch.household_id
        && !state.db.household_exists(h).await?
    {
        return Err(DomainError::new("household_id", "there is no such household").into());
    }
    let was_role = Role::parse(&user.role).unwrap_or(Role::Member);
    let role = patch.role.unwrap_or(was_role);
    let disabled = patch.disabled.unwrap_or(user.disabled_at.is_some());
    let now = state.clock.now_secs();
    let ended = (disabled && user.disabled_at.is_none()) || role != was_role;
    if patch.role.is_some() || patch.disabled.is_some() {
        let allowed = state
            .db
            .set_role_and_disabled(id, role.as_str(), disabled.then_some(now))
            .await?;
        if !allowed {
            let field = if patch.disabled == Some(true) {
                "disabled"
            } else {
                "role"
            };
            return Err(DomainError::new(
                field,
                "would leave no active administrator; make someone else an administrator first",
            )
            .into());
        }
    }
    if let Some(household) = patch.household_id {
        state.db.set_household(id, household).await?;
    }
    if ended {
        let n = end_sessions(state, id, None).await?;
        tracing::info!(
            user.id = id,
            by = admin.id,
            sessions = n,
            disabled,
            role = role.as_str(),
            "user changed; sessions ended"
        );
    } else {
        refresh_sessions(state, id).await?;
        tracing::info!(user.id = id, by = admin.id, disabled, "user changed");
    }
    let user = state
        .db
        .user_by_id(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    Ok(view(user, &household_names(state).await?))
}
