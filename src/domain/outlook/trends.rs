//! Trends over days and the 24-hour timeline, from rollups.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::meter::DayRecord;
use crate::domain::rollup::Stats;

/// One day of a trend.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TrendDay {
    /// The local day, YYYY-MM-DD.
    #[cfg_attr(feature = "ssr", schema(value_type = String, format = Date))]
    pub date: Date,
    pub usage: Option<f64>,
    pub budget: Option<f64>,
    /// Change from the day before (when both have data).
    pub change: Option<f64>,
    /// Mean of this day and the two before, over the days that have data.
    pub rolling_3: Option<f64>,
}

/// The days `from..=to`, oldest first, with gaps as days without data.
pub fn trend(records: &[DayRecord], from: Date, to: Date) -> Vec<TrendDay> {
    let mut out: Vec<TrendDay> = Vec::new();
    let mut day = from;
    while day <= to {
        let rec = records.iter().find(|r| r.date == day);
        let usage = rec.and_then(|r| r.usage);
        let previous = out.last().and_then(|p| p.usage);
        let window: Vec<f64> = out
            .iter()
            .rev()
            .take(2)
            .filter_map(|p| p.usage)
            .chain(usage)
            .collect();
        out.push(TrendDay {
            date: day,
            usage,
            budget: rec.and_then(|r| r.budget),
            change: usage.zip(previous).map(|(u, p)| u - p),
            rolling_3: (!window.is_empty() && usage.is_some())
                .then(|| window.iter().sum::<f64>() / window.len() as f64),
        });
        let Ok(next) = day.tomorrow() else { break };
        day = next;
    }
    out
}

/// One hour of the timeline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct HourPoint {
    /// Unix second the hour starts.
    pub start: i64,
    /// Quota meters: counter growth during the hour (a drop counts from zero).
    pub consumption: Option<f64>,
    /// Sensors: the hour's mean, low and high.
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

/// Hourly points from hourly rollups (`(hour start, stats)`, oldest first). For counters,
/// `before` is the last value before the first hour, if known.
pub fn timeline(
    hours: &[(i64, Option<Stats>)],
    before: Option<f64>,
    counter: bool,
) -> Vec<HourPoint> {
    let mut reference = before;
    hours
        .iter()
        .map(|(start, stats)| {
            let mut p = HourPoint {
                start: *start,
                consumption: None,
                mean: None,
                min: None,
                max: None,
            };
            if let Some(s) = stats {
                if counter {
                    let base = reference.unwrap_or(s.first);
                    p.consumption = Some(if s.last >= base {
                        s.last - base
                    } else {
                        s.last
                    });
                    reference = Some(s.last);
                } else {
                    p.mean = Some(s.mean());
                    p.min = Some(s.min);
                    p.max = Some(s.max);
                }
            } else if counter {
                p.consumption = reference.is_some().then_some(0.0);
            }
            p
        })
        .collect()
}
