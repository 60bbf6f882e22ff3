//! How a user's pace compares with households on a similar plan nearby — as a percentile,
//! never with anyone else's figures.

use std::collections::BTreeMap;

use crate::{
    domain::outlook::peers::{PeerComparison, QUOTA_TOLERANCE, similar_plan},
    server::{
        cache::{self, Strategy},
        service::ServiceResult,
        state::AppState,
        storage::users::UserRow,
    },
};

/// Who a peer's figure stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Household {
    Shared(i64),
    Alone(i64),
}

/// The comparison for `user`'s primary quota meter, by the latest end-of-day pace.
/// Peer groups change slowly: the comparison is cached (`peer_comparison`, 30 minutes by
/// default) and not invalidated by each reading.
pub async fn compare(state: &AppState, user: &UserRow) -> ServiceResult<PeerComparison> {
    let key = cache::key(Strategy::PeerComparison, format_args!("u{}", user.id));
    let hit = state
        .cache
        .get_or_compute_json(Strategy::PeerComparison, &key, &[], || compute(state, user))
        .await?;
    hit.json()
        .ok_or_else(|| anyhow::anyhow!("cached peer comparison unreadable").into())
}

async fn compute(state: &AppState, user: &UserRow) -> ServiceResult<PeerComparison> {
    let meters = state.db.active_meters(user.id).await?;
    let Some(mine) = meters
        .iter()
        .find(|m| m.kind == "quota" && m.quota.is_some())
    else {
        return Ok(PeerComparison::unavailable(1, None, None));
    };
    let quota = mine.quota.unwrap_or_default();
    let your_pace = state.db.latest_pace(mine.id).await?;
    let result = match (your_pace, user.location.trim()) {
        (Some(pace), location) if !location.is_empty() => {
            let candidates = state
                .db
                .peer_candidates(
                    user.id,
                    location,
                    &mine.unit,
                    quota * (1.0 - QUOTA_TOLERANCE),
                    quota * (1.0 + QUOTA_TOLERANCE),
                )
                .await?;
            // One meter per household (a user without one is a household of one): the
            // first that matches. The caller's own household is never among them.
            let mut by_household: BTreeMap<Household, f64> = BTreeMap::new();
            for c in candidates {
                if let Some(p) = c
                    .pace
                    .filter(|_| similar_plan((&mine.unit, quota), (&c.unit, c.quota)))
                {
                    let key = c
                        .household_id
                        .map_or(Household::Alone(c.owner_id), Household::Shared);
                    by_household.entry(key).or_insert(p);
                }
            }
            let peers: Vec<f64> = by_household.into_values().collect();
            PeerComparison::compute(mine.id, pace, &peers)
        }
        (pace, _) => PeerComparison::unavailable(1, Some(mine.id), pace),
    };
    Ok(result)
}
