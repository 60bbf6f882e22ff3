//! What server functions and server-rendered pages know about the request they serve.

use leptos::prelude::*;

use crate::server::{auth::CurrentUser, state::AppState};

/// The signed-in user of the current request (resolved by the session middleware).
pub fn request_user() -> Option<CurrentUser> {
    use_context::<http::request::Parts>()?
        .extensions
        .get::<CurrentUser>()
        .cloned()
}

/// The shared application state.
pub fn app_state() -> Result<AppState, ServerFnError> {
    use_context::<AppState>().ok_or_else(|| ServerFnError::new("application state missing"))
}

/// The signed-in user, or a 401 for the caller. During server rendering a page may already
/// have chosen its answer (a redirect to sign-in); that status is kept.
pub fn require_user() -> Result<CurrentUser, ServerFnError> {
    request_user().ok_or_else(|| {
        if let Some(res) = use_context::<leptos_axum::ResponseOptions>()
            && res
                .0
                .read()
                .map(|parts| parts.status.is_none())
                .unwrap_or(true)
        {
            res.set_status(http::StatusCode::UNAUTHORIZED);
        }
        ServerFnError::new("sign in first")
    })
}

/// For pages that need a user: when nobody is signed in, answer with a redirect to the
/// sign-in page (before any HTML is streamed) that brings them back afterwards.
pub fn require_user_or_redirect() {
    if request_user().is_some() {
        return;
    }
    // A fresh install has nobody to sign in: its first visitor is sent to set it up.
    if app_state().is_ok_and(|s| s.first_run.needed()) {
        redirect_page("/setup");
        return;
    }
    let back = use_context::<http::request::Parts>()
        .map(|p| p.uri.path().to_string())
        .unwrap_or_else(|| "/".to_string());
    if back == "/" {
        redirect_page("/login");
    } else {
        redirect_page(&format!("/login?next={back}"));
    }
}

/// Answers a page request with `302 Found` to `to`. Unlike `leptos_axum::redirect`, this
/// does not depend on the client's `Accept` header: a page address fetched by `curl` or a
/// monitoring probe is redirected the same way a browser is.
pub fn redirect_page(to: &str) {
    if let (Some(res), Ok(location)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::HeaderValue::from_str(to),
    ) {
        res.set_status(http::StatusCode::FOUND);
        res.insert_header(http::header::LOCATION, location);
    }
}

/// Maps a use-case error to what a server function may tell its caller: "not found" as
/// is, anything unexpected logged and reduced to a generic message (nothing internal leaks).
pub fn internal(e: crate::server::service::ServiceError) -> ServerFnError {
    use crate::server::service::ServiceError;
    match e {
        ServiceError::NotFound => {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::NOT_FOUND);
            }
            ServerFnError::new("not found")
        }
        ServiceError::Forbidden(why) => {
            if let Some(res) = use_context::<leptos_axum::ResponseOptions>() {
                res.set_status(http::StatusCode::FORBIDDEN);
            }
            ServerFnError::new(why)
        }
        ServiceError::Invalid(errors) => ServerFnError::new(
            errors
                .iter()
                .map(|e| e.to_string())
                .collect::<Vec<_>>()
                .join("; "),
        ),
        other => {
            tracing::error!(error = %other, "server function failed");
            ServerFnError::new("something went wrong on our side; it has been logged")
        }
    }
}
