//! Per-plan rate limits on the JSON API (SPEC S7): each signed-in user may make a number
//! of requests per clock hour set by their plan tier. With Redis the count is shared by
//! every instance (one atomic INCR per request); without it, or while Redis fails, each
//! instance counts on its own. Over the limit: `429` with `Retry-After`; every counted
//! response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
//!
//! Counted: `/api/v1/…`, `/api/v2/…`, `/api/usage/…`, `/api/performance/…` — the
//! documented API. Not counted: the pages' own server functions (browsing must not use up
//! an hour's API allowance), anonymous requests (refused before any work), and
//! administrators unless `HEADROOM_RATE_LIMIT_ADMINS` is set.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::Duration,
};

use axum::{
    extract::{Request, State},
    http::{HeaderValue, header::HeaderName},
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::server::{auth::CurrentUser, http::error::ApiError, state::AppState};

const WINDOW_SECS: i64 = 3600;

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Per-instance counters, one per user and hour, forgotten after the hour.
#[derive(Clone)]
pub struct LocalCounts(moka::sync::Cache<(i64, i64), Arc<AtomicU64>>);

impl Default for LocalCounts {
    fn default() -> Self {
        LocalCounts(
            moka::sync::Cache::builder()
                .max_capacity(1_000_000)
                .time_to_live(Duration::from_secs(2 * WINDOW_SECS as u64))
                .build(),
        )
    }
}

impl LocalCounts {
    fn add(&self, user: i64, window: i64) -> u64 {
        self.0
            .get_with((user, window), Arc::default)
            .fetch_add(1, Ordering::AcqRel)
            + 1
    }
}

fn counted_path(path: &str) -> bool {
    ["/api/v1/", "/api/v2/", "/api/usage/", "/api/performance/"]
        .iter()
        .any(|p| path.starts_with(p))
}

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(user) = req.extensions().get::<CurrentUser>() else {
        return next.run(req).await;
    };
    let limits = &state.settings.rate_limits;
    if !counted_path(req.uri().path()) || (user.is_admin() && !limits.count_admins) {
        return next.run(req).await;
    }
    let max = u64::from(limits.for_tier(&user.plan_tier));
    let now = state.clock.now_secs();
    let window = now.div_euclid(WINDOW_SECS);
    let reset = (window + 1) * WINDOW_SECS - now;
    let key = format!("ratelimit:u{}:{window}", user.id);
    let count = match state
        .cache
        .shared_count(&key, WINDOW_SECS as u64 + 60)
        .await
    {
        Some(n) => n,
        None => state.rate_counts.add(user.id, window),
    };
    let mut res = if count > max {
        tracing::info!(user.id = user.id, tier = %user.plan_tier, "rate limited");
        ApiError::TooManyRequests {
            retry_after_secs: u64::try_from(reset).unwrap_or(1),
        }
        .into_response()
    } else {
        next.run(req).await
    };
    let h = res.headers_mut();
    h.insert(LIMIT, HeaderValue::from(max));
    h.insert(REMAINING, HeaderValue::from(max.saturating_sub(count)));
    let reset = u64::try_from(reset).unwrap_or(0);
    h.insert(RESET, HeaderValue::from(reset));
    res
}
