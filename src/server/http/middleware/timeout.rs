//! A request still unanswered after `HEADROOM_REQUEST_TIMEOUT_SECS` gets a JSON 503
//! instead of holding its connection (and a database connection) forever. The handler's
//! future is dropped, which cancels its work at the next await (an upload's guard then
//! removes its partial file).

use std::time::Duration;

use axum::{
    Json,
    extract::{MatchedPath, Request},
    http::{Method, StatusCode},
    response::{IntoResponse, Response},
};

use crate::server::config::Settings;

/// The routes that receive a file (the meter page's form and the API).
const UPLOAD_ROUTES: [&str; 2] = ["/meters/{id}/import", "/api/v1/meters/{id}/imports"];

/// How long `req` may take. An upload may take minutes on a slow link, so it gets
/// `HEADROOM_UPLOAD_TIMEOUT_SECS` for the whole of it instead of the request timeout.
/// Chosen by the route it matched, never by its `Content-Type`: a header the client
/// picks must not switch a deadline off.
pub fn limit(req: &Request, settings: &Settings) -> Duration {
    let upload = req.method() == Method::POST
        && req
            .extensions()
            .get::<MatchedPath>()
            .is_some_and(|p| UPLOAD_ROUTES.contains(&p.as_str()));
    if upload {
        settings.security.upload_timeout
    } else {
        settings.server.request_timeout
    }
}

/// The JSON 503 for a request still unanswered after `limit`. The gate wraps its work in
/// `tokio::time::timeout` itself: a helper `async fn` taking the work would hold it twice
/// (as its argument and inside the timer), doubling every request's future.
pub fn timed_out(limit: Duration) -> Response {
    tracing::warn!(after = ?limit, "request timed out");
    let body = serde_json::json!({"error": {"code": "timeout",
        "message": format!("the request took longer than {} s; try again", limit.as_secs())}});
    (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
}
