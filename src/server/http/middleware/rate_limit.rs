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
    http::{HeaderMap, HeaderValue, header::HeaderName},
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

/// One request's place in its user's hourly allowance.
pub struct Quota {
    max: u64,
    count: u64,
    reset_secs: u64,
}

impl Quota {
    pub fn exceeded(&self) -> bool {
        self.count > self.max
    }

    /// The 429 for a request over the allowance.
    pub fn refusal(&self) -> Response {
        ApiError::TooManyRequests {
            retry_after_secs: self.reset_secs.max(1),
        }
        .into_response()
    }

    /// `RateLimit-*` on whatever answered the request (a 304 included).
    pub fn stamp(&self, h: &mut HeaderMap) {
        h.insert(LIMIT, HeaderValue::from(self.max));
        h.insert(
            REMAINING,
            HeaderValue::from(self.max.saturating_sub(self.count)),
        );
        h.insert(RESET, HeaderValue::from(self.reset_secs));
    }
}

/// Whether a request for `path` counts against `user`'s allowance at all: not outside the
/// documented API, not for an exempt administrator. Decided without awaiting, so the
/// caller makes the (large) counting future only when it is needed.
pub fn applies(state: &AppState, user: &CurrentUser, path: &str) -> bool {
    counted_path(path) && (!user.is_admin() || state.settings.rate_limits.count_admins)
}

/// Counts one request against `user`'s allowance for this hour.
pub async fn count(state: &AppState, user: &CurrentUser) -> Quota {
    let limits = &state.settings.rate_limits;
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
    let quota = Quota {
        max,
        count,
        reset_secs: u64::try_from(reset).unwrap_or(0),
    };
    if quota.exceeded() {
        tracing::info!(user.id = user.id, tier = %user.plan_tier, "rate limited");
    }
    quota
}
