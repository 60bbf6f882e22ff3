//! API tokens for integrations: shown once, stored as SHA-256, revocable, each with one
//! scope: `ingest` writes readings of chosen meters; `metrics` (administrators only) reads
//! the Prometheus scrape and nothing else.

use crate::{
    domain::DomainError,
    dto::{NewToken, TokenView},
    server::{
        auth::{CurrentUser, session},
        service::{ServiceError, ServiceResult, time::rfc3339},
        state::AppState,
        storage::tokens::TokenRow,
    },
};

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
    Metrics,
}

impl Scope {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "ingest" => Some(Scope::Ingest),
            "metrics" => Some(Scope::Metrics),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Ingest => "ingest",
            Scope::Metrics => "metrics",
        }
    }
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
        revoked: row.revoked_at.is_some(),
    }
}

pub async fn create(
    state: &AppState,
    user: &CurrentUser,
    name: &str,
    scope: Scope,
    meter_ids: &[i64],
) -> ServiceResult<NewToken> {
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
            "choose at least one meter the token may write",
        ));
    }
    for id in &ids {
        let ok = state
            .db
            .meter(*id)
            .await?
            .is_some_and(|m| m.owner_id == user.id && m.archived_at.is_none());
        if !ok {
            errors.push(DomainError::new(
                "meter_ids",
                format!("meter {id} is not one of your active meters"),
            ));
        }
    }
    if !errors.is_empty() {
        return Err(ServiceError::Invalid(errors));
    }
    let token = format!("{TOKEN_PREFIX}{}", session::new_token());
    let prefix: String = token.chars().take(TOKEN_PREFIX.len() + 6).collect();
    let now = state.clock.now_secs();
    let id = state
        .db
        .create_token(
            user.id,
            name,
            &session::token_hash(&token),
            &prefix,
            scope.as_str(),
            &ids,
            now,
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

/// The principal behind a bearer token, if it is a live token.
pub async fn authenticate(state: &AppState, bearer: &str) -> ServiceResult<Option<TokenPrincipal>> {
    if !bearer.starts_with(TOKEN_PREFIX) {
        return Ok(None);
    }
    let Some((row, meter_ids)) = state.db.token_by_hash(&session::token_hash(bearer)).await? else {
        return Ok(None);
    };
    state.db.touch_token(row.id, state.clock.now_secs()).await?;
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
