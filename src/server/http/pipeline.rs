//! Every request's way through the server, in the order it is met. Start here.
//!
//! 1. **Connection** (`serve`): the connection cap, taken before `accept`, and the
//!    header-read timeout; the peer's address goes with each request.
//! 2. **Front door** (`replay::front`): a signed-in GET answered a moment ago is answered
//!    again from the replay table, and stops here. It still does the edge's work (3),
//!    counts against the rate limit (4.4) and leaves through the gate's tail (4.7–4.9).
//! 3. **Edge** (`middleware::edge`): request id, log span, per-route figures, and on the
//!    way out `X-Response-Time`.
//! 4. **Gate** (`middleware::gate`), one layer running these steps in order:
//!    1. CSRF check on unsafe methods (`csrf`);
//!    2. request timeout (`timeout`), and the stream deadline on the way out (`deadline`);
//!    3. session: the cookie becomes a `CurrentUser` (`session`);
//!    4. rate limit by plan tier (`rate_limit`);
//!    5. the route's handler (`router`, below);
//!    6. a cached answer leaves a ticket for the front door (`replay::offer`);
//!    7. the body's content coding, and its ETag weakened with it (`encoding`);
//!    8. a 304 when the client has it (`conditional`), the rate-limit headers and the
//!       security headers (`conclude`);
//!    9. HSTS over HTTPS (`security_headers`).
//! 5. **Routes** (`router`): JSON and form routes, Leptos pages and server functions,
//!    static files.
//!
//! One `layer` call wraps the routes: each call boxes every route's service once more,
//! so two layers cost one box, not two, per request. The edge and the gate are
//! hand-written services for the same reason (see `edge.rs`).

use crate::server::{
    http::{
        middleware::{edge::EdgeLayer, gate::GateLayer},
        replay::front::{self, MakeFront},
        router,
    },
    state::AppState,
};

/// The whole pipeline around the routes, ready for `serve` to hand connections to.
pub fn build(state: AppState) -> MakeFront {
    let routed = router::build(state.clone()).layer(
        tower::ServiceBuilder::new()
            .layer(EdgeLayer::new(state.clone()))
            .layer(GateLayer::new(state.clone())),
    );
    front::front(routed, state)
}
