//! `/api/v1/meters`: the caller's meters.

use crate::server::http::extract::Path;
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};

use crate::{
    domain::meter::MeterDraft,
    dto::MeterView,
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody},
        },
        service::meters,
        state::AppState,
    },
};

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<MeterView>>, ApiError> {
    Ok(Json(meters::list(&state, &user).await?))
}

async fn create(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(draft): JsonBody<MeterDraft>,
) -> Result<(StatusCode, Json<MeterView>), ApiError> {
    let m = meters::create(&state, &user, &draft).await?;
    Ok((StatusCode::CREATED, Json(meters::view(&state, &m).await?)))
}

async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<MeterView>, ApiError> {
    let m = meters::owned(&state, &user, id).await?;
    Ok(Json(meters::view(&state, &m).await?))
}

async fn update(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
    JsonBody(patch): JsonBody<MeterDraft>,
) -> Result<Json<MeterView>, ApiError> {
    let m = meters::update(&state, &user, id, &patch).await?;
    Ok(Json(meters::view(&state, &m).await?))
}

async fn archive(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<MeterView>, ApiError> {
    let m = meters::archive(&state, &user, id).await?;
    Ok(Json(meters::view(&state, &m).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/meters", get(list).post(create))
        .route("/api/v1/meters/{id}", get(show).patch(update))
        .route("/api/v1/meters/{id}/archive", post(archive))
}
