//! A meter's history reduced to what a chart can draw: the tier picked from the range,
//! and columns made of *whole* tier buckets, so that every column's minimum and maximum
//! are exactly those of the raw readings in its span. Nothing is interpolated or sampled:
//! a column merges the complete statistics (count, sum, min, max, first, last) of the
//! buckets inside it, which is what makes the envelope exact — no spike is ever lost.
//!
//! Columns are snapped to absolute time (multiples of the column width since the epoch;
//! calendar days and weeks in the meter's timezone), so a live chart keeps its shape from
//! one refresh to the next and two requests for nearly the same range share a cache entry.

use jiff::{Timestamp, tz::TimeZone};
use serde::{Deserialize, Serialize};

use super::{
    period::{date_of_day_number, local_midnight},
    rollup::Stats,
};

/// Most columns one answer carries, whatever the screen.
pub const MAX_COLUMNS: usize = 2000;
/// Fewest columns; a narrower request is widened to this.
pub const MIN_COLUMNS: usize = 16;
/// Columns when the client's width is unknown or 0 (a hidden chart, the first render).
pub const DEFAULT_COLUMNS: usize = 600;
/// Longest range one request may ask for: 20 years.
pub const MAX_SPAN_SECS: i64 = 20 * 366 * 86_400;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// The store a range is read from, finest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Tier {
    /// The readings themselves (day blocks).
    Raw,
    /// 15-minute buckets (rollup blocks, UTC-aligned).
    QuarterHour,
    /// Hourly buckets (rollup blocks, UTC-aligned).
    Hour,
    /// Local calendar days (daily rollups, 23 to 25 hours long).
    Day,
    /// Local weeks from Monday (weekly rollups).
    Week,
}

impl Tier {
    /// The tier for a range of `span` seconds: the finest whose buckets over the range
    /// still fit the point budget.
    pub fn for_span(span: i64) -> Tier {
        match span {
            s if s <= 6 * HOUR => Tier::Raw,
            s if s <= 8 * DAY => Tier::QuarterHour,
            s if s <= 80 * DAY => Tier::Hour,
            s if s <= 1_900 * DAY => Tier::Day,
            _ => Tier::Week,
        }
    }

    /// A bucket's nominal length (calendar days and weeks may be an hour off).
    pub fn bucket_secs(self) -> i64 {
        match self {
            Tier::Raw => 1,
            Tier::QuarterHour => 900,
            Tier::Hour => HOUR,
            Tier::Day => DAY,
            Tier::Week => 7 * DAY,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Tier::Raw => "raw",
            Tier::QuarterHour => "quarter_hour",
            Tier::Hour => "hour",
            Tier::Day => "day",
            Tier::Week => "week",
        }
    }
}

/// Columns for a chart `width` CSS pixels wide on a screen of `dpr` device pixels per CSS
/// pixel: one column per device pixel, within [`MIN_COLUMNS`, `MAX_COLUMNS`]; a missing,
/// zero or absurd width gets [`DEFAULT_COLUMNS`].
pub fn columns_for(width: Option<f64>, dpr: Option<f64>) -> usize {
    let dpr = dpr
        .filter(|d| d.is_finite() && *d > 0.0)
        .unwrap_or(1.0)
        .clamp(1.0, 4.0);
    match width.filter(|w| w.is_finite() && *w >= 1.0) {
        // Truncation is the intent: whole device pixels.
        Some(w) => ((w * dpr).min(MAX_COLUMNS as f64) as usize).clamp(MIN_COLUMNS, MAX_COLUMNS),
        None => DEFAULT_COLUMNS,
    }
}

/// The most columns a screen may ask for and still get the same grid as `columns` over
/// `[from, to)`: the same column width, hence the very same answer. Columns are whole tier
/// buckets, so a range holds only so many (24 hours: 96 quarter-hours), and past that
/// a wider screen changes nothing. The explorer uses it to keep the chart the server drew
/// rather than fetch and redraw an identical one.
pub fn same_grid_up_to(tier: Tier, from: i64, to: i64, columns: usize, tz: &TimeZone) -> usize {
    let secs = |c: usize| Grid::new(tier, from, to, c, tz).column_secs();
    let drawn = secs(columns);
    // More columns never make a column wider: search for the last count that keeps it.
    let (mut ok, mut over) = (columns.clamp(MIN_COLUMNS, MAX_COLUMNS), MAX_COLUMNS + 1);
    while over - ok > 1 {
        let mid = ok + (over - ok) / 2;
        if secs(mid) == drawn {
            ok = mid;
        } else {
            over = mid;
        }
    }
    ok
}

/// Steps a fixed-width column may take, in seconds: round figures a reader recognises,
/// each dividing a day (or a multiple of a day), so columns line up with hours and days.
const NICE_SECS: [i64; 27] = [
    1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1_800, 3_600, 7_200, 10_800, 14_400, 21_600,
    43_200, 86_400, 172_800, 345_600, 604_800, 1_209_600, 2_419_200, 4_838_400, 9_676_800,
];
/// The same for calendar columns, in days (or weeks).
const NICE_COUNT: [i64; 12] = [1, 2, 3, 4, 5, 7, 10, 14, 28, 30, 60, 90];

/// How buckets are grouped into columns.
#[derive(Debug, Clone, PartialEq)]
pub enum Grid {
    /// Columns of `secs` seconds, starting at multiples of `secs` since the epoch.
    Fixed { secs: i64 },
    /// Columns of `per` local days, starting at day numbers that are multiples of `per`.
    Days { per: i64, tz: TimeZone },
    /// Columns of `per` local weeks (Monday first), counted from the first Monday of 1970.
    Weeks { per: i64, tz: TimeZone },
}

/// The day number of 1970-01-05, the first Monday after the epoch.
const FIRST_MONDAY: i64 = 4;

impl Grid {
    /// The grid that shows `[from, to)` in at most `columns` columns (one more when the
    /// snapped ends straddle a column), each a whole number of `tier` buckets.
    pub fn new(tier: Tier, from: i64, to: i64, columns: usize, tz: &TimeZone) -> Grid {
        let span = (to - from).max(1);
        // One column is kept in hand for the snapping at each end.
        let slots = i64::try_from(columns.clamp(MIN_COLUMNS, MAX_COLUMNS)).unwrap_or(600) - 2;
        match tier {
            Tier::Raw | Tier::QuarterHour | Tier::Hour => {
                let unit = tier.bucket_secs();
                let least = (span + slots - 1) / slots;
                let secs = NICE_SECS
                    .iter()
                    .copied()
                    .find(|s| *s >= least && s % unit == 0)
                    .unwrap_or_else(|| (least + unit - 1) / unit * unit);
                Grid::Fixed { secs }
            }
            Tier::Day | Tier::Week => {
                let unit = tier.bucket_secs();
                let least = (span / unit + 1 + slots - 1) / slots;
                let per = NICE_COUNT
                    .iter()
                    .copied()
                    .find(|n| *n >= least)
                    .unwrap_or(least)
                    .max(1);
                if tier == Tier::Day {
                    Grid::Days {
                        per,
                        tz: tz.clone(),
                    }
                } else {
                    Grid::Weeks {
                        per,
                        tz: tz.clone(),
                    }
                }
            }
        }
    }

    /// The column holding a bucket. `unit` is the bucket's key in its tier: its start in
    /// Unix seconds for raw readings and fixed buckets, its local day number for days, its
    /// Monday's day number for weeks.
    pub fn column_of(&self, unit: i64) -> i64 {
        match self {
            Grid::Fixed { secs } => unit.div_euclid(*secs),
            Grid::Days { per, .. } => unit.div_euclid(*per),
            Grid::Weeks { per, .. } => (unit - FIRST_MONDAY).div_euclid(7).div_euclid(*per),
        }
    }

    /// The instants `[start, end)` of column `key`.
    pub fn span_of(&self, key: i64) -> (i64, i64) {
        let midnight = |day: i64, tz: &TimeZone| -> i64 {
            local_midnight(date_of_day_number(day), tz).as_second()
        };
        match self {
            Grid::Fixed { secs } => (key * secs, key * secs + secs),
            Grid::Days { per, tz } => (midnight(key * per, tz), midnight((key + 1) * per, tz)),
            Grid::Weeks { per, tz } => (
                midnight(FIRST_MONDAY + key * per * 7, tz),
                midnight(FIRST_MONDAY + (key + 1) * per * 7, tz),
            ),
        }
    }

    /// The column's nominal width in seconds (calendar columns: their usual length).
    pub fn column_secs(&self) -> i64 {
        match self {
            Grid::Fixed { secs } => *secs,
            Grid::Days { per, .. } => per * DAY,
            Grid::Weeks { per, .. } => per * 7 * DAY,
        }
    }

    /// `[from, to)` widened outwards to whole columns: the range actually read, and the
    /// key two requests for nearly the same range share.
    pub fn snap(&self, from: i64, to: i64, tz: &TimeZone) -> (i64, i64) {
        let unit_at = |t: i64| -> i64 {
            match self {
                Grid::Fixed { .. } => t,
                Grid::Days { .. } | Grid::Weeks { .. } => {
                    let date = Timestamp::from_second(t)
                        .map(|ts| ts.to_zoned(tz.clone()).date())
                        .unwrap_or(date_of_day_number(0));
                    super::period::day_number(date)
                }
            }
        };
        let first = self.column_of(unit_at(from));
        let last = self.column_of(unit_at((to - 1).max(from)));
        (self.span_of(first).0, self.span_of(last).1)
    }
}

/// One drawn column: the merged statistics of the whole buckets in `[t0, t1)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Column {
    pub t0: i64,
    pub t1: i64,
    pub stats: Stats,
    /// No reading for a while before this column: the line breaks here.
    pub gap_before: bool,
}

/// Groups `buckets` — `(unit, stats)` in time order, see [`Grid::column_of`] — into the
/// grid's columns. Empty columns are absent, never zero.
pub fn columns(grid: &Grid, buckets: impl IntoIterator<Item = (i64, Stats)>) -> Vec<Column> {
    let mut out: Vec<Column> = Vec::new();
    let mut current: Option<(i64, Stats)> = None;
    for (unit, stats) in buckets {
        let key = grid.column_of(unit);
        current = Some(match current {
            Some((k, acc)) if k == key => (k, acc.merge(stats)),
            Some((k, acc)) => {
                out.push(column(grid, k, acc));
                (key, stats)
            }
            None => (key, stats),
        });
    }
    if let Some((k, acc)) = current {
        out.push(column(grid, k, acc));
    }
    mark_gaps(&mut out, grid);
    out
}

fn column(grid: &Grid, key: i64, stats: Stats) -> Column {
    let (t0, t1) = grid.span_of(key);
    Column {
        t0,
        t1,
        stats,
        gap_before: false,
    }
}

/// A gap is a stretch without readings longer than three times the series' usual spacing
/// and longer than a column: one missed reading is not a gap, a dead sensor is.
fn mark_gaps(cols: &mut [Column], grid: &Grid) {
    if cols.len() < 2 {
        return;
    }
    let mut spacing: Vec<i64> = cols
        .windows(2)
        .map(|w| w[1].stats.first_ts - w[0].stats.last_ts)
        .collect();
    // Within a column, the mean spacing of its readings counts too (dense raw data).
    spacing.extend(
        cols.iter()
            .filter(|c| c.stats.count > 1)
            .map(|c| (c.stats.last_ts - c.stats.first_ts) / i64::from(c.stats.count - 1)),
    );
    let mid = spacing.len() / 2;
    let usual = *spacing.select_nth_unstable(mid).1;
    let limit = (3 * usual).max(grid.column_secs());
    for i in 1..cols.len() {
        cols[i].gap_before = cols[i].stats.first_ts - cols[i - 1].stats.last_ts > limit;
    }
}

/// The ranges a chart offers as one tap, newest last: name and length in seconds.
pub const PRESETS: [(&str, i64); 5] = [
    ("6h", 6 * HOUR),
    ("24h", DAY),
    ("7d", 7 * DAY),
    ("30d", 30 * DAY),
    ("1y", 365 * DAY),
];

/// The length of a preset range by name.
pub fn preset_secs(name: &str) -> Option<i64> {
    PRESETS.iter().find(|(n, _)| *n == name).map(|(_, s)| *s)
}

/// Where a quota period ends if the rest of it goes like the slowest and like the
/// fastest of `recent_days` (daily use): the projection's band around the average.
pub fn projection_band(used: f64, rest_days: f64, recent_days: &[f64]) -> (f64, f64) {
    let rest = rest_days.max(0.0);
    let slowest = recent_days.iter().copied().fold(f64::INFINITY, f64::min);
    let fastest = recent_days.iter().copied().fold(0.0_f64, f64::max);
    let slowest = if slowest.is_finite() { slowest } else { 0.0 };
    (used + slowest * rest, used + fastest * rest)
}

/// How a column list was made, for the answer and the chart's resolution note.
pub fn method_of(cols: &[Column]) -> &'static str {
    if cols.iter().all(|c| c.stats.count <= 1) {
        "raw"
    } else {
        "minmax"
    }
}

#[cfg(test)]
mod tests;
