//! The one place a response body gets a content coding, and so the one place its ETag is
//! weakened. Three kinds of body, three ways, cheapest first:
//!
//! - **Cached JSON** ([`cached::json`]) swaps in the cache entry's compressed copy, made
//!   once per entry and sent many times, so the smallest coding is preferred (brotli).
//! - **Whole bodies** (a rendered page, any other compressible body of known size) are
//!   compressed in one call. A page renders in about a millisecond from cached data and
//!   arrives in two chunks, so streaming it buys nothing, while a streaming encoder sets
//!   up a fresh brotli window of 4 MB (zstd: 1 MB) per response: under `wrk -c32` the
//!   outlook page served ~550 pages/s streamed through brotli against ~1 500 uncompressed.
//!   Compressing the finished page with a window sized for pages costs a few hundred
//!   microseconds. Per-response cost decides the order here (zstd, brotli, gzip).
//! - **Streamed bodies** of unknown length (an export) are compressed as they stream, in
//!   the same order.
//!
//! A body that already has a `Content-Encoding` (the precompressed build output) passes.

use std::io;

use async_compression::{
    Level,
    tokio::bufread::{BrotliEncoder, GzipEncoder, ZstdEncoder},
};
use axum::{
    body::{Body, HttpBody},
    http::{HeaderMap, HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use futures::TryStreamExt;
use tokio_util::io::{ReaderStream, StreamReader};

use crate::server::{
    cache::{COMPRESS_ABOVE_BYTES, Effort, Encoding},
    http::cached,
};

/// A guard, not a size any page comes near: pages are bounded by design (a chart is at
/// most ~2000 points; the outlook page is ~15 KB).
const MAX_WHOLE_BYTES: usize = 32 * 1024 * 1024;
/// Cheapest per response first.
const PER_RESPONSE_ORDER: [Encoding; 3] = [Encoding::Zstd, Encoding::Br, Encoding::Gzip];

/// What [`encode`] made of a response: sent as it is now, or first read whole and
/// compressed with [`compress_whole`] (the one step that awaits, so the caller boxes it
/// only when it is needed).
pub enum Encoded {
    Ready(Response),
    Whole(Response, Encoding),
}

/// Decides how `res` goes out for a request with `accept` (its `Accept-Encoding`);
/// `head` answers carry no body.
pub fn encode(mut res: Response, head: bool, accept: Option<&HeaderValue>) -> Encoded {
    let accept = accept.and_then(|v| v.to_str().ok());
    if let Some(hit) = cached::take_cached_body(&mut res) {
        send_cached(&mut res, &hit, accept);
        return Encoded::Ready(res);
    }
    if head || !compressible(&res) {
        return Encoded::Ready(res);
    }
    let size = res.body().size_hint().exact();
    if size.is_some_and(|n| n < u64::from(COMPRESS_ABOVE_BYTES)) {
        return Encoded::Ready(res);
    }
    add_vary(res.headers_mut());
    let Some(encoding) = accept.and_then(|a| Encoding::first_accepted(a, PER_RESPONSE_ORDER))
    else {
        return Encoded::Ready(res);
    };
    // A page is read whole even when it streams: pages are small and bounded.
    if size.is_some() || is_page(res.headers()) {
        return Encoded::Whole(res, encoding);
    }
    Encoded::Ready(stream(res, encoding))
}

/// A cached value's compressed copy instead of its bytes, when the client accepts one.
fn send_cached(res: &mut Response, hit: &crate::server::cache::Hit, accept: Option<&str>) {
    if res.status() != StatusCode::OK
        || hit.bytes.len() < usize::from(COMPRESS_ABOVE_BYTES)
        || res.headers().contains_key(header::CONTENT_ENCODING)
    {
        return;
    }
    add_vary(res.headers_mut());
    let Some(encoding) = accept.and_then(Encoding::preferred) else {
        return;
    };
    let Some(body) = hit.encoded(encoding) else {
        return;
    };
    *res.body_mut() = Body::from(body);
    mark_encoded(res.headers_mut(), encoding);
}

/// `res` read to its end and compressed with `encoding`. A body that fails while being
/// read (a render error after the head) becomes a 500 instead of a truncated page.
pub async fn compress_whole(res: Response, encoding: Encoding) -> Response {
    let (mut parts, body) = res.into_parts();
    let raw = match axum::body::to_bytes(body, MAX_WHOLE_BYTES).await {
        Ok(raw) => raw,
        Err(e) => {
            tracing::error!(error = %e, "body failed or exceeded the buffer");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    if raw.len() < usize::from(COMPRESS_ABOVE_BYTES) {
        return Response::from_parts(parts, Body::from(raw));
    }
    match encoding.compress(&raw, Effort::PerResponse) {
        Some(packed) => {
            mark_encoded(&mut parts.headers, encoding);
            Response::from_parts(parts, Body::from(packed))
        }
        None => Response::from_parts(parts, Body::from(raw)),
    }
}

/// `res` with its body compressed chunk by chunk as it streams.
fn stream(res: Response, encoding: Encoding) -> Response {
    let (mut parts, body) = res.into_parts();
    let reader = StreamReader::new(body.into_data_stream().map_err(io::Error::other));
    let body = match encoding {
        // Quality 4 with brotli's default window, as on-the-fly compressors use.
        Encoding::Br => Body::from_stream(ReaderStream::new(BrotliEncoder::with_quality(
            reader,
            Level::Precise(4),
        ))),
        Encoding::Zstd => Body::from_stream(ReaderStream::new(ZstdEncoder::new(reader))),
        Encoding::Gzip => Body::from_stream(ReaderStream::new(GzipEncoder::new(reader))),
    };
    parts.headers.remove(header::CONTENT_LENGTH);
    mark_encoded(&mut parts.headers, encoding);
    Response::from_parts(parts, body)
}

/// Worth compressing: a successful, whole (not ranged), not yet encoded body of a textual
/// type. Images, fonts and WebAssembly are compressed already or served precompressed;
/// server-sent events must reach the client event by event.
fn compressible(res: &Response) -> bool {
    let status = res.status();
    let h = res.headers();
    if !status.is_success()
        || status == StatusCode::NO_CONTENT
        || status == StatusCode::PARTIAL_CONTENT
        || h.contains_key(header::CONTENT_ENCODING)
        || h.contains_key(header::CONTENT_RANGE)
    {
        return false;
    }
    let Some(kind) = h.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else {
        return false;
    };
    let kind = kind.split(';').next().unwrap_or("").trim();
    match kind.split_once('/') {
        Some(("text", sub)) => sub != "event-stream",
        Some(("application", sub)) => {
            matches!(sub, "json" | "javascript" | "xml" | "manifest+json")
                || sub.ends_with("+json")
                || sub.ends_with("+xml")
        }
        Some(("image", "svg+xml")) => true,
        _ => false,
    }
}

fn is_page(h: &HeaderMap) -> bool {
    h.get(header::CONTENT_TYPE)
        .is_some_and(|t| t.as_bytes().starts_with(b"text/html"))
}

/// What is sent depends on `Accept-Encoding`, whichever coding was chosen.
fn add_vary(h: &mut HeaderMap) {
    h.append(header::VARY, HeaderValue::from_static("accept-encoding"));
}

fn mark_encoded(h: &mut HeaderMap, encoding: Encoding) {
    h.insert(
        header::CONTENT_ENCODING,
        HeaderValue::from_static(encoding.token()),
    );
    weaken_etag(h);
}

/// An encoded body is a different byte sequence from the one a strong ETag named
/// (RFC 9110 §8.8.3), so the tag becomes weak; `If-None-Match` compares weakly anyway.
fn weaken_etag(h: &mut HeaderMap) {
    let Some(tag) = h.get(header::ETAG) else {
        return;
    };
    let tag = tag.as_bytes();
    if tag.starts_with(b"W/") {
        return;
    }
    let mut weak = Vec::with_capacity(tag.len() + 2);
    weak.extend_from_slice(b"W/");
    weak.extend_from_slice(tag);
    if let Ok(weak) = HeaderValue::from_bytes(&weak) {
        h.insert(header::ETAG, weak);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_type(kind: &'static str, body: Vec<u8>) -> Response {
        let mut res = ([(header::CONTENT_TYPE, kind)], body).into_response();
        res.headers_mut()
            .insert(header::ETAG, HeaderValue::from_static("\"abc\""));
        res
    }

    fn page() -> Response {
        with_type("text/html; charset=utf-8", b"<p>hi</p>".repeat(300))
    }

    fn chosen(res: Response, accept: &'static str) -> Option<Encoding> {
        match encode(res, false, Some(&HeaderValue::from_static(accept))) {
            Encoded::Whole(_, e) => Some(e),
            Encoded::Ready(r) => {
                r.headers()
                    .get(header::CONTENT_ENCODING)
                    .map(|v| match v.as_bytes() {
                        b"br" => Encoding::Br,
                        b"zstd" => Encoding::Zstd,
                        _ => Encoding::Gzip,
                    })
            }
        }
    }

    #[test]
    fn cheapest_accepted_coding_first() {
        assert_eq!(
            chosen(page(), "gzip, deflate, br, zstd"),
            Some(Encoding::Zstd)
        );
        assert_eq!(chosen(page(), "br, gzip"), Some(Encoding::Br));
        assert_eq!(chosen(page(), "zstd;q=0, gzip"), Some(Encoding::Gzip));
        assert_eq!(chosen(page(), "identity"), None);
    }

    #[test]
    fn only_textual_bodies_worth_it() {
        let small = with_type("application/json", b"{}".to_vec());
        assert_eq!(chosen(small, "br"), None);
        let wasm = with_type("application/wasm", vec![0; 4096]);
        assert_eq!(chosen(wasm, "br"), None);
        let events = with_type("text/event-stream", vec![b'x'; 4096]);
        assert_eq!(chosen(events, "br"), None);
        let json = with_type("application/json", vec![b' '; 4096]);
        assert_eq!(chosen(json, "br"), Some(Encoding::Br));
        assert!(matches!(encode(page(), true, None), Encoded::Ready(_)));
    }

    #[tokio::test]
    async fn a_whole_body_is_compressed_and_its_tag_weakened() {
        let Encoded::Whole(res, encoding) =
            encode(page(), false, Some(&HeaderValue::from_static("gzip")))
        else {
            panic!("a page is compressed whole");
        };
        let res = compress_whole(res, encoding).await;
        let h = res.headers();
        assert_eq!(h[header::CONTENT_ENCODING], "gzip");
        assert_eq!(h[header::ETAG], "W/\"abc\"");
        assert_eq!(h[header::VARY], "accept-encoding");
        let body = axum::body::to_bytes(res.into_body(), usize::MAX).await;
        let packed = body.expect("body");
        let mut raw = String::new();
        io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut raw)
            .expect("gzip");
        assert_eq!(raw, "<p>hi</p>".repeat(300));
    }

    #[tokio::test]
    async fn a_streamed_body_is_compressed_as_it_streams() {
        let chunks = (0..50).map(|i| Ok::<_, io::Error>(format!("{i},row\n").repeat(20)));
        let mut res = Response::new(Body::from_stream(futures::stream::iter(chunks)));
        res.headers_mut()
            .insert(header::CONTENT_TYPE, HeaderValue::from_static("text/csv"));
        let Encoded::Ready(res) = encode(res, false, Some(&HeaderValue::from_static("gzip")))
        else {
            panic!("a stream is not read whole");
        };
        assert_eq!(res.headers()[header::CONTENT_ENCODING], "gzip");
        let packed = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .expect("body");
        let mut raw = String::new();
        io::Read::read_to_string(&mut flate2::read::GzDecoder::new(&packed[..]), &mut raw)
            .expect("gzip");
        let expected: String = (0..50).map(|i| format!("{i},row\n").repeat(20)).collect();
        assert_eq!(raw, expected);
    }
}
