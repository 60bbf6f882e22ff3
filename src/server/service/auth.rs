//! Signing in and out.

use std::{
    net::IpAddr,
    sync::atomic::{AtomicI64, Ordering},
};

use crate::server::{
    auth::{CurrentUser, session, throttle::Verdict},
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
    /// Too many recent failures for this account or from this address.
    Throttled,
    /// Every password-hash slot and queue place is taken: try again in a moment.
    Busy,
}

/// Longest email accepted (RFC 5321's limit on a path).
pub const MAX_EMAIL_BYTES: usize = 254;
/// Longest password accepted; argon2 would take more, but nobody types more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

/// Checks the credentials and opens a new session. `previous_token` (the cookie the browser
/// sent, if any) is deleted so a session id is never reused across sign-ins.
///
/// The order matters: the throttle's counts first (atomic, before the hash, so parallel
/// guesses are counted too, and cheap: a throttled flood is held a second per answer),
/// then a place in the bounded hash queue (refused at once when full), and only then the
/// 19 MiB hash.
pub async fn sign_in(
    state: &AppState,
    email: &str,
    password_attempt: &str,
    ip: Option<IpAddr>,
    previous_token: Option<&str>,
    user_agent: &str,
) -> StoreResult<SignIn> {
    let now = state.clock.now_secs();
    let attempt = match state
        .login_throttle
        .begin(&state.cache, email, ip, now)
        .await
    {
        Verdict::Check(attempt) => attempt,
        Verdict::Refuse => return Ok(SignIn::Throttled),
    };
    // Counted even when turned away below: an address that keeps a full queue busy is
    // throttled like one that guesses, and its answers then wait a second each.
    let Some(admission) = state.password_slots.admit() else {
        tracing::warn!(ip = ?ip, "sign-in refused: every password-hash slot is taken");
        return Ok(SignIn::Busy);
    };
    let user = state
        .db
        .user_by_email(email)
        .await?
        .filter(|u| u.disabled_at.is_none());
    let ok = admission
        .verify(
            password_attempt.to_string(),
            user.as_ref().map(|u| u.password_hash.clone()),
        )
        .await;
    let Some(user) = user.filter(|_| ok) else {
        tracing::info!(ip = ?ip, "sign-in rejected");
        return Ok(SignIn::Rejected);
    };
    state.login_throttle.succeeded(&state.cache, attempt).await;
    if let Some(old) = previous_token {
        forget(state, old).await?;
    }
    let token = open_session(state, user.id, user_agent).await?;
    tracing::info!(user.id = user.id, "signed in");
    Ok(SignIn::SignedIn {
        token,
        user: user.into(),
    })
}

/// Longest `User-Agent` kept with a session: enough to name the device, bounded so a
/// client cannot store kilobytes per sign-in.
const MAX_USER_AGENT_BYTES: usize = 256;

/// Opens a new session for `user_id`; returns the token for the cookie.
pub async fn open_session(state: &AppState, user_id: i64, user_agent: &str) -> StoreResult<String> {
    let now = state.clock.now_secs();
    let token = session::new_token();
    let expires = now + i64::from(state.settings.security.session_days) * 86_400;
    let mut end = user_agent.len().min(MAX_USER_AGENT_BYTES);
    while !user_agent.is_char_boundary(end) {
        end -= 1;
    }
    state
        .db
        .create_session(
            &session::token_hash(&token),
            user_id,
            now,
            expires,
            &user_agent[..end],
        )
        .await?;
    Ok(token)
}

/// Ends every session of `user_id` except `keep` (a token hash): the rows, and their
/// cached copies on every instance, so they stop at once (disable, password change,
/// reset, role change).
pub async fn end_sessions(
    state: &AppState,
    user_id: i64,
    keep: Option<&[u8; 32]>,
) -> StoreResult<usize> {
    let gone = state
        .db
        .delete_sessions_of(user_id, keep.map(<[u8; 32]>::as_slice))
        .await?;
    drop_cached(state, &gone).await;
    Ok(gone.len())
}

/// Drops the cached copies of `user_id`'s sessions, which keep working but carry a
/// changed user (name, household) from their next request.
pub async fn refresh_sessions(state: &AppState, user_id: i64) -> StoreResult<()> {
    let hashes = state.db.session_hashes_of(user_id).await?;
    drop_cached(state, &hashes).await;
    Ok(())
}

async fn drop_cached(state: &AppState, hashes: &[Vec<u8>]) {
    for hash in hashes {
        if let Ok(hash) = <[u8; 32]>::try_from(hash.as_slice()) {
            state.cache.invalidate_key(&session_key(&hash)).await;
        }
    }
}

pub async fn sign_out(state: &AppState, token: &str) -> StoreResult<()> {
    forget(state, token).await
}

/// Ends a session: the row, and its cached copy in every instance.
pub async fn forget(state: &AppState, token: &str) -> StoreResult<()> {
    let hash = session::token_hash(token);
    state.db.delete_session(&hash).await?;
    state.cache.invalidate_key(&session_key(&hash)).await;
    Ok(())
}

/// Sessions are cached by the hash of their token, never the token itself:
/// `session:<64 hex digits>`, written by hand since it is built on every signed-in request
/// (per-byte `format!` was ~4 % of a cached API request's CPU).
pub fn session_key(hash: &[u8; 32]) -> String {
    let name = Strategy::Session.name();
    let mut key = String::with_capacity(name.len() + 1 + 64);
    key.push_str(name);
    key.push(':');
    hex::push_bytes(&mut key, hash);
    key
}

/// What the session cache keeps per token: the user and when the session ends, so a
/// cached copy is never believed past `expires_at` (it lives up to the cache's TTL).
#[derive(serde::Serialize, serde::Deserialize)]
struct CachedSession {
    user: CurrentUser,
    expires_at: i64,
    /// When the session was last recorded as used, as read from the database.
    #[serde(default)]
    last_seen_at: i64,
    /// When this instance last recorded it: shared by every request that reads this
    /// cached entry (it is decoded once), so a busy session is written at most once a
    /// minute per instance without any lock or lookup.
    #[serde(skip)]
    seen: AtomicI64,
}

/// How often a session's `last_seen_at` is written, at most.
const SEEN_EVERY_SECS: i64 = 60;

impl CachedSession {
    /// Whether this request should record the session as used: true at most once a
    /// minute per cached entry (the first caller to move the stamp wins).
    fn due(&self, now: i64) -> bool {
        let before = self.seen.load(Ordering::Relaxed);
        now - before.max(self.last_seen_at) >= SEEN_EVERY_SECS
            && self
                .seen
                .compare_exchange(before, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
    }
}

/// Writes `last_seen_at` off the request's path: the request does not wait for it, and a
/// failure costs only a stale "last seen".
fn record_seen(state: &AppState, hash: [u8; 32], now: i64) {
    let state = state.clone();
    tokio::spawn(async move {
        if let Err(e) = state.db.touch_session(&hash, now).await {
            tracing::debug!(error = %e, "cannot record a session as seen");
        }
    });
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
    let now = state.clock.now_secs();
    // Parsed once per cached session, not on every request it authenticates.
    if let Some(hit) = state.cache.get(Strategy::Session, &key).await
        && let Some(cached) = hit.decoded::<Option<CachedSession>>()
    {
        let live = cached.as_ref().as_ref().filter(|s| s.expires_at > now);
        if let Some(s) = live
            && s.due(now)
        {
            record_seen(state, hash, now);
        }
        return Ok(live.map(|s| s.user.clone()));
    }
    // Boxed for the same reason as the cache's Redis path: rare, and large inline.
    let row = Box::pin(state.db.session_user(&hash, now)).await?;
    let cached = row.map(|r| {
        let mut last_seen_at = r.last_seen_at.unwrap_or(0);
        if now - last_seen_at >= SEEN_EVERY_SECS {
            record_seen(state, hash, now);
            last_seen_at = now;
        }
        CachedSession {
            user: CurrentUser::from(r.user),
            expires_at: r.expires_at,
            last_seen_at,
            seen: AtomicI64::new(0),
        }
    });
    if let Ok(bytes) = serde_json::to_vec(&cached) {
        state.cache.put(Strategy::Session, &key, &[], bytes).await;
    }
    Ok(cached.map(|s| s.user))
}
