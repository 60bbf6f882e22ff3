//! How a user's pace compares with households on a similar plan nearby — as a percentile,
//! never with anyone else's figures.

use std::{collections::BTreeMap, time::Duration};

use crate::{
    domain::outlook::peers::{PeerComparison, QUOTA_TOLERANCE, similar_plan},
    server::{service::ServiceResult, state::AppState, storage::users::UserRow},
};

/// Peer groups change slowly; SPEC S6 caches them for 30 minutes.
const CACHE_TTL: Duration = Duration::from_secs(30 * 60);

/// The comparison for `user`'s primary quota meter, by the latest end-of-day pace.
pub async fn compare(state: &AppState, user: &UserRow) -> ServiceResult<PeerComparison> {
    let key = format!("peers:{}", user.id);
    if let Some(hit) = state.cache.get_json::<PeerComparison>(&key).await {
        return Ok(hit);
    }
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
            // One meter per household: the first that matches.
            let mut by_owner: BTreeMap<i64, f64> = BTreeMap::new();
            for c in candidates {
                if let Some(p) = c
                    .pace
                    .filter(|_| similar_plan((&mine.unit, quota), (&c.unit, c.quota)))
                {
                    by_owner.entry(c.owner_id).or_insert(p);
                }
            }
            let peers: Vec<f64> = by_owner.into_values().collect();
            PeerComparison::compute(mine.id, pace, &peers)
        }
        (pace, _) => PeerComparison::unavailable(1, Some(mine.id), pace),
    };
    state.cache.set_json(&key, &result, CACHE_TTL).await;
    Ok(result)
}
