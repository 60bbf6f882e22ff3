//! The one error type of the HTTP layer.
//!
//! Policy: handlers return `Result<_, ApiError>`. Client mistakes become 4xx with a JSON
//! body `{"error": {"code", "message", "field"?, "fields"?, "items"?}}` that says what to
//! fix — `field` names the (first) offending field, `fields` lists every one, and `items`
//! lists the bad entries of a batch by index. Anything else is logged with its cause and
//! answered with an opaque 500, so nothing internal leaks.

use axum::{
    Json,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use serde::Serialize;

pub use crate::server::service::ItemError;
use crate::{
    domain::DomainError,
    server::{
        perf::thresholds::InvalidThreshold,
        service::{Outage, ServiceError, outage_of},
        storage::StoreError,
    },
};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("not found")]
    NotFound,
    #[error("sign in or send an API token")]
    Unauthorized,
    #[error("not allowed")]
    Forbidden,
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    /// Several fields of one object are wrong.
    #[error("{} field(s) are invalid", .0.len())]
    Fields(Vec<DomainError>),
    /// Entries of a batch are wrong (422) or not allowed (403); nothing was stored.
    #[error("{message}")]
    Items {
        status: StatusCode,
        message: String,
        items: Vec<ItemError>,
    },
    #[error("the body is not valid JSON: {0}")]
    MalformedJson(String),
    #[error("the body is larger than {limit} bytes")]
    PayloadTooLarge { limit: usize },
    #[error("send the body as {expected}")]
    UnsupportedMediaType { expected: &'static str },
    #[error("{0} already exists")]
    Conflict(&'static str),
    /// 409 with a message of its own (an import already running on the meter).
    #[error("{0}")]
    Busy(String),
    #[error("{0}")]
    TooManyImports(String),
    #[error("too many requests")]
    TooManyRequests { retry_after_secs: u64 },
    /// A bounded resource (password-hash slots) is full; answered at once, not queued.
    #[error("the server is busy; try again in a moment")]
    Overloaded { retry_after_secs: u64 },
    /// The database is down, restarting or saturated: nothing was done; try again soon.
    #[error("the database is unavailable; nothing was done, try again in a moment")]
    Unavailable { retry_after_secs: u64 },
    /// The server's disk is full: nothing was stored. Reads go on.
    #[error("the server's storage is full; nothing was stored")]
    StorageFull { retry_after_secs: u64 },
    #[error(transparent)]
    Internal(anyhow::Error),
}

/// What a client should wait before trying again: a restarting database is back in
/// about a second or two; a full disk needs an operator.
const UNAVAILABLE_RETRY_SECS: u64 = 2;
const STORAGE_FULL_RETRY_SECS: u64 = 60;

impl From<Outage> for ApiError {
    fn from(o: Outage) -> Self {
        match o {
            Outage::Unreachable => ApiError::Unavailable {
                retry_after_secs: UNAVAILABLE_RETRY_SECS,
            },
            Outage::DiskFull => ApiError::StorageFull {
                retry_after_secs: STORAGE_FULL_RETRY_SECS,
            },
        }
    }
}

/// Anything else is a bug (500) — unless its chain shows the database unreachable or out
/// of disk, which is a condition to report, with the cause logged as a warning.
impl From<anyhow::Error> for ApiError {
    fn from(e: anyhow::Error) -> Self {
        match e.chain().find_map(outage_of) {
            Some(o) => {
                tracing::warn!(error = %e, outage = ?o, "database outage; answered with try-again");
                o.into()
            }
            None => ApiError::Internal(e),
        }
    }
}

/// Every error answer's body (`components.schemas.Error` in the OpenAPI document).
#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = Error)]
pub(crate) struct Body<'a> {
    error: Detail<'a>,
}

#[derive(Serialize, utoipa::ToSchema)]
#[schema(as = ErrorDetail)]
pub(crate) struct Detail<'a> {
    /// What kind of refusal: `invalid`, `not_found`, `unauthorized`, `rate_limited`, …
    code: &'a str,
    message: String,
    /// The first field (or parameter) at fault, when the input was wrong.
    #[serde(skip_serializing_if = "Option::is_none")]
    field: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    fields: Option<Vec<FieldDetail<'a>>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    items: Option<&'a [ItemError]>,
}

#[derive(Serialize, utoipa::ToSchema)]
pub(crate) struct FieldDetail<'a> {
    field: &'a str,
    message: &'a str,
}

impl ApiError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// When to try again, for the refusals that say so (`Retry-After`).
    pub fn retry_after_secs(&self) -> Option<u64> {
        match self {
            ApiError::TooManyRequests { retry_after_secs }
            | ApiError::Overloaded { retry_after_secs }
            | ApiError::Unavailable { retry_after_secs }
            | ApiError::StorageFull { retry_after_secs } => Some(*retry_after_secs),
            _ => None,
        }
    }

    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            ApiError::NotFound => (StatusCode::NOT_FOUND, "not_found"),
            ApiError::Unauthorized => (StatusCode::UNAUTHORIZED, "unauthorized"),
            ApiError::Forbidden => (StatusCode::FORBIDDEN, "forbidden"),
            ApiError::Invalid { .. } | ApiError::Fields(_) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "invalid")
            }
            ApiError::Items { status, .. } if *status == StatusCode::FORBIDDEN => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            ApiError::Items { status, .. } => (*status, "invalid"),
            ApiError::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            ApiError::PayloadTooLarge { .. } => (StatusCode::PAYLOAD_TOO_LARGE, "too_large"),
            ApiError::UnsupportedMediaType { .. } => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            ApiError::Conflict(_) | ApiError::Busy(_) => (StatusCode::CONFLICT, "conflict"),
            ApiError::TooManyImports(_) => (StatusCode::TOO_MANY_REQUESTS, "too_many_imports"),
            ApiError::TooManyRequests { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            ApiError::Overloaded { .. } => (StatusCode::SERVICE_UNAVAILABLE, "busy"),
            ApiError::Unavailable { .. } => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
            ApiError::StorageFull { .. } => (StatusCode::INSUFFICIENT_STORAGE, "storage_full"),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => ApiError::NotFound,
            StoreError::Conflict(field) => ApiError::Conflict(field),
            other => anyhow::Error::from(other).into(),
        }
    }
}

impl From<ServiceError> for ApiError {
    fn from(e: ServiceError) -> Self {
        match e {
            ServiceError::Invalid(errors) => ApiError::Fields(errors),
            ServiceError::Items { forbidden, items } => {
                let (status, verb) = if forbidden {
                    (
                        StatusCode::FORBIDDEN,
                        "may not be written with these credentials",
                    )
                } else {
                    (StatusCode::UNPROCESSABLE_ENTITY, "are invalid")
                };
                ApiError::Items {
                    status,
                    message: format!("{} entries {verb}; nothing was stored", items.len()),
                    items,
                }
            }
            ServiceError::NotFound => ApiError::NotFound,
            ServiceError::Forbidden(_) => ApiError::Forbidden,
            ServiceError::Busy(message) => ApiError::Busy(message),
            ServiceError::TooManyImports(message) => ApiError::TooManyImports(message),
            ServiceError::Store(e) => e.into(),
            ServiceError::Internal(e) => e.into(),
        }
    }
}

impl From<InvalidThreshold> for ApiError {
    fn from(e: InvalidThreshold) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        ApiError::invalid(e.field, e.message)
    }
}

impl From<Vec<DomainError>> for ApiError {
    fn from(errors: Vec<DomainError>) -> Self {
        ApiError::Fields(errors)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        let mut detail = Detail {
            code,
            message: self.to_string(),
            field: None,
            fields: None,
            items: None,
        };
        match &self {
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "request failed");
                detail.message = "something went wrong on our side; it has been logged".into();
            }
            ApiError::Invalid { field, .. } => detail.field = field.as_deref(),
            ApiError::Fields(errors) => {
                detail.field = errors.first().map(|e| e.field);
                detail.message = errors
                    .iter()
                    .map(|e| e.to_string())
                    .collect::<Vec<_>>()
                    .join("; ");
                detail.fields = Some(
                    errors
                        .iter()
                        .map(|e| FieldDetail {
                            field: e.field,
                            message: &e.message,
                        })
                        .collect(),
                );
            }
            ApiError::Items { items, .. } => detail.items = Some(items),
            _ => {}
        }
        let retry_after = self.retry_after_secs();
        let mut res = (status, Json(Body { error: detail })).into_response();
        stamp_retry_after(&mut res, retry_after);
        res
    }
}

/// Puts `Retry-After` on `res` when there is one to give.
pub fn stamp_retry_after(res: &mut Response, secs: Option<u64>) {
    if let Some(v) = secs.and_then(|s| HeaderValue::from_str(&s.to_string()).ok()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
}
