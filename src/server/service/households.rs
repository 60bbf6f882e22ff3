//! Households, as administrators make them. Members join by invitation
//! (`service::invites`) or are moved in by an administrator (`service::users`).

use crate::{
    dto::accounts::HouseholdView,
    server::{
        auth::CurrentUser,
        service::{ServiceResult, account::check_text, time::rfc3339},
        state::AppState,
        storage::households::HouseholdRow,
    },
};

fn view(h: HouseholdRow) -> HouseholdView {
    HouseholdView {
        id: h.id,
        name: h.name,
        members: h.members,
        created_at: rfc3339(h.created_at),
    }
}

pub async fn list(state: &AppState) -> ServiceResult<Vec<HouseholdView>> {
    Ok(state.db.households().await?.into_iter().map(view).collect())
}

pub async fn create(
    state: &AppState,
    admin: &CurrentUser,
    name: &str,
) -> ServiceResult<HouseholdView> {
    check_text("name", name)?;
    let now = state.clock.now_secs();
    let id = state.db.create_household(name.trim(), now).await?;
    tracing::info!(household.id = id, by = admin.id, "household created");
    Ok(view(HouseholdRow {
        id,
        name: name.trim().to_string(),
        created_at: now,
        members: 0,
    }))
}
