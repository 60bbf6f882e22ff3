//! Comparing a user's pace with peers on a similar plan, without showing anyone's numbers.

use serde::{Deserialize, Serialize};

/// Peers are shown only when the group (the user included) has at least this many.
pub const MIN_GROUP: usize = 5;
/// A peer's plan is "similar" when its quota is within this share of the user's.
pub const QUOTA_TOLERANCE: f64 = 0.25;

/// What the user may see: the group's size and where they stand in it — never a peer's
/// value (with five people, even a median would be one of them).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PeerComparison {
    /// False when the group is too small to compare with.
    pub available: bool,
    /// People in the group, the user included.
    pub group_size: usize,
    /// Share of the other members whose pace is at or below the user's (higher is better).
    pub percentile: Option<u8>,
    pub your_pace: Option<f64>,
    /// The meter compared.
    pub meter_id: Option<i64>,
}

impl PeerComparison {
    pub fn unavailable(group_size: usize, meter_id: Option<i64>, your_pace: Option<f64>) -> Self {
        PeerComparison {
            available: false,
            group_size,
            percentile: None,
            your_pace,
            meter_id,
        }
    }

    /// `peers` are the other members' paces.
    pub fn compute(meter_id: i64, your_pace: f64, peers: &[f64]) -> Self {
        let group_size = peers.len() + 1;
        if group_size < MIN_GROUP {
            return Self::unavailable(group_size, Some(meter_id), Some(your_pace));
        }
        let at_or_below = peers.iter().filter(|p| **p <= your_pace + 1e-12).count();
        PeerComparison {
            available: true,
            group_size,
            percentile: Some((100.0 * at_or_below as f64 / peers.len() as f64).round() as u8),
            your_pace: Some(your_pace),
            meter_id: Some(meter_id),
        }
    }
}

/// Whether `other` is a plan like `mine`: the same unit and a quota within ±25 %.
pub fn similar_plan(mine: (&str, f64), other: (&str, f64)) -> bool {
    mine.0.eq_ignore_ascii_case(other.0)
        && mine.1 > 0.0
        && (other.1 - mine.1).abs() <= QUOTA_TOLERANCE * mine.1
}
