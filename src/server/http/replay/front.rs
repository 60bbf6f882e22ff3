//! The front door: the outermost service, in front of the router. A request the table
//! can answer is answered here — no routing, session lookup, timeout or handler — with
//! the edge's stamping, timing and per-route counting done by the edge's own functions
//! and the route the ticket kept; the rate limit still counts it, and the 304, the
//! encoding and the headers are the gate's own tail (`conclude`, `encoding`). Everything
//! else goes on to the router, marked [`Replayable`] when a replay could answer it next
//! time, and the ticket a cached answer comes back with is filed on the way out.

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

use super::{
    table::{Replay, ReplayTable},
    ticket::{Replayable, Ticket, replayable_path},
};
use crate::server::{
    auth::session,
    http::{
        cached, client,
        middleware::{
            conclude, conditional, edge,
            encoding::{self, Encoded},
            rate_limit, security_headers,
        },
    },
    state::AppState,
};

/// The live entry answering `req`, if there is one.
fn lookup(table: &ReplayTable, req: &Request, generation: u64) -> Option<Arc<Replay>> {
    let token = session::token_from_headers(req.headers())?;
    table.get(token, req.uri().path_and_query()?.as_str(), generation)
}

/// Whether a replay could answer `req`: a GET of a JSON API address, with the table on.
fn could_replay(table: &ReplayTable, req: &Request) -> bool {
    table.enabled() && req.method() == Method::GET && replayable_path(req.uri().path())
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
    let rate = if counted {
        Some(Box::pin(rate_limit::count(state, &entry.ticket.user)).await)
    } else {
        None
    };
    let res = match &rate {
        Some(q) if q.exceeded() => q.refusal(),
        _ => {
            state.cache.count_replay_hit(entry.ticket.hit.strategy);
            let Ticket { hit, shape, .. } = &entry.ticket;
            cached::reanswer(hit, *shape, started, &state.clock)
        }
    };
    // A cached value (or a small refusal): ready at once, never read whole.
    let res = match encoding::encode(res, false, accept.as_ref()) {
        Encoded::Ready(res) => res,
        Encoded::Whole(res, coding) => encoding::compress_whole(res, coding).await,
    };
    conclude::conclude(res, wanted, rate)
}

/// Makes a [`Front`] for each connection the server accepts, with the peer's address
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
    table: ReplayTable,
}

/// Puts a replay table of `HEADROOM_REPLAY_MS` in front of `router`.
pub fn front(router: Router, state: AppState) -> MakeFront {
    let table = ReplayTable::new(state.settings.cache.replay_ttl, state.perf.replay.clone());
    MakeFront {
        shared: Arc::new(Shared {
            router,
            state,
            table,
        }),
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
        let could_replay = could_replay(&shared.table, &req);
        if let Some(entry) = could_replay
            .then(|| lookup(&shared.table, &req, began))
            .flatten()
        {
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
        if could_replay {
            req.extensions_mut().insert(Replayable);
        }
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
                shared.table.fill(ticket, began, now, ttl);
            }
            Ok(res)
        })
    }
}
