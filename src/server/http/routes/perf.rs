//! The performance center's API (seed interface, SPEC S12, S8), administrators only:
//! metrics, analytics, summary, alerts (acknowledge, resolve), thresholds, the cache's
//! statistics, keys and clearing by pattern, a live stream of samples (server-sent events),
//! and the Prometheus exposition at `/metrics`.
//!
//! `/metrics` is on the main listener, behind the same admin check as the JSON API: an
//! admin's session cookie, or an admin's API token as `Authorization: Bearer …` (what a
//! Prometheus scrape job sends with `authorization: {credentials: …}`). One listener keeps
//! the deployment a single port behind the reverse proxy; the figures name routes and
//! statement counts, which are not for the public.

use std::{collections::HashMap, convert::Infallible, time::Instant};

use crate::server::http::extract::{Path, Query};
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{
        IntoResponse, Response,
        sse::{Event, KeepAlive, Sse},
    },
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{
    dto::perf::{Alert, Analytics, CacheReport, Metrics, Summary},
    server::{
        auth::CurrentUser,
        cache::{KeysReport, Pattern},
        http::{
            error::ApiError,
            extract::{AdminUser, JsonBody},
            middleware::rate_limit,
        },
        perf::{prometheus, report, sql},
        service::tokens,
        state::AppState,
    },
};

async fn stats(State(state): State<AppState>, _: AdminUser) -> Json<CacheReport> {
    Json(report::cache(&state).await)
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

type Params = Query<HashMap<String, String>>;

fn int_param(
    q: &HashMap<String, String>,
    name: &str,
    default: i64,
    range: std::ops::RangeInclusive<i64>,
) -> Result<i64, ApiError> {
    match q.get(name) {
        None => Ok(default),
        Some(v) => v
            .trim()
            .parse::<i64>()
            .ok()
            .filter(|n| range.contains(n))
            .ok_or_else(|| {
                ApiError::invalid(
                    name,
                    format!(
                        "must be a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ),
                )
            }),
    }
}

async fn metrics(State(state): State<AppState>, _: AdminUser) -> Json<Metrics> {
    Json(report::metrics(&state).await)
}

async fn analytics(
    State(state): State<AppState>,
    _: AdminUser,
    Query(q): Params,
) -> Result<Json<Analytics>, ApiError> {
    let minutes = int_param(&q, "minutes", 5, 1..=7 * 24 * 60)?;
    Ok(Json(report::analytics(&state, minutes).await?))
}

async fn summary(State(state): State<AppState>, _: AdminUser) -> Result<Json<Summary>, ApiError> {
    Ok(Json(report::summary(&state).await?))
}

async fn alerts(
    State(state): State<AppState>,
    _: AdminUser,
    Query(q): Params,
) -> Result<Json<Value>, ApiError> {
    let resolved = match q.get("resolved").map(|s| s.trim().to_ascii_lowercase()) {
        None => None,
        Some(s) if s == "true" => Some(true),
        Some(s) if s == "false" => Some(false),
        Some(_) => return Err(ApiError::invalid("resolved", "must be true or false")),
    };
    let limit = int_param(&q, "limit", 100, 1..=1000)?;
    let rows = state.db.perf_alerts(resolved, limit).await?;
    let list: Vec<Alert> = rows.iter().map(Alert::from).collect();
    Ok(Json(json!({"alerts": list, "count": list.len()})))
}

fn alert_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::invalid("id", "must be an alert id (a positive whole number)"))
}

async fn resolve(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = alert_id(&id)?;
    let now = crate::server::clock::wall_now().as_second();
    let Some(before) = state.db.perf_alert(id).await? else {
        return Err(ApiError::NotFound);
    };
    if before.resolved_at.is_none() {
        state.db.resolve_perf_alert(id, &admin.email, now).await?;
        state.perf.sampler.lock().await.tracker.resolved_by_hand(id);
        tracing::info!(user.id = admin.id, alert.id = id, "alert resolved");
    }
    let after = state.db.perf_alert(id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(json!({"success": true, "alert": Alert::from(&after)})))
}

async fn acknowledge(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let id = alert_id(&id)?;
    let now = crate::server::clock::wall_now().as_second();
    if !state
        .db
        .acknowledge_perf_alert(id, &admin.email, now)
        .await?
    {
        return Err(ApiError::NotFound);
    }
    let after = state.db.perf_alert(id).await?.ok_or(ApiError::NotFound)?;
    Ok(Json(json!({"success": true, "alert": Alert::from(&after)})))
}

async fn thresholds(State(state): State<AppState>, _: AdminUser) -> Json<Value> {
    Json(thresholds_json(&state))
}

fn thresholds_json(state: &AppState) -> Value {
    json!({
        "thresholds": state.perf.thresholds(),
        "presets": {
            "production": crate::server::perf::thresholds::Thresholds::production(),
            "development": crate::server::perf::thresholds::Thresholds::development(),
        },
    })
}

async fn put_thresholds(
    State(state): State<AppState>,
    AdminUser(admin): AdminUser,
    JsonBody(body): JsonBody<Value>,
) -> Result<Json<Value>, ApiError> {
    let next = state.perf.thresholds().apply(&body)?;
    let stored = serde_json::to_string(&next).map_err(|e| ApiError::Internal(e.into()))?;
    state
        .db
        .save_perf_thresholds(&stored, crate::server::clock::wall_now().as_second())
        .await?;
    state.perf.set_thresholds(next);
    tracing::info!(user.id = admin.id, "performance thresholds changed");
    Ok(Json(thresholds_json(&state)))
}

/// Each sample's chart point as a `sample` event, until the client goes or the server
/// stops.
async fn stream(State(state): State<AppState>, _: AdminUser) -> Response {
    let rx = state.perf.live.subscribe();
    let stopping = state.perf.stopping.subscribe();
    let events = futures::stream::unfold((rx, stopping), |(mut rx, mut stopping)| async move {
        loop {
            if *stopping.borrow() {
                return None;
            }
            tokio::select! {
                got = rx.recv() => match got {
                    Ok(json) => {
                        let ev = Event::default().event("sample").data(&*json);
                        return Some((Ok::<_, Infallible>(ev), (rx, stopping)));
                    }
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(_)) => continue,
                    Err(tokio::sync::broadcast::error::RecvError::Closed) => return None,
                },
                _ = stopping.changed() => return None,
            }
        }
    });
    let mut res = Sse::new(events)
        .keep_alive(KeepAlive::default())
        .into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    res
}

/// An admin by session, or by an admin's API token (for scrapers).
async fn metrics_caller(
    state: &AppState,
    user: Option<&CurrentUser>,
    headers: &HeaderMap,
) -> Result<(), ApiError> {
    if let Some(u) = user {
        return if u.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden)
        };
    }
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .ok_or(ApiError::Unauthorized)?;
    let principal = tokens::authenticate(state, bearer)
        .await?
        .ok_or(ApiError::Unauthorized)?;
    // Only a token made for scraping: an ingest token in a device must not read the
    // server's figures because its owner happens to be an administrator.
    if principal.scope != tokens::Scope::Metrics {
        return Err(ApiError::Forbidden);
    }
    let quota = rate_limit::count_token(state, principal.token_id).await;
    if quota.exceeded() {
        return Err(ApiError::TooManyRequests {
            retry_after_secs: quota.retry_after_secs(),
        });
    }
    let owner = state.db.user_by_id(principal.user_id).await?;
    if owner.is_some_and(|u| u.role == "admin" && u.disabled_at.is_none()) {
        Ok(())
    } else {
        Err(ApiError::Forbidden)
    }
}

async fn prometheus_text(
    State(state): State<AppState>,
    user: Option<axum::Extension<CurrentUser>>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    metrics_caller(&state, user.as_ref().map(|u| &u.0), &headers).await?;
    let perf = &state.perf;
    let routes = perf.routes.snapshot();
    let sqls = sql::global();
    let cache = state.cache.stats().await;
    let jobs = perf.jobs.snapshot();
    let system = {
        let s = perf.sampler.lock().await;
        s.ring.back().map(|x| x.system.clone())
    };
    let evaluation = perf.latest();
    let open = state.db.perf_alerts(Some(false), 1000).await?.len();
    let text = prometheus::render(&prometheus::Inputs {
        routes: &routes,
        queries: &sqls.all.snapshot(),
        slow_queries: sqls.slow_total.load(std::sync::atomic::Ordering::Relaxed),
        cache: &cache,
        jobs: &jobs,
        system: system.as_ref(),
        db_connections: state.db.pool_size(),
        in_flight: perf.routes.in_flight(),
        connections: perf.connections.open(),
        connections_parked: perf.connections.parked_now(),
        evaluation: evaluation.as_deref(),
        open_alerts: open,
    });
    Ok((
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                "text/plain; version=0.0.4; charset=utf-8",
            ),
            (header::CACHE_CONTROL, "no-store"),
        ],
        text,
    )
        .into_response())
}

/// `GET /api/v2/daily-outlook/performance`, in the seed's envelope.
async fn outlook_performance(State(state): State<AppState>, _: AdminUser) -> Json<Value> {
    let started = Instant::now();
    let data = report::outlook(&state).await;
    Json(json!({
        "success": true,
        "data": data,
        "cached": false,
        "load_time": started.elapsed().as_secs_f64(),
        "timestamp": state.clock.now().to_string(),
    }))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/performance/cache/stats", get(stats))
        .route("/api/performance/cache/keys", get(keys))
        .route("/api/performance/cache/clear", post(clear))
        .route("/api/performance/metrics", get(metrics))
        .route("/api/performance/analytics", get(analytics))
        .route("/api/performance/summary", get(summary))
        .route("/api/performance/alerts", get(alerts))
        .route("/api/performance/alerts/{id}/resolve", post(resolve))
        .route(
            "/api/performance/alerts/{id}/acknowledge",
            post(acknowledge),
        )
        .route(
            "/api/performance/thresholds",
            get(thresholds).put(put_thresholds),
        )
        .route("/api/performance/stream", get(stream))
        .route(
            "/api/v2/daily-outlook/performance",
            get(outlook_performance),
        )
        .route("/metrics", get(prometheus_text))
        .merge(super::perf_forms::router())
}
