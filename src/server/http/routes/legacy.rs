//! The interfaces clients of the old systems were written against (SPEC S12), in their
//! shapes: `GET /api/usage/current` and the daily-outlook v2 API with its envelope
//! `{success, data, cached, load_time, timestamp}`. Members read only their own outlook;
//! admins may read anyone's and use the batch endpoint.

use std::time::Instant;

use crate::server::http::extract::{Path, Query};
use axum::{
    Json, Router,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use jiff::civil::Date;

use crate::{
    domain::outlook::Outlook,
    server::{
        auth::CurrentUser,
        cache::{Hit, Strategy},
        http::{
            cached,
            error::ApiError,
            extract::{AuthUser, JsonBody, ReadUser},
            routes::outlook::{DateParam, parse_date},
        },
        service::{
            ServiceError, access, freshness,
            outlook::{self, Whose},
            peers,
        },
        state::AppState,
    },
};

/// Most users one batch request may ask for.
const MAX_BATCH: usize = 100;

/// An error in the v2 envelope: `{success: false, error, timestamp}`.
struct V2Error(ApiError);

impl<E: Into<ApiError>> From<E> for V2Error {
    fn from(e: E) -> Self {
        V2Error(e.into())
    }
}

impl IntoResponse for V2Error {
    fn into_response(self) -> Response {
        let (status, code) = self.0.status_and_code();
        let message = match &self.0 {
            ApiError::Internal(e) => {
                tracing::error!(error = ?e, "v2 request failed");
                "something went wrong on our side; it has been logged".to_string()
            }
            other => other.to_string(),
        };
        let body = json!({"success": false, "error": {"code": code, "message": message}, "timestamp": crate::server::clock::wall_now().to_string()});
        let mut res = (status, Json(body)).into_response();
        crate::server::http::error::stamp_retry_after(&mut res, self.0.retry_after_secs());
        res
    }
}

fn envelope(data: impl Serialize, cached: bool, load_time: f64, state: &AppState) -> Json<Value> {
    Json(json!({
        "success": true,
        "data": data,
        "cached": cached,
        "load_time": load_time,
        "timestamp": state.clock.now().to_string(),
    }))
}

/// The seed API's permission check: `service::access::may_read_user`, answered as the
/// same 403 for a stranger and for an id that does not exist.
async fn allowed(state: &AppState, caller: &CurrentUser, user_id: i64) -> Result<(), V2Error> {
    if access::may_read_user(state, caller, user_id).await? {
        Ok(())
    } else {
        Err(V2Error(ApiError::Forbidden))
    }
}

/// The seed's outlook object, from ours.
fn seed_outlook(o: &Outlook) -> Value {
    json!({
        "user_id": o.user_id,
        "date": o.date.to_string(),
        "balance_score": o.balance_score,
        "status": o.status,
        "primary_insight": o.primary_insight.text,
        "quick_actions": o.quick_actions,
        "encouragement_message": o.encouragement,
        "surprise_element": o.tip.as_ref().map(|t| format!("Tip of the day: {} — {}", t.title, t.text)),
        "streak_count": o.streak,
    })
}

fn not_found_is_404(e: ServiceError) -> V2Error {
    V2Error(e.into())
}

/// Whose outlook a caller asks for: their own (timezone known, no query) or, for an
/// admin, anyone's.
fn whose(caller: &CurrentUser, user_id: i64) -> Whose<'_> {
    if caller.id == user_id {
        Whose::me(caller)
    } else {
        Whose::id(user_id)
    }
}

/// A view derived from the outlook (the seeds' shapes), cached under its own key with
/// the user's tag, so a hit is bytes out without touching the outlook itself.
async fn derived(
    state: &AppState,
    whose: Whose<'_>,
    date: Option<Date>,
    (strategy, variant): (Strategy, &str),
    view: impl FnOnce(&Outlook) -> Result<Value, ServiceError>,
) -> Result<Hit, ServiceError> {
    let date = outlook::day_of(state, whose, date).await?;
    let variant = format!("{variant}{}", whose.variant());
    let key = outlook::cache_key(strategy, whose.user_id, date, &variant);
    state
        .cache
        .get_or_compute_json(
            strategy,
            &key,
            &[freshness::user_tag(whose.user_id)],
            || async move {
                let served = outlook::get(state, whose, Some(date)).await?;
                view(&served.outlook)
            },
        )
        .await
}

/// A v2 view of `user_id`'s outlook in the seeds' envelope: permission, date, cache.
async fn enveloped_view(
    state: &AppState,
    caller: &CurrentUser,
    user_id: i64,
    date: Option<&str>,
    kind: (Strategy, &str),
    view: impl FnOnce(&Outlook) -> Result<Value, ServiceError>,
) -> Result<Response, V2Error> {
    allowed(state, caller, user_id).await?;
    let started = Instant::now();
    let hit = derived(state, whose(caller, user_id), parse_date(date)?, kind, view)
        .await
        .map_err(not_found_is_404)?;
    Ok(cached::envelope(
        &hit,
        started.elapsed().as_secs_f64(),
        &state.clock.now().to_string(),
    ))
}

async fn daily_outlook(
    State(state): State<AppState>,
    ReadUser(caller): ReadUser,
    Path(user_id): Path<i64>,
    Query(q): Query<DateParam>,
) -> Result<Response, V2Error> {
    let kind = (Strategy::Outlook, ":v2");
    enveloped_view(&state, &caller, user_id, q.date.as_deref(), kind, |o| {
        Ok(seed_outlook(o))
    })
    .await
}

async fn balance_score(
    State(state): State<AppState>,
    ReadUser(caller): ReadUser,
    Path(user_id): Path<i64>,
    Query(q): Query<DateParam>,
) -> Result<Response, V2Error> {
    let kind = (Strategy::BalanceScore, "");
    enveloped_view(&state, &caller, user_id, q.date.as_deref(), kind, |o| {
        let components: Vec<Value> = o
            .meters
            .iter()
            .map(|m| json!({"meter_id": m.meter_id, "name": m.name, "pace_score": m.pace, "status": m.status}))
            .collect();
        Ok(json!({"user_id": o.user_id, "date": o.date.to_string(), "balance_score": o.balance_score,
                  "status": o.status, "components": components}))
    })
    .await
}

async fn peer_comparison(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    Path(user_id): Path<i64>,
    Query(q): Query<DateParam>,
) -> Result<Json<Value>, V2Error> {
    allowed(&state, &caller, user_id).await?;
    let started = Instant::now();
    let date = parse_date(q.date.as_deref())?;
    let user = state
        .db
        .user_by_id(user_id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let comparison = peers::compare(&state, &user).await?;
    let mut data = serde_json::to_value(&comparison).map_err(anyhow::Error::from)?;
    data["user_id"] = json!(user_id);
    data["date"] = json!(date.map(|d| d.to_string()));
    Ok(envelope(
        data,
        false,
        started.elapsed().as_secs_f64(),
        &state,
    ))
}

#[derive(Deserialize)]
struct BatchRequest {
    #[serde(default)]
    user_ids: Vec<i64>,
    date: Option<String>,
}

async fn batch(
    State(state): State<AppState>,
    AuthUser(caller): AuthUser,
    JsonBody(req): JsonBody<BatchRequest>,
) -> Result<Json<Value>, V2Error> {
    if !caller.is_admin() {
        return Err(V2Error(ApiError::Forbidden));
    }
    if req.user_ids.is_empty() || req.user_ids.len() > MAX_BATCH {
        return Err(V2Error(ApiError::invalid(
            "user_ids",
            format!("must list 1 to {MAX_BATCH} user ids"),
        )));
    }
    let started = Instant::now();
    let date = parse_date(req.date.as_deref())?;
    let (mut outlooks, mut not_found, mut all_cached) = (Vec::new(), Vec::new(), true);
    for id in req.user_ids {
        if !access::may_read_user(&state, &caller, id).await? {
            not_found.push(id);
            continue;
        }
        match outlook::get(&state, Whose::id(id), date).await {
            Ok(served) => {
                all_cached &= served.cached;
                outlooks.push(seed_outlook(&served.outlook));
            }
            Err(ServiceError::NotFound) => not_found.push(id),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(envelope(
        json!({"outlooks": outlooks, "not_found": not_found}),
        all_cached,
        started.elapsed().as_secs_f64(),
        &state,
    ))
}

async fn health(State(state): State<AppState>) -> Response {
    let started = Instant::now();
    let db_ok = state.db.ping().await.is_ok();
    let cache = state.cache.status().await;
    let body = envelope(
        json!({"status": if db_ok { "healthy" } else { "unhealthy" }, "database": if db_ok { "ok" } else { "down" },
               "cache": cache.status, "redis": cache.redis.status}),
        false,
        started.elapsed().as_secs_f64(),
        &state,
    );
    let status = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, body).into_response()
}

/// Bytes per MB of each data unit, for the seed's MB fields.
fn mb_per(unit: &str) -> Option<f64> {
    match unit.to_ascii_uppercase().as_str() {
        "MB" => Some(1.0),
        "GB" => Some(1024.0),
        "TB" => Some(1_048_576.0),
        _ => None,
    }
}

/// The caller's primary quota meter, in the old monitor's shape (MB fields; other units
/// are given as they are, named in `unit`).
async fn usage_current(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
) -> Result<Response, ApiError> {
    let hit = derived(
        &state,
        Whose::me(&user),
        None,
        (Strategy::Dashboard, ":usage"),
        |o| {
            let Some(m) = o.meters.first() else {
                return Err(ServiceError::NotFound);
            };
            let factor = mb_per(&m.unit).unwrap_or(1.0);
            let s = &m.snapshot;
            Ok(json!({
                "meter_id": m.meter_id,
                "unit": if mb_per(&m.unit).is_some() { "MB" } else { m.unit.as_str() },
                "total_used_mb": s.used * factor,
                "remaining_mb": s.remaining * factor,
                "daily_budget_mb": s.daily_budget * factor,
                "last_updated": s.last_reading_at.and_then(|t| jiff::Timestamp::from_second(t).ok()).map(|t| t.to_string()),
                "efficiency_score": m.pace,
            }))
        },
    )
    .await?;
    Ok(cached::json(&hit))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/usage/current", get(usage_current))
        .route("/api/v2/daily-outlook/health", get(health))
        .route("/api/v2/daily-outlook/batch", post(batch))
        .route("/api/v2/daily-outlook/{user_id}", get(daily_outlook))
        .route(
            "/api/v2/daily-outlook/{user_id}/balance-score",
            get(balance_score),
        )
        .route(
            "/api/v2/daily-outlook/{user_id}/peer-comparison",
            get(peer_comparison),
        )
}
