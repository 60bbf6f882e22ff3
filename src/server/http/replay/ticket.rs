//! The gate's side of the replay: it keeps who asked ([`asker`]) from a GET the front
//! door marked as one a replay could answer, and after the handler leaves a [`Ticket`]
//! on a response made from a whole cached value ([`offer`]) for the front door to file.

use std::sync::Arc;

use axum::{
    body::Body,
    extract::{MatchedPath, Request},
    http::{Response, StatusCode},
};

use crate::server::{
    auth::CurrentUser,
    cache::Hit,
    http::{cached, cached::Shape, middleware::session::SessionToken},
    perf::collect::RouteStats,
};

/// Set on a request by the front door when the table is on and the request is a GET of
/// an address a replay could answer: the gate need not know the table.
#[derive(Clone, Copy)]
pub struct Replayable;

/// Cached answers are JSON API answers; nothing else is looked up.
pub fn replayable_path(path: &str) -> bool {
    path.starts_with("/api/")
}

/// The request a [`Replay`](super::table::Replay) answers, as the gate saw it: filed only
/// if nothing was invalidated since the request arrived.
#[derive(Clone)]
pub struct Ticket {
    pub token: String,
    pub uri: String,
    pub user: CurrentUser,
    pub hit: Hit,
    pub shape: Shape,
    /// The route template the handler was reached by, and its entry in the performance
    /// center's per-route figures (a replay never goes through the router); the entry is
    /// looked up once, by the front door as it files the ticket, when the center is on.
    pub route: Option<MatchedPath>,
    pub route_stats: Option<Arc<RouteStats>>,
}

/// Who asked for what, kept by the gate from a GET it is about to pass on, in case the
/// answer turns out to be replayable.
pub struct Asker {
    token: String,
    uri: String,
    user: CurrentUser,
    route: Option<MatchedPath>,
}

/// Who is asking, when the front door marked `req` [`Replayable`] and the session step
/// found its user.
pub fn asker(req: &Request) -> Option<Asker> {
    let x = req.extensions();
    x.get::<Replayable>()?;
    let SessionToken(token) = x.get::<SessionToken>()?;
    Some(Asker {
        token: token.clone(),
        uri: req.uri().path_and_query()?.as_str().to_owned(),
        user: x.get::<CurrentUser>()?.clone(),
        route: x.get::<MatchedPath>().cloned(),
    })
}

/// Leaves a [`Ticket`] on `res` for the front door when it is a whole cached value.
pub fn offer(res: &mut Response<Body>, asker: Asker) {
    if res.status() != StatusCode::OK {
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
