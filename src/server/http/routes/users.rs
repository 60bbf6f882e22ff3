//! Administrators' JSON API for accounts: `/api/v1/users`, `/api/v1/households` and
//! `/api/v1/invites` (making links; accepting one is `routes::invites`).

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, patch, post},
};
use serde::{Deserialize, Deserializer};

use crate::{
    dto::{
        Role,
        accounts::{HouseholdView, LinkView, UserView},
    },
    server::{
        http::{
            error::ApiError,
            extract::{AdminUser, JsonBody, Path},
        },
        service::{
            households,
            invites::{self, InviteKind},
            users::{self, UserPatch},
        },
        state::AppState,
    },
};

/// `"household_id": null` (leave the household) differs from no `household_id` at all.
fn present<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Option<i64>>, D::Error> {
    Option::<i64>::deserialize(d).map(Some)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PatchBody {
    #[serde(default)]
    disabled: Option<bool>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default, deserialize_with = "present")]
    household_id: Option<Option<i64>>,
}

fn role(raw: Option<&str>) -> Result<Option<Role>, ApiError> {
    raw.map(|r| Role::parse(r).ok_or_else(|| ApiError::invalid("role", "must be admin or member")))
        .transpose()
}

async fn list(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Vec<UserView>>, ApiError> {
    Ok(Json(users::list(&state).await?))
}

async fn change(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<PatchBody>,
) -> Result<Json<UserView>, ApiError> {
    let patch = UserPatch {
        disabled: body.disabled,
        role: role(body.role.as_deref())?,
        household_id: body.household_id,
    };
    Ok(Json(users::update(&state, &admin, id, &patch).await?))
}

async fn reset_link(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<i64>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
    let link = invites::reset_link(&state, Some(admin.id), id).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

async fn list_households(
    State(state): State<AppState>,
    AdminUser(_): AdminUser,
) -> Result<Json<Vec<HouseholdView>>, ApiError> {
    Ok(Json(households::list(&state).await?))
}

#[derive(Deserialize)]
struct NewHousehold {
    #[serde(default)]
    name: String,
}

async fn create_household(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(body): JsonBody<NewHousehold>,
) -> Result<(StatusCode, Json<HouseholdView>), ApiError> {
    let h = households::create(&state, &admin, &body.name).await?;
    Ok((StatusCode::CREATED, Json(h)))
}

#[derive(Deserialize)]
struct NewInvite {
    /// `account` (default) or `household`.
    #[serde(default)]
    kind: Option<String>,
    #[serde(default)]
    role: Option<String>,
    #[serde(default)]
    household_id: Option<i64>,
}

async fn create_invite(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(body): JsonBody<NewInvite>,
) -> Result<(StatusCode, Json<LinkView>), ApiError> {
    let kind = match body.kind.as_deref() {
        None => InviteKind::Account,
        Some(raw) => InviteKind::parse(raw)
            .ok_or_else(|| ApiError::invalid("kind", "must be account or household"))?,
    };
    let role = role(body.role.as_deref())?.unwrap_or(Role::Member);
    let link = invites::invite(&state, Some(admin.id), kind, role, body.household_id).await?;
    Ok((StatusCode::CREATED, Json(link)))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/users", get(list))
        .route("/api/v1/users/{id}", patch(change))
        .route("/api/v1/users/{id}/reset-link", post(reset_link))
        .route(
            "/api/v1/households",
            get(list_households).post(create_household),
        )
        .route("/api/v1/invites", post(create_invite))
}
