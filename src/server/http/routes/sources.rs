//! `/api/v1/meters/{id}/source` and `/api/v1/meters/{id}/attempts`.

use crate::server::http::extract::Path;
use axum::{Json, Router, extract::State, http::StatusCode, routing::get};

use crate::{
    dto::{AttemptView, SourceView},
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody},
        },
        service::sources::{self, SourceInput},
        state::AppState,
    },
};

async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<SourceView>, ApiError> {
    sources::get(&state, &user, id)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

async fn put(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
    JsonBody(input): JsonBody<SourceInput>,
) -> Result<Json<SourceView>, ApiError> {
    Ok(Json(sources::put(&state, &user, id, &input).await?))
}

async fn remove(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    sources::delete(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn attempts(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<Vec<AttemptView>>, ApiError> {
    Ok(Json(sources::attempts(&state, &user, id, 100).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/meters/{id}/source",
            get(show).put(put).delete(remove),
        )
        .route("/api/v1/meters/{id}/attempts", get(attempts))
}
