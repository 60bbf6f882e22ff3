//! Extractors shared by the JSON routes: who is calling, and bodies read with a size limit
//! and JSON errors (axum's own rejections answer in plain text).

use axum::{
    body::Body,
    extract::{FromRequest, FromRequestParts, Request, rejection::PathRejection},
    http::{HeaderMap, header, request::Parts},
};
use serde::de::DeserializeOwned;

use std::sync::Arc;

use crate::{
    domain::access::TokenReach,
    server::{
        auth::CurrentUser,
        http::{
            error::ApiError,
            middleware::{rate_limit, session::SessionUnknown},
        },
        service::tokens,
        state::AppState,
    },
};

/// The signed-in user; 401 with a JSON body when there is none.
pub struct AuthUser(pub CurrentUser);

impl<S: Send + Sync> FromRequestParts<S> for AuthUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        if let Some(user) = parts.extensions.get::<CurrentUser>() {
            return Ok(AuthUser(user.clone()));
        }
        if parts.extensions.get::<SessionUnknown>().is_some() {
            return Err(ApiError::Unavailable {
                retry_after_secs: 2,
            });
        }
        Err(ApiError::Unauthorized)
    }
}

/// The caller of a read endpoint: the signed-in user, or a `read` token acting for its
/// user with the token's reach (`CurrentUser::via_token`), so every meter it touches is
/// checked by `service::access` like anyone's. 401 without either; 403 for a token of
/// another scope; 429 past the token's hourly allowance.
pub struct ReadUser(pub CurrentUser);

impl FromRequestParts<AppState> for ReadUser {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        if let Some(bearer) = bearer(&parts.headers) {
            let token = tokens::authenticate(state, bearer)
                .await?
                .ok_or(ApiError::Unauthorized)?;
            if token.scope != tokens::Scope::Read {
                return Err(ApiError::Forbidden);
            }
            let count = rate_limit::count_token(state, token.token_id).await;
            if count.exceeded() {
                return Err(ApiError::TooManyRequests {
                    retry_after_secs: count.retry_after_secs(),
                });
            }
            let row = state
                .db
                .user_by_id(token.user_id)
                .await?
                .filter(|u| u.disabled_at.is_none())
                .ok_or(ApiError::Unauthorized)?;
            let mut user = CurrentUser::from(row);
            user.via_token = Some(Arc::new(TokenReach {
                token_id: token.token_id,
                read_only: true,
                meter_ids: token.meter_ids,
            }));
            return Ok(ReadUser(user));
        }
        let AuthUser(user) = AuthUser::from_request_parts(parts, state).await?;
        Ok(ReadUser(user))
    }
}

/// The token of an `Authorization: Bearer …` header, if there is one.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .strip_prefix("Bearer ")
        .map(str::trim)
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

/// A path parameter, with a JSON 422 naming the parameter when it does not parse
/// (`/api/v1/meters/abc`), where axum's own `Path` answers plain text.
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Path(value)),
            Err(rejection) => Err(path_error(parts, &rejection)),
        }
    }
}

fn path_error(parts: &Parts, rejection: &PathRejection) -> ApiError {
    use axum::extract::path::ErrorKind;
    let PathRejection::FailedToDeserializePathParams(e) = rejection else {
        return ApiError::invalid("path", rejection.body_text());
    };
    let (key, value, expected) = match e.kind() {
        ErrorKind::ParseErrorAtKey {
            key,
            value,
            expected_type,
        } => (key.clone(), value, *expected_type),
        ErrorKind::ParseError {
            value,
            expected_type,
        }
        | ErrorKind::ParseErrorAtIndex {
            value,
            expected_type,
            ..
        } => (only_parameter(parts), value, *expected_type),
        _ => return ApiError::invalid("path", e.body_text()),
    };
    ApiError::invalid(
        key.clone(),
        format!(
            "{key} must be {}, not {:?}",
            described(expected),
            clipped(value)
        ),
    )
}

/// The route's one `{parameter}`, for errors that do not name it.
fn only_parameter(parts: &Parts) -> String {
    let names: Vec<&str> = parts
        .extensions
        .get::<axum::extract::MatchedPath>()
        .map(|m| {
            m.as_str()
                .split('/')
                .filter_map(|s| s.strip_prefix('{')?.strip_suffix('}'))
                .collect()
        })
        .unwrap_or_default();
    match names.as_slice() {
        [one] => one.trim_start_matches('*').to_string(),
        _ => "path".to_string(),
    }
}

fn described(type_name: &str) -> &'static str {
    let short = type_name.rsplit("::").next().unwrap_or(type_name);
    match short {
        "i8" | "i16" | "i32" | "i64" | "u8" | "u16" | "u32" | "u64" | "usize" | "isize" => {
            "a whole number in range"
        }
        "f32" | "f64" => "a number",
        "bool" => "true or false",
        _ => "well formed",
    }
}

/// At most 40 characters of what the client sent, for a message that quotes it.
fn clipped(value: &str) -> String {
    let mut out: String = value.chars().take(40).collect();
    if out.len() < value.len() {
        out.push('…');
    }
    out
}

/// A query string, with a JSON 422 naming the parameter that does not parse.
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, ApiError> {
        let raw = parts.uri.query().unwrap_or_default();
        urlencoded(raw.as_bytes(), "query").map(Query)
    }
}

/// An `application/x-www-form-urlencoded` body of at most [`DEFAULT_JSON_LIMIT`] bytes,
/// with the JSON errors of [`Query`].
pub struct Form<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Form<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, _: &S) -> Result<Self, ApiError> {
        let is_form = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
        if !is_form {
            return Err(ApiError::UnsupportedMediaType {
                expected: "application/x-www-form-urlencoded",
            });
        }
        let bytes = read_body(req.into_body(), DEFAULT_JSON_LIMIT).await?;
        urlencoded(&bytes, "form").map(Form)
    }
}

fn urlencoded<T: DeserializeOwned>(raw: &[u8], whole: &str) -> Result<T, ApiError> {
    let deserializer = serde_urlencoded::Deserializer::new(form_urlencoded::parse(raw));
    serde_path_to_error::deserialize(deserializer).map_err(|e| {
        let message = e.inner().to_string();
        let path = e.path().to_string();
        let field = if path != "." && !path.is_empty() {
            path
        } else {
            // "missing field `from`" has no path of its own: the name is in the message.
            message
                .split('`')
                .nth(1)
                .map_or_else(|| whole.to_string(), str::to_string)
        };
        ApiError::invalid(field, message)
    })
}
