//! Answering a signed-in GET again from the replay table (`cache::replay`): when the same
//! session asked for the same address a moment ago and nothing has been invalidated
//! since, the cached JSON it got is sent again by the front door ([`Front`], outside the
//! router) without routing, the session lookup, the timeout, the compression layer or the
//! handler. The rate limit still counts the request, the conditional GET and the headers
//! are the gate's own (`conclude::conclude`), and the edge's stamping, timing and per-route
//! counting are done here with the edge's own functions and the route the ticket kept.
//!
//! Only answers made by `cached::json` or `cached::envelope` are offered — cached values
//! that depend on nothing but the user, the address and the cache (an envelope's timing
//! fields are made afresh) — and only for the session cookie that was looked up, so a
//! replay is what the handler would send.

use std::{
    convert::Infallible,
    future::Future,
    net::SocketAddr,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Instant,
};

use axum::{
    Router,
    body::Body,
    extract::{ConnectInfo, MatchedPath, Request},
    http::{HeaderValue, Method, Response, header},
};
use tower::Service;
use tracing::Instrument;

use super::{conclude, conditional, edge, rate_limit, security_headers, session::SessionToken};
use crate::server::{
    auth::{CurrentUser, session},
    cache::{Replay, Ticket},
    http::{cached, client},
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
    route: Option<MatchedPath>,
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
        route: req.extensions().get::<MatchedPath>().cloned(),
    })
}

/// Leaves a [`Ticket`] on `res` for the front door when it is a whole cached value.
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
        route: asker.route,
        route_stats: None,
    });
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
    state: &AppState,
    entry: Arc<Replay>,
    counted: bool,
    wanted: Option<HeaderValue>,
    accept: Option<HeaderValue>,
) -> Response<Body> {
    let started = Instant::now();
    // Boxed, as in the gate: most replays are not counted, and inline the count would
    // make every replay's future several times larger.
    let quota = if counted {
        Some(Box::pin(rate_limit::count(state, &entry.ticket.user)).await)
    } else {
        None
    };
    let mut res = match &quota {
        Some(q) if q.exceeded() => q.refusal(),
        _ => {
            state.cache.replay().count_hit(&entry);
            let Ticket { hit, shape, .. } = &entry.ticket;
            cached::reanswer(hit, *shape, started, &state.clock)
        }
    };
    cached::send_precompressed(&mut res, accept.as_ref().and_then(|v| v.to_str().ok()));
    conclude::conclude(res, wanted, quota)
}

/// Makes a [`Front`] for each connection `axum::serve` accepts, with the peer's address
/// for the handlers that read `ConnectInfo` (what `into_make_service_with_connect_info`
/// would have done).
#[derive(Clone)]
pub struct MakeFront {
    shared: Arc<Shared>,
}

/// What every connection's [`Front`] shares: one reference count to bump per request
/// (hyper clones the service for each) instead of two.
struct Shared {
    router: Router,
    state: AppState,
}

/// Puts the replay table in front of `router`.
pub fn front(router: Router, state: AppState) -> MakeFront {
    MakeFront {
        shared: Arc::new(Shared { router, state }),
    }
}

impl MakeFront {
    /// The service for one connection from `peer`.
    pub fn for_peer(&self, peer: SocketAddr) -> Front {
        Front {
            shared: self.shared.clone(),
            peer,
        }
    }
}

/// The outermost service: answers a replayable request itself, before routing — the
/// matching, the router's per-route service and every layer inside it are what a replay
/// no longer pays for — and passes everything else to the router, filing the ticket a
/// cached answer comes back with.
#[derive(Clone)]
pub struct Front {
    shared: Arc<Shared>,
    peer: SocketAddr,
}

impl Service<Request> for Front {
    type Response = Response<Body>;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response<Body>, Infallible>> + Send>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        // A router is always ready.
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        // Read before anything else: an answer is filed only if no invalidation happened
        // while it was being made.
        let shared = self.shared.clone();
        let state = &shared.state;
        let began = state.cache.generation();
        if let Some(entry) = lookup(state, &req, began) {
            // The edge's work, as `Edge` would have done it on the routed path.
            let id = edge::request_id_of(&mut req);
            let route = entry.ticket.route.as_ref().map(MatchedPath::as_str);
            let (arrival, span) =
                edge::arrive(state, &req, id, route, entry.ticket.route_stats.as_ref());
            let counted = rate_limit::applies(state, &entry.ticket.user, req.uri().path());
            let wanted = conditional::wanted(&req);
            let accept = req.headers().get(header::ACCEPT_ENCODING).cloned();
            let https = client::is_https(&state.settings, Some(self.peer.ip()), req.headers());
            return Box::pin(
                async move {
                    let mut res = answer(&shared.state, entry, counted, wanted, accept).await;
                    if https {
                        security_headers::add_hsts(&mut res);
                    }
                    edge::depart(arrival, &mut res);
                    Ok(res)
                }
                .instrument(span),
            );
        }
        req.extensions_mut().insert(ConnectInfo(self.peer));
        let answered = shared.router.clone().call(req);
        Box::pin(async move {
            let state = &shared.state;
            let Ok(mut res) = answered.await;
            if let Some(mut ticket) = res.extensions_mut().remove::<Ticket>() {
                if state.perf.enabled {
                    let route = ticket.route.as_ref().map(MatchedPath::as_str);
                    ticket.route_stats = Some(state.perf.routes.stats(route));
                }
                let ttl = state.cache.ttl(ticket.hit.strategy);
                let now = state.cache.generation();
                state.cache.replay().fill(ticket, began, now, ttl);
            }
            Ok(res)
        })
    }
}
