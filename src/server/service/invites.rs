//! Single-use links: invitations (a new account, optionally into a household; or, for a
//! user already signed in, joining a household) and password resets.
//!
//! A link is `/invite/<secret>` or `/reset/<secret>`: 256 random bits, of which the
//! database keeps only the SHA-256, so reading it yields no working link. A link works
//! once (taking it is one conditional `UPDATE`, so two requests racing cannot both use
//! it) and until `HEADROOM_INVITE_HOURS` after it was made.
//!
//! The invitee types their own email when accepting: the admin passes the link on by
//! whatever channel they like and does not need to know which address the invitee uses.

use std::net::IpAddr;

use crate::{
    domain::DomainError,
    dto::{
        Role,
        accounts::{InvitePreview, LinkView},
    },
    server::{
        auth::{CurrentUser, password, session},
        service::{
            ServiceError, ServiceResult,
            account::{check_email, check_name, check_password},
            auth::{end_sessions, open_session, refresh_sessions},
            time::rfc3339,
        },
        state::AppState,
        storage::{
            Db, StoreError,
            invites::{InviteRow, NewInvite},
            users::NewUser,
        },
    },
};

/// What an administrator asks a link for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum InviteKind {
    /// A new account (in `household` when given).
    Account,
    /// Joining a household: a new account, or a signed-in user moving in.
    Household,
}

impl InviteKind {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "account" => Some(InviteKind::Account),
            "household" => Some(InviteKind::Household),
            _ => None,
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            InviteKind::Account => "account",
            InviteKind::Household => "household",
        }
    }
}

/// A 422 naming `secret` for anything that cannot be a link's secret.
pub fn check_secret(secret: &str) -> Result<(), DomainError> {
    let ok = secret.len() == 43
        && secret
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(DomainError::new("secret", "is not a link this server made"))
    }
}

async fn make_link(
    state: &AppState,
    by: Option<i64>,
    kind: &str,
    role: Role,
    household_id: Option<i64>,
    user_id: Option<i64>,
) -> ServiceResult<LinkView> {
    let link = LinkSpec {
        by,
        kind,
        role,
        household_id,
        user_id,
    };
    let now = state.clock.now_secs();
    Ok(store_link(&state.db, &link, now, state.settings.security.invite_hours).await?)
}

/// A link to make; see [`store_link`].
#[derive(Clone, Copy)]
pub struct LinkSpec<'a> {
    pub by: Option<i64>,
    pub kind: &'a str,
    pub role: Role,
    pub household_id: Option<i64>,
    pub user_id: Option<i64>,
}

/// Makes a link that works for `hours` from `now`: the one place a link's secret is
/// made, shared with the command line (`headroom users reset-link`).
pub async fn store_link(
    db: &Db,
    link: &LinkSpec<'_>,
    now: i64,
    hours: u32,
) -> Result<LinkView, StoreError> {
    let LinkSpec {
        by,
        kind,
        role,
        household_id,
        user_id,
    } = *link;
    let secret = session::new_token();
    let expires_at = now + i64::from(hours) * 3600;
    db.create_invite(&NewInvite {
        token_hash: &session::token_hash(&secret),
        kind,
        created_by: by,
        role: role.as_str(),
        household_id,
        user_id,
        created_at: now,
        expires_at,
    })
    .await?;
    let page = if kind == "reset" { "reset" } else { "invite" };
    Ok(LinkView {
        kind: kind.to_string(),
        url: format!("/{page}/{secret}"),
        expires_at: rfc3339(expires_at),
    })
}

/// An invitation made by `admin` (or, from the command line, by nobody).
pub async fn invite(
    state: &AppState,
    by: Option<i64>,
    kind: InviteKind,
    role: Role,
    household_id: Option<i64>,
) -> ServiceResult<LinkView> {
    match household_id {
        Some(h) if !state.db.household_exists(h).await? => {
            return Err(DomainError::new("household_id", "there is no such household").into());
        }
        None if kind == InviteKind::Household => {
            return Err(
                DomainError::new("household_id", "choose the household to invite into").into(),
            );
        }
        _ => {}
    }
    let link = make_link(state, by, kind.as_str(), role, household_id, None).await?;
    tracing::info!(by = ?by, kind = kind.as_str(), "invitation made");
    Ok(link)
}

/// A password-reset link for user `user_id`.
pub async fn reset_link(
    state: &AppState,
    by: Option<i64>,
    user_id: i64,
) -> ServiceResult<LinkView> {
    if state.db.user_by_id(user_id).await?.is_none() {
        return Err(ServiceError::NotFound);
    }
    let link = make_link(state, by, "reset", Role::Member, None, Some(user_id)).await?;
    tracing::info!(by = ?by, user.id = user_id, "password-reset link made");
    Ok(link)
}

/// Why a link does not work, once taking it failed: unknown (404), or used or expired
/// (422 naming `secret`, saying which: the person holding it can ask for a new one).
async fn why_not(state: &AppState, secret: &str, kinds: &[&str]) -> ServiceError {
    match state.db.invite_by_hash(&session::token_hash(secret)).await {
        Ok(Some(row)) if kinds.contains(&row.kind.as_str()) => {
            let message = if row.used_at.is_some() {
                "this link was already used; ask for a new one"
            } else {
                "this link has expired; ask for a new one"
            };
            DomainError::new("secret", message).into()
        }
        Ok(_) => ServiceError::NotFound,
        Err(e) => e.into(),
    }
}

/// What the invitation `secret` offers, for its page.
pub async fn preview(state: &AppState, secret: &str) -> ServiceResult<InvitePreview> {
    check_secret(secret)?;
    let row = state
        .db
        .invite_by_hash(&session::token_hash(secret))
        .await?
        .filter(|r| r.kind != "reset")
        .ok_or(ServiceError::NotFound)?;
    if row.used_at.is_some() || row.expires_at <= state.clock.now_secs() {
        return Err(why_not(state, secret, &["account", "household"]).await);
    }
    let household = household_name(state, row.household_id).await?;
    Ok(InvitePreview {
        kind: row.kind,
        role: Role::parse(&row.role).unwrap_or(Role::Member),
        household,
        expires_at: rfc3339(row.expires_at),
    })
}

async fn household_name(state: &AppState, id: Option<i64>) -> ServiceResult<Option<String>> {
    let Some(id) = id else { return Ok(None) };
    Ok(state
        .db
        .households()
        .await?
        .into_iter()
        .find(|h| h.id == id)
        .map(|h| h.name))
}

/// The new account's details, typed by the invitee.
pub struct Invitee<'a> {
    pub email: &'a str,
    pub display_name: &'a str,
    pub password: &'a str,
}

pub enum Accepted {
    /// A new account, signed in with this session token.
    Account { token: String, user_id: i64 },
    /// The signed-in user joined the household.
    Joined { household_id: i64 },
}

/// Accepts the invitation `secret`. A signed-in `caller` opening a household invitation
/// joins that household (their sessions are refreshed); otherwise a new account is made
/// from `invitee` and signed in.
pub async fn accept(
    state: &AppState,
    secret: &str,
    caller: Option<&CurrentUser>,
    invitee: &Invitee<'_>,
    _ip: Option<IpAddr>,
    user_agent: &str,
) -> ServiceResult<Accepted> {
    check_secret(secret)?;
    let hash = session::token_hash(secret);
    let now = state.clock.now_secs();
    if let Some(user) = caller {
        let peek = state.db.invite_by_hash(&hash).await?;
        if peek.as_ref().is_some_and(|r| r.kind == "account") {
            return Err(DomainError::new(
                "secret",
                "this invitation makes a new account; sign out first to accept it",
            )
            .into());
        }
        let Some(row) = state.db.take_invite(&hash, &["household"], now).await? else {
            return Err(why_not(state, secret, &["household", "account"]).await);
        };
        let household_id = row.household_id.ok_or(ServiceError::NotFound)?;
        state.db.set_household(user.id, Some(household_id)).await?;
        refresh_sessions(state, user.id).await?;
        tracing::info!(
            user.id = user.id,
            household.id = household_id,
            "joined a household by invitation"
        );
        return Ok(Accepted::Joined { household_id });
    }
    let mut errors = Vec::new();
    errors.extend(check_email(invitee.email).err());
    errors.extend(check_name(invitee.display_name).err());
    errors.extend(check_password(invitee.password).err());
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let Some(row) = state
        .db
        .take_invite(&hash, &["account", "household"], now)
        .await?
    else {
        return Err(why_not(state, secret, &["account", "household"]).await);
    };
    match create_invited(state, &row, invitee, now).await {
        Ok(user_id) => {
            let token = open_session(state, user_id, user_agent).await?;
            tracing::info!(user.id = user_id, invite.id = row.id, "invitation accepted");
            Ok(Accepted::Account { token, user_id })
        }
        Err(e) => {
            // The link was not used up by a failed attempt (an email already taken).
            state.db.untake_invite(row.id).await?;
            Err(e)
        }
    }
}

async fn create_invited(
    state: &AppState,
    row: &InviteRow,
    invitee: &Invitee<'_>,
    now: i64,
) -> ServiceResult<i64> {
    let hash = password::hash(invitee.password.to_string()).await?;
    let role = if row.role == "admin" {
        "admin"
    } else {
        "member"
    };
    let id = state
        .db
        .create_user(&NewUser {
            email: invitee.email.trim(),
            display_name: invitee.display_name.trim(),
            password_hash: &hash,
            role,
            plan_tier: "mid",
            location: "",
            timezone: "UTC",
            created_at: now,
        })
        .await
        .map_err(|e| match e {
            StoreError::Conflict(_) => ServiceError::Invalid(vec![DomainError::new(
                "email",
                "an account with this email exists already; sign in instead",
            )]),
            other => other.into(),
        })?;
    if let Some(h) = row.household_id {
        state.db.set_household(id, Some(h)).await?;
    }
    Ok(id)
}

/// Sets a new password through the reset link `secret` and signs out every session of
/// the user (whoever knew the old password is out).
pub async fn reset_password(state: &AppState, secret: &str, new: &str) -> ServiceResult<i64> {
    check_secret(secret)?;
    check_password(new)?;
    let now = state.clock.now_secs();
    let Some(row) = state
        .db
        .take_invite(&session::token_hash(secret), &["reset"], now)
        .await?
    else {
        return Err(why_not(state, secret, &["reset"]).await);
    };
    let user_id = row.user_id.ok_or(ServiceError::NotFound)?;
    let hash = password::hash(new.to_string()).await?;
    state.db.set_password_hash(user_id, &hash).await?;
    let ended = end_sessions(state, user_id, None).await?;
    tracing::info!(user.id = user_id, ended, "password reset by link");
    Ok(user_id)
}

/// Whether the reset link `secret` still works, for its page.
pub async fn reset_usable(state: &AppState, secret: &str) -> ServiceResult<()> {
    check_secret(secret)?;
    let row = state
        .db
        .invite_by_hash(&session::token_hash(secret))
        .await?
        .filter(|r| r.kind == "reset")
        .ok_or(ServiceError::NotFound)?;
    if row.used_at.is_some() || row.expires_at <= state.clock.now_secs() {
        return Err(why_not(state, secret, &["reset"]).await);
    }
    Ok(())
}
