//! Why a value was refused at the edge: which field, and what is allowed.

/// A validation failure that names the offending field, so APIs can answer
/// `{"error": {"code": "invalid", "field": ..., "message": ...}}`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {message}")]
pub struct DomainError {
    pub field: &'static str,
    pub message: String,
}

impl DomainError {
    pub fn new(field: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            message: message.into(),
        }
    }
}
