//! Sign-in and sign-out as plain HTML form posts, so they work before (and without) the
//! WebAssembly bundle: a phone on a slow train can sign in as soon as the HTML arrives.

use std::net::SocketAddr;

use axum::{
    Extension, Form, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use crate::server::{
    auth::session,
    http::{error::ApiError, middleware::session::SessionToken},
    service::{self, auth::SignIn},
    state::AppState,
};

#[derive(Deserialize)]
struct SignInForm {
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
    #[serde(default)]
    next: String,
}

/// Only same-site paths are followed after sign-in; anything else goes home, so the
/// sign-in page cannot be used to bounce users to another site.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.contains('\\');
    if local { next } else { "/" }
}

fn back_to_login(error: &str, next: &str) -> Response {
    let mut target = format!("/login?error={error}");
    if next != "/" {
        target.push_str("&next=");
        target.push_str(&urlencode(next));
    }
    Redirect::to(&target).into_response()
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

async fn sign_in(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Result<Response, ApiError> {
    let next = safe_next(&form.next).to_string();
    if form.email.trim().is_empty() || form.password.is_empty() {
        return Ok(back_to_login("missing", &next));
    }
    let previous = session::token_from_headers(&headers);
    let ip = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    match service::auth::sign_in(&state, &form.email, &form.password, ip, previous).await? {
        SignIn::SignedIn { token, .. } => {
            let max_age = i64::from(state.settings.session_days) * 86_400;
            let cookie = session::set_cookie(&token, max_age, state.settings.secure_cookies);
            let mut res = Redirect::to(&next).into_response();
            res.headers_mut().insert(
                header::SET_COOKIE,
                HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
            );
            Ok(res)
        }
        SignIn::Rejected => Ok(back_to_login("invalid", &next)),
        SignIn::Throttled => Ok(back_to_login("throttled", &next)),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    token: Option<Extension<SessionToken>>,
) -> Result<Response, ApiError> {
    if let Some(Extension(SessionToken(token))) = token {
        service::auth::sign_out(&state, &token).await?;
    }
    let mut res = Redirect::to("/login?signed_out=1").into_response();
    // The next person on this device must not see this one's offline outlook, cached
    // pages or queued readings: the browser drops the origin's storage, caches and service
    // worker (the page registers a fresh one).
    res.headers_mut().insert(
        HeaderName::from_static("clear-site-data"),
        HeaderValue::from_static("\"cache\", \"storage\""),
    );
    let cookie = session::clear_cookie(state.settings.secure_cookies);
    res.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
    );
    Ok(res)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/login", post(sign_in))
        .route("/logout", post(sign_out))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_must_stay_on_this_site() {
        assert_eq!(safe_next("/meters/3"), "/meters/3");
        assert_eq!(safe_next("https://evil.example"), "/");
        assert_eq!(safe_next("//evil.example"), "/");
        assert_eq!(safe_next("/\\evil.example"), "/");
        assert_eq!(safe_next(""), "/");
    }
}
