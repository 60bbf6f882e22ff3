//! Routes that exist only when `HEADROOM_TEST_HOOKS=true`, for tests that need a request
//! of known duration (graceful shutdown, timeouts, slow-route monitoring) or a new
//! service worker version (the PWA update prompt).

use std::time::Duration;

use axum::{
    Router,
    extract::Query,
    routing::{get, post},
};
use serde::Deserialize;

use crate::server::state::AppState;

#[derive(Deserialize)]
struct SleepParams {
    ms: u64,
}

async fn sleep(Query(p): Query<SleepParams>) -> String {
    tokio::time::sleep(Duration::from_millis(p.ms.min(60_000))).await;
    format!("slept {} ms", p.ms)
}

/// Makes `/sw.js` announce a new version, as a deploy would.
async fn bump_sw_version() -> String {
    format!("service worker salt {}", super::pwa::bump_version())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/__test/sleep", get(sleep))
        .route("/__test/sw-version", post(bump_sw_version))
}
