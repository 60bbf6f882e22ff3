//! Server-rendered pages, compressed whole rather than streamed through an encoder.
//!
//! A page renders in about a millisecond from cached data and arrives in two chunks, so
//! streaming it buys nothing, while tower-http's streaming encoders cost far more than the
//! compression itself: each response sets up a fresh brotli window of 4 MB (zstd: 1 MB)
//! that the allocator hands back to the OS afterwards. Under `wrk -c32` the outlook page
//! served ~550 pages/s with brotli against ~1 500 uncompressed. Compressing the finished
//! page in one call, with a window sized for pages, costs a few hundred microseconds.
//!
//! Per-response cost decides the order here (zstd, then brotli, then gzip) — unlike cached
//! JSON, which is compressed once per cache entry and so prefers the smallest (brotli).

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};

use crate::server::cache::{COMPRESS_ABOVE_BYTES, Effort, Encoding};

/// A guard, not a size any page comes near: pages are bounded by design (a chart is at
/// most ~2000 points; the outlook page is ~15 KB).
const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// Cheapest per response first.
const PAGE_ORDER: [Encoding; 3] = [Encoding::Zstd, Encoding::Br, Encoding::Gzip];

/// The coding to send `res` in: `Some` only for a rendered page (a 200 `text/html` not
/// already encoded) answering a GET whose `Accept-Encoding` allows one.
pub fn choose(res: &Response, was_get: bool, accept: Option<&HeaderValue>) -> Option<Encoding> {
    let is_page = res.status() == StatusCode::OK
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .is_some_and(|t| t.as_bytes().starts_with(b"text/html"));
    if !(was_get && is_page) {
        return None;
    }
    Encoding::first_accepted(accept?.to_str().ok()?, PAGE_ORDER)
}

/// `res` read to its end and compressed with `encoding`. A body that fails while being
/// read (a render error after the head) becomes a 500 instead of a truncated page.
pub async fn compress(res: Response, encoding: Encoding) -> Response {
    let (mut parts, body) = res.into_parts();
    let raw = match axum::body::to_bytes(body, MAX_PAGE_BYTES).await {
        Ok(raw) => raw,
        Err(e) => {
            tracing::error!(error = %e, "page body failed or exceeded the buffer");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    parts
        .headers
        .append(header::VARY, HeaderValue::from_static("accept-encoding"));
    if raw.len() < usize::from(COMPRESS_ABOVE_BYTES) {
        return Response::from_parts(parts, Body::from(raw));
    }
    match encoding.compress(&raw, Effort::PerResponse) {
        Some(packed) => {
            parts.headers.insert(
                header::CONTENT_ENCODING,
                HeaderValue::from_static(encoding.token()),
            );
            Response::from_parts(parts, Body::from(packed))
        }
        None => Response::from_parts(parts, Body::from(raw)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page() -> Response {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<p>hi</p>",
        )
            .into_response()
    }

    #[test]
    fn cheapest_accepted_coding_first() {
        let choose_for =
            |accept: &'static str| choose(&page(), true, Some(&HeaderValue::from_static(accept)));
        assert_eq!(choose_for("gzip, deflate, br, zstd"), Some(Encoding::Zstd));
        assert_eq!(choose_for("br, gzip"), Some(Encoding::Br));
        assert_eq!(choose_for("zstd;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(choose_for("identity"), None);
    }

    #[test]
    fn only_pages_answering_a_get() {
        let br = HeaderValue::from_static("br");
        assert_eq!(choose(&page(), false, Some(&br)), None);
        let json = ([(header::CONTENT_TYPE, "application/json")], "{}").into_response();
        assert_eq!(choose(&json, true, Some(&br)), None);
        assert_eq!(choose(&page(), true, None), None);
    }
}
