//! The HTML forms of `/admin/users`: change a user, make a reset link or an invitation
//! (each shown once, on the page that answers), and create a household.

use axum::{
    Router,
    extract::{Request, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use leptos::prelude::provide_context;

use crate::{
    domain::DomainError,
    dto::{Role, accounts::LinkView},
    server::{
        auth::CurrentUser,
        http::{
            error::ApiError,
            extract::{FormUser, Path},
            forms::{FormData, feedback, read_form, rerender, rerender_with},
        },
        service::{
            ServiceError, ServiceResult, households,
            invites::{self, InviteKind},
            users::{self, UserPatch},
        },
        state::AppState,
    },
};

const PAGE: &str = "/admin/users";

fn admin(user: CurrentUser) -> Result<CurrentUser, ApiError> {
    if user.is_admin() {
        Ok(user)
    } else {
        Err(ApiError::Forbidden)
    }
}

/// `household_id` of a form: blank is "none".
fn household(form: &FormData) -> Result<Option<i64>, DomainError> {
    form.get("household_id")
        .map(|v| {
            v.parse::<i64>()
                .map_err(|_| DomainError::new("household_id", "choose a household from the list"))
        })
        .transpose()
}

fn role(form: &FormData) -> Result<Option<Role>, DomainError> {
    form.get("role")
        .map(|v| Role::parse(v).ok_or_else(|| DomainError::new("role", "must be admin or member")))
        .transpose()
}

/// Answers a form: the page again, with the link shown once, or with the messages.
async fn answer(
    state: &AppState,
    parts: axum::http::request::Parts,
    form_name: &str,
    form: &FormData,
    result: ServiceResult<Option<LinkView>>,
) -> Result<Response, ApiError> {
    match result {
        Ok(None) => Ok(Redirect::to(&format!("{PAGE}?saved=1")).into_response()),
        Ok(Some(link)) => Ok(rerender_with(state, parts, PAGE, StatusCode::OK, move || {
            provide_context(link.clone())
        })
        .await),
        Err(ServiceError::Invalid(errors)) => Ok(rerender(
            state,
            parts,
            PAGE,
            feedback(form_name, form.values(), &errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        )
        .await),
        Err(e) => Err(e.into()),
    }
}

async fn change(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let me = admin(user)?;
    let (parts, form) = read_form(&state, req).await?;
    let result = async {
        let patch = UserPatch {
            // A checkbox: present when ticked.
            disabled: Some(form.get("disabled").is_some()),
            role: role(&form)?,
            household_id: Some(household(&form)?),
        };
        users::update(&state, &me, id, &patch).await.map(|_| None)
    }
    .await;
    answer(&state, parts, &format!("user-{id}"), &form, result).await
}

async fn reset_link(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let me = admin(user)?;
    let (parts, form) = read_form(&state, req).await?;
    let result = invites::reset_link(&state, Some(me.id), id).await.map(Some);
    answer(&state, parts, "reset", &form, result).await
}

async fn invite(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let me = admin(user)?;
    let (parts, form) = read_form(&state, req).await?;
    let result = async {
        let household = household(&form)?;
        let kind = if household.is_some() {
            InviteKind::Household
        } else {
            InviteKind::Account
        };
        let role = role(&form)?.unwrap_or(Role::Member);
        invites::invite(&state, Some(me.id), kind, role, household)
            .await
            .map(Some)
    }
    .await;
    answer(&state, parts, "invite", &form, result).await
}

async fn create_household(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    let me = admin(user)?;
    let (parts, form) = read_form(&state, req).await?;
    let name = form.get("name").unwrap_or_default();
    let result = households::create(&state, &me, name).await.map(|_| None);
    answer(&state, parts, "household", &form, result).await
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/forms/admin/users/{id}", post(change))
        .route("/forms/admin/users/{id}/reset-link", post(reset_link))
        .route("/forms/admin/invites", post(invite))
        .route("/forms/admin/households", post(create_household))
}
