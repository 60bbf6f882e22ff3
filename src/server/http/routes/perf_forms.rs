//! The forms of the performance center's pages (admins only): thresholds, alert
//! acknowledge/resolve, clearing the cache by pattern. Each answers with a redirect back
//! to its page, saying what happened (or which field was wrong) in the query string.

use crate::server::http::extract::Path;
use axum::{
    Router,
    extract::{Request, State},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde_json::{Map, Value};

use crate::server::{
    cache::Pattern,
    http::{error::ApiError, extract::FormUser, forms::read_form},
    state::AppState,
};

const FIELDS: [&str; 6] = [
    "slow_request_threshold",
    "slow_query_threshold",
    "high_memory_threshold",
    "error_rate_threshold",
    "cache_hit_rate_threshold",
    "delivery_lag_threshold",
];

async fn thresholds(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let (_, form) = read_form(&state, req).await?;
    let mut body = Map::new();
    if let Some(p) = form.get("preset").filter(|p| *p != "custom") {
        body.insert("preset".into(), Value::String(p.to_owned()));
    } else {
        for f in FIELDS {
            if let Some(v) = form.get(f) {
                let n = v.parse::<f64>().map_or(Value::String(v.to_owned()), |n| {
                    serde_json::Number::from_f64(n).map_or(Value::Null, Value::Number)
                });
                body.insert(f.into(), n);
            }
        }
    }
    let back = "/admin/performance/system";
    let next = match state.perf.thresholds().apply(&Value::Object(body)) {
        Ok(t) => t,
        Err(e) => return Ok(Redirect::to(&format!("{back}?invalid={}", e.field)).into_response()),
    };
    let stored = serde_json::to_string(&next).map_err(|e| ApiError::Internal(e.into()))?;
    state
        .db
        .save_perf_thresholds(&stored, crate::server::clock::wall_now().as_second())
        .await?;
    state.perf.set_thresholds(next);
    Ok(Redirect::to(&format!("{back}?saved=1")).into_response())
}

async fn alert(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let (_, form) = read_form(&state, req).await?;
    let now = crate::server::clock::wall_now().as_second();
    match form.get("action") {
        Some("resolve") => {
            if state.db.resolve_perf_alert(id, &user.email, now).await? {
                state.perf.sampler.lock().await.tracker.resolved_by_hand(id);
            }
        }
        Some("acknowledge") => {
            state
                .db
                .acknowledge_perf_alert(id, &user.email, now)
                .await?;
        }
        _ => {
            return Err(ApiError::invalid(
                "action",
                "must be resolve or acknowledge",
            ));
        }
    }
    Ok(Redirect::to("/admin/performance").into_response())
}

async fn clear_cache(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    req: Request,
) -> Result<Response, ApiError> {
    if !user.is_admin() {
        return Err(ApiError::Forbidden);
    }
    let (_, form) = read_form(&state, req).await?;
    let back = "/admin/performance/cache";
    let Some(pattern) = Pattern::parse(form.get("pattern").unwrap_or("*")) else {
        return Ok(Redirect::to(&format!("{back}?invalid=pattern")).into_response());
    };
    let cleared = state.cache.clear(&pattern).await;
    tracing::info!(user.id = user.id, pattern = ?pattern, "cache cleared");
    let n = serde_json::to_value(&cleared)
        .ok()
        .and_then(|v| v.get("memory").and_then(Value::as_u64))
        .unwrap_or(0);
    Ok(Redirect::to(&format!("{back}?cleared={n}")).into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin/performance/thresholds", post(thresholds))
        .route("/admin/performance/alerts/{id}", post(alert))
        .route("/admin/performance/cache/clear", post(clear_cache))
}
