//! Everything between the edge and the handler, in one layer: the CSRF check, the
//! request timeout, the session, the rate limit, offering cached answers for replay,
//! the body's content coding (`encoding`), the conditional GET, and security headers on
//! whatever comes out.
//!
//! One hand-written service instead of six `from_fn` layers (see `edge.rs` for why); the
//! steps stay in their own modules and read in order here.

use std::{
    convert::Infallible,
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use axum::{
    extract::Request,
    http::{HeaderValue, header},
    response::Response,
};
use tower::{Layer, Service};

use super::{
    conclude, conditional, csrf, deadline,
    encoding::{self, Encoded},
    rate_limit, security_headers, session, timeout,
};
use crate::server::{
    auth::CurrentUser,
    http::{client, replay},
    state::AppState,
};

#[derive(Clone)]
pub struct GateLayer {
    state: AppState,
}

impl GateLayer {
    pub fn new(state: AppState) -> Self {
        GateLayer { state }
    }
}

impl<S> Layer<S> for GateLayer {
    type Service = Gate<S>;

    fn layer(&self, inner: S) -> Gate<S> {
        Gate {
            inner,
            state: self.state.clone(),
        }
    }
}

#[derive(Clone)]
pub struct Gate<S> {
    inner: S,
    state: AppState,
}

impl<S> Service<Request> for Gate<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // The handler runs after awaits (session, rate limit), so it takes the service
        // that was polled ready and leaves a fresh clone behind (tower's usual dance).
        let fresh = self.inner.clone();
        let inner = std::mem::replace(&mut self.inner, fresh);
        let state = self.state.clone();
        if let Some(mut refused) = csrf::refusal(&req) {
            security_headers::add(&mut refused);
            return Box::pin(std::future::ready(Ok(refused)));
        }
        let limit = timeout::limit(&req, &state.settings);
        let https = client::is_https(
            &state.settings,
            client::peer(req.extensions()),
            req.headers(),
        );
        let stream_until = tokio::time::Instant::now() + state.settings.server.stream_timeout;
        // A future is as large as everything it may await, and it is copied whole each
        // time it moves; so the rarely-awaited parts (a session lookup, a rate-limit
        // count) are boxed on their own when a request needs them, and the timeout wraps
        // the work directly (with them inline, this block measured 5.3 KB).
        Box::pin(async move {
            let res = tokio::time::timeout(limit, pass(state, inner, req))
                .await
                .unwrap_or_else(|_| {
                    let mut res = timeout::timed_out(limit);
                    security_headers::add(&mut res);
                    res
                });
            let mut res = deadline::limit(res, stream_until);
            if https {
                security_headers::add_hsts(&mut res);
            }
            Ok(res)
        })
    }
}

async fn pass<S>(state: AppState, mut inner: S, mut req: Request) -> Response
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    if let Some(token) = session::token_of(&req) {
        Box::pin(session::attach_token(&state, &mut req, token)).await;
    }
    let wanted = conditional::wanted(&req);
    let head = req.method() == axum::http::Method::HEAD;
    let accept: Option<HeaderValue> = req.headers().get(header::ACCEPT_ENCODING).cloned();
    let asker = replay::asker(&req);
    let rate = match req.extensions().get::<CurrentUser>().and_then(|user| {
        rate_limit::allowance(&state, user, req.method(), req.uri().path()).map(|a| (user, a))
    }) {
        Some((user, allowance)) => {
            Some(Box::pin(rate_limit::count_user(&state, user, allowance)).await)
        }
        None => None,
    };
    let mut res = match &rate {
        Some(q) if q.exceeded() => q.refusal(),
        _ => {
            let Ok(res) = inner.call(req).await;
            res
        }
    };
    if let Some(asker) = asker {
        replay::offer(&mut res, asker);
    }
    let res = match encoding::encode(res, head, accept.as_ref()) {
        Encoded::Ready(res) => res,
        Encoded::Whole(res, coding) => Box::pin(encoding::compress_whole(res, coding)).await,
    };
    conclude::conclude(res, wanted, rate)
}
