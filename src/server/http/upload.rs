//! Receiving an upload's body into a temp file, bounded by `HEADROOM_UPLOAD_LIMIT_BYTES`:
//! a declared `Content-Length` over the limit is refused before a byte is read, and a
//! body without one (chunked) is counted as it arrives and cut off past the limit. The
//! deadline is the gate's (`middleware::timeout::limit`: uploads get their own).

use std::{
    pin::pin,
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
};

use axum::{
    body::{Body, Bytes},
    http::{HeaderMap, header},
};
use futures::{Stream, StreamExt};
use tokio::io::AsyncWriteExt;

use crate::server::{
    http::error::ApiError,
    service::{import, upload_file::TempUpload},
    state::AppState,
};

fn too_large(limit: u64) -> ApiError {
    ApiError::PayloadTooLarge {
        limit: usize::try_from(limit).unwrap_or(usize::MAX),
    }
}

/// A full disk is a 507; any other I/O failure a 500.
fn io_error(e: std::io::Error) -> ApiError {
    anyhow::Error::from(e).into()
}

/// Refuses a body that says it is larger than `limit`; call before reading any of it.
pub fn check_declared(headers: &HeaderMap, limit: u64) -> Result<(), ApiError> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        Some(n) if n > limit => Err(too_large(limit)),
        _ => Ok(()),
    }
}

#[derive(Debug, thiserror::Error)]
#[error("the body is larger than the upload limit")]
struct OverLimit;

/// `body`, failing once more than `limit` bytes have come through, and the [`Verdict`]
/// that tells a reader (the multipart parser, say) whether a failure was that limit.
pub fn limited(body: Body, limit: u64) -> (Body, Verdict) {
    let over = Arc::new(AtomicBool::new(false));
    let flag = over.clone();
    let mut seen = 0u64;
    let counted = body.into_data_stream().map(move |chunk| {
        let chunk = chunk.map_err(axum::BoxError::from)?;
        seen += chunk.len() as u64;
        if seen > limit {
            flag.store(true, Ordering::Relaxed);
            return Err(axum::BoxError::from(OverLimit));
        }
        Ok::<Bytes, axum::BoxError>(chunk)
    });
    (Body::from_stream(counted), Verdict { over, limit })
}

/// Whether reading a [`limited`] body failed on the limit.
#[derive(Clone)]
pub struct Verdict {
    over: Arc<AtomicBool>,
    limit: u64,
}

impl Verdict {
    /// What a failure to read the body means: 413 past the limit, otherwise `fallback`.
    pub fn error(&self, fallback: impl FnOnce() -> ApiError) -> ApiError {
        if self.over.load(Ordering::Relaxed) {
            too_large(self.limit)
        } else {
            fallback()
        }
    }
}

/// Writes `chunks` to a new temp upload; returns it with its size. On any failure the
/// file is gone (the guard drops), and so it is if this future is dropped.
pub async fn save<E: std::fmt::Display>(
    state: &AppState,
    chunks: impl Stream<Item = Result<Bytes, E>>,
    verdict: &Verdict,
) -> Result<(TempUpload, u64), ApiError> {
    let (upload, mut file) = TempUpload::create(&import::upload_dir(state)).map_err(io_error)?;
    let mut chunks = pin!(chunks);
    let mut size = 0u64;
    while let Some(chunk) = chunks.next().await {
        let chunk = chunk.map_err(|e| {
            verdict.error(|| ApiError::invalid("file", format!("the upload broke off: {e}")))
        })?;
        size += chunk.len() as u64;
        file.write_all(&chunk).await.map_err(io_error)?;
    }
    file.flush().await.map_err(io_error)?;
    Ok((upload, size))
}
