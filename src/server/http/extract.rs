//! Extractors shared by the JSON routes: who is calling, and bodies read with a size limit
//! and JSON errors (axum's own rejections answer in plain text).

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, Request},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;

use crate::server::{auth::CurrentUser, http::error::ApiError};

/// The signed-in user; 401 with a JSON body when there is none.
pub struct AuthUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .map(AuthUser)
            .ok_or(ApiError::Unauthorized)
    }
}

/// Bodies of ordinary JSON requests are small.
pub const DEFAULT_JSON_LIMIT: usize = 64 * 1024;

/// Reads a body of at most `limit` bytes; 413 beyond it.
pub async fn read_body(body: Body, limit: usize) -> Result<axum::body::Bytes, ApiError> {
    axum::body::to_bytes(body, limit)
        .await
        .map_err(|_| ApiError::PayloadTooLarge { limit })
}

/// Refuses bodies that do not say they are JSON.
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let is_json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if is_json {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType {
            expected: "application/json",
        })
    }
}

/// A JSON body of at most [`DEFAULT_JSON_LIMIT`] bytes, with JSON errors.
pub struct JsonBody<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for JsonBody<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        require_json(req.headers())?;
        let bytes = read_body(req.into_body(), DEFAULT_JSON_LIMIT).await?;
        serde_json::from_slice(&bytes)
            .map(JsonBody)
            .map_err(|e| ApiError::MalformedJson(e.to_string()))
    }
}

/// The signed-in user of an HTML form post; a signed-out browser is sent to sign in.
pub struct FormUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for FormUser {
    type Rejection = axum::response::Redirect;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<CurrentUser>()
            .cloned()
            .map(FormUser)
            .ok_or_else(|| axum::response::Redirect::to("/login"))
    }
}

/// A signed-in administrator; 401 when signed out, 403 for members.
pub struct AdminUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for AdminUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        if user.is_admin() {
            Ok(AdminUser(user))
        } else {
            Err(ApiError::Forbidden)
        }
    }
}
