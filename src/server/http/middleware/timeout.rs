//! A request still unanswered after `HEADROOM_REQUEST_TIMEOUT_SECS` gets a JSON 503
//! instead of holding its connection (and a database connection) forever. The handler's
//! future is dropped, which cancels its work at the next await.

use axum::{
    Json,
    extract::{Request, State},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};

use crate::server::state::AppState;

pub async fn limit(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // An upload's time is the client's bandwidth, not the server being stuck.
    let upload = req
        .headers()
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/"));
    if upload {
        return next.run(req).await;
    }
    let limit = state.settings.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(res) => res,
        Err(_) => {
            tracing::warn!(after = ?limit, "request timed out");
            let body = serde_json::json!({"error": {"code": "timeout",
                "message": format!("the request took longer than {} s; try again", limit.as_secs())}});
            (StatusCode::SERVICE_UNAVAILABLE, Json(body)).into_response()
        }
    }
}
