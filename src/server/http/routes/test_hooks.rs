//! Routes that exist only when `HEADROOM_TEST_HOOKS=true`, for tests that need a request
//! or a statement of known duration (graceful shutdown, timeouts, slow-route and
//! slow-query monitoring), a chosen status (error-rate monitoring), a body that never
//! ends (the streamed-answer deadline) or a new service worker version (the PWA update
//! prompt).

use std::time::Duration;

use crate::server::http::extract::Query;
use axum::{
    Router,
    extract::State,
    http::StatusCode,
    routing::{get, post},
};
use serde::Deserialize;

use crate::server::{state::AppState, storage::Pool};

#[derive(Deserialize)]
struct SleepParams {
    ms: u64,
}

async fn sleep(Query(p): Query<SleepParams>) -> String {
    tokio::time::sleep(Duration::from_millis(p.ms.min(60_000))).await;
    format!("slept {} ms", p.ms)
}

/// One statement that takes about `ms` on the database: `pg_sleep` on PostgreSQL; on
/// SQLite (which has no sleep) a recursive count sized to take at least that long here.
async fn slow_query(
    State(state): State<AppState>,
    Query(p): Query<SleepParams>,
) -> Result<String, StatusCode> {
    let ms = p.ms.min(10_000);
    let done = match &state.db.pool {
        Pool::Postgres(pool) => sqlx::query("SELECT pg_sleep($1) /* test hook: slow query */")
            .bind(ms as f64 / 1000.0)
            .execute(pool)
            .await
            .map(|_| ()),
        Pool::Sqlite(pool) => sqlx::query(
            "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < $1) \
             SELECT count(*) FROM c /* test hook: slow query */",
        )
        .bind(i64::try_from(ms * 20_000).unwrap_or(i64::MAX))
        .execute(pool)
        .await
        .map(|_| ()),
    };
    done.map_err(|_| StatusCode::INTERNAL_SERVER_ERROR)?;
    Ok(format!("queried for about {ms} ms"))
}

/// Answers with the status asked for, for error-rate monitoring.
async fn status(Query(p): Query<StatusParams>) -> StatusCode {
    StatusCode::from_u16(p.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
}

#[derive(Deserialize)]
struct StatusParams {
    code: u16,
}

/// A body that never ends: a chunk every 100 ms, for the streamed-answer deadline.
async fn endless() -> axum::body::Body {
    let ticks = futures::stream::unfold((), |()| async {
        tokio::time::sleep(Duration::from_millis(100)).await;
        Some((
            Ok::<_, std::io::Error>(bytes::Bytes::from_static(b"tick\n")),
            (),
        ))
    });
    axum::body::Body::from_stream(ticks)
}

/// Makes `/sw.js` announce a new version, as a deploy would.
async fn bump_sw_version() -> String {
    format!("service worker salt {}", super::pwa::bump_version())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__test/sleep", get(sleep))
        .route("/__test/slow-query", get(slow_query))
        .route("/__test/status", get(status))
        .route("/__test/endless", get(endless))
        .route("/__test/sw-version", post(bump_sw_version))
}
