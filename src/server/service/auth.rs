//! Signing in and out.

use std::net::IpAddr;

use crate::server::{
    auth::{CurrentUser, password, session},
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
        state.db.delete_session(&session::token_hash(old)).await?;
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
    state.db.delete_session(&session::token_hash(token)).await
}

/// The user behind a session token, if the session is valid.
pub async fn user_for_token(state: &AppState, token: &str) -> StoreResult<Option<CurrentUser>> {
    let row = state
        .db
        .session_user(&session::token_hash(token), state.clock.now_secs())
        .await?;
    Ok(row.map(CurrentUser::from))
}
