//! `/api/v1/notifications`, `/api/v1/webhook`, `/api/v1/deliveries` and a meter's
//! `/rules`: one's notifications, how they reach one, and what each rule does.

use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use crate::{
    domain::alerts::AlertSettings,
    dto::notify::{
        Deliveries, MeterRules, NewWebhook, NotificationList, NotifySettings, Webhook, WebhookTest,
    },
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, JsonBody, Path, Query, ReadUser},
        },
        service::notifications,
        state::AppState,
    },
};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListQuery {
    #[serde(default)]
    unread: bool,
    before: Option<i64>,
    limit: Option<i64>,
}

async fn list(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<ListQuery>,
) -> Result<Json<NotificationList>, ApiError> {
    Ok(Json(
        notifications::list(&state, &user, q.unread, q.before, q.limit).await?,
    ))
}

async fn read_one(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    notifications::mark_read(&state, &user, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ReadAll {
    /// The newest notification the user saw: later ones stay unread.
    up_to: Option<i64>,
}

async fn read_all(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Query(q): Query<ReadAll>,
) -> Result<Json<serde_json::Value>, ApiError> {
    let marked = notifications::mark_all_read(&state, &user, q.up_to).await?;
    Ok(Json(serde_json::json!({ "marked": marked })))
}

async fn get_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<NotifySettings>, ApiError> {
    Ok(Json(notifications::settings(&state, &user).await?))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutSettings {
    quiet_start: Option<String>,
    quiet_end: Option<String>,
    #[serde(default = "yes")]
    urgent_through: bool,
}

fn yes() -> bool {
    true
}

async fn put_settings(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<PutSettings>,
) -> Result<Json<NotifySettings>, ApiError> {
    Ok(Json(
        notifications::put_settings(
            &state,
            &user,
            body.quiet_start.as_deref(),
            body.quiet_end.as_deref(),
            body.urgent_through,
        )
        .await?,
    ))
}

async fn get_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Webhook>, ApiError> {
    notifications::webhook_of(&state, &user)
        .await?
        .map(Json)
        .ok_or(ApiError::NotFound)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PutWebhook {
    url: String,
}

async fn put_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    JsonBody(body): JsonBody<PutWebhook>,
) -> Result<(StatusCode, Json<NewWebhook>), ApiError> {
    let created = notifications::set_webhook(&state, &user, &body.url).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

async fn delete_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<StatusCode, ApiError> {
    notifications::delete_webhook(&state, &user).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn test_webhook(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<WebhookTest>, ApiError> {
    Ok(Json(notifications::test_webhook(&state, &user).await?))
}

async fn deliveries(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<Deliveries>, ApiError> {
    Ok(Json(notifications::deliveries(&state, &user).await?))
}

async fn resend(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    notifications::resend(&state, &user, id).await?;
    Ok(StatusCode::ACCEPTED)
}

async fn get_rules(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
) -> Result<Json<MeterRules>, ApiError> {
    Ok(Json(notifications::meter_rules(&state, &user, id).await?))
}

async fn put_rules(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
    JsonBody(body): JsonBody<AlertSettings>,
) -> Result<Json<MeterRules>, ApiError> {
    Ok(Json(
        notifications::put_meter_rules(&state, &user, id, body).await?,
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/notifications", get(list))
        .route("/api/v1/notifications/read-all", post(read_all))
        .route("/api/v1/notifications/{id}/read", post(read_one))
        .route(
            "/api/v1/notifications/settings",
            get(get_settings).put(put_settings),
        )
        .route(
            "/api/v1/webhook",
            get(get_webhook).put(put_webhook).delete(delete_webhook),
        )
        .route("/api/v1/webhook/test", post(test_webhook))
        .route("/api/v1/deliveries", get(deliveries))
        .route("/api/v1/deliveries/{id}/resend", post(resend))
        .route("/api/v1/meters/{id}/rules", get(get_rules).put(put_rules))
}
