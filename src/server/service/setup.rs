//! First run in the browser: while no account exists, `/setup` creates the first
//! administrator, but only for someone holding the one-time setup code the server printed
//! at start, so a stranger who finds a fresh install first cannot claim it.
//!
//! The code is kept in `app_secrets` (inserted only if absent), so every instance on one
//! database prints and accepts the same one; taking it (a conditional delete) is the
//! claim, so of two correct submissions exactly one creates an account.

use std::net::IpAddr;

use argon2::password_hash::rand_core::{OsRng, RngCore};

use crate::{
    domain::DomainError,
    server::{
        auth::{CurrentUser, password, throttle::Verdict},
        service::{
            ServiceError, ServiceResult,
            account::{check_email, check_name, check_password},
            auth::open_session,
        },
        state::AppState,
        storage::{Db, StoreResult, users::NewUser},
    },
};

/// Where the code is kept in `app_secrets` (the CLI deletes it when it adds a user).
pub const SECRET_NAME: &str = "setup_code";
/// No 0/O, 1/I/L: the code is read off a terminal and typed.
const ALPHABET: &[u8; 32] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789#";
/// Twelve characters of 32: 60 bits, behind the sign-in throttle.
const CODE_LEN: usize = 12;
/// The account name the throttle counts setup attempts under.
const THROTTLE_ACCOUNT: &str = "setup:first-admin";

fn new_code() -> String {
    let mut bytes = [0u8; CODE_LEN];
    OsRng.fill_bytes(&mut bytes);
    let chars: Vec<char> = bytes
        .iter()
        // 31 symbols used, '#' left out: the bias of `% 31` over 256 is negligible here.
        .map(|b| char::from(ALPHABET[usize::from(*b) % 31]))
        .collect();
    chars
        .chunks(4)
        .map(|c| c.iter().collect::<String>())
        .collect::<Vec<_>>()
        .join("-")
}

/// Canonical form of a typed code: upper case, without spaces or dashes.
fn normalize(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// At start: while the database has no users, the setup code (made now if there is
/// none yet); `None` once any account exists (the code is deleted then).
pub async fn code_at_start(db: &Db, now: i64) -> StoreResult<Option<String>> {
    if db.count_users().await? > 0 {
        db.delete_app_secret(SECRET_NAME).await?;
        return Ok(None);
    }
    db.app_secret_or_insert(SECRET_NAME, &new_code(), now)
        .await
        .map(Some)
}

/// Whether `/setup` is still open: no account exists. Tells this instance's flag when it
/// has closed (another instance may have done it).
pub async fn needed(state: &AppState) -> StoreResult<bool> {
    if !state.first_run.needed() {
        return Ok(false);
    }
    let needed = state.db.count_users().await? == 0;
    if !needed {
        state.first_run.mark_done();
    }
    Ok(needed)
}

pub struct FirstAdmin<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
    pub setup_code: &'a str,
}

pub enum SetupOutcome {
    /// The administrator exists and is signed in with this session token.
    Done { token: String, user: CurrentUser },
    /// Too many wrong codes lately: wait.
    Throttled,
}

/// Creates the first administrator and a session for them. Refused (404) once any user
/// exists; a wrong code is a 422 naming `setup_code`, and counts against the sign-in
/// throttle as a wrong password would.
pub async fn create_first_admin(
    state: &AppState,
    input: &FirstAdmin<'_>,
    ip: Option<IpAddr>,
    user_agent: &str,
) -> ServiceResult<SetupOutcome> {
    if !needed(state).await? {
        return Err(ServiceError::NotFound);
    }
    let mut errors = Vec::new();
    errors.extend(check_email(input.email).err());
    errors.extend(check_name(input.display_name).err());
    errors.extend(check_password(input.password).err());
    let code = normalize(input.setup_code);
    if code.is_empty() || input.setup_code.len() > 64 {
        errors.push(DomainError::new(
            "setup_code",
            "enter the setup code the server printed when it started",
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let now = state.clock.now_secs();
    let attempt = match state
        .login_throttle
        .begin(&state.cache, THROTTLE_ACCOUNT, ip, now)
        .await
    {
        Verdict::Check(attempt) => attempt,
        Verdict::Refuse => return Ok(SetupOutcome::Throttled),
    };
    let stored = state.db.app_secret(SECRET_NAME).await?;
    let matches = stored.as_deref().map(normalize).is_some_and(|s| s == code);
    // Taking the stored value (as stored, with its dashes) is the claim.
    let claimed = match (matches, stored) {
        (true, Some(stored)) => state.db.take_app_secret(SECRET_NAME, &stored).await?,
        _ => false,
    };
    if !claimed {
        tracing::warn!(ip = ?ip, "first-run setup refused: wrong setup code");
        return Err(DomainError::new(
            "setup_code",
            "that is not the setup code the server printed when it started",
        )
        .into());
    }
    state.login_throttle.succeeded(&state.cache, attempt).await;
    let hash = password::hash(input.password.to_string()).await?;
    let id = state
        .db
        .create_user(&NewUser {
            email: input.email.trim(),
            display_name: input.display_name.trim(),
            password_hash: &hash,
            role: "admin",
            plan_tier: "mid",
            location: "",
            timezone: "UTC",
            created_at: now,
        })
        .await?;
    state.first_run.mark_done();
    let user = state
        .db
        .user_by_id(id)
        .await?
        .ok_or(ServiceError::NotFound)?;
    let token = open_session(state, id, user_agent).await?;
    tracing::info!(user.id = id, "first administrator created through /setup");
    Ok(SetupOutcome::Done {
        token,
        user: user.into(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_grouped_unambiguous_and_typed_loosely() {
        let code = new_code();
        assert_eq!(code.len(), 14, "{code}");
        assert!(
            code.chars()
                .all(|c| c == '-' || (ALPHABET[..31].contains(&(c as u8)))),
            "{code}"
        );
        assert_ne!(code, new_code());
        assert_eq!(
            normalize(&code.to_lowercase().replace('-', " ")),
            normalize(&code)
        );
    }
}
