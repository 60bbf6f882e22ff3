//! Use-cases shared by the JSON API, the form routes and the server functions. Handlers
//! are thin adapters over these functions; these functions know nothing about HTTP.

pub mod access;
pub mod account;
pub mod alerts;
pub mod auth;
pub mod charts;
pub mod export;
pub mod freshness;
pub mod households;
pub mod import;
pub mod ingest;
pub mod invites;
pub mod line_cap;
pub mod meter_page;
pub mod meters;
pub mod notifications;
pub mod outlook;
pub mod peers;
pub mod push;
pub mod readings;
pub mod series;
pub mod sessions;
pub mod setup;
pub mod shares;
pub mod sources;
pub mod time;
pub mod tips;
pub mod tokens;
pub mod upload_file;
pub mod users;
pub mod webhook;

/// A database that is down or out of disk is a condition to report (503, 507), not a bug;
/// adapters judge errors with these.
pub use crate::server::storage::outage::{Outage, outage_of};

use crate::{domain::DomainError, server::storage::StoreError};

/// A problem with one entry of a batch, by its position in the batch.
#[derive(Debug, Clone, PartialEq, serde::Serialize, utoipa::ToSchema)]
pub struct ItemError {
    pub index: usize,
    pub field: &'static str,
    pub message: String,
}

/// Why a use-case refused or failed. Adapters map it to their protocol (HTTP status and
/// JSON body, a form re-rendered with messages, …).
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Fields of the input are wrong; each error names its field.
    #[error("invalid input")]
    Invalid(Vec<DomainError>),
    /// Entries of a batch are wrong; `forbidden` when the caller may not write them.
    #[error("{} entries rejected", items.len())]
    Items {
        forbidden: bool,
        items: Vec<ItemError>,
    },
    /// It does not exist, or it is not the caller's (the two look the same on purpose).
    #[error("not found")]
    NotFound,
    /// The caller may see it but not do this to it (a viewer writing to a shared meter).
    #[error("{0}")]
    Forbidden(&'static str),
    /// Something already running is in the way (an import on the same meter); the
    /// message says what, and the caller may try again once it has finished.
    #[error("{0}")]
    Busy(String),
    /// The caller already has as many imports running as one user may.
    #[error("{0}")]
    TooManyImports(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A bug, not the caller's input (a cached value that no longer decodes, say).
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl From<serde_json::Error> for ServiceError {
    fn from(e: serde_json::Error) -> Self {
        ServiceError::Internal(e.into())
    }
}

impl From<DomainError> for ServiceError {
    fn from(e: DomainError) -> Self {
        ServiceError::Invalid(vec![e])
    }
}

impl From<Vec<DomainError>> for ServiceError {
    fn from(e: Vec<DomainError>) -> Self {
        ServiceError::Invalid(e)
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
