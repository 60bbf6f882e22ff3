//! `GET /health`: is the process up, can it reach its database and its cache.
//! 200 when the database answers (Redis being down only degrades), 503 otherwise.

use std::time::Instant;

use axum::{Json, Router, extract::State, http::StatusCode, routing::get};
use serde::Serialize;

use crate::server::{cache::CacheStatus, state::AppState};

#[derive(Serialize)]
struct Health {
    status: &'static str,
    version: &'static str,
    database: DatabaseHealth,
    cache: CacheStatus,
}

#[derive(Serialize)]
struct DatabaseHealth {
    status: &'static str,
    backend: &'static str,
    latency_ms: f64,
    connections: u32,
}

async fn health(State(state): State<AppState>) -> (StatusCode, Json<Health>) {
    let started = Instant::now();
    let db_ok = state.db.ping().await.is_ok();
    let latency_ms = started.elapsed().as_secs_f64() * 1000.0;
    let cache = state.cache.status().await;
    let status = match (db_ok, cache.status) {
        (false, _) => "down",
        (true, "ok") => "ok",
        (true, _) => "degraded",
    };
    let code = if db_ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status,
        version: env!("CARGO_PKG_VERSION"),
        database: DatabaseHealth {
            status: if db_ok { "ok" } else { "down" },
            backend: state.db.backend().as_str(),
            latency_ms,
            connections: state.db.pool_size(),
        },
        cache,
    };
    (code, Json(body))
}

/// Liveness for load balancers and process managers: answers while the process serves
/// HTTP at all, without touching the database or the cache. It is also the "trivial
/// route" the load benchmark measures the server's ceiling with.
async fn live() -> &'static str {
    "ok"
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/health", get(health))
        .route("/health/live", get(live))
}
