//! Sign-in and sign-out as plain HTML form posts, so they work before (and without) the
//! WebAssembly bundle: a phone on a slow train can sign in as soon as the HTML arrives.

use std::net::SocketAddr;

use crate::server::http::extract::Form;
use axum::{
    Extension, Router,
    extract::{ConnectInfo, State},
    http::{HeaderMap, HeaderName, HeaderValue, header},
    response::{IntoResponse, Redirect, Response},
    routing::post,
};
use serde::Deserialize;

use crate::server::{
    auth::session,
    http::{client, error::ApiError, middleware::session::SessionToken},
    service::{
        self,
        auth::{MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, SignIn},
    },
    state::AppState,
};

/// How long a throttled sign-in waits for its answer.
const THROTTLED_ANSWER_DELAY: std::time::Duration = std::time::Duration::from_secs(1);

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
/// sign-in page cannot be used to bounce users to another site. Browsers drop tabs and
/// newlines from URLs (`/\t/evil` becomes `//evil`), so control characters and spaces
/// anywhere make the path unsafe too.
fn safe_next(next: &str) -> &str {
    let local = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(|c| c.is_control() || c.is_whitespace())
        && next.len() <= 2048;
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

/// What the routes that open a session need to know about the request.
pub struct Caller {
    /// The client's address (the peer, or what a trusted proxy says).
    pub ip: Option<std::net::IpAddr>,
    /// The `User-Agent`, to name the session's device in its owner's list.
    pub user_agent: String,
    secure: bool,
}

pub fn caller(
    state: &AppState,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: &HeaderMap,
) -> Caller {
    let peer = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    Caller {
        ip: client::address(peer, headers, &state.settings.security.trusted_proxies),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string(),
        secure: client::is_https(&state.settings, peer, headers),
    }
}

impl Caller {
    /// Puts the new session `token` in `res`'s cookie.
    pub fn set_session_cookie(
        &self,
        state: &AppState,
        res: &mut Response,
        token: &str,
    ) -> Result<(), ApiError> {
        let max_age = i64::from(state.settings.security.session_days) * 86_400;
        let cookie = session::set_cookie(token, max_age, self.secure);
        res.headers_mut().insert(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
        );
        Ok(())
    }
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
    if form.email.len() > MAX_EMAIL_BYTES || form.password.len() > MAX_PASSWORD_BYTES {
        return Ok(back_to_login("too_long", &next));
    }
    let previous = session::token_from_headers(&headers);
    let who = caller(&state, connect, &headers);
    match service::auth::sign_in(
        &state,
        &form.email,
        &form.password,
        who.ip,
        previous,
        &who.user_agent,
    )
    .await?
    {
        SignIn::SignedIn { token, .. } => {
            let mut res = Redirect::to(&next).into_response();
            who.set_session_cookie(&state, &mut res, &token)?;
            Ok(res)
        }
        SignIn::Rejected => Ok(back_to_login("invalid", &next)),
        SignIn::Throttled => {
            // Held for a moment, at the cost of a timer: a script hammering a throttled
            // account or address gets one answer a second per connection instead of as
            // many as the server can write, and a person barely notices.
            tokio::time::sleep(THROTTLED_ANSWER_DELAY).await;
            Ok(back_to_login("throttled", &next))
        }
        SignIn::Busy => Err(ApiError::Overloaded {
            retry_after_secs: 2,
        }),
    }
}

async fn sign_out(
    State(state): State<AppState>,
    connect: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
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
    let peer = connect.map(|Extension(ConnectInfo(addr))| addr.ip());
    for cookie in session::clear_cookies(client::is_https(&state.settings, peer, &headers)) {
        res.headers_mut().append(
            header::SET_COOKIE,
            HeaderValue::from_str(&cookie).map_err(anyhow::Error::from)?,
        );
    }
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
        assert_eq!(safe_next("/\t/evil.example"), "/");
        assert_eq!(safe_next("/\n/evil.example"), "/");
        assert_eq!(safe_next("/ /evil.example"), "/");
    }
}
