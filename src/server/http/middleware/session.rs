//! Resolves the session cookie once per request and leaves the answer in the request's
//! extensions as [`CurrentUser`] (absent when signed out). Everything downstream — JSON
//! handlers, pages, server functions — reads it from there.

use axum::extract::Request;

use crate::server::{auth::session, service, state::AppState};

/// The raw session token, for the route that signs out.
#[derive(Debug, Clone)]
pub struct SessionToken(pub String);

/// The session token `req` carries, when it is one worth looking up. Hashed build
/// output never needs a user, so its requests skip the lookup.
pub fn token_of(req: &Request) -> Option<String> {
    if req.uri().path().starts_with("/pkg/") {
        return None;
    }
    session::token_from_headers(req.headers()).map(str::to_owned)
}

/// Looks `token` up and files the user it belongs to in `req`'s extensions.
pub async fn attach_token(state: &AppState, req: &mut Request, token: String) {
    match service::auth::user_for_token(state, &token).await {
        Ok(Some(user)) => {
            req.extensions_mut().insert(user);
            req.extensions_mut().insert(SessionToken(token));
        }
        Ok(None) => {}
        Err(e) => {
            // The database is down, not the session: say so (503) where a user is
            // needed, rather than treat the caller as signed out.
            tracing::warn!(error = %e, "session lookup failed");
            req.extensions_mut().insert(SessionUnknown);
        }
    }
}

/// Left in a request whose session cookie could not be looked up (the database did
/// not answer).
#[derive(Debug, Clone, Copy)]
pub struct SessionUnknown;
