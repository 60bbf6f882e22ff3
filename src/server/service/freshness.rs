//! What a change makes stale. Every cached value is filed under the tags of what it was
//! computed from — `user:<id>` (their outlook, usage, balance score) and `meter:<id>`
//! (that meter's summaries, trends and timeline) — and each kind of write drops exactly
//! those tags. Peer comparisons are left to their TTL: one household's reading moves a
//! percentile far less than the 30 minutes they live.

use std::time::Duration;

use crate::server::{
    cache::{Pattern, Strategy},
    state::AppState,
};

pub fn user_tag(id: i64) -> String {
    format!("user:{id}")
}

pub fn meter_tag(id: i64) -> String {
    format!("meter:{id}")
}

/// Readings were written to these meters, which these users see (their owners and
/// whoever they are shared with).
pub async fn readings_written(state: &AppState, meters: &[i64], audience: &[i64]) {
    let tags: Vec<String> = meters
        .iter()
        .map(|m| meter_tag(*m))
        .chain(audience.iter().map(|u| user_tag(*u)))
        .collect();
    state.cache.invalidate_tags(&tags).await;
}

/// A meter's settings changed (or it was created, archived or shared): what it is
/// part of goes stale for everyone who sees it.
pub async fn meter_changed(state: &AppState, meter_id: i64) {
    let audience = match state.db.audience_of_meter(meter_id).await {
        Ok(users) => users,
        Err(e) => {
            tracing::warn!(meter.id = meter_id, error = %e, "meter audience unknown; clearing every outlook");
            all_outlooks_changed(state).await;
            Vec::new()
        }
    };
    users_changed(state, &audience).await;
    state.cache.invalidate_tags(&[meter_tag(meter_id)]).await;
}

/// What these users see changed (a meter shared with them or no longer): their
/// precomputed outlooks and cached values go.
pub async fn users_changed(state: &AppState, users: &[i64]) {
    if users.is_empty() {
        return;
    }
    if let Err(e) = state.db.stale_outlooks_of(users).await {
        tracing::warn!(error = %e, "could not mark outlooks stale");
    }
    let tags: Vec<String> = users.iter().map(|u| user_tag(*u)).collect();
    state.cache.invalidate_tags(&tags).await;
}

/// Something every outlook depends on changed (the tips).
pub async fn all_outlooks_changed(state: &AppState) {
    for s in [
        Strategy::Outlook,
        Strategy::BalanceScore,
        Strategy::Dashboard,
        Strategy::ContentTemplates,
    ] {
        state
            .cache
            .clear(&Pattern::Prefix(format!("{}:", s.name())))
            .await;
    }
}

/// Drops this instance's in-process copies whenever a writer outside any server (the
/// `import` and `users` commands) bumps the database's cache epoch. Runs until the end.
pub async fn follow_cache_epoch(state: AppState) {
    let mut seen = state.db.cache_epoch().await.ok();
    loop {
        tokio::time::sleep(Duration::from_secs(1)).await;
        match state.db.cache_epoch().await {
            Ok(epoch) if seen.is_some_and(|s| s != epoch) => {
                tracing::info!(
                    epoch,
                    "data changed outside the server; dropping cached values"
                );
                state.cache.clear_local().await;
                seen = Some(epoch);
            }
            Ok(epoch) => seen = Some(epoch),
            Err(e) => tracing::debug!(error = %e, "cannot read the cache epoch"),
        }
    }
}
