//! `POST /api/v1/readings` (ingest, by API token or session) and
//! `GET /api/v1/meters/{id}/readings` (export as CSV or JSON).

use crate::server::http::extract::{Path, Query};
use axum::{
    Extension, Json, Router,
    body::Body,
    extract::State,
    http::{HeaderMap, StatusCode, header},
    response::{IntoResponse, Response},
    routing::{get, post},
};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::server::{
    auth::CurrentUser,
    http::{
        error::ApiError,
        extract::{ReadUser, bearer, read_body, require_json},
        middleware::rate_limit,
    },
    service::{
        export::{self, ExportFormat},
        readings::{self, MAX_BATCH, Writer},
        tokens,
    },
    state::AppState,
};

/// 10 000 readings of ~100 bytes of JSON each, with room to spare.
const INGEST_BODY_LIMIT: usize = 4 * 1024 * 1024;

#[derive(Deserialize)]
struct IngestParams {
    #[serde(default)]
    partial: bool,
}

async fn ingest(
    State(state): State<AppState>,
    Query(params): Query<IngestParams>,
    user: Option<Extension<CurrentUser>>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let token = match bearer(&headers) {
        Some(b) => Some(
            tokens::authenticate(&state, b)
                .await?
                .ok_or(ApiError::Unauthorized)?,
        ),
        None => None,
    };
    if let Some(t) = &token {
        if t.scope != tokens::Scope::Ingest {
            return Err(ApiError::Forbidden);
        }
        let quota = rate_limit::count_token(&state, t.token_id).await;
        if quota.exceeded() {
            return Ok(quota.refusal());
        }
    }
    let writer = match (&token, &user) {
        (Some(t), _) => Writer::Token(t),
        (None, Some(Extension(u))) => Writer::User(u),
        (None, None) => return Err(ApiError::Unauthorized),
    };
    require_json(&headers)?;
    let bytes = read_body(body, INGEST_BODY_LIMIT).await?;
    let value: Value =
        serde_json::from_slice(&bytes).map_err(|e| ApiError::MalformedJson(e.to_string()))?;
    let single;
    let entries: &[Value] = match &value {
        Value::Object(o) => match o.get("readings") {
            Some(Value::Array(list)) => list,
            Some(_) => {
                return Err(ApiError::invalid(
                    "readings",
                    "must be an array of readings",
                ));
            }
            None => {
                single = [value.clone()];
                &single
            }
        },
        _ => {
            return Err(ApiError::invalid(
                "readings",
                "send one reading object, or {\"readings\": [ ... ]}",
            ));
        }
    };
    if entries.is_empty() {
        return Err(ApiError::invalid("readings", "must not be empty"));
    }
    if entries.len() > MAX_BATCH {
        return Err(ApiError::invalid(
            "readings",
            format!("at most {MAX_BATCH} readings per request; split the batch"),
        ));
    }
    let outcome = readings::accept(&state, writer, entries, params.partial).await?;
    let status = if outcome.rejected.is_empty() {
        StatusCode::CREATED
    } else {
        StatusCode::MULTI_STATUS
    };
    let body = json!({
        "accepted": outcome.report.stored,
        "meters": outcome.report.meters,
        "rejected": outcome.rejected,
    });
    Ok((status, Json(body)).into_response())
}

#[derive(Deserialize)]
struct ExportParams {
    from: Option<String>,
    to: Option<String>,
    #[serde(default)]
    format: Option<String>,
}

async fn export_readings(
    State(state): State<AppState>,
    ReadUser(user): ReadUser,
    Path(id): Path<i64>,
    Query(p): Query<ExportParams>,
) -> Result<Response, ApiError> {
    let format = match p.format.as_deref().unwrap_or("csv") {
        "csv" => ExportFormat::Csv,
        "json" => ExportFormat::Json,
        _ => return Err(ApiError::invalid("format", "must be csv or json")),
    };
    let range = export::parse_range(p.from.as_deref(), p.to.as_deref(), state.clock.now_secs())?;
    let export = export::readings(&state, &user, id, range, format).await?;
    let disposition = format!("attachment; filename=\"{}\"", export.file_name);
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(export.stream),
    )
        .into_response())
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/readings", post(ingest))
        .route("/api/v1/meters/{id}/readings", get(export_readings))
}
