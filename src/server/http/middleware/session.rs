//! Resolves the session cookie once per request and leaves the answer in the request's
//! extensions as [`CurrentUser`] (absent when signed out). Everything downstream — JSON
//! handlers, pages, server functions — reads it from there.

use axum::{
    extract::{Request, State},
    middleware::Next,
    response::Response,
};

use crate::server::{auth::session, service, state::AppState};

/// The raw token of the current request's session, for sign-out and rotation.
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

pub async fn resolve(State(state): State<AppState>, mut req: Request, next: Next) -> Response {
    // Hashed static assets never need to know who is asking.
    if !req.uri().path().starts_with("/pkg/")
        && let Some(token) = session::token_from_headers(req.headers()).map(str::to_owned)
    {
        match service::auth::user_for_token(&state, &token).await {
            Ok(Some(user)) => {
                req.extensions_mut().insert(user);
                req.extensions_mut().insert(SessionToken(token));
            }
            Ok(None) => {}
            // A database hiccup means "signed out" for this request, not a 500 for
            // pages that do not need a user.
            Err(e) => tracing::warn!(error = %e, "session lookup failed"),
        }
    }
    next.run(req).await
}
