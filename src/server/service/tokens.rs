//! API tokens for integrations: shown once, stored as SHA-256, revocable, optionally
//! expiring, each with one scope: `ingest` writes readings of chosen meters; `read` reads
//! chosen meters (their settings, outlook, series, exports: for Home Assistant, a wall
//! tablet, a script); `metrics` (administrators only) reads the Prometheus scrape and
//! nothing else. A token acts for its user and never beyond them: a disabled user's
//! tokens stop, and a meter no longer shared with them leaves the token's reach.

use crate::{
    domain::{DomainError, access::MeterAction},
    dto::{NewToken, TokenView},
    server::{
        auth::{CurrentUser, session},
        service::{ServiceError, ServiceResult, access, time::rfc3339},
        state::AppState,
        storage::tokens::TokenRow,
    },
};

/// The most meters one token may cover.
pub const MAX_TOKEN_METERS: usize = 200;

/// Every token starts with this, so secret scanners (and people) recognise one.
pub const TOKEN_PREFIX: &str = "hr_";

/// A caller authenticated by token.
#[derive(Debug, Clone)]
pub struct TokenPrincipal {
    pub token_id: i64,
    pub user_id: i64,
    pub scope: Scope,
    pub meter_ids: Vec<i64>,
}

/// What a token may do; one scope per token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    Ingest,
    Read,
    Metrics,
}

impl Scope {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ingest" => Some(Scope::Ingest),
            "read" => Some(Scope::Read),
            "metrics" => Some(Scope::Metrics),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Read => "read",
            Scope::Metrics => "metrics",
        }
    }

    /// What the token's user must be allowed to do to each of its meters.
    fn needs(self) -> MeterAction {
        match self {
            Scope::Ingest => MeterAction::WriteReadings,
            Scope::Read | Scope::Metrics => MeterAction::Read,
        }
    }
}

/// The longest a token may be set to live, in days; without an expiry it lives until
/// revoked.
pub const MAX_EXPIRY_DAYS: i64 = 3650;

/// A token to create.
#[derive(Debug, Clone)]
pub struct TokenSpec<'a> {
    pub name: &'a str,
    pub scope: Scope,
    pub meter_ids: &'a [i64],
    /// Days until it stops working; `None` for never.
    pub expires_in_days: Option<i64>,
}

fn view(row: &TokenRow, meter_ids: Vec<i64>) -> TokenView {
    TokenView {
        id: row.id,
        name: row.name.clone(),
        prefix: row.prefix.clone(),
        scope: row.scope.clone(),
        meter_ids,
        created_at: rfc3339(row.created_at),
        last_used_at: row.last_used_at.map(rfc3339),
        expires_at: row.expires_at.map(rfc3339),
        revoked: row.revoked_at.is_some(),
    }
}

pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    spec: &TokenSpec<'_>,
) -> ServiceResult<NewToken> {
    let TokenSpec {
        name,
        scope,
        meter_ids,
        expires_in_days,
    } = *spec;
    let mut errors = Vec::new();
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 80 {
        errors.push(DomainError::new("name", "must be 1–80 characters"));
    }
    let mut ids = meter_ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    if scope == Scope::Metrics {
        if !user.is_admin() {
            errors.push(DomainError::new(
                "scope",
                "only administrators may create metrics tokens",
            ));
        }
        if !ids.is_empty() {
            errors.push(DomainError::new(
                "meter_ids",
                "a metrics token reads no meters; leave meter_ids empty",
            ));
        }
    } else if ids.is_empty() {
        errors.push(DomainError::new(
            "meter_ids",
            "choose at least one meter for the token",
        ));
    }
    if ids.len() > MAX_TOKEN_METERS {
        errors.push(DomainError::new(
            "meter_ids",
            format!("at most {MAX_TOKEN_METERS} meters per token"),
        ));
    }
    for id in ids.iter().take(MAX_TOKEN_METERS) {
        let ok = match access::meter(state, user, *id, scope.needs()).await {
            Ok(a) => a.meter.archived_at.is_none(),
            Err(ServiceError::NotFound | ServiceError::Forbidden(_)) => false,
            Err(e) => return Err(e),
        };
        if !ok {
            let what = if scope == Scope::Ingest {
                "write"
            } else {
                "see"
            };
            errors.push(DomainError::new(
                "meter_ids",
                format!("meter {id} is not an active meter you may {what}"),
            ));
        }
    }
    if expires_in_days.is_some_and(|d| !(1..=MAX_EXPIRY_DAYS).contains(&d)) {
        errors.push(DomainError::new(
            "expires_in_days",
            format!("must be 1–{MAX_EXPIRY_DAYS} days, or left out for no expiry"),
        ));
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let token = format!("{TOKEN_PREFIX}{}", session::new_token());
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let now = state.clock.now_secs();
    let expires_at = expires_in_days.map(|d| now + d * 86_400);
    let id = state
        .db
        .create_token(
            user.id,
            name,
            &session::token_hash(&token),
            &prefix,
            scope.as_str(),
            &ids,
            (now, expires_at),
        )
        .await?;
    tracing::info!(
        token.id = id,
        user.id = user.id,
        meters = ids.len(),
        "API token created"
    );
    let row = TokenRow {
        id,
        user_id: user.id,
        name: name.to_string(),
        prefix,
        scope: scope.as_str().into(),
        created_at: now,
        last_used_at: None,
        expires_at,
        revoked_at: None,
    };
    Ok(NewToken {
        token,
        view: view(&row, ids),
    })
}

pub async fn list(state: &AppState, user: &CurrentUser) -> ServiceResult<Vec<TokenView>> {
    let mut out = Vec::new();
    for row in state.db.tokens_of(user.id).await? {
        let meters = state.db.token_meters(row.id).await?;
        out.push(view(&row, meters));
    }
    Ok(out)
}

pub async fn revoke(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<()> {
    if state
        .db
        .revoke_token(user.id, id, state.clock.now_secs())
        .await?
    {
        tracing::info!(token.id = id, "API token revoked");
        Ok(())
    } else {
        Err(ServiceError::NotFound)
    }
}

/// The principal behind a bearer token, if it is a live token: not revoked, not
/// expired, and its user not disabled.
pub async fn authenticate(state: &AppState, bearer: &str) -> ServiceResult<Option<TokenPrincipal>> {
    if !bearer.starts_with(TOKEN_PREFIX) || bearer.len() > 128 {
        return Ok(None);
    }
    let now = state.clock.now_secs();
    let Some((row, meter_ids)) = state
        .db
        .live_token_by_hash(&session::token_hash(bearer), now)
        .await?
    else {
        return Ok(None);
    };
    state.db.touch_token(row.id, now).await?;
    let Some(scope) = Scope::parse(&row.scope) else {
        return Ok(None);
    };
    Ok(Some(TokenPrincipal {
        token_id: row.id,
        user_id: row.user_id,
        scope,
        meter_ids,
    }))
}
