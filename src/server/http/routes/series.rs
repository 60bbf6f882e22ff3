//! The chart explorer's API: `GET /api/v1/meters/{id}/series` (one meter) and
//! `GET /api/v1/series?ids=1,2` (up to four of one unit), for a preset or a `from`/`to`
//! range reduced to the chart's `width` × `dpr` columns. A session or a read token.

use axum::{Json, Router, extract::State, response::Response, routing::get};
use serde::Deserialize;

use crate::{
    dto::series::SeriesSet,
    server::{
        http::{
            cached,
            error::ApiError,
            extract::{Path, Query, ReadUser},
        },
        service::series::{self, RangeQuery},
        state::AppState,
    },
};

async fn one(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
    Query(q): Query<RangeQuery>,
) -> Result<Response, ApiError> {
    let w = series::window(state.clock.now_secs(), &q, &jiff::tz::TimeZone::UTC)?;
    let hit = series::one(&state, &user, id, w).await?;
    Ok(cached::json(&hit))
}

/// The range fields spelled out: `#[serde(flatten)]` would read numbers from a query
/// string as text and refuse them.
#[derive(Deserialize)]
struct SetQuery {
    ids: Option<String>,
    range: Option<String>,
    from: Option<String>,
    to: Option<String>,
    width: Option<f64>,
    dpr: Option<f64>,
}

async fn several(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Query(q): Query<SetQuery>,
) -> Result<Json<SeriesSet>, ApiError> {
    let raw = q.ids.unwrap_or_default();
    let ids: Vec<i64> = raw
        .split(',')
        .filter(|s| !s.trim().is_empty())
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<_, _>>()
        .map_err(|_| ApiError::invalid("ids", "must be meter ids separated by commas"))?;
    let range = RangeQuery {
        range: q.range,
        from: q.from,
        to: q.to,
        width: q.width,
        dpr: q.dpr,
    };
    let w = series::window(state.clock.now_secs(), &range, &jiff::tz::TimeZone::UTC)?;
    Ok(Json(series::several(&state, &user, &ids, w).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/meters/{id}/series", get(one))
        .route("/api/v1/series", get(several))
}
