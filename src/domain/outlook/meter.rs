//! One quota meter's outlook for a day: today's standing, the projection to the end of
//! the period, the pace, and what to do about it.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::advice::Advice;
use crate::domain::{
    period::Period,
    quota::{CounterSample, QuotaInputs, QuotaSnapshot, pace_score},
};

/// A finished local day of a meter, from its daily rollup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DayRecord {
    pub date: Date,
    /// Counter growth that day; `None` when the day had no readings.
    pub usage: Option<f64>,
    /// The budget that applied that day.
    pub budget: Option<f64>,
}

impl DayRecord {
    /// Within budget: used no more than the day's budget (a day without data is not).
    pub fn within_budget(&self) -> Option<bool> {
        match (self.usage, self.budget) {
            (Some(u), Some(b)) => Some(u <= b * (1.0 + 1e-9) + 1e-9),
            _ => None,
        }
    }
}

/// Consecutive days with the same verdict — within budget, over it, or without data.
/// Days older than the detailed history reach the engine as runs, so a year of
/// streak history costs a few rows instead of 366.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DayRun {
    pub first: Date,
    pub last: Date,
    /// As [`DayRecord::within_budget`] says of every day in the run.
    pub within: Option<bool>,
}

/// `records` (oldest first) as runs of equal verdicts over consecutive dates: the shape
/// in which the server reads older history (its SQL does the same grouping).
pub fn runs_of(records: &[DayRecord]) -> Vec<DayRun> {
    let mut out: Vec<DayRun> = Vec::new();
    for r in records {
        let within = r.within_budget();
        match out.last_mut() {
            Some(run) if run.within == within && run.last.tomorrow().ok() == Some(r.date) => {
                run.last = r.date;
            }
            _ => out.push(DayRun {
                first: r.date,
                last: r.date,
                within,
            }),
        }
    }
    out
}

/// Everything the engine needs about one quota meter; the server gathers it from the
/// daily rollups (no scan of raw readings).
#[derive(Debug, Clone, PartialEq)]
pub struct QuotaMeterData {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub quota: f64,
    pub period: Period,
    /// Unix second the period started (local midnight of its first day).
    pub period_start_ts: i64,
    pub today: Date,
    /// "Now", Unix seconds.
    pub now: i64,
    /// The newest reading in the period at or before now.
    pub latest: Option<CounterSample>,
    /// The newest reading in the period from before today began.
    pub at_day_start: Option<CounterSample>,
    /// Recent finished days before today, oldest first, with their figures.
    pub history: Vec<DayRecord>,
    /// Older finished days (up to a year back) as runs, oldest first, all before
    /// `history`: they count only for streaks.
    pub earlier: Vec<DayRun>,
}

impl QuotaMeterData {
    /// Every finished day with a rollup, oldest first, and whether it stayed within budget.
    pub fn verdicts(&self) -> impl Iterator<Item = (Date, Option<bool>)> + '_ {
        self.earlier
            .iter()
            .flat_map(|run| {
                run.first
                    .series(jiff::Span::new().days(1))
                    .take_while(move |d| *d <= run.last)
                    .map(move |d| (d, run.within))
            })
            .chain(self.history.iter().map(|h| (h.date, h.within_budget())))
    }
}

/// How a meter is doing, by pace score; declared best first, so a greater one is worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Excellent,
    Good,
    Caution,
    Concern,
}

impl Status {
    pub fn of_pace(pace: f64) -> Self {
        if pace >= 0.9 {
            Status::Excellent
        } else if pace >= 0.7 {
            Status::Good
        } else if pace >= 0.5 {
            Status::Caution
        } else {
            Status::Concern
        }
    }

    /// This status, or `cap` when that is worse: a meter that runs out before its period
    /// ends is never excellent or good, however close to the quota it ends.
    pub fn no_better_than(self, cap: Status) -> Status {
        self.max(cap)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Excellent => "excellent",
            Status::Good => "good",
            Status::Caution => "caution",
            Status::Concern => "concern",
        }
    }
}

/// Where the daily average comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AverageBasis {
    /// The finished days of the last week that have data.
    LastSevenDays,
    /// No finished day yet: the period so far, today included.
    PeriodSoFar,
}

/// One quota meter's outlook. Every figure the text refers to is a field here.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuotaOutlook {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub period_first_day: Date,
    pub period_last_day: Date,
    pub snapshot: QuotaSnapshot,
    /// Average daily use (see `average_basis`).
    pub average: f64,
    pub average_basis: AverageBasis,
    /// Used so far plus the average for the rest of the period.
    pub projected_total: f64,
    /// How far the projection goes over the quota (0 when it does not).
    pub projected_excess: f64,
    /// The day the quota runs out at the average pace, if that is before the period ends.
    pub run_out: Option<Date>,
    /// Quota ÷ projected total, capped at 1.
    pub pace: f64,
    pub status: Status,
    /// Days the remainder lasts at the average pace, at most the days left.
    pub safe_days: f64,
    /// Finished days in a row within their budget, ending yesterday.
    pub streak: u32,
    /// How old the newest reading is, in hours.
    pub reading_age_hours: Option<f64>,
    /// What the numbers above suggest, most important first.
    pub advice: Vec<Advice>,
    /// For a meter shared with the outlook's user: its owner's name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shared_by: Option<String>,
}

/// Finished days in a row within budget, counted back from the newest.
pub fn streak_of(d: &QuotaMeterData, yesterday: Date) -> u32 {
    let days: Vec<_> = d.verdicts().collect();
    let mut expect = yesterday;
    let mut n = 0;
    for (date, within) in days.into_iter().rev() {
        if date != expect || within != Some(true) {
            break;
        }
        n += 1;
        expect = expect.yesterday().unwrap_or(expect);
    }
    n
}

/// Hours a reading flagged as old: older than this, today's figures may lag.
const STALE_HOURS: f64 = 3.0;

impl QuotaOutlook {
    pub fn compute(d: &QuotaMeterData) -> Self {
        let snapshot = QuotaSnapshot::compute(QuotaInputs {
            quota: d.quota,
            period: d.period,
            today: d.today,
            latest: d.latest,
            at_day_start: d.at_day_start,
        });
        let week_ago = d
            .today
            .checked_sub(jiff::Span::new().days(7))
            .unwrap_or(d.today);
        let last_week: Vec<f64> = d
            .history
            .iter()
            .filter(|h| h.date >= week_ago && h.date < d.today)
            .filter_map(|h| h.usage)
            .collect();
        let (average, average_basis) = if last_week.is_empty() {
            let elapsed = (d.period.days_elapsed_before(d.today) + 1) as f64;
            (snapshot.used / elapsed, AverageBasis::PeriodSoFar)
        } else {
            (
                last_week.iter().sum::<f64>() / last_week.len() as f64,
                AverageBasis::LastSevenDays,
            )
        };
        // Today is expected to end at the average, or where it already is if higher.
        let rest_of_today = (average - snapshot.used_today).max(0.0);
        let later_days = (snapshot.days_left - 1).max(0) as f64;
        let projected_total = snapshot.used + rest_of_today + average * later_days;
        let pace = pace_score(d.quota, projected_total);
        let remaining = snapshot.remaining;
        let run_out = if remaining <= 0.0 {
            Some(d.today)
        } else if average > 0.0 && projected_total > d.quota {
            // The day during which the average pace uses up what is left after today.
            let days = if remaining > rest_of_today {
                ((remaining - rest_of_today) / average).ceil() as i64
            } else {
                0
            };
            let day = d
                .today
                .checked_add(jiff::Span::new().days(days))
                .unwrap_or(d.today);
            (day < d.period.end).then_some(day)
        } else {
            None
        };
        let days_left = snapshot.days_left as f64;
        let safe_days = if remaining <= 0.0 {
            0.0
        } else if average > 0.0 {
            (remaining / average).min(days_left)
        } else {
            days_left
        };
        let yesterday = d.today.yesterday().unwrap_or(d.today);
        let streak = streak_of(d, yesterday);
        let reading_age_hours = d.latest.map(|l| (d.now - l.at).max(0) as f64 / 3600.0);
        let mut out = QuotaOutlook {
            meter_id: d.meter_id,
            name: d.name.clone(),
            unit: d.unit.clone(),
            period_first_day: d.period.start,
            period_last_day: d.period.end.yesterday().unwrap_or(d.period.end),
            snapshot,
            average,
            average_basis,
            projected_total,
            projected_excess: (projected_total - d.quota).max(0.0),
            run_out,
            pace,
            // Over quota is a concern whatever the projection says; running out before
            // the period ends is at best a caution, whatever the pace score says.
            status: if remaining < 0.0 {
                Status::Concern
            } else if run_out.is_some() {
                Status::of_pace(pace).no_better_than(Status::Caution)
            } else {
                Status::of_pace(pace)
            },
            safe_days,
            streak,
            reading_age_hours,
            advice: Vec::new(),
            shared_by: None,
        };
        out.advice = advice_for(&out, STALE_HOURS);
        out
    }
}

/// The advice that meter `m`'s numbers call for, most important first.
fn advice_for(m: &QuotaOutlook, stale_hours: f64) -> Vec<Advice> {
    let s = &m.snapshot;
    let mut out = Vec::new();
    if s.remaining < 0.0 {
        out.push(Advice::OverQuota {
            over: -s.remaining,
            quota: s.quota,
            last_day: m.period_last_day,
        });
    } else if m.pace < 1.0 {
        out.push(Advice::HeadingOver {
            average: m.average,
            projected: m.projected_total,
            excess: m.projected_excess,
            last_day: m.period_last_day,
            run_out: m.run_out,
            budget: s.daily_budget,
        });
    }
    if s.left_today < 0.0 && s.remaining >= 0.0 {
        let days = (s.days_left - 1).max(0);
        out.push(Advice::OverToday {
            over_today: -s.left_today,
            budget: s.daily_budget,
            per_day_less: if days > 0 {
                -s.left_today / days as f64
            } else {
                0.0
            },
            days,
        });
    }
    if let Some(hours) = m.reading_age_hours.filter(|h| *h >= stale_hours) {
        out.push(Advice::StaleReading { hours });
    }
    if out.is_empty() && m.average < s.daily_budget {
        out.push(Advice::Spare {
            average: m.average,
            budget: s.daily_budget,
            spare: s.daily_budget - m.average,
        });
    }
    out
}
