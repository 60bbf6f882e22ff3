//! A request still unanswered after `HEADROOM_REQUEST_TIMEOUT_SECS` gets a JSON 503
//! instead of holding its connection (and a database connection) forever. The handler's
//! future is dropped, which cancels its work at the next await.

use std::time::Duration;

use axum::{
    Json,
    extract::Request,
    http::{StatusCode, header},
    response::{IntoResponse, Response},
};

/// Uploads stream for as long as they need (an import can take minutes on a slow link);
/// their handlers bound their own work.
pub fn exempt(req: &Request) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"))
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
