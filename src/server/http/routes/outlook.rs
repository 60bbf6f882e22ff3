//! Headroom's own outlook API: `GET /api/v1/outlook`, `/api/v1/outlook/peers`, and a meter's
//! `/trends` and `/timeline`.

use crate::server::http::extract::{Path, Query};
use axum::{
    Json, Router,
    extract::State,
    http::{HeaderName, HeaderValue},
    response::Response,
    routing::get,
};
use jiff::civil::Date;
use serde::Deserialize;
use std::time::Duration;

use crate::{
    domain::outlook::{MeterTrend, peers::PeerComparison},
    dto::Timeline,
    server::{
        http::{
            cached,
            error::ApiError,
            extract::{AuthUser, ReadUser},
        },
        service::{charts, outlook, peers},
        state::AppState,
    },
};

#[derive(Deserialize)]
pub struct DateParam {
    pub date: Option<String>,
}

/// `?date=YYYY-MM-DD`, if given.
pub fn parse_date(raw: Option<&str>) -> Result<Option<Date>, ApiError> {
    raw.filter(|d| !d.is_empty())
        .map(|d| {
            d.parse::<Date>()
                .map_err(|_| ApiError::invalid("date", "must be a date like 2026-11-21"))
        })
        .transpose()
}

const SERVER_TIMING: HeaderName = HeaderName::from_static("server-timing");

/// `outlook;desc=<hit|miss>;dur=<ms>`, and for an outlook this request computed, where
/// that time went: `row` (looking for the stored copy), `compute` (rollups read, outlook
/// computed and serialised), `store` (kept as the row for the next cold read).
fn server_timing(cache: &str, total: Duration, miss: Option<outlook::MissTiming>) -> String {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut timing = format!("outlook;desc={cache};dur={:.3}", ms(total));
    if let Some(m) = miss {
        timing.push_str(&format!(
            ", row;dur={:.3}, compute;dur={:.3}, store;dur={:.3}",
            ms(m.row_lookup),
            ms(m.compute),
            ms(m.store)
        ));
    }
    timing
}

async fn today(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Query(q): Query<DateParam>,
) -> Result<Response, ApiError> {
    let started = std::time::Instant::now();
    let (hit, _, miss) = outlook::cached_timed(
        &state,
        outlook::Whose::me(&user),
        parse_date(q.date.as_deref())?,
    )
    .await?;
    let mut res = cached::json(&hit);
    let cache = if hit.cached() { "hit" } else { "miss" };
    // How long getting the outlook took inside the server (for a miss: reading the rollups,
    // computing and storing it), so browsers' dev tools and the benchmark can see it apart
    // from the network.
    let timing = server_timing(cache, started.elapsed(), miss);
    if let Ok(v) = HeaderValue::from_str(&timing) {
        res.headers_mut().insert(SERVER_TIMING, v);
    }
    Ok(res)
}

async fn peer_comparison(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
) -> Result<Json<PeerComparison>, ApiError> {
    let row = state
        .db
        .user_by_id(user.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    Ok(Json(peers::compare(&state, &row).await?))
}

#[derive(Deserialize)]
struct Days {
    days: Option<i64>,
}

async fn trend(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
    Query(q): Query<Days>,
) -> Result<Json<MeterTrend>, ApiError> {
    let days = q.days.unwrap_or(7);
    if !(1..=charts::MAX_DAYS).contains(&days) {
        return Err(ApiError::invalid(
            "days",
            format!("must be from 1 to {}", charts::MAX_DAYS),
        ));
    }
    Ok(Json(charts::trend(&state, &user, id, days).await?))
}

#[derive(Deserialize)]
struct Hours {
    hours: Option<i64>,
}

async fn timeline(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
    Query(q): Query<Hours>,
) -> Result<Json<Timeline>, ApiError> {
    let hours = q.hours.unwrap_or(24);
    if !(1..=charts::MAX_HOURS).contains(&hours) {
        return Err(ApiError::invalid(
            "hours",
            format!("must be from 1 to {}", charts::MAX_HOURS),
        ));
    }
    Ok(Json(charts::timeline(&state, &user, id, hours).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/outlook", get(today))
        .route("/api/v1/outlook/peers", get(peer_comparison))
        .route("/api/v1/meters/{id}/trends", get(trend))
        .route("/api/v1/meters/{id}/timeline", get(timeline))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_computed_outlook_says_where_its_time_went() {
        let ms = Duration::from_micros;
        assert_eq!(
            server_timing("hit", ms(120), None),
            "outlook;desc=hit;dur=0.120"
        );
        let miss = outlook::MissTiming {
            row_lookup: ms(250),
            compute: ms(2_000),
            store: ms(1_500),
        };
        assert_eq!(
            server_timing("miss", ms(3_900), Some(miss)),
            "outlook;desc=miss;dur=3.900, row;dur=0.250, compute;dur=2.000, store;dur=1.500"
        );
    }
}
