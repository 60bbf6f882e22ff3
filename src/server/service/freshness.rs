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

/// Readings were written to these meters of these owners.
pub async fn readings_written(state: &AppState, meters: &[i64], owners: &[i64]) {
    let tags: Vec<String> = meters
        .iter()
        .map(|m| meter_tag(*m))
        .chain(owners.iter().map(|u| user_tag(*u)))
        .collect();
    state.cache.invalidate_tags(&tags).await;
}

/// A meter's settings changed (or it was created or archived).
pub async fn meter_changed(state: &AppState, meter_id: i64, owner_id: i64) {
    state
        .cache
        .invalidate_tags(&[meter_tag(meter_id), user_tag(owner_id)])
        .await;
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
