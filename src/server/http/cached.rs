//! Responses straight from cached JSON bytes: no decoding and re-encoding on a hit, an
//! ETag from the value's hash, and `Cache-Control: private, no-cache` (a user's own data,
//! revalidated each time, so a 304 costs the client a round trip but no body).

use std::sync::Arc;

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::Response,
};
use bytes::Bytes;

use crate::server::{cache::Hit, clock::Clock, hex};

pub const X_CACHE: header::HeaderName = header::HeaderName::from_static("x-cache");

fn body_of(bytes: &Arc<[u8]>) -> Body {
    Body::from(Bytes::from_owner(ArcBytes(bytes.clone())))
}

/// Lets `Bytes` borrow the cached allocation instead of copying it.
struct ArcBytes(Arc<[u8]>);

impl AsRef<[u8]> for ArcBytes {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

/// `"0123456789abcdef"` (or `W/"…"`): the value's 64-bit hash in hex, written by hand since
/// every cached response carries one.
fn etag(hit: &Hit, weak: bool) -> HeaderValue {
    let mut buf = [0u8; 2 + 16 + 2];
    let start = if weak { 0 } else { 2 };
    buf[..3].copy_from_slice(b"W/\"");
    buf[3..19].copy_from_slice(&hex::fixed_u64(hit.etag));
    buf[19] = b'"';
    HeaderValue::from_bytes(&buf[start..]).unwrap_or_else(|_| HeaderValue::from_static("\"0\""))
}

fn json_response(body: Body, tag: HeaderValue, cached: bool) -> Response {
    let mut res = Response::new(body);
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    // Four here, five security headers, the id, the timing, length and date on the way
    // out: reserved at once instead of growing the map twice.
    h.reserve(16);
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::ETAG, tag);
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, no-cache"),
    );
    h.insert(
        X_CACHE,
        HeaderValue::from_static(if cached { "hit" } else { "miss" }),
    );
    res
}

/// The cached JSON as the whole body, with a strong ETag. The response remembers its
/// cache entry so the encoding step can send that entry's compressed copy.
pub fn json(hit: &Hit) -> Response {
    let mut res = json_response(body_of(&hit.bytes), etag(hit, false), hit.cached());
    res.extensions_mut().insert(CachedBody(hit.clone()));
    res
}

/// Marks a response whose body is exactly a cached value's bytes.
#[derive(Clone)]
struct CachedBody(Hit);

/// How a response wraps its cached value, so the same answer can be made again from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// [`json`]: the value is the body.
    Whole,
    /// [`envelope`]: the value inside the seeds' envelope.
    Envelope,
}

/// Marks an [`envelope`] response with the value inside it.
#[derive(Clone)]
struct Enveloped(Hit);

/// The cached value `res` was made from, and how, if it came from [`json`] or [`envelope`].
pub fn answer_of(res: &Response) -> Option<(&Hit, Shape)> {
    let x = res.extensions();
    x.get::<CachedBody>()
        .map(|CachedBody(hit)| (hit, Shape::Whole))
        .or_else(|| {
            x.get::<Enveloped>()
                .map(|Enveloped(hit)| (hit, Shape::Envelope))
        })
}

/// `hit` answered again in `shape`: an envelope gets this moment's timing fields.
pub fn reanswer(hit: &Hit, shape: Shape, started: std::time::Instant, clock: &Clock) -> Response {
    match shape {
        Shape::Whole => json(hit),
        Shape::Envelope => envelope(
            hit,
            started.elapsed().as_secs_f64(),
            &clock.now().to_string(),
        ),
    }
}

/// The cached value whose bytes are `res`'s whole body, taken off the response: the
/// encoding step (`middleware::encoding`) sends that entry's compressed copy instead.
pub fn take_cached_body(res: &mut Response) -> Option<Hit> {
    res.extensions_mut()
        .remove::<CachedBody>()
        .map(|CachedBody(hit)| hit)
}

/// The seeds' envelope `{success, data, cached, load_time, timestamp}` around cached JSON,
/// spliced rather than re-serialised. Its ETag is weak: the data is the same while the
/// envelope's timing fields change with every response.
pub fn envelope(hit: &Hit, load_time: f64, timestamp: &str) -> Response {
    let head = b"{\"success\":true,\"data\":";
    let tail = format!(
        ",\"cached\":{},\"load_time\":{load_time},\"timestamp\":\"{timestamp}\"}}",
        hit.cached()
    );
    let mut out = Vec::with_capacity(head.len() + hit.bytes.len() + tail.len());
    out.extend_from_slice(head);
    out.extend_from_slice(&hit.bytes);
    out.extend_from_slice(tail.as_bytes());
    let mut res = json_response(Body::from(out), etag(hit, true), hit.cached());
    res.extensions_mut().insert(Enveloped(hit.clone()));
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::server::cache::{Source, Strategy};

    fn hit(etag: u64) -> Hit {
        Hit {
            bytes: Arc::from(&b"{}"[..]),
            etag,
            source: Source::Memory,
            strategy: Strategy::Outlook,
            derived: Arc::default(),
        }
    }

    #[test]
    fn etags_are_the_hash_in_sixteen_hex_digits() {
        assert_eq!(
            etag(&hit(0x48d1_9e77_ae77_b173), false),
            "\"48d19e77ae77b173\""
        );
        assert_eq!(etag(&hit(0xff), true), "W/\"00000000000000ff\"");
        assert_eq!(etag(&hit(u64::MAX), false), "\"ffffffffffffffff\"");
    }
}
