//! `/api/v1/account`: the caller's own account — name, password, sessions.

use std::net::SocketAddr;

use axum::{
    Extension, Json, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, StatusCode},
    routing::{delete, get, post},
};
use serde::Deserialize;

use crate::{
    dto::accounts::{AccountView, SessionView},
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody, Path},
            middleware::session::SessionToken,
            routes::auth::caller,
        },
        service::{account, sessions},
        state::AppState,
    },
};

type Token = Option<Extension<SessionToken>>;

fn token_of(token: &Token) -> Option<&str> {
    token.as_ref().map(|Extension(SessionToken(t))| t.as_str())
}

async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<AccountView>, ApiError> {
    Ok(Json(account::view(&state, &user).await?))
}

#[derive(Deserialize)]
struct Rename {
    display_name: String,
}

async fn rename(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<Rename>,
) -> Result<Json<AccountView>, ApiError> {
    account::rename(&state, &user, &body.display_name).await?;
    let mut user = user;
    user.display_name = body.display_name.trim().to_string();
    Ok(Json(account::view(&state, &user).await?))
}

#[derive(Deserialize)]
struct ChangePassword {
    current_password: String,
    new_password: String,
}

#[derive(serde::Serialize)]
struct SignedOut {
    signed_out: usize,
}

async fn change_password(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    AuthUser(user): AuthUser,
    token: Token,
    JsonBody(body): JsonBody<ChangePassword>,
) -> Result<Json<SignedOut>, ApiError> {
    let who = caller(&state, connect, &headers);
    let n = account::change_password(
        &state,
        &user,
        token_of(&token),
        &body.current_password,
        &body.new_password,
        who.ip,
    )
    .await?;
    Ok(Json(SignedOut { signed_out: n }))
}

async fn list_sessions(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    token: Token,
) -> Result<Json<Vec<SessionView>>, ApiError> {
    Ok(Json(sessions::list(&state, &user, token_of(&token)).await?))
}

async fn sign_out_others(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    token: Token,
) -> Result<Json<SignedOut>, ApiError> {
    let n = sessions::sign_out_others(&state, &user, token_of(&token)).await?;
    Ok(Json(SignedOut { signed_out: n }))
}

async fn sign_out_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    token: Token,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    sessions::sign_out(&state, &user, token_of(&token), &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/account", get(show).patch(rename))
        .route("/api/v1/account/password", post(change_password))
        .route(
            "/api/v1/account/sessions",
            get(list_sessions).delete(sign_out_others),
        )
        .route("/api/v1/account/sessions/{id}", delete(sign_out_one))
}
