//! Signing in and out.

use std::net::IpAddr;

use crate::server::{
    auth::{CurrentUser, password, session},
    cache::Strategy,
    hex,
    state::AppState,
    storage::StoreResult,
};

pub enum SignIn {
    /// The new session token to put in the cookie.
    SignedIn { token: String, user: CurrentUser },
    /// Email or password wrong (deliberately not saying which).
    Rejected,
    /// Too many recent failures for this account from this address.
    Throttled,
}

/// Checks the credentials and opens a new session. `previous_token` (the cookie the browser
/// sent, if any) is deleted so a session id is never reused across sign-ins.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password_attempt: &str,
    ip: Option<IpAddr>,
    previous_token: Option<&str>,
) -> StoreResult<SignIn> {
    if state.login_throttle.is_blocked(email, ip) {
        return Ok(SignIn::Throttled);
    }
    let user = state
        .db
        .user_by_email(email)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let ok = password::verify(
        password_attempt.to_string(),
        user.as_ref().map(|u| u.password_hash.clone()),
    )
    .await;
    let Some(user) = user.filter(|_| ok) else {
        state.login_throttle.record_failure(email, ip);
        tracing::info!(ip = ?ip, "sign-in rejected");
        return Ok(SignIn::Rejected);
    };
    state.login_throttle.record_success(email, ip);
    if let Some(old) = previous_token {
        forget(state, old).await?;
    }
    let token = session::new_token();
    let now = state.clock.now_secs();
    let expires = now + i64::from(state.settings.session_days) * 86_400;
    state
        .db
        .create_session(&session::token_hash(&token), user.id, now, expires)
        .await?;
    tracing::info!(user.id = user.id, "signed in");
    Ok(SignIn::SignedIn {
        token,
        user: user.into(),
    })
}

pub async fn sign_out(state: &AppState, token: &str) -> StoreResult<()> {
    forget(state, token).await
}

/// Ends a session: the row, and its cached copy in every instance.
async fn forget(state: &AppState, token: &str) -> StoreResult<()> {
    let hash = session::token_hash(token);
    state.db.delete_session(&hash).await?;
    state.cache.invalidate_key(&session_key(&hash)).await;
    Ok(())
}

/// Sessions are cached by the hash of their token, never the token itself:
/// `session:<64 hex digits>`, written by hand since it is built on every signed-in request
/// (per-byte `format!` was ~4 % of a cached API request's CPU).
fn session_key(hash: &[u8; 32]) -> String {
    let name = Strategy::Session.name();
    let mut key = String::with_capacity(name.len() + 1 + 64);
    key.push_str(name);
    key.push(':');
    hex::push_bytes(&mut key, hash);
    key
}

/// The user behind a session token, if the session is valid. Cached briefly (the
/// `session` strategy, 60 s by default), so a request does not cost a query to know its
/// user; signing out drops the copy everywhere at once.
///
/// An unknown or expired token is cached too (as `null`): a phone holding a stale cookie
/// sends it with every request, and each would otherwise be a query (it made such a
/// request ~2.5× dearer than a signed-in one). Safe because a token that is not valid now
/// never becomes valid: sign-in always mints a fresh random one.
pub async fn user_for_token(state: &AppState, token: &str) -> StoreResult<Option<CurrentUser>> {
    let hash = session::token_hash(token);
    let key = session_key(&hash);
    // Parsed once per cached session, not on every request it authenticates.
    if let Some(hit) = state.cache.get(Strategy::Session, &key).await
        && let Some(user) = hit.decoded::<Option<CurrentUser>>()
    {
        return Ok(Option::clone(&user));
    }
    // Boxed for the same reason as the cache's Redis path: rare, and large inline.
    let row = Box::pin(state.db.session_user(&hash, state.clock.now_secs())).await?;
    let user = row.map(CurrentUser::from);
    if let Ok(bytes) = serde_json::to_vec(&user) {
        state.cache.put(Strategy::Session, &key, &[], bytes).await;
    }
    Ok(user)
}
