//! `/api/v1/meters`: the caller's meters and those shared with them, and who a meter
//! is shared with.

use crate::server::http::extract::Path;
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};

use crate::{
    domain::meter::MeterDraft,
    dto::{MeterSharing, MeterView},
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody, ReadUser},
        },
        service::{meters, shares},
        state::AppState,
    },
};

async fn list(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
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
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
) -> Result<Json<MeterView>, ApiError> {
    Ok(Json(meters::show(&state, &user, id).await?))
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

async fn get_sharing(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<MeterSharing>, ApiError> {
    Ok(Json(shares::get(&state, &user, id).await?))
}

async fn put_sharing(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
    JsonBody(req): JsonBody<shares::SharingRequest>,
) -> Result<Json<MeterSharing>, ApiError> {
    Ok(Json(shares::put(&state, &user, id, &req).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/meters", get(list).post(create))
        .route("/api/v1/meters/{id}", get(show).patch(update))
        .route("/api/v1/meters/{id}/archive", post(archive))
        .route(
            "/api/v1/meters/{id}/sharing",
            get(get_sharing).put(put_sharing),
        )
}
