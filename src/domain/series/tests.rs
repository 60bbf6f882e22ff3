use jiff::tz::TimeZone;
use proptest::prelude::*;

use super::*;
use crate::domain::{
    period::day_number,
    rollup::{Reading, Stats},
};

fn reading(ts: i64, value: f64) -> Reading {
    Reading {
        ts,
        value,
        remaining: None,
    }
}

/// Buckets of `secs` seconds made from raw readings, as the rollup blocks keep them.
fn fixed_buckets(readings: &[Reading], secs: i64) -> Vec<(i64, Stats)> {
    let mut out: Vec<(i64, Stats)> = Vec::new();
    let mut i = 0;
    while i < readings.len() {
        let start = readings[i].ts.div_euclid(secs) * secs;
        let j = readings[i..]
            .iter()
            .position(|r| r.ts >= start + secs)
            .map_or(readings.len(), |p| i + p);
        out.push((start, Stats::of_sorted(&readings[i..j]).expect("not empty")));
        i = j;
    }
    out
}

/// Local-day buckets, as the daily rollups keep them.
fn day_buckets(readings: &[Reading], tz: &TimeZone) -> Vec<(i64, Stats)> {
    let day_of = |ts: i64| {
        day_number(
            jiff::Timestamp::from_second(ts)
                .expect("in range")
                .to_zoned(tz.clone())
                .date(),
        )
    };
    let mut out: Vec<(i64, Stats)> = Vec::new();
    for r in readings {
        let d = day_of(r.ts);
        let one = Stats::of_sorted(&[*r]).expect("one");
        match out.last_mut() {
            Some((k, s)) if *k == d => *s = s.merge(one),
            _ => out.push((d, one)),
        }
    }
    out
}

/// The raw envelope of `[t0, t1)`: (count, min, max, first, last).
fn raw_envelope(readings: &[Reading], t0: i64, t1: i64) -> Option<(u32, f64, f64, f64, f64)> {
    let inside: Vec<_> = readings
        .iter()
        .filter(|r| r.ts >= t0 && r.ts < t1)
        .collect();
    let first = inside.first()?;
    let last = inside.last()?;
    let min = inside.iter().map(|r| r.value).fold(f64::INFINITY, f64::min);
    let max = inside
        .iter()
        .map(|r| r.value)
        .fold(f64::NEG_INFINITY, f64::max);
    Some((inside.len() as u32, min, max, first.value, last.value))
}

fn check_exact(readings: &[Reading], cols: &[Column], budget: usize) -> Result<(), TestCaseError> {
    prop_assert!(
        cols.len() <= budget.max(MIN_COLUMNS),
        "{} columns over {budget}",
        cols.len()
    );
    prop_assert!(cols.len() <= MAX_COLUMNS);
    for w in cols.windows(2) {
        prop_assert!(w[0].t1 <= w[1].t0, "columns overlap or are out of order");
    }
    let mut total = 0;
    for c in cols {
        let (n, min, max, first, last) =
            raw_envelope(readings, c.t0, c.t1).expect("a column is never empty");
        prop_assert_eq!(c.stats.count, n);
        prop_assert_eq!(c.stats.min, min, "column {}..{}", c.t0, c.t1);
        prop_assert_eq!(c.stats.max, max, "column {}..{}", c.t0, c.t1);
        prop_assert_eq!((c.stats.first, c.stats.last), (first, last));
        total += n;
    }
    prop_assert_eq!(
        total as usize,
        readings.len(),
        "every reading is in a column"
    );
    if let (Some(f), Some(l)) = (readings.first(), readings.last()) {
        prop_assert_eq!(cols[0].stats.first_ts, f.ts, "the first reading is kept");
        prop_assert_eq!(
            cols[cols.len() - 1].stats.last_ts,
            l.ts,
            "the last reading is kept"
        );
    }
    Ok(())
}

/// Random readings: steps of 1 s to 10 min with holes of up to two days, values that
/// wander with rare spikes up and down.
fn series(max_len: usize) -> impl Strategy<Value = Vec<Reading>> {
    (
        1_700_000_000i64..1_800_000_000,
        prop::collection::vec((1i64..600, 0u8..100, -50.0f64..50.0), 1..max_len),
    )
        .prop_map(|(start, steps)| {
            let mut ts = start;
            let mut level = 0.0;
            steps
                .into_iter()
                .map(|(step, roll, delta)| {
                    ts += match roll {
                        0 => step * 300, // a hole of up to two days
                        _ => step,
                    };
                    level += delta / 10.0;
                    let value = match roll {
                        1 => level + 1e6, // a spike no chart may lose
                        2 => level - 1e6,
                        _ => level,
                    };
                    reading(ts, value)
                })
                .collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn fixed_tiers_keep_every_columns_envelope(readings in series(3_000), width in 0.0f64..2_500.0, dpr in 0.5f64..3.5) {
        let budget = columns_for(Some(width), Some(dpr));
        let from = readings[0].ts;
        let to = readings[readings.len() - 1].ts + 1;
        for tier in [Tier::Raw, Tier::QuarterHour, Tier::Hour] {
            let grid = Grid::new(tier, from, to, budget, &TimeZone::UTC);
            let buckets = if tier == Tier::Raw {
                readings.iter().map(|r| (r.ts, Stats::of_sorted(&[*r]).expect("one"))).collect()
            } else {
                fixed_buckets(&readings, tier.bucket_secs())
            };
            let cols = columns(&grid, buckets);
            check_exact(&readings, &cols, budget)?;
            for c in &cols {
                prop_assert_eq!(c.t0.rem_euclid(tier.bucket_secs()), 0, "columns are whole buckets");
                prop_assert_eq!((c.t1 - c.t0) % tier.bucket_secs(), 0);
            }
        }
    }

    #[test]
    fn local_days_keep_every_columns_envelope_across_dst(
        hours in prop::collection::vec((0u8..4, -20.0f64..40.0), 24..2_000),
        width in 16.0f64..1_200.0,
        zone in 0usize..3,
    ) {
        let tz = TimeZone::get(["Europe/Berlin", "America/New_York", "Australia/Lord_Howe"][zone]).expect("tzdb");
        // From 1 March 2026: every spring and autumn change of those zones within reach.
        let start = 1_772_323_200;
        let mut ts = start;
        let readings: Vec<Reading> = hours.iter().map(|(skip, v)| { ts += 3_600 * i64::from(*skip + 1); reading(ts, *v) }).collect();
        let budget = columns_for(Some(width), None);
        let to = readings[readings.len() - 1].ts + 1;
        for tier in [Tier::Day, Tier::Week] {
            let grid = Grid::new(tier, start, to, budget, &tz);
            let buckets = day_buckets(&readings, &tz);
            let buckets: Vec<(i64, Stats)> = if tier == Tier::Day {
                buckets
            } else {
                let mut weeks: Vec<(i64, Stats)> = Vec::new();
                for (d, s) in buckets {
                    let monday = d - (d - 4).rem_euclid(7);
                    match weeks.last_mut() {
                        Some((k, acc)) if *k == monday => *acc = acc.merge(s),
                        _ => weeks.push((monday, s)),
                    }
                }
                weeks
            };
            let cols = columns(&grid, buckets);
            check_exact(&readings, &cols, budget)?;
        }
    }
}

#[test]
fn the_range_picks_the_tier() {
    let h = 3_600;
    let table = [
        (60, Tier::Raw),
        (6 * h, Tier::Raw),
        (6 * h + 1, Tier::QuarterHour),
        (24 * h, Tier::QuarterHour),
        (7 * 24 * h, Tier::QuarterHour),
        (9 * 24 * h, Tier::Hour),
        (30 * 24 * h, Tier::Hour),
        (365 * 24 * h, Tier::Day),
        (6 * 365 * 24 * h, Tier::Week),
    ];
    for (span, tier) in table {
        assert_eq!(Tier::for_span(span), tier, "span {span}");
    }
}

#[test]
fn a_width_of_zero_gets_the_default_and_big_screens_the_cap() {
    assert_eq!(columns_for(Some(0.0), Some(2.0)), DEFAULT_COLUMNS);
    assert_eq!(columns_for(None, None), DEFAULT_COLUMNS);
    assert_eq!(columns_for(Some(f64::NAN), None), DEFAULT_COLUMNS);
    assert_eq!(columns_for(Some(390.0), Some(3.0)), 1_170);
    assert_eq!(columns_for(Some(2_560.0), Some(2.0)), MAX_COLUMNS);
    assert_eq!(columns_for(Some(4.0), Some(1.0)), MIN_COLUMNS);
}

#[test]
fn a_wider_screen_gets_the_same_answer_until_the_grid_changes() {
    let utc = TimeZone::UTC;
    let now = 1_780_000_000;
    // 24 hours are 96 quarter-hours: any screen from 600 columns up draws those.
    assert_eq!(
        same_grid_up_to(Tier::QuarterHour, now - DAY, now, DEFAULT_COLUMNS, &utc),
        MAX_COLUMNS
    );
    // 7 days in 600 columns are half-hours; a screen of 674+ columns gets quarter-hours.
    let week = same_grid_up_to(Tier::QuarterHour, now - 7 * DAY, now, DEFAULT_COLUMNS, &utc);
    let secs = |c| Grid::new(Tier::QuarterHour, now - 7 * DAY, now, c, &utc).column_secs();
    assert_eq!(
        (secs(DEFAULT_COLUMNS), secs(week), secs(week + 1)),
        (1_800, 1_800, 900)
    );
    // A year of days: 366 of them fit in 600 columns, so nothing finer exists.
    assert_eq!(
        same_grid_up_to(Tier::Day, now - 365 * DAY, now, DEFAULT_COLUMNS, &utc),
        MAX_COLUMNS
    );
    // Six hours of raw readings in minutes, until 722 columns make them half-minutes.
    assert_eq!(
        same_grid_up_to(Tier::Raw, now - 6 * HOUR, now, DEFAULT_COLUMNS, &utc),
        721
    );
}

#[test]
fn dst_days_are_23_and_25_hours_long() {
    let tz = TimeZone::get("Europe/Berlin").expect("tzdb");
    let grid = Grid::new(
        Tier::Day,
        1_774_000_000,
        1_774_000_000 + 30 * 86_400,
        600,
        &tz,
    );
    assert_eq!(
        grid,
        Grid::Days {
            per: 1,
            tz: tz.clone()
        }
    );
    let spring = day_number(jiff::civil::date(2026, 3, 29));
    let autumn = day_number(jiff::civil::date(2026, 10, 25));
    let len = |d: i64| {
        let (a, b) = grid.span_of(grid.column_of(d));
        b - a
    };
    assert_eq!(len(spring), 23 * 3_600);
    assert_eq!(len(autumn), 25 * 3_600);
    assert_eq!(len(spring + 1), 24 * 3_600);
}

#[test]
fn columns_are_snapped_to_absolute_time() {
    // Two requests a few seconds apart land on the same columns.
    let a = Grid::new(
        Tier::QuarterHour,
        1_000_000_000,
        1_000_086_400,
        600,
        &TimeZone::UTC,
    );
    let b = Grid::new(
        Tier::QuarterHour,
        1_000_000_007,
        1_000_086_407,
        600,
        &TimeZone::UTC,
    );
    assert_eq!(a, b);
    assert_eq!(a, Grid::Fixed { secs: 900 });
    assert_eq!(
        a.snap(1_000_000_000, 1_000_086_400, &TimeZone::UTC),
        b.snap(1_000_000_007, 1_000_086_400, &TimeZone::UTC)
    );
}

#[test]
fn a_dead_sensor_is_a_gap_and_a_missed_reading_is_not() {
    // Readings every 10 minutes for a day, one missing at noon, none from 18:00 to 21:00.
    let readings: Vec<Reading> = (0..144)
        .map(|i| i * 600)
        .filter(|t| *t != 12 * 3_600 && !(18 * 3_600..21 * 3_600).contains(t))
        .map(|t| reading(t, 1.0))
        .collect();
    let grid = Grid::Fixed { secs: 900 };
    let cols = columns(&grid, fixed_buckets(&readings, 900));
    let gaps: Vec<i64> = cols.iter().filter(|c| c.gap_before).map(|c| c.t0).collect();
    assert_eq!(gaps, vec![21 * 3_600]);
    assert_eq!(method_of(&cols), "minmax");
}
