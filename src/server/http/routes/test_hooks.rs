//! Routes that exist only when `HEADROOM_TEST_HOOKS=true`, for tests that need a request
//! of known duration (graceful shutdown, timeouts, slow-route monitoring).

use std::time::Duration;

use axum::{Router, extract::Query, routing::get};
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

pub fn router() -> Router<AppState> {
    Router::new().route("/__test/sleep", get(sleep))
}
