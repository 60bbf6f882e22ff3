//! Today's standing of one quota meter: used, remaining, and the daily budget.
//!
//! The daily budget is what was left when today began, spread evenly over the days left
//! including today. It is fixed for the whole day on purpose: a budget that shrank with
//! every download would punish the user twice for the same megabyte.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::period::Period;

/// One counter reading of a quota meter: the amount used so far in its period, and the
/// remaining amount when the source reports one (top-ups and rollover make that differ
/// from quota − used, and then the source is right).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct CounterSample {
    pub at: i64,
    pub used: f64,
    pub remaining: Option<f64>,
}

/// What the store knows about one meter for one day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct QuotaInputs {
    pub quota: f64,
    pub period: Period,
    pub today: Date,
    /// The newest reading in the current period, at or before now.
    pub latest: Option<CounterSample>,
    /// The newest reading in the current period from before today began; `None` when the
    /// period started today or nothing was read before today.
    pub at_day_start: Option<CounterSample>,
}

/// The numbers the outlook shows for a quota meter today.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct QuotaSnapshot {
    pub quota: f64,
    pub used: f64,
    /// Negative when over quota; the UI shows that as "over by".
    pub remaining: f64,
    pub days_left: i64,
    pub daily_budget: f64,
    pub used_today: f64,
    /// Negative when today's budget is already exceeded.
    pub left_today: f64,
    /// Share of the quota used, 0–1 and beyond when over.
    pub fraction_used: f64,
    /// Unix seconds of the newest reading, if any.
    pub last_reading_at: Option<i64>,
}

fn remaining_of(quota: f64, sample: Option<CounterSample>) -> f64 {
    match sample {
        Some(CounterSample {
            remaining: Some(r), ..
        }) => r,
        Some(s) => quota - s.used,
        None => quota,
    }
}

impl QuotaSnapshot {
    pub fn compute(inp: QuotaInputs) -> Self {
        let used = inp.latest.map_or(0.0, |s| s.used);
        let used_at_day_start = inp.at_day_start.map_or(0.0, |s| s.used);
        let remaining = remaining_of(inp.quota, inp.latest);
        let remaining_at_day_start = remaining_of(inp.quota, inp.at_day_start);
        let days_left = inp.period.days_left_including(inp.today);
        let daily_budget = if days_left > 0 {
            remaining_at_day_start.max(0.0) / days_left as f64
        } else {
            0.0
        };
        // A counter that went down since the day began was reset by the source (a new
        // period it knows about before we do, or a router reboot): count from zero.
        let used_today = if used >= used_at_day_start {
            used - used_at_day_start
        } else {
            used
        };
        let fraction_used = if inp.quota > 0.0 {
            used / inp.quota
        } else if used > 0.0 {
            f64::INFINITY
        } else {
            0.0
        };
        QuotaSnapshot {
            quota: inp.quota,
            used,
            remaining,
            days_left,
            daily_budget,
            used_today,
            left_today: daily_budget - used_today,
            fraction_used,
            last_reading_at: inp.latest.map(|s| s.at),
        }
    }

    pub fn is_over_quota(&self) -> bool {
        self.remaining < 0.0 || (self.quota == 0.0 && self.used > 0.0)
    }
}

/// The quota summary of one finished (or running) local day, stored with its daily rollup.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DaySummary {
    /// The budget that applied that day: what was left when it began, over the days left.
    pub budget: f64,
    /// Pace at the end of the day: quota ÷ projected total for the period, capped at 1.
    /// The projection continues the period's average so far.
    pub pace: f64,
}

impl DaySummary {
    /// `previous` is the newest reading before the day (any period); `last` the day's
    /// final reading. Readings from before `period_start_ts` belong to an earlier period,
    /// whose counter has since been reset.
    pub fn compute(
        quota: f64,
        period: Period,
        period_start_ts: i64,
        day: Date,
        previous: Option<CounterSample>,
        last: CounterSample,
    ) -> Self {
        let in_period = previous.filter(|p| p.at >= period_start_ts);
        let remaining_at_start = remaining_of(quota, in_period);
        let days_left = period.days_left_including(day);
        let budget = if days_left > 0 {
            remaining_at_start.max(0.0) / days_left as f64
        } else {
            0.0
        };
        let used = if last.at >= period_start_ts {
            last.used
        } else {
            0.0
        };
        let elapsed = (period.days_elapsed_before(day) + 1) as f64;
        let projected = used + used / elapsed * (days_left - 1).max(0) as f64;
        let pace = pace_score(quota, projected);
        DaySummary { budget, pace }
    }
}

/// Quota ÷ projected total, capped at 1: 1 means on track, 0.5 means heading for twice
/// the quota. A zero quota is on track only while nothing is used.
pub fn pace_score(quota: f64, projected: f64) -> f64 {
    if projected <= 0.0 {
        1.0
    } else if quota <= 0.0 {
        0.0
    } else {
        (quota / projected).min(1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;

    fn november() -> Period {
        Period {
            start: date(2026, 11, 1),
            end: date(2026, 12, 1),
        }
    }

    fn sample(used: f64) -> CounterSample {
        CounterSample {
            at: 0,
            used,
            remaining: None,
        }
    }

    #[test]
    fn budget_spreads_what_was_left_this_morning() {
        // 1 TiB plan, 600 000 MB used by midnight of the 21st, 10 days left incl. today.
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 1_048_576.0,
            period: november(),
            today: date(2026, 11, 21),
            latest: Some(sample(612_000.0)),
            at_day_start: Some(sample(600_000.0)),
        });
        assert_eq!(s.days_left, 10);
        assert!((s.daily_budget - 44_857.6).abs() < 1e-6);
        assert!((s.used_today - 12_000.0).abs() < 1e-9);
        assert!((s.left_today - 32_857.6).abs() < 1e-6);
        assert!((s.remaining - 436_576.0).abs() < 1e-9);
    }

    #[test]
    fn reported_remaining_wins_over_quota_minus_used() {
        let mut latest = sample(900.0);
        latest.remaining = Some(600.0); // a 500 top-up
        let mut start = sample(800.0);
        start.remaining = Some(700.0);
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 1000.0,
            period: november(),
            today: date(2026, 11, 30),
            latest: Some(latest),
            at_day_start: Some(start),
        });
        assert_eq!(s.remaining, 600.0);
        assert_eq!(s.daily_budget, 700.0);
    }

    #[test]
    fn over_quota_has_no_budget_and_negative_remaining() {
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 100.0,
            period: november(),
            today: date(2026, 11, 21),
            latest: Some(sample(130.0)),
            at_day_start: Some(sample(120.0)),
        });
        assert!(s.is_over_quota());
        assert_eq!(s.remaining, -30.0);
        assert_eq!(s.daily_budget, 0.0);
        assert_eq!(s.left_today, -10.0);
    }

    #[test]
    fn zero_quota_is_over_at_first_use() {
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 0.0,
            period: november(),
            today: date(2026, 11, 2),
            latest: Some(sample(1.0)),
            at_day_start: None,
        });
        assert!(s.is_over_quota());
        assert!(s.fraction_used.is_infinite());
    }

    #[test]
    fn first_day_of_period_counts_from_zero() {
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 300.0,
            period: november(),
            today: date(2026, 11, 1),
            latest: Some(sample(4.0)),
            at_day_start: None,
        });
        assert_eq!(s.daily_budget, 10.0);
        assert_eq!(s.used_today, 4.0);
    }

    #[test]
    fn counter_reset_during_the_day_is_not_negative_use() {
        let s = QuotaSnapshot::compute(QuotaInputs {
            quota: 300.0,
            period: november(),
            today: date(2026, 11, 10),
            latest: Some(sample(2.0)),
            at_day_start: Some(sample(50.0)),
        });
        assert_eq!(s.used_today, 2.0);
    }

    #[test]
    fn a_day_summary_spreads_the_morning_remainder_and_projects_the_average() {
        let p = november();
        let start = 1_761_955_200; // 2026-11-01T00:00:00Z
        let prev = CounterSample {
            at: start + 19 * 86_400,
            used: 600_000.0,
            remaining: None,
        };
        let last = CounterSample {
            at: start + 20 * 86_400 + 80_000,
            used: 630_000.0,
            remaining: None,
        };
        let s = DaySummary::compute(1_048_576.0, p, start, date(2026, 11, 21), Some(prev), last);
        assert!((s.budget - 44_857.6).abs() < 1e-6);
        // 630 000 over 21 days = 30 000 a day; 9 more days → 900 000 projected.
        assert!((s.pace - 1.0).abs() < 1e-12);
        let heavy = CounterSample {
            used: 1_000_000.0,
            ..last
        };
        let s = DaySummary::compute(1_048_576.0, p, start, date(2026, 11, 21), Some(prev), heavy);
        // 1 000 000 / 21 × 30 days = 1 428 571 projected → pace 0.734
        assert!((s.pace - 1_048_576.0 / (1_000_000.0 / 21.0 * 30.0)).abs() < 1e-9);
    }

    #[test]
    fn a_reading_from_the_previous_period_does_not_count_against_this_one() {
        let start = 1_761_955_200;
        let old = CounterSample {
            at: start - 600,
            used: 990_000.0,
            remaining: None,
        };
        let last = CounterSample {
            at: start + 3_600,
            used: 2_000.0,
            remaining: None,
        };
        let s = DaySummary::compute(
            300_000.0,
            november(),
            start,
            date(2026, 11, 1),
            Some(old),
            last,
        );
        assert_eq!(s.budget, 10_000.0);
    }

    #[test]
    fn pace_edges() {
        assert_eq!(pace_score(100.0, 0.0), 1.0);
        assert_eq!(pace_score(0.0, 5.0), 0.0);
        assert_eq!(pace_score(100.0, 200.0), 0.5);
        assert_eq!(pace_score(100.0, 50.0), 1.0);
    }

    proptest! {
        #[test]
        fn budget_times_days_left_is_what_remained(
            quota in 0.0f64..1e7, start_used in 0.0f64..1e7, extra in 0.0f64..1e5, day in 1i8..=30
        ) {
            let today = date(2026, 11, day);
            let s = QuotaSnapshot::compute(QuotaInputs {
                quota,
                period: november(),
                today,
                latest: Some(sample(start_used + extra)),
                at_day_start: Some(sample(start_used)),
            });
            let expected = (quota - start_used).max(0.0);
            prop_assert!((s.daily_budget * s.days_left as f64 - expected).abs() <= 1e-6 * expected.max(1.0));
            prop_assert!(s.used_today >= 0.0);
            prop_assert!((s.left_today + s.used_today - s.daily_budget).abs() < 1e-6 * quota.max(1.0));
        }
    }
}
