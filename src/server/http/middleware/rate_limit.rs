//! Per-plan rate limits on the JSON API (SPEC S7): each signed-in user may make a number
//! of requests per clock hour set by their plan tier. With Redis the count is shared by
//! every instance (one atomic INCR per request); without it, or while Redis fails, each
//! instance counts on its own. Over the limit: `429` with `Retry-After`; every counted
//! response carries `RateLimit-Limit`, `RateLimit-Remaining` and `RateLimit-Reset`.
//!
//! Counted against the plan: `/api/v1/…`, `/api/v2/…`, `/api/usage/…`,
//! `/api/performance/…` — the documented API — except for administrators unless
//! `HEADROOM_RATE_LIMIT_ADMINS` is set. The pages' own server functions and form posts
//! have an allowance of their own (`HEADROOM_APP_RATE_LIMIT`, everyone counted): browsing
//! must not use up an hour's API allowance, and a script must not get around the plan by
//! calling what the pages call. API tokens are counted per token
//! (`HEADROOM_TOKEN_RATE_LIMIT`) by the routes that accept them, so a device stuck in a
//! loop cannot flood the write path. Anonymous requests are refused before any work.

use axum::{
    http::{HeaderMap, HeaderValue, header::HeaderName},
    response::{IntoResponse, Response},
};

use crate::server::{auth::CurrentUser, http::error::ApiError, state::AppState};

const WINDOW_SECS: i64 = 3600;

const LIMIT: HeaderName = HeaderName::from_static("ratelimit-limit");
const REMAINING: HeaderName = HeaderName::from_static("ratelimit-remaining");
const RESET: HeaderName = HeaderName::from_static("ratelimit-reset");

/// Which hourly allowance a request is counted against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Allowance {
    /// The documented API, by plan tier.
    Plan,
    /// The pages' server functions and form posts.
    App,
    /// One API token.
    Token,
}

impl Allowance {
    fn key_part(self) -> &'static str {
        match self {
            Allowance::Plan => "u",
            Allowance::App => "a",
            Allowance::Token => "t",
        }
    }
}

fn counted_path(path: &str) -> bool {
    ["/api/v1/", "/api/v2/", "/api/usage/", "/api/performance/"]
        .iter()
        .any(|p| path.starts_with(p))
}

/// One request's place in its user's hourly allowance.
pub struct RateCount {
    max: u64,
    count: u64,
    reset_secs: u64,
}

impl RateCount {
    pub fn exceeded(&self) -> bool {
        self.count > self.max
    }

    pub fn retry_after_secs(&self) -> u64 {
        self.reset_secs.max(1)
    }

    /// The 429 for a request over the allowance.
    pub fn refusal(&self) -> Response {
        let mut res = ApiError::TooManyRequests {
            retry_after_secs: self.retry_after_secs(),
        }
        .into_response();
        self.stamp(res.headers_mut());
        res
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
    counted_path(path) && (!user.is_admin() || state.settings.security.rate_limits.count_admins)
}

/// The allowance a signed-in request is counted against, if any: the plan's for the
/// documented API, the app's for server functions (`POST /api/…` outside it) and form
/// posts. Decided without awaiting, like [`applies`].
pub fn allowance(
    state: &AppState,
    user: &CurrentUser,
    method: &axum::http::Method,
    path: &str,
) -> Option<Allowance> {
    if counted_path(path) {
        return applies(state, user, path).then_some(Allowance::Plan);
    }
    let safe = matches!(
        *method,
        axum::http::Method::GET | axum::http::Method::HEAD | axum::http::Method::OPTIONS
    );
    (!safe || path.starts_with("/api/")).then_some(Allowance::App)
}

/// Counts one request against `user`'s plan allowance for this hour.
pub async fn count(state: &AppState, user: &CurrentUser) -> RateCount {
    count_user(state, user, Allowance::Plan).await
}

/// Counts one request against `user`'s `allowance` for this hour.
pub async fn count_user(state: &AppState, user: &CurrentUser, allowance: Allowance) -> RateCount {
    let max = match allowance {
        Allowance::Plan => state
            .settings
            .security
            .rate_limits
            .for_tier(&user.plan_tier),
        Allowance::App | Allowance::Token => state.settings.security.app_rate_limit,
    };
    let rate = count_in(state, allowance, user.id, u64::from(max)).await;
    if rate.exceeded() {
        tracing::info!(user.id = user.id, tier = %user.plan_tier, ?allowance, "rate limited");
    }
    rate
}

/// Counts one request made with API token `token_id` for this hour.
pub async fn count_token(state: &AppState, token_id: i64) -> RateCount {
    let max = u64::from(state.settings.security.token_rate_limit);
    let rate = count_in(state, Allowance::Token, token_id, max).await;
    if rate.exceeded() {
        tracing::info!(token.id = token_id, "API token rate limited");
    }
    rate
}

async fn count_in(state: &AppState, allowance: Allowance, id: i64, max: u64) -> RateCount {
    let now = state.clock.now_secs();
    let window = now.div_euclid(WINDOW_SECS);
    let reset = (window + 1) * WINDOW_SECS - now;
    let key = format!("ratelimit:{}{id}:{window}", allowance.key_part());
    let count = state.cache.count(&key, WINDOW_SECS as u64 + 60).await;
    RateCount {
        max,
        count,
        reset_secs: u64::try_from(reset).unwrap_or(0),
    }
}
