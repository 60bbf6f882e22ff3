//! Imports: the upload form of the meter page, `POST /api/v1/meters/{id}/imports` (a CSV
//! body) and `GET /api/v1/imports/{id}`.

use std::path::PathBuf;

use axum::{
    Json, Router,
    body::Body,
    extract::{DefaultBodyLimit, Multipart, Path, Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
    routing::{get, post},
};
use futures::StreamExt;
use serde::Deserialize;
use tokio::io::AsyncWriteExt;

use crate::{
    dto::ImportView,
    server::{
        http::{
            error::ApiError,
            extract::{AuthUser, FormUser},
        },
        service::import::{self, ImportFormat},
        state::AppState,
    },
};

/// A year of 10-second readings in CSV is about 100 MB; uploads beyond are better done
/// with `headroom import` on the server.
const UPLOAD_LIMIT: usize = 128 * 1024 * 1024;

fn io_error(e: std::io::Error) -> ApiError {
    ApiError::Internal(e.into())
}

async fn temp_file(state: &AppState) -> Result<(PathBuf, tokio::fs::File), ApiError> {
    let dir = import::upload_dir(state);
    tokio::fs::create_dir_all(&dir).await.map_err(io_error)?;
    let name = format!("upload-{}.tmp", crate::server::auth::session::new_token());
    let path = dir.join(name);
    let file = tokio::fs::File::create(&path).await.map_err(io_error)?;
    Ok((path, file))
}

async fn upload_form(
    State(state): State<AppState>,
    FormUser(user): FormUser,
    Path(id): Path<i64>,
    mut multipart: Multipart,
) -> Result<Response, ApiError> {
    let mut format = ImportFormat::Legacy;
    let mut saved = None;
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| ApiError::invalid("file", e.body_text()))?
    {
        match field.name() {
            Some("format") => {
                let raw = field
                    .text()
                    .await
                    .map_err(|e| ApiError::invalid("format", e.body_text()))?;
                format = ImportFormat::parse(raw.trim())
                    .ok_or_else(|| ApiError::invalid("format", "must be legacy or generic"))?;
            }
            Some("file") => {
                let name = field.file_name().unwrap_or("upload.csv").to_string();
                let (path, mut file) = temp_file(&state).await?;
                let mut size = 0usize;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| ApiError::invalid("file", e.body_text()))?
                {
                    size += chunk.len();
                    file.write_all(&chunk).await.map_err(io_error)?;
                }
                file.flush().await.map_err(io_error)?;
                if size == 0 {
                    let _ = tokio::fs::remove_file(&path).await;
                    return Err(ApiError::invalid("file", "choose a CSV file to import"));
                }
                saved = Some((path, name));
            }
            _ => {}
        }
    }
    let (path, name) =
        saved.ok_or_else(|| ApiError::invalid("file", "choose a CSV file to import"))?;
    let view = import::start_upload(&state, &user, id, &path, &name, format).await?;
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
    body: Body,
) -> Result<(StatusCode, Json<ImportView>), ApiError> {
    let format = ImportFormat::parse(p.format.as_deref().unwrap_or("legacy"))
        .ok_or_else(|| ApiError::invalid("format", "must be legacy or generic"))?;
    let (path, mut file) = temp_file(&state).await?;
    let mut stream = body.into_data_stream();
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|_| ApiError::PayloadTooLarge {
            limit: UPLOAD_LIMIT,
        })?;
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    let view = import::start_upload(&state, &user, id, &path, "upload.csv", format).await?;
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
        .layer(DefaultBodyLimit::max(UPLOAD_LIMIT))
        .route("/api/v1/imports/{id}", get(show))
}
