//! The cache's admin tools (seed interface, SPEC S12): statistics per tier and strategy,
//! listing keys and clearing them by pattern. Administrators only.

use axum::{
    Json, Router,
    extract::{Query, State},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::{
    cache::{CacheStats, KeysReport, Pattern},
    http::{
        error::ApiError,
        extract::{AdminUser, JsonBody},
    },
    state::AppState,
};

async fn stats(State(state): State<AppState>, _: AdminUser) -> Json<CacheStats> {
    Json(state.cache.stats().await)
}

#[derive(Deserialize)]
struct PatternQuery {
    pattern: Option<String>,
    limit: Option<usize>,
}

fn pattern_of(raw: Option<&str>) -> Result<Pattern, ApiError> {
    Pattern::parse(raw.unwrap_or("*")).ok_or_else(|| {
        ApiError::invalid(
            "pattern",
            "must be a key, or a prefix ending in a single * (like outlook:*)",
        )
    })
}

async fn keys(
    State(state): State<AppState>,
    _: AdminUser,
    Query(q): Query<PatternQuery>,
) -> Result<Json<KeysReport>, ApiError> {
    let pattern = pattern_of(q.pattern.as_deref())?;
    let limit = q.limit.unwrap_or(200);
    if !(1..=10_000).contains(&limit) {
        return Err(ApiError::invalid("limit", "must be from 1 to 10000"));
    }
    Ok(Json(state.cache.keys(&pattern, limit).await))
}

#[derive(Deserialize)]
struct ClearRequest {
    pattern: Option<String>,
}

async fn clear(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(req): JsonBody<ClearRequest>,
) -> Result<Json<Value>, ApiError> {
    let pattern = pattern_of(req.pattern.as_deref())?;
    let cleared = state.cache.clear(&pattern).await;
    tracing::info!(user.id = admin.id, pattern = ?pattern, "cache cleared");
    Ok(Json(json!({"success": true, "cleared": cleared})))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/performance/cache/stats", get(stats))
        .route("/api/performance/cache/keys", get(keys))
        .route("/api/performance/cache/clear", post(clear))
}
