//! Cache warming: each user's outlook is computed at 05:00 in their timezone, before the
//! morning glance, so the first read of the day is a stored one.

use std::{collections::BTreeMap, collections::HashSet};

use futures::StreamExt;

use crate::{
    domain::period::day_number,
    server::{
        service::outlook::{self, timezone},
        state::AppState,
        storage::StoreResult,
    },
};

/// The local hour after which a user's outlook for the day is warmed.
pub const WARM_AT_HOUR: i8 = 5;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WarmReport {
    pub computed: usize,
    pub already_fresh: usize,
    pub not_yet: usize,
}

/// Computes the outlook of every user for whom it is past 05:00 today and who has no
/// fresh outlook for their today yet.
pub async fn run_once(state: &AppState) -> StoreResult<WarmReport> {
    let now = state.clock.now();
    let mut report = WarmReport::default();
    // Users by their local day, for one "who is fresh already" query per day.
    let mut due: BTreeMap<i64, Vec<(i64, jiff::civil::Date)>> = BTreeMap::new();
    for u in state
        .db
        .all_users()
        .await?
        .iter()
        .filter(|u| u.disabled_at.is_none())
    {
        let local = now.to_zoned(timezone(&u.timezone));
        if local.hour() < WARM_AT_HOUR {
            report.not_yet += 1;
            continue;
        }
        due.entry(day_number(local.date()))
            .or_default()
            .push((u.id, local.date()));
    }
    let mut todo = Vec::new();
    for (day, users) in due {
        let fresh: HashSet<i64> = state
            .db
            .users_with_fresh_outlook(day)
            .await?
            .into_iter()
            .collect();
        for (id, date) in users {
            if fresh.contains(&id) {
                report.already_fresh += 1;
            } else {
                todo.push((id, date));
            }
        }
    }
    // Outlooks computed at once: half the pool, so requests keep the other half. On
    // PostgreSQL an outlook is mostly waiting on round trips (10 000 took 28 s with 4 at
    // once, the server's CPU busy 9 s of it); SQLite's pool of 8 keeps 4.
    let parallel = (state.db.pool_max() as usize / 2).max(1);
    let results: Vec<_> = futures::stream::iter(todo)
        .map(|(id, date)| {
            let state = state.clone();
            async move {
                outlook::cached(&state, outlook::Whose::id(id), Some(date))
                    .await
                    .map(|_| ())
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    for r in results {
        match r {
            Ok(()) => report.computed += 1,
            Err(e) => tracing::warn!(error = ?e, "warming an outlook failed"),
        }
    }
    if report.computed > 0 {
        tracing::info!(
            computed = report.computed,
            fresh = report.already_fresh,
            "outlooks warmed"
        );
    }
    Ok(report)
}
