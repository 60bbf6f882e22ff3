//! A user's own sessions: which devices are signed in, and signing any or all others out.
//!
//! A session is named to its owner by an opaque id derived from its token hash (the
//! sessions table has no other key). It is not the hash itself, which is the session's
//! cache key, and certainly not the token.

use sha2::{Digest, Sha256};

use crate::{
    domain::{DomainError, user_agent},
    dto::accounts::SessionView,
    server::{
        auth::{CurrentUser, session},
        hex,
        service::{
            ServiceError, ServiceResult,
            auth::{end_sessions, session_key},
            time::rfc3339,
        },
        state::AppState,
    },
};

/// Hex digits of a session id.
const ID_LEN: usize = 32;

fn public_id(token_hash: &[u8]) -> String {
    let digest = Sha256::new()
        .chain_update(b"headroom session id\0")
        .chain_update(token_hash)
        .finalize();
    let mut id = String::with_capacity(ID_LEN);
    hex::push_bytes(&mut id, &digest[..ID_LEN / 2]);
    id
}

/// A 422 naming `id` for anything that cannot be a session id (the API answers the
/// same way for a malformed number).
pub fn check_id(id: &str) -> Result<(), DomainError> {
    if id.len() == ID_LEN && id.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(())
    } else {
        Err(DomainError::new("id", "must be a session id from the list"))
    }
}

pub async fn list(
    state: &AppState,
    user: &CurrentUser,
    token: Option<&str>,
) -> ServiceResult<Vec<SessionView>> {
    let current = token.map(session::token_hash);
    let rows = state
        .db
        .sessions_of(user.id, state.clock.now_secs())
        .await?;
    Ok(rows
        .into_iter()
        .map(|r| SessionView {
            id: public_id(&r.token_hash),
            device: user_agent::describe(&r.user_agent),
            created_at: rfc3339(r.created_at),
            last_seen_at: r.last_seen_at.map(rfc3339),
            current: current.is_some_and(|c| c.as_slice() == r.token_hash.as_slice()),
        })
        .collect())
}

/// Signs out the caller's session `id`; 404 when it is not one of theirs. Returns
/// whether it was the session the request came with.
pub async fn sign_out(
    state: &AppState,
    user: &CurrentUser,
    token: Option<&str>,
    id: &str,
) -> ServiceResult<bool> {
    check_id(id)?;
    let id = id.to_ascii_lowercase();
    let rows = state
        .db
        .sessions_of(user.id, state.clock.now_secs())
        .await?;
    let row = rows
        .into_iter()
        .find(|r| public_id(&r.token_hash) == id)
        .ok_or(ServiceError::NotFound)?;
    state.db.delete_session(&row.token_hash).await?;
    if let Ok(hash) = <[u8; 32]>::try_from(row.token_hash.as_slice()) {
        state.cache.invalidate_key(&session_key(&hash)).await;
    }
    let current = token.is_some_and(|t| session::token_hash(t).as_slice() == row.token_hash);
    tracing::info!(
        user.id = user.id,
        current,
        "session signed out by its owner"
    );
    Ok(current)
}

/// Signs out every session of the caller but the one the request came with.
pub async fn sign_out_others(
    state: &AppState,
    user: &CurrentUser,
    token: Option<&str>,
) -> ServiceResult<usize> {
    let keep = token.map(session::token_hash);
    let ended = end_sessions(state, user.id, keep.as_ref()).await?;
    tracing::info!(user.id = user.id, ended, "other sessions signed out");
    Ok(ended)
}
