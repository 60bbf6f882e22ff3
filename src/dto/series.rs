//! A meter's history as the chart explorer draws it (`GET /api/v1/meters/{id}/series`):
//! columns as parallel arrays (smaller than an object per column), with the tier, method
//! and counts the chart's resolution note shows, and the overlays of the meter's kind.

use serde::{Deserialize, Serialize};

/// One meter's series over one range.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Series {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    /// `quota` or `sensor`.
    pub kind: String,
    pub timezone: String,
    /// The timezone's offset from UTC when the answer was made, in seconds (the chart
    /// lines its ticks up with local hours and days).
    pub utc_offset: i32,
    /// The range read, `[read_from, read_to)` in Unix seconds: the range asked for
    /// widened to whole columns (the chart's x axis).
    pub read_from: i64,
    pub read_to: i64,
    /// `raw`, `quarter_hour`, `hour`, `day` or `week`.
    pub tier: String,
    /// `raw` (every column one reading) or `minmax` (each column the exact minimum,
    /// maximum, first, last and mean of the readings in its span).
    pub method: String,
    /// A column's nominal width.
    pub column_secs: i64,
    /// Readings the columns stand for, and columns drawn.
    pub raw_count: u64,
    pub drawn_count: usize,
    /// When the answer was made (the offline explorer shows its age).
    pub generated_at: i64,
    pub t0: Vec<i64>,
    pub t1: Vec<i64>,
    pub min: Vec<f64>,
    pub max: Vec<f64>,
    pub mean: Vec<f64>,
    pub first: Vec<f64>,
    pub last: Vec<f64>,
    pub count: Vec<u32>,
    /// Indexes of the columns after a stretch without readings: the line breaks there.
    pub gaps: Vec<usize>,
    /// Sensors: the normal range, drawn as a band; stretches outside are highlighted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal_range: Option<NormalBand>,
    /// Quota meters: the current period's budget line, cap and projection.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quota: Option<QuotaOverlay>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct NormalBand {
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// The current billing period of a quota meter, in the counter's own terms (its value is
/// "used so far this period").
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct QuotaOverlay {
    pub quota: f64,
    /// The period `[start, end)`: the budget line runs from 0 at `start` to the quota at
    /// `end`.
    pub period_start: i64,
    pub period_end: i64,
    /// Starts of every period inside the range (vertical rules).
    pub boundaries: Vec<i64>,
    /// Used so far, at `now` (today is marked there).
    pub used: f64,
    pub now: i64,
    /// Where the period ends at the average pace, and at the slowest and fastest day of
    /// the last week.
    pub projected: f64,
    pub projected_low: f64,
    pub projected_high: f64,
    /// The day the quota runs out at this pace, if before the period ends.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub run_out: Option<String>,
}

/// Several meters of one unit on one chart (`GET /api/v1/series?ids=`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SeriesSet {
    pub series: Vec<Series>,
}

/// What the meter page's explorer starts from: the series of the range in the address,
/// and the meters that could join the chart.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Explorer {
    pub set: SeriesSet,
    /// The preset shown (`24h`, …), or `None` for a custom range.
    pub preset: Option<String>,
    /// The range asked for (the custom range form's values).
    pub from: i64,
    pub to: i64,
    /// Meters of the same unit the caller may add to the chart: id and name.
    pub candidates: Vec<(i64, String)>,
    /// Meters on the chart besides this one.
    pub with: Vec<i64>,
    /// Why the range in the address was not used, if it was not (the default is shown).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub problem: Option<String>,
    /// The most columns a screen may need and still get this very answer (see
    /// `domain::series::same_grid_up_to`): up to there the explorer keeps the server's
    /// chart instead of asking again and redrawing it.
    #[serde(default)]
    pub same_up_to: usize,
}
