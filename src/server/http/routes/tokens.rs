//! `/api/v1/tokens`: API tokens for integrations.

use crate::server::http::extract::Path;
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get},
};
use serde::Deserialize;

use crate::{
    dto::{NewToken, TokenView},
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody},
        },
        service::tokens,
        state::AppState,
    },
};

#[derive(Deserialize)]
struct CreateToken {
    #[serde(default)]
    name: String,
    #[serde(default)]
    meter_ids: Vec<i64>,
    /// `ingest` (the default), `read` or `metrics`.
    #[serde(default)]
    scope: Option<String>,
    /// Days until the token stops working; left out, it works until revoked.
    #[serde(default)]
    expires_in_days: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    Ok(Json(tokens::list(&state, &user).await?))
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<CreateToken>,
) -> Result<(StatusCode, Json<NewToken>), ApiError> {
    let scope = match body.scope.as_deref() {
        None => tokens::Scope::Ingest,
        Some(raw) => tokens::Scope::parse(raw)
            .ok_or_else(|| ApiError::invalid("scope", "must be ingest, read or metrics"))?,
    };
    let spec = tokens::TokenSpec {
        name: &body.name,
        scope,
        meter_ids: &body.meter_ids,
        expires_in_days: body.expires_in_days,
    };
    let created = tokens::create(&state, &user, &spec).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn revoke(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    tokens::revoke(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/tokens", get(list).post(create))
        .route("/api/v1/tokens/{id}", delete(revoke))
}
