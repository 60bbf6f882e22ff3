//! Sharing a meter within the owner's household: with everyone in it, or with chosen
//! members, as viewers or editors. Only the owner shares (`MeterAction::Manage`), and
//! only with members of their own household.

use std::collections::BTreeSet;

use crate::{
    domain::{
        DomainError,
        access::{MeterAction, ShareRole},
    },
    dto::{MeterSharing, SharingMember},
    server::{
        auth::CurrentUser,
        service::{ServiceError, ServiceResult, access, freshness},
        state::AppState,
    },
};

/// The most members one meter can be shared with by name: a household, not a crowd.
pub const MAX_MEMBERS: usize = 100;

/// What the owner asks for: the household-wide role and the roles by name. Members
/// not listed lose the share they had by name.
#[derive(Debug, Clone, Default, serde::Deserialize, utoipa::ToSchema)]
pub struct SharingRequest {
    pub household_role: Option<String>,
    #[serde(default)]
    pub members: Vec<MemberRole>,
}

#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
pub struct MemberRole {
    pub user_id: i64,
    pub role: String,
}

/// Who meter `meter_id` is shared with; the owner's view.
pub async fn get(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
) -> ServiceResult<MeterSharing> {
    let a = access::meter(state, user, meter_id, MeterAction::Manage).await?;
    let household_id = a.owner_household;
    let (household_role, members) = match household_id {
        Some(h) => {
            let by_name = state.db.shares_of(meter_id).await?;
            let members = state
                .db
                .household_members_except(h, a.meter.owner_id)
                .await?
                .into_iter()
                .map(|m| SharingMember {
                    role: by_name
                        .iter()
                        .find(|s| s.user_id == m.id)
                        .map(|s| s.role.clone()),
                    user_id: m.id,
                    display_name: m.display_name,
                })
                .collect();
            (a.household_role.map(|r| r.as_str().to_string()), members)
        }
        None => (None, Vec::new()),
    };
    Ok(MeterSharing {
        meter_id,
        household_id,
        household_role,
        members,
    })
}

fn role(raw: &str, field: &'static str) -> Result<ShareRole, DomainError> {
    ShareRole::parse(raw).ok_or_else(|| DomainError::new(field, "must be viewer or editor"))
}

/// Replaces who meter `meter_id` is shared with by `req`.
pub async fn put(
    state: &AppState,
    user: &CurrentUser,
    meter_id: i64,
    req: &SharingRequest,
) -> ServiceResult<MeterSharing> {
    let a = access::meter(state, user, meter_id, MeterAction::Manage).await?;
    let mut errors = Vec::new();
    let household_role = match req.household_role.as_deref().filter(|r| !r.is_empty()) {
        None | Some("none") => None,
        Some(r) => match role(r, "household_role") {
            Ok(r) => Some(r),
            Err(e) => {
                errors.push(e);
                None
            }
        },
    };
    if req.members.len() > MAX_MEMBERS {
        errors.push(DomainError::new(
            "members",
            format!("at most {MAX_MEMBERS} members"),
        ));
    }
    let household_id = a.owner_household;
    let members = match household_id {
        Some(h) => {
            state
                .db
                .household_members_except(h, a.meter.owner_id)
                .await?
        }
        None => Vec::new(),
    };
    if household_id.is_none() && (household_role.is_some() || !req.members.is_empty()) {
        errors.push(DomainError::new(
            "household_role",
            "you are not in a household; an administrator can add you to one",
        ));
    }
    let mut wanted = Vec::new();
    let mut seen = BTreeSet::new();
    for m in req.members.iter().take(MAX_MEMBERS) {
        match role(&m.role, "members") {
            Ok(r) if members.iter().any(|x| x.id == m.user_id) && seen.insert(m.user_id) => {
                wanted.push((m.user_id, r));
            }
            Ok(_) => errors.push(DomainError::new(
                "members",
                format!("user {} is not another member of your household", m.user_id),
            )),
            Err(e) => errors.push(e),
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    // Everyone who saw it before or will after: their outlooks change.
    let before = state.db.audience_of_meter(meter_id).await?;
    state
        .db
        .set_household_role(meter_id, household_role.map(ShareRole::as_str))
        .await?;
    for old in state.db.shares_of(meter_id).await? {
        if !wanted.iter().any(|(id, _)| *id == old.user_id) {
            state.db.delete_share(meter_id, old.user_id).await?;
        }
    }
    for (id, r) in &wanted {
        state.db.put_share(meter_id, *id, r.as_str()).await?;
    }
    freshness::users_changed(state, &before).await;
    freshness::meter_changed(state, meter_id).await;
    tracing::info!(
        meter.id = meter_id,
        household = ?household_role,
        members = wanted.len(),
        "meter sharing changed"
    );
    get(state, user, meter_id).await
}
