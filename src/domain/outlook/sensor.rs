//! A sensor's line in the outlook: where it is now, today's low and high, and whether it
//! left its normal range.

use serde::{Deserialize, Serialize};

use crate::domain::{meter::NormalRange, rollup::Stats};

#[derive(Debug, Clone, PartialEq)]
pub struct SensorData {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub range: NormalRange,
    /// The newest reading: (Unix seconds, value).
    pub latest: Option<(i64, f64)>,
    /// Today's readings so far.
    pub today: Option<Stats>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SensorLine {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub latest_at: Option<i64>,
    pub latest: Option<f64>,
    pub today_min: Option<f64>,
    pub today_max: Option<f64>,
    pub range_min: Option<f64>,
    pub range_max: Option<f64>,
    /// The newest reading is outside the normal range.
    pub out_of_range: bool,
    /// Today went outside the normal range at some point.
    pub today_out_of_range: bool,
    /// For a sensor shared with the outlook's user: its owner's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<String>,
}

impl SensorLine {
    pub fn compute(d: &SensorData) -> Self {
        let latest = d.latest.map(|(_, v)| v);
        let (lo, hi) = (d.today.map(|s| s.min), d.today.map(|s| s.max));
        SensorLine {
            meter_id: d.meter_id,
            name: d.name.clone(),
            unit: d.unit.clone(),
            latest_at: d.latest.map(|(t, _)| t),
            latest,
            today_min: lo,
            today_max: hi,
            range_min: d.range.min,
            range_max: d.range.max,
            out_of_range: latest.is_some_and(|v| !d.range.contains(v)),
            today_out_of_range: lo.is_some_and(|v| !d.range.contains(v))
                || hi.is_some_and(|v| !d.range.contains(v)),
            shared_by: None,
        }
    }
}
