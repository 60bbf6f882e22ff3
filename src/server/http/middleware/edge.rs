//! The outermost layer of every routed request: its id (taken from `X-Request-ID` when a
//! proxy sent one, made here otherwise), the log span that carries that id, the
//! `X-Response-Time` stamp and the performance center's per-route figures. Replays never
//! reach the router; the front door (`http::replay::front`) does the same work for them
//! with [`arrive`] and [`depart`].
//!
//! Hand-written rather than a stack of `from_fn` layers: each of those cost a boxed
//! service clone and a boxed future per request, and together they were most of a cached
//! request's time. This is one boxed future, no clone.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::atomic::{AtomicU64, Ordering},
    sync::{Arc, LazyLock},
    task::{Context, Poll},
    time::{Instant, SystemTime, UNIX_EPOCH},
};

use axum::{
    extract::{MatchedPath, Request},
    http::{HeaderValue, Response, header, header::HeaderName},
};
use tower::{Layer, Service};
use tracing::{Instrument, Span};

use crate::server::{
    hex,
    perf::collect::{RouteStats, Tracked},
    state::AppState,
};

pub const X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
pub const X_RESPONSE_TIME: HeaderName = HeaderName::from_static("x-response-time");

/// Request ids: a per-process random prefix and a counter — unique, cheap, sortable in a
/// log, and no lock on the hot path.
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);
static PREFIX: LazyLock<u32> = LazyLock::new(|| {
    #[allow(
        clippy::disallowed_methods,
        reason = "entropy for a random prefix, not a time"
    )]
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or_default();
    nanos ^ std::process::id().rotate_left(16)
});

#[derive(Clone)]
pub struct EdgeLayer {
    state: AppState,
}

impl EdgeLayer {
    pub fn new(state: AppState) -> Self {
        EdgeLayer { state }
    }
}

impl<S> Layer<S> for EdgeLayer {
    type Service = Edge<S>;

    fn layer(&self, inner: S) -> Edge<S> {
        Edge {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Edge<S> {
    inner: S,
    state: AppState,
}

/// An id a client or proxy sent is kept if it is short and printable; otherwise ours.
fn acceptable(id: &HeaderValue) -> bool {
    !id.is_empty() && id.len() <= 128 && id.to_str().is_ok()
}

/// `{prefix:08x}-{n:x}`, written by hand: `format!` was a visible share of a cached
/// request's time (it allocates twice and runs the formatting machinery).
fn request_id(prefix: u32, n: u64) -> HeaderValue {
    let mut buf = [0u8; 8 + 1 + 16];
    buf[..8].copy_from_slice(&hex::fixed_u64(u64::from(prefix))[8..]);
    buf[8] = b'-';
    let digits = (64 - n.leading_zeros()).div_ceil(4).max(1) as usize;
    buf[9..9 + digits].copy_from_slice(&hex::fixed_u64(n)[16 - digits..]);
    HeaderValue::from_bytes(&buf[..9 + digits]).unwrap_or(HeaderValue::from_static("-"))
}

/// `12.34ms`: milliseconds with two decimals, from whole microseconds, written backwards
/// into a stack buffer (a u128 has at most 39 digits): no float formatting, no allocation.
fn response_time(elapsed: std::time::Duration) -> HeaderValue {
    let hundredths = (elapsed.as_micros() + 5) / 10;
    let frac = (hundredths % 100) as u8;
    let mut buf = [0u8; 39 + 5];
    let mut at = buf.len() - 5;
    buf[at..].copy_from_slice(&[b'.', b'0' + frac / 10, b'0' + frac % 10, b'm', b's']);
    let mut whole = hundredths / 100;
    loop {
        at -= 1;
        buf[at] = b'0' + (whole % 10) as u8;
        whole /= 10;
        if whole == 0 {
            break;
        }
    }
    HeaderValue::from_bytes(&buf[at..]).unwrap_or(HeaderValue::from_static("-"))
}

/// A request as the edge saw it arrive, kept until its answer leaves.
pub struct Arrival {
    started: Instant,
    id: HeaderValue,
    tracked: Option<Tracked>,
}

/// The request's id: the one sent if acceptable, else a new one, written into the request
/// so the handlers and logs see it.
pub fn request_id_of(req: &mut Request) -> HeaderValue {
    match req.headers().get(X_REQUEST_ID) {
        Some(v) if acceptable(v) => v.clone(),
        _ => {
            let v = request_id(*PREFIX, NEXT_REQUEST.fetch_add(1, Ordering::Relaxed));
            req.headers_mut().insert(X_REQUEST_ID, v.clone());
            v
        }
    }
}

/// The edge's work on the way in, once the id is known: counting the request in under
/// `route` for the performance center (`known` is the route's entry when the caller has it
/// already, as a replay does), and the span every log line of the request carries
/// (disabled below `info` at almost no cost). Shared by [`Edge`] and the replay front
/// door, which answers before there is a router to say the route.
pub fn arrive(
    state: &AppState,
    req: &Request,
    id: HeaderValue,
    route: Option<&str>,
    known: Option<&Arc<RouteStats>>,
) -> (Arrival, Span) {
    let started = Instant::now();
    let span = tracing::info_span!(
        "request",
        method = %req.method(),
        route = route.unwrap_or("fallback"),
        request_id = id.to_str().unwrap_or("-"),
    );
    // The performance center's per-route figures (off: nothing counted at all).
    let tracked = state
        .perf
        .enabled
        .then(|| Tracked::start(known.map_or_else(|| state.perf.routes.stats(route), Arc::clone)));
    (
        Arrival {
            started,
            id,
            tracked,
        },
        span,
    )
}

/// The edge's work on the way out: `X-Response-Time`
/// and `X-Request-ID`, the route's figures, and a log line.
pub fn depart<B>(arrival: Arrival, res: &mut Response<B>) {
    let Arrival {
        started,
        id,
        tracked,
    } = arrival;
    let elapsed = started.elapsed();
    let h = res.headers_mut();
    h.insert(X_RESPONSE_TIME, response_time(elapsed));
    h.insert(X_REQUEST_ID, id);
    let status = res.status();
    if let Some(tracked) = tracked {
        let kind = res
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| v.as_bytes());
        tracked.finish(status.as_u16(), kind, elapsed);
    }
    let ms = elapsed.as_secs_f64() * 1000.0;
    if status.is_server_error() {
        tracing::error!(status = status.as_u16(), ms, "response failed");
    } else {
        tracing::debug!(status = status.as_u16(), ms, "response");
    }
}

impl<S, B> Service<Request> for Edge<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let id = request_id_of(&mut req);
        let route = req
            .extensions()
            .get::<MatchedPath>()
            .map(MatchedPath::as_str);
        let (arrival, span) = arrive(&self.state, &req, id, route, None);
        let response = self.inner.call(req);
        Box::pin(
            async move {
                let Ok(mut res) = response.await;
                depart(arrival, &mut res);
                Ok(res)
            }
            .instrument(span),
        )
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    #[test]
    fn request_ids_are_the_prefix_and_the_counter_in_hex() {
        assert_eq!(request_id(0x1ac3_9a9c, 1), "1ac39a9c-1");
        assert_eq!(request_id(0xf, 0), "0000000f-0");
        assert_eq!(request_id(0, 0xb67af), "00000000-b67af");
        assert_eq!(request_id(u32::MAX, u64::MAX), "ffffffff-ffffffffffffffff");
    }

    #[test]
    fn response_times_are_milliseconds_with_two_decimals() {
        assert_eq!(response_time(Duration::from_micros(190)), "0.19ms");
        assert_eq!(response_time(Duration::from_micros(4)), "0.00ms");
        assert_eq!(response_time(Duration::from_micros(5)), "0.01ms");
        assert_eq!(response_time(Duration::from_micros(25_114)), "25.11ms");
        assert_eq!(response_time(Duration::from_secs(3)), "3000.00ms");
    }
}
