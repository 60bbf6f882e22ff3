//! Imports: the upload form of the meter page, `POST /api/v1/meters/{id}/imports` (a CSV
//! body) and `GET /api/v1/imports/{id}`.
//!
//! Both upload routes check the meter (yours, no import running on it, not too many of
//! yours running) and the declared size before reading a byte of the body, then receive
//! it through `http::upload` (bounded, deadline from the gate, file removed on failure).

use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, FromRequest, Multipart, Request, State},
    http::{HeaderMap, StatusCode},
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use serde::Deserialize;

use crate::server::http::extract::{Path, Query};

use crate::{
    dto::ImportView,
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, FormUser},
            upload,
        },
        service::import::{self, ImportFormat},
        state::AppState,
    },
};

/// Longest `format` field of the form we read.
const FORMAT_FIELD_BYTES: usize = 64;

async fn upload_form(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    req: Request,
) -> Result<Response, ApiError> {
    let meter = import::admit(&state, &user, id).await?;
    let limit = state.settings.security.upload_limit_bytes;
    upload::check_declared(req.headers(), limit)?;
    let (parts, body) = req.into_parts();
    let (body, verdict) = upload::limited(body, limit);
    let mut multipart = Multipart::from_request(Request::from_parts(parts, body), &state)
        .await
        .map_err(|e| ApiError::invalid("file", e.body_text()))?;
    let mut format = ImportFormat::Legacy;
    let mut saved = None;
    let broken = |e: axum::extract::multipart::MultipartError| {
        verdict.error(|| ApiError::invalid("file", e.body_text()))
    };
    while let Some(mut field) = multipart.next_field().await.map_err(broken)? {
        match field.name() {
            Some("format") => {
                // Read in chunks, so a huge `format` field is not held whole.
                let mut raw = Vec::new();
                while let Some(chunk) = field.chunk().await.map_err(broken)? {
                    raw.extend_from_slice(&chunk);
                    if raw.len() > FORMAT_FIELD_BYTES {
                        break;
                    }
                }
                format = std::str::from_utf8(&raw)
                    .ok()
                    .and_then(|s| ImportFormat::parse(s.trim()))
                    .ok_or_else(|| ApiError::invalid("format", "must be legacy or generic"))?;
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_string();
                let (file, size) = upload::save(&state, field, &verdict).await?;
                if size == 0 {
                    return Err(ApiError::invalid("file", "choose a CSV file to import"));
                }
                saved = Some((file, name));
            }
            _ => {}
        }
    }
    let (file, name) =
        saved.ok_or_else(|| ApiError::invalid("file", "choose a CSV file to import"))?;
    let view = import::start_upload(&state, meter, file, &name, format).await?;
    Ok(Redirect::to(&format!("/meters/{id}?import={}#import", view.id)).into_response())
}

#[derive(Deserialize)]
struct ImportParams {
    #[serde(default)]
    format: Option<String>,
}

async fn upload_api(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
    Query(p): Query<ImportParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let format = ImportFormat::parse(p.format.as_deref().unwrap_or("legacy"))
        .ok_or_else(|| ApiError::invalid("format", "must be legacy or generic"))?;
    let meter = import::admit(&state, &user, id).await?;
    let limit = state.settings.security.upload_limit_bytes;
    upload::check_declared(&headers, limit)?;
    let (body, verdict) = upload::limited(body, limit);
    let (file, _) = upload::save(&state, body.into_data_stream(), &verdict).await?;
    let view = import::start_upload(&state, meter, file, "upload.csv", format).await?;
    Ok((StatusCode::ACCEPTED, Json(view)))
}

async fn show(
    State(state): State<AppState>,
    AuthUser(user): AuthUser,
    Path(id): Path<i64>,
) -> Result<Json<ImportView>, ApiError> {
    Ok(Json(import::owned(&state, &user, id).await?))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/meters/{id}/import", post(upload_form))
        .route("/api/v1/meters/{id}/imports", post(upload_api))
        // `HEADROOM_UPLOAD_LIMIT_BYTES` is enforced by `http::upload` instead: the
        // extractor's limit is fixed when the router is built and ignores raw bodies.
        .layer(DefaultBodyLimit::disable())
        .route("/api/v1/imports/{id}", get(show))
}
