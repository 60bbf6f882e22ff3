//! What everyone may do to their own account: see it, change their display name, change
//! their password. Also the rules every form that takes an email, a name or a password
//! checks them by.

use crate::{
    domain::DomainError,
    dto::accounts::AccountView,
    server::{
        auth::{CurrentUser, password, session},
        service::{
            ServiceError, ServiceResult,
            auth::{MAX_EMAIL_BYTES, MAX_PASSWORD_BYTES, end_sessions, refresh_sessions},
        },
        state::AppState,
    },
};

/// Longest display name (and household name), in characters.
pub const MAX_NAME_CHARS: usize = 80;

pub fn check_email(email: &str) -> Result<(), DomainError> {
    let email = email.trim();
    let ok = email.len() <= MAX_EMAIL_BYTES
        && email
            .split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
        && !email.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(DomainError::new(
            "email",
            format!("must be an email address of at most {MAX_EMAIL_BYTES} bytes"),
        ))
    }
}

pub fn check_name(name: &str) -> Result<(), DomainError> {
    check_text("display_name", name)
}

/// A name of 1–80 characters without control characters, for the field `field`.
pub fn check_text(field: &'static str, text: &str) -> Result<(), DomainError> {
    let text = text.trim();
    let count = text.chars().count();
    if count == 0 || count > MAX_NAME_CHARS || text.chars().any(char::is_control) {
        return Err(DomainError::new(
            field,
            format!("must be 1–{MAX_NAME_CHARS} characters"),
        ));
    }
    Ok(())
}

pub fn check_password(password: &str) -> Result<(), DomainError> {
    check_new_password("password", password)
}

fn check_new_password(field: &'static str, password: &str) -> Result<(), DomainError> {
    if password.chars().count() < password::MIN_LENGTH || password.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::new(
            field,
            format!(
                "must be at least {} characters and at most {MAX_PASSWORD_BYTES} bytes",
                password::MIN_LENGTH
            ),
        ));
    }
    Ok(())
}

pub async fn view(state: &AppState, user: &CurrentUser) -> ServiceResult<AccountView> {
    let household = match user.household_id {
        Some(id) => state
            .db
            .households()
            .await?
            .into_iter()
            .find(|h| h.id == id)
            .map(|h| h.name),
        None => None,
    };
    Ok(AccountView {
        id: user.id,
        email: user.email.clone(),
        display_name: user.display_name.clone(),
        role: user.role,
        household_id: user.household_id,
        household,
    })
}

pub async fn rename(state: &AppState, user: &CurrentUser, name: &str) -> ServiceResult<()> {
    check_name(name)?;
    state.db.set_display_name(user.id, name.trim()).await?;
    // Every session carries the name (the header shows it).
    refresh_sessions(state, user.id).await?;
    Ok(())
}

/// Changes the password when `current` is right, and signs out every other session of
/// the user (a thief holding one is out); the session `token` it came with stays.
///
/// The current password is checked through the sign-in throttle and the hash slots, as a
/// sign-in is: a stolen session must not become a way to guess the password.
pub async fn change_password(
    state: &AppState,
    user: &CurrentUser,
    token: Option<&str>,
    current: &str,
    new: &str,
    ip: Option<std::net::IpAddr>,
) -> ServiceResult<usize> {
    check_new_password("new_password", new)?;
    if current.len() > MAX_PASSWORD_BYTES {
        return Err(DomainError::new("current_password", "is not your password").into());
    }
    let now = state.clock.now_secs();
    let attempt = match state
        .login_throttle
        .begin(&state.cache, &user.email, ip, now)
        .await
    {
        crate::server::auth::throttle::Verdict::Check(a) => a,
        crate::server::auth::throttle::Verdict::Refuse => {
            return Err(DomainError::new(
                "current_password",
                "too many wrong passwords; wait a few minutes",
            )
            .into());
        }
    };
    let Some(admission) = state.password_slots.admit() else {
        return Err(ServiceError::Busy(
            "the server is busy checking passwords; try again in a moment".into(),
        ));
    };
    let row = state
        .db
        .user_by_id(user.id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    if !admission
        .verify(current.to_string(), Some(row.password_hash))
        .await
    {
        return Err(DomainError::new("current_password", "is not your password").into());
    }
    state.login_throttle.succeeded(&state.cache, attempt).await;
    let hash = password::hash(new.to_string()).await?;
    state.db.set_password_hash(user.id, &hash).await?;
    let keep = token.map(session::token_hash);
    let ended = end_sessions(state, user.id, keep.as_ref()).await?;
    tracing::info!(user.id = user.id, ended, "password changed");
    Ok(ended)
}
