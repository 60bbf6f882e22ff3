//! Answering a signed-in GET again from the replay table (`cache::replay`): when the same
//! session asked for the same address a moment ago and nothing has been invalidated
//! since, the cached JSON it got is sent again without the session lookup, the timeout,
//! the compression layer or the handler. The rate limit still counts the request, the
//! conditional GET and the headers are the gate's own (`gate::conclude`), and the edge
//! outside still stamps, times and counts it per route.
//!
//! Only answers made by `cached::json` or `cached::envelope` are offered — cached values
//! that depend on nothing but the user, the address and the cache (an envelope's timing
//! fields are made afresh) — and only for the session cookie that was looked up, so a
//! replay is what the handler would send.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    body::Body,
    extract::Request,
    http::{HeaderValue, Method, Response, header},
};
use tower::{Layer, Service};

use super::{conditional, gate, rate_limit, session::SessionToken};
use crate::server::{
    auth::{CurrentUser, session},
    cache::{Replay, Ticket},
    http::cached,
    state::AppState,
};

/// Cached answers are JSON API answers; nothing else is looked up.
fn replayable_path(path: &str) -> bool {
    path.starts_with("/api/")
}

/// Who asked for what, kept by the gate from a GET it is about to pass on, in case the
/// answer turns out to be replayable.
pub struct Asker {
    token: String,
    uri: String,
    user: CurrentUser,
}

pub fn asker(state: &AppState, req: &Request) -> Option<Asker> {
    if !state.cache.replay().enabled() || !replayable_path(req.uri().path()) {
        return None;
    }
    let SessionToken(token) = req.extensions().get::<SessionToken>()?;
    Some(Asker {
        token: token.clone(),
        uri: req.uri().path_and_query()?.as_str().to_owned(),
        user: req.extensions().get::<CurrentUser>()?.clone(),
    })
}

/// Leaves a [`Ticket`] on `res` for the replay layer when it is a whole cached value.
pub fn offer(res: &mut Response<Body>, asker: Asker) {
    if res.status() != axum::http::StatusCode::OK {
        return;
    }
    let Some((hit, shape)) = cached::answer_of(res).map(|(h, s)| (h.clone(), s)) else {
        return;
    };
    res.extensions_mut().insert(Ticket {
        token: asker.token,
        uri: asker.uri,
        user: asker.user,
        hit,
        shape,
    });
}

#[derive(Clone)]
pub struct ReplayLayer {
    state: AppState,
}

impl ReplayLayer {
    pub fn new(state: AppState) -> Self {
        ReplayLayer { state }
    }
}

impl<S> Layer<S> for ReplayLayer {
    type Service = ReplayService<S>;

    fn layer(&self, inner: S) -> ReplayService<S> {
        ReplayService {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct ReplayService<S> {
    inner: S,
    state: AppState,
}

/// The live entry answering `req`, if there is one.
fn lookup(state: &AppState, req: &Request, generation: u64) -> Option<Arc<Replay>> {
    let table = state.cache.replay();
    if !table.enabled() || req.method() != Method::GET || !replayable_path(req.uri().path()) {
        return None;
    }
    let token = session::token_from_headers(req.headers())?;
    table.get(token, req.uri().path_and_query()?.as_str(), generation)
}

async fn answer(
    state: AppState,
    entry: Arc<Replay>,
    counted: bool,
    wanted: Option<HeaderValue>,
    accept: Option<HeaderValue>,
) -> Response<Body> {
    let started = Instant::now();
    // Boxed, as in the gate: most replays are not counted, and inline the count would
    // make every replay's future several times larger.
    let quota = if counted {
        Some(Box::pin(rate_limit::count(&state, &entry.user)).await)
    } else {
        None
    };
    let mut res = match &quota {
        Some(q) if q.exceeded() => q.refusal(),
        _ => cached::reanswer(&entry.hit, entry.shape, started, &state.clock),
    };
    cached::send_precompressed(&mut res, accept.as_ref().and_then(|v| v.to_str().ok()));
    gate::conclude(res, wanted, quota)
}

impl<S, B> Service<Request> for ReplayService<S>
where
    S: Service<Request, Response = Response<B>, Error = Infallible>,
    S::Future: Send + 'static,
    B: axum::body::HttpBody<Data = bytes::Bytes> + Send + 'static,
    B::Error: Into<axum::BoxError>,
{
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // Read before anything else: an answer is filed only if no invalidation happened
        // while it was being made.
        let began = self.state.cache.generation();
        let state = self.state.clone();
        if let Some(entry) = lookup(&state, &req, began) {
            let counted = rate_limit::applies(&state, &entry.user, req.uri().path());
            let wanted = conditional::wanted(&req);
            let accept = req.headers().get(header::ACCEPT_ENCODING).cloned();
            return Box::pin(
                async move { Ok(answer(state, entry, counted, wanted, accept).await) },
            );
        }
        let answered = self.inner.call(req);
        Box::pin(async move {
            let Ok(res) = answered.await;
            let mut res = res.map(Body::new);
            if let Some(ticket) = res.extensions_mut().remove::<Ticket>() {
                let ttl = state.cache.ttl(ticket.hit.strategy);
                let now = state.cache.generation();
                state.cache.replay().fill(ticket, began, now, ttl);
            }
            Ok(res)
        })
    }
}
