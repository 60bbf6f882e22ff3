//! Reset rules and the billing periods they cut time into.
//!
//! A period is a half-open range of *local calendar days* in the meter's timezone,
//! `[start, end)`. Days, not instants, are the unit because users think "my plan resets on
//! the 15th", and because a day across a DST change is 23 or 25 hours long: counting days
//! keeps "days left" right where counting hours would not.

use jiff::{
    Timestamp,
    civil::{Date, Weekday},
    tz::TimeZone,
};
use serde::{Deserialize, Serialize};
use std::{fmt, str::FromStr};

use super::DomainError;

/// When a quota meter's counter starts again from zero.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResetRule {
    /// Monthly on a fixed day. Limited to 1–28 so every month has that day; "the 30th"
    /// would silently mean something else in February, so users pick `LastDay` instead.
    MonthlyOnDay(u8),
    /// Monthly on the last day of each month (Jan 31, Feb 28 or 29, Apr 30, ...).
    MonthlyOnLastDay,
    /// Weekly on a weekday.
    Weekly(Weekday),
    /// Every `days` days counted from `anchor` (a day on which a period starts).
    EveryNDays { days: u16, anchor: Date },
}

/// The local days `[start, end)` of one billing period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

impl Period {
    /// Days in the whole period.
    pub fn length_days(&self) -> i64 {
        days_between(self.start, self.end)
    }

    /// Days from `today` to the end, today included: on the last day this is 1.
    pub fn days_left_including(&self, today: Date) -> i64 {
        days_between(today, self.end).max(0)
    }

    /// Whole days already finished before `today`.
    pub fn days_elapsed_before(&self, today: Date) -> i64 {
        days_between(self.start, today).clamp(0, self.length_days())
    }

    pub fn contains(&self, day: Date) -> bool {
        self.start <= day && day < self.end
    }

    /// The instant the period starts: local midnight of its first day.
    pub fn start_instant(&self, tz: &TimeZone) -> Timestamp {
        local_midnight(self.start, tz)
    }

    /// The instant the period ends (exclusive).
    pub fn end_instant(&self, tz: &TimeZone) -> Timestamp {
        local_midnight(self.end, tz)
    }
}

/// Local midnight of `day` in `tz`. Where midnight does not exist (a DST gap at 00:00, as
/// in some American zones historically), jiff's "compatible" rule moves it forward.
pub fn local_midnight(day: Date, tz: &TimeZone) -> Timestamp {
    day.to_zoned(tz.clone())
        .map(|z| z.timestamp())
        // Only fails for dates at the very edge of jiff's range, which no reading has.
        .unwrap_or(Timestamp::MIN)
}

/// Whole days from `a` to `b` (negative when `b` is earlier).
pub fn days_between(a: Date, b: Date) -> i64 {
    a.duration_until(b).as_secs().div_euclid(86_400)
}

const EPOCH: Date = Date::constant(1970, 1, 1);

/// A local date as a day number (days since 1970-01-01), the key of daily rollups.
pub fn day_number(day: Date) -> i64 {
    days_between(EPOCH, day)
}

/// The local date of a day number.
pub fn date_of_day_number(n: i64) -> Date {
    add_days(EPOCH, n)
}

/// The Monday on or before `day`: weekly rollups are keyed by it.
pub fn monday_of(day: Date) -> Date {
    add_days(day, -i64::from(day.weekday().to_monday_zero_offset()))
}

fn add_days(day: Date, n: i64) -> Date {
    day.checked_add(jiff::Span::new().days(n)).unwrap_or(day)
}

fn add_months(day: Date, n: i32) -> Date {
    day.checked_add(jiff::Span::new().months(n)).unwrap_or(day)
}

impl ResetRule {
    /// The period that contains local day `day`.
    pub fn period_containing(&self, day: Date) -> Period {
        let start = self.period_start(day);
        Period {
            start,
            end: self.next_start(start),
        }
    }

    /// The period that contains instant `at`, seen in `tz`.
    pub fn period_at(&self, at: Timestamp, tz: &TimeZone) -> Period {
        self.period_containing(at.to_zoned(tz.clone()).date())
    }

    fn period_start(&self, day: Date) -> Date {
        match *self {
            ResetRule::MonthlyOnDay(k) => {
                let this_month = day.first_of_month();
                let candidate = add_days(this_month, i64::from(k) - 1);
                if day >= candidate {
                    candidate
                } else {
                    add_days(add_months(this_month, -1), i64::from(k) - 1)
                }
            }
            ResetRule::MonthlyOnLastDay => {
                if day == day.last_of_month() {
                    day
                } else {
                    add_months(day.first_of_month(), -1).last_of_month()
                }
            }
            ResetRule::Weekly(weekday) => {
                let back = (day.weekday().to_monday_zero_offset()
                    - weekday.to_monday_zero_offset())
                .rem_euclid(7);
                add_days(day, -i64::from(back))
            }
            ResetRule::EveryNDays { days, anchor } => {
                let n = i64::from(days.max(1));
                let k = days_between(anchor, day).div_euclid(n);
                add_days(anchor, k * n)
            }
        }
    }

    fn next_start(&self, start: Date) -> Date {
        match *self {
            ResetRule::MonthlyOnDay(_) => add_months(start, 1),
            ResetRule::MonthlyOnLastDay => add_months(start.first_of_month(), 1).last_of_month(),
            ResetRule::Weekly(_) => add_days(start, 7),
            ResetRule::EveryNDays { days, .. } => add_days(start, i64::from(days.max(1))),
        }
    }
}

const WEEKDAYS: [(&str, Weekday); 7] = [
    ("mon", Weekday::Monday),
    ("tue", Weekday::Tuesday),
    ("wed", Weekday::Wednesday),
    ("thu", Weekday::Thursday),
    ("fri", Weekday::Friday),
    ("sat", Weekday::Saturday),
    ("sun", Weekday::Sunday),
];

/// The text form stored in the database and used in the API:
/// `monthly:15`, `monthly:last`, `weekly:mon`, `every:30:2026-01-05`.
impl fmt::Display for ResetRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ResetRule::MonthlyOnDay(k) => write!(f, "monthly:{k}"),
            ResetRule::MonthlyOnLastDay => f.write_str("monthly:last"),
            ResetRule::Weekly(w) => {
                let name = WEEKDAYS
                    .iter()
                    .find(|(_, d)| d == w)
                    .map_or("mon", |(n, _)| n);
                write!(f, "weekly:{name}")
            }
            ResetRule::EveryNDays { days, anchor } => write!(f, "every:{days}:{anchor}"),
        }
    }
}

impl FromStr for ResetRule {
    type Err = DomainError;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        let bad = |why: &str| DomainError::new("reset_rule", why.to_string());
        let parts: Vec<&str> = raw.trim().split(':').collect();
        match parts.as_slice() {
            ["monthly", "last"] => Ok(ResetRule::MonthlyOnLastDay),
            ["monthly", day] => match day.parse::<u8>() {
                Ok(k @ 1..=28) => Ok(ResetRule::MonthlyOnDay(k)),
                _ => Err(bad(
                    "monthly reset day must be 1–28 or \"last\" (e.g. monthly:1, monthly:last)",
                )),
            },
            ["weekly", day] => WEEKDAYS
                .iter()
                .find(|(n, _)| n.eq_ignore_ascii_case(day))
                .map(|(_, w)| ResetRule::Weekly(*w))
                .ok_or_else(|| {
                    bad("weekly reset day must be one of mon, tue, wed, thu, fri, sat, sun")
                }),
            ["every", days, anchor] => {
                let days = days
                    .parse::<u16>()
                    .ok()
                    .filter(|d| (1..=366).contains(d))
                    .ok_or_else(|| bad("every-N-days needs N from 1 to 366"))?;
                let anchor = anchor
                    .parse::<Date>()
                    .map_err(|_| bad("every-N-days needs an anchor date like 2026-01-05"))?;
                Ok(ResetRule::EveryNDays { days, anchor })
            }
            _ => Err(bad(
                "expected monthly:<1-28|last>, weekly:<mon..sun> or every:<days>:<YYYY-MM-DD>",
            )),
        }
    }
}

impl Serialize for ResetRule {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for ResetRule {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let raw = String::deserialize(d)?;
        raw.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;
    use rstest::rstest;

    #[rstest]
    #[case("monthly:1", date(2026, 11, 21), date(2026, 11, 1), date(2026, 12, 1))]
    #[case(
        "monthly:15",
        date(2026, 11, 14),
        date(2026, 10, 15),
        date(2026, 11, 15)
    )]
    #[case(
        "monthly:15",
        date(2026, 11, 15),
        date(2026, 11, 15),
        date(2026, 12, 15)
    )]
    #[case("monthly:28", date(2026, 3, 1), date(2026, 2, 28), date(2026, 3, 28))]
    #[case(
        "monthly:last",
        date(2026, 2, 28),
        date(2026, 2, 28),
        date(2026, 3, 31)
    )]
    #[case(
        "monthly:last",
        date(2026, 3, 30),
        date(2026, 2, 28),
        date(2026, 3, 31)
    )]
    #[case(
        "monthly:last",
        date(2024, 2, 10),
        date(2024, 1, 31),
        date(2024, 2, 29)
    )]
    #[case(
        "monthly:last",
        date(2024, 2, 29),
        date(2024, 2, 29),
        date(2024, 3, 31)
    )]
    #[case(
        "monthly:last",
        date(2026, 4, 30),
        date(2026, 4, 30),
        date(2026, 5, 31)
    )]
    #[case(
        "weekly:mon",
        date(2026, 11, 21),
        date(2026, 11, 16),
        date(2026, 11, 23)
    )]
    #[case(
        "weekly:sat",
        date(2026, 11, 21),
        date(2026, 11, 21),
        date(2026, 11, 28)
    )]
    #[case(
        "every:30:2026-01-01",
        date(2026, 1, 30),
        date(2026, 1, 1),
        date(2026, 1, 31)
    )]
    #[case(
        "every:30:2026-01-01",
        date(2025, 12, 31),
        date(2025, 12, 2),
        date(2026, 1, 1)
    )]
    fn period_bounds(
        #[case] rule: &str,
        #[case] day: Date,
        #[case] start: Date,
        #[case] end: Date,
    ) {
        let rule: ResetRule = rule.parse().expect("valid rule");
        assert_eq!(rule.period_containing(day), Period { start, end });
    }

    #[rstest]
    #[case("monthly:0")]
    #[case("monthly:29")]
    #[case("monthly:31")]
    #[case("weekly:funday")]
    #[case("every:0:2026-01-01")]
    #[case("every:7:yesterday")]
    #[case("yearly")]
    fn rejects_bad_rules(#[case] raw: &str) {
        let err = raw.parse::<ResetRule>().expect_err("must be rejected");
        assert_eq!(err.field, "reset_rule");
    }

    #[test]
    fn day_numbers_round_trip_and_weeks_start_on_monday() {
        assert_eq!(day_number(date(1970, 1, 2)), 1);
        assert_eq!(
            date_of_day_number(day_number(date(2026, 11, 21))),
            date(2026, 11, 21)
        );
        assert_eq!(monday_of(date(2026, 11, 22)), date(2026, 11, 16));
        assert_eq!(monday_of(date(2026, 11, 16)), date(2026, 11, 16));
    }

    #[test]
    fn days_left_counts_today() {
        let p = Period {
            start: date(2026, 11, 1),
            end: date(2026, 12, 1),
        };
        assert_eq!(p.days_left_including(date(2026, 11, 30)), 1);
        assert_eq!(p.days_left_including(date(2026, 11, 1)), 30);
        assert_eq!(p.days_elapsed_before(date(2026, 11, 21)), 20);
    }

    #[test]
    fn period_start_is_local_midnight_across_dst() {
        // Europe/Berlin leaves summer time on 2026-10-25: that day has 25 hours.
        let tz = TimeZone::get("Europe/Berlin").expect("tzdb");
        let rule: ResetRule = "monthly:25".parse().expect("valid");
        let p = rule.period_containing(date(2026, 11, 3));
        let start = p.start_instant(&tz);
        assert_eq!(start.to_string(), "2026-10-24T22:00:00Z");
        let end = p.end_instant(&tz);
        assert_eq!(end.to_string(), "2026-11-24T23:00:00Z");
    }

    fn any_rule() -> impl Strategy<Value = ResetRule> {
        prop_oneof![
            (1u8..=28).prop_map(ResetRule::MonthlyOnDay),
            Just(ResetRule::MonthlyOnLastDay),
            (0usize..7).prop_map(|i| ResetRule::Weekly(WEEKDAYS[i].1)),
            (1u16..=90, 0i64..3000).prop_map(|(days, off)| ResetRule::EveryNDays {
                days,
                anchor: add_days(date(2020, 1, 1), off),
            }),
        ]
    }

    proptest! {
        #[test]
        fn every_day_lies_in_exactly_one_period(rule in any_rule(), offset in 0i64..4000) {
            let day = add_days(date(2019, 1, 1), offset);
            let p = rule.period_containing(day);
            prop_assert!(p.contains(day));
            // The next period starts where this one ends, and the day before the start
            // belongs to the previous period.
            let next = rule.period_containing(p.end);
            prop_assert_eq!(next.start, p.end);
            let prev = rule.period_containing(add_days(p.start, -1));
            prop_assert_eq!(prev.end, p.start);
            prop_assert!(p.length_days() >= 1 && p.length_days() <= 366);
        }

        #[test]
        fn text_form_round_trips(rule in any_rule()) {
            let back: ResetRule = rule.to_string().parse().expect("own output parses");
            prop_assert_eq!(back, rule);
        }
    }
}
