//! `/api/v1/push/…`: Web Push — the server's public key, and the devices one subscribed.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{delete, get},
};

use crate::{
    dto::notify::{NewPushSubscription, PushDevice},
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody, Path},
        },
        service::push,
        state::AppState,
    },
};

async fn key(
    State(state): State<AppState>,
    AuthUser(_): AuthUser,
) -> Result<Json<serde_json::Value>, ApiError> {
    let vapid = push::vapid(&state).await?;
    Ok(Json(serde_json::json!({ "public_key": vapid.public_key })))
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Vec<PushDevice>>, ApiError> {
    Ok(Json(push::devices(&state, &user).await?))
}

async fn subscribe(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<NewPushSubscription>,
) -> Result<(StatusCode, Json<PushDevice>), ApiError> {
    Ok((
        StatusCode::CREATED,
        Json(push::subscribe(&state, &user, body).await?),
    ))
}

async fn unsubscribe(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    push::unsubscribe(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/push/key", get(key))
        .route("/api/v1/push/subscriptions", get(list).post(subscribe))
        .route("/api/v1/push/subscriptions/{id}", delete(unsubscribe))
}
