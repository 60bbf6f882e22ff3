//! Following a single-use link from the JSON API: what an invitation offers, accepting
//! it, and setting a new password through a reset link. The links' pages post the same
//! through `invite_forms`.

use std::net::SocketAddr;

use axum::{
    Extension, Json, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    dto::accounts::InvitePreview,
    server::{
        auth::CurrentUser,
        http::{
            error::ApiError,
            extract::{JsonBody, Path},
            routes::auth::caller,
        },
        service::invites::{self, Accepted, Invitee},
        state::AppState,
    },
};

async fn preview(
    State(state): State<AppState>,
    Path(secret): Path<String>,
) -> Result<Json<InvitePreview>, ApiError> {
    Ok(Json(invites::preview(&state, &secret).await?))
}

#[derive(Deserialize)]
struct Accept {
    #[serde(default)]
    email: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    password: String,
}

async fn accept(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    user: Option<Extension<CurrentUser>>,
    Path(secret): Path<String>,
    JsonBody(body): JsonBody<Accept>,
) -> Result<Response, ApiError> {
    let who = caller(&state, connect, &headers);
    let invitee = Invitee {
        email: &body.email,
        display_name: &body.display_name,
        password: &body.password,
    };
    let user = user.map(|Extension(u)| u);
    match invites::accept(
        &state,
        &secret,
        user.as_ref(),
        &invitee,
        who.ip,
        &who.user_agent,
    )
    .await?
    {
        Accepted::Account { token, user_id } => {
            let mut res = (
                StatusCode::CREATED,
                Json(serde_json::json!({"user_id": user_id})),
            )
                .into_response();
            who.set_session_cookie(&state, &mut res, &token)?;
            Ok(res)
        }
        Accepted::Joined { household_id } => {
            Ok(Json(serde_json::json!({"household_id": household_id})).into_response())
        }
    }
}

#[derive(Deserialize)]
struct Reset {
    #[serde(default)]
    password: String,
}

async fn reset(
    State(state): State<AppState>,
    Path(secret): Path<String>,
    JsonBody(body): JsonBody<Reset>,
) -> Result<StatusCode, ApiError> {
    invites::reset_password(&state, &secret, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/invites/{secret}", get(preview))
        .route("/api/v1/invites/{secret}/accept", post(accept))
        .route("/api/v1/resets/{secret}", post(reset))
}
