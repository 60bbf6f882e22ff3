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

use std::io::Write;

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Method, StatusCode, header},
    response::{IntoResponse, Response},
};

/// A guard, not a size any page comes near: pages are bounded by design (a chart is at
/// most ~2000 points; the outlook page is ~15 KB).
const MAX_PAGE_BYTES: usize = 32 * 1024 * 1024;
/// As tower-http's layer: below this, compression does not pay for its headers.
const MIN_PAGE_BYTES: usize = 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageEncoding {
    Zstd,
    Br,
    Gzip,
}

impl PageEncoding {
    fn token(self) -> &'static str {
        match self {
            PageEncoding::Zstd => "zstd",
            PageEncoding::Br => "br",
            PageEncoding::Gzip => "gzip",
        }
    }

    fn compress(self, raw: &[u8]) -> Option<Vec<u8>> {
        match self {
            PageEncoding::Zstd => zstd::bulk::compress(raw, 3).ok(),
            PageEncoding::Br => {
                let mut out = Vec::with_capacity(raw.len() / 3);
                {
                    // Quality 4 as tower-http (and nginx) use on the fly; a 256 KiB window
                    // holds any page whole.
                    let mut w = brotli::CompressorWriter::new(&mut out, 4096, 4, 18);
                    w.write_all(raw).ok()?;
                }
                Some(out)
            }
            PageEncoding::Gzip => {
                let mut w = flate2::write::GzEncoder::new(
                    Vec::with_capacity(raw.len() / 3),
                    flate2::Compression::new(6),
                );
                w.write_all(raw).ok()?;
                w.finish().ok()
            }
        }
    }
}

/// The coding a page for `req` would be sent in, if it is a page request that accepts one.
pub fn wanted(req: &Request) -> Option<PageEncoding> {
    if req.method() != Method::GET {
        return None;
    }
    let accept = req.headers().get(header::ACCEPT_ENCODING)?.to_str().ok()?;
    preferred(accept)
}

fn preferred(accept: &str) -> Option<PageEncoding> {
    let allowed = |enc: PageEncoding| {
        accept.split(',').any(|item| {
            let mut parts = item.split(';');
            let name = parts.next().unwrap_or("").trim();
            let refused = parts.any(|p| {
                p.trim()
                    .strip_prefix("q=")
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            name.eq_ignore_ascii_case(enc.token()) && !refused
        })
    };
    [PageEncoding::Zstd, PageEncoding::Br, PageEncoding::Gzip]
        .into_iter()
        .find(|&e| allowed(e))
}

/// Whether `res` is a rendered page this module should compress.
pub fn applies(res: &Response) -> bool {
    res.status() == StatusCode::OK
        && !res.headers().contains_key(header::CONTENT_ENCODING)
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/html"))
}

/// `res` read to its end and compressed with `encoding`. A body that fails while being
/// read (a render error after the head) becomes a 500 instead of a truncated page.
pub async fn compress(res: Response, encoding: PageEncoding) -> Response {
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
    if raw.len() < MIN_PAGE_BYTES {
        return Response::from_parts(parts, Body::from(raw));
    }
    match encoding.compress(&raw) {
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

    #[test]
    fn cheapest_accepted_coding_first() {
        assert_eq!(
            preferred("gzip, deflate, br, zstd"),
            Some(PageEncoding::Zstd)
        );
        assert_eq!(preferred("br, gzip"), Some(PageEncoding::Br));
        assert_eq!(preferred("zstd;q=0, gzip"), Some(PageEncoding::Gzip));
        assert_eq!(preferred("identity"), None);
    }
}
