//! Hand-computed sequences per rule: crossing twice, a new period, hysteresis,
//! N failures in a row, quiet hours across midnight and DST, the retry schedule.

use jiff::{Timestamp, civil::date, tz::TimeZone};

use super::*;
use crate::domain::{
    outlook::meter::{AverageBasis, QuotaOutlook, Status},
    quota::QuotaSnapshot,
};

/// A 100 GB meter in the period that began `first`, `days_left` days to go.
fn outlook(
    first: Date,
    used: f64,
    used_today: f64,
    days_left: i64,
    run_out: Option<Date>,
) -> QuotaOutlook {
    let quota = 100.0;
    let remaining = quota - used;
    let daily_budget = (remaining + used_today) / days_left as f64;
    QuotaOutlook {
        meter_id: 1,
        name: "Home internet".into(),
        unit: "GB".into(),
        period_first_day: first,
        period_last_day: date(2026, 12, 31),
        snapshot: QuotaSnapshot {
            quota,
            used,
            remaining,
            days_left,
            daily_budget,
            used_today,
            left_today: daily_budget - used_today,
            fraction_used: used / quota,
            last_reading_at: None,
        },
        average: 4.0,
        average_basis: AverageBasis::LastSevenDays,
        projected_total: used,
        projected_excess: 0.0,
        run_out,
        pace: 1.0,
        status: Status::Good,
        safe_days: 1.0,
        streak: 0,
        reading_age_hours: None,
        advice: Vec::new(),
        shared_by: None,
    }
}

fn episodes(fired: &[Fired]) -> Vec<String> {
    fired.iter().map(|f| f.episode.clone()).collect()
}

#[test]
fn quota_levels_name_their_period_and_the_highest_crossed() {
    let s = AlertSettings::default();
    let dec = date(2026, 12, 1);
    assert!(quota_alerts(&s, &outlook(dec, 79.9, 0.0, 20, None)).is_empty());
    let at80 = quota_alerts(&s, &outlook(dec, 80.0, 0.0, 20, None));
    assert_eq!(episodes(&at80), ["quota80:2026-12-01"]);
    assert_eq!(at80[0].rule, Rule::QuotaLevel(80));
    assert!(!at80[0].urgent);
    assert_eq!(at80[0].title, "Home internet: 80 % of the quota used");
    assert_eq!(
        at80[0].body,
        "80.0 GB of 100 GB used; 20.0 GB left for 20 day(s), 1.00 GB a day."
    );
    // Dropping back (a correction) and crossing again is the same episode: the server's
    // unique key makes it one notification.
    let again = quota_alerts(&s, &outlook(dec, 81.0, 0.0, 19, None));
    assert_eq!(episodes(&again), ["quota80:2026-12-01"]);
    // From 70 % to 95 % in one reading: 90 % is told, 80 % settled without a message.
    let jump = quota_alerts(&s, &outlook(dec, 95.0, 0.0, 10, None));
    assert_eq!(episodes(&jump), ["quota90:2026-12-01"]);
    assert_eq!(jump[0].also_claims, ["quota80:2026-12-01"]);
    // A new period is a new episode.
    let jan = quota_alerts(&s, &outlook(date(2027, 1, 1), 85.0, 0.0, 5, None));
    assert_eq!(episodes(&jan), ["quota80:2027-01-01"]);
}

#[test]
fn the_quota_used_up_is_urgent_and_says_by_how_much() {
    let s = AlertSettings::default();
    let over = quota_alerts(&s, &outlook(date(2026, 12, 1), 104.0, 0.0, 3, None));
    assert_eq!(episodes(&over), ["quota100:2026-12-01"]);
    assert!(over[0].urgent);
    assert_eq!(over[0].title, "Home internet: quota used up");
    assert!(over[0].body.contains("4.00 GB over"), "{}", over[0].body);
}

#[test]
fn over_today_is_one_per_day_and_run_out_one_per_period() {
    let s = AlertSettings::default();
    // 20 days left ending 31 Dec: today is 12 Dec. Budget (30 + 6) / 20 = 1.8, used 6.
    let o = outlook(date(2026, 12, 1), 70.0, 6.0, 20, Some(date(2026, 12, 20)));
    let fired = quota_alerts(&s, &o);
    assert_eq!(episodes(&fired), ["today:2026-12-12", "runout:2026-12-01"]);
    assert_eq!(fired[1].title, "Home internet: runs out on Sun 20 Dec");
    assert!(fired[1].urgent);
    let off = AlertSettings {
        over_today: false,
        run_out: false,
        ..AlertSettings::default()
    };
    assert!(quota_alerts(&off, &o).is_empty());
    let none = AlertSettings {
        enabled: false,
        ..AlertSettings::default()
    };
    assert!(quota_alerts(&none, &outlook(date(2026, 12, 1), 100.0, 9.0, 2, None)).is_empty());
}

fn room() -> NormalRange {
    NormalRange {
        min: Some(18.0),
        max: Some(24.0),
    }
}

/// Runs `readings` (minute, value) through the range rule; returns what fired, by minute.
fn run_range(s: &AlertSettings, readings: &[(i64, f64)]) -> Vec<(i64, Rule, String)> {
    let mut state = None;
    let mut out = Vec::new();
    for &(minute, value) in readings {
        let (next, fired) = range_step(
            s,
            "Bedroom",
            "°C",
            &room(),
            state,
            SensorReading {
                ts: 1_000_000 + minute * 60,
                value,
            },
        );
        state = next;
        if let Some(f) = fired {
            out.push((minute, f.rule, f.episode));
        }
    }
    out
}

#[test]
fn out_of_range_waits_its_minutes_and_comes_back_with_hysteresis() {
    let s = AlertSettings::default(); // 10 minutes, 5 % of 6 °C = 0.3 °C
    let fired = run_range(
        &s,
        &[
            (0, 21.0),
            (1, 24.5), // out: since minute 1
            (5, 25.0),
            (11, 25.1), // 10 minutes out: told
            (12, 24.1), // still above 24
            (13, 23.9), // inside, but within 0.3 of the edge: not yet back
            (14, 24.2), // outside again: the same episode, no new message
            (20, 23.5), // well inside: back in range
            (21, 25.0), // a new excursion begins
        ],
    );
    assert_eq!(
        fired,
        vec![
            (11, Rule::OutOfRange, "range:1000060".to_string()),
            (20, Rule::BackInRange, "range-back:1000060".to_string()),
        ]
    );
}

#[test]
fn a_blip_shorter_than_the_rule_is_not_told() {
    let s = AlertSettings::default();
    assert!(run_range(&s, &[(0, 25.0), (9, 25.0), (10, 23.0), (30, 17.0)]).is_empty());
    let at_once = AlertSettings {
        range_minutes: 0,
        ..AlertSettings::default()
    };
    let fired = run_range(&at_once, &[(0, 17.0)]);
    assert_eq!(
        fired,
        vec![(0, Rule::OutOfRange, "range:1000000".to_string())]
    );
}

#[test]
fn collector_failing_is_told_at_the_nth_failure_and_recovery_once() {
    let s = AlertSettings::default(); // 3 in a row
    let mut state = None;
    let mut told = Vec::new();
    for (now, failures) in [
        (100, 1),
        (200, 2),
        (300, 0),
        (400, 1),
        (500, 2),
        (600, 3),
        (700, 4),
        (800, 0),
        (900, 0),
    ] {
        let (next, fired) = collector_step(&s, "Router", state, failures, now);
        state = next;
        if let Some(f) = fired {
            told.push((now, f.rule, f.episode));
        }
    }
    assert_eq!(
        told,
        vec![
            (600, Rule::CollectorFailing, "collect:400".to_string()),
            (800, Rule::CollectorRecovered, "collect-ok:400".to_string()),
        ]
    );
}

fn at(s: &str) -> Timestamp {
    s.parse().expect("timestamp")
}

#[test]
fn quiet_hours_run_past_midnight_in_the_users_timezone() {
    let tz = TimeZone::get("Europe/Berlin").expect("tz");
    let q = QuietHours::new(22 * 60, 7 * 60).expect("valid");
    // 21:59 local (UTC+1): not quiet.
    assert_eq!(q.held_until(at("2026-12-02T20:59:00Z"), &tz), None);
    // 23:30 local: held until 07:00 tomorrow local = 06:00 UTC.
    assert_eq!(
        q.held_until(at("2026-12-02T22:30:00Z"), &tz),
        Some(at("2026-12-03T06:00:00Z"))
    );
    // 03:00 local: held until 07:00 the same day.
    assert_eq!(
        q.held_until(at("2026-12-03T02:00:00Z"), &tz),
        Some(at("2026-12-03T06:00:00Z"))
    );
    // 07:00 exactly: the quiet hours are over.
    assert_eq!(q.held_until(at("2026-12-03T06:00:00Z"), &tz), None);
    // Equal start and end: no quiet hours.
    assert_eq!(
        QuietHours::new(0, 0)
            .expect("valid")
            .held_until(at("2026-12-03T02:00:00Z"), &tz),
        None
    );
}

#[test]
fn quiet_hours_across_a_dst_change_end_at_the_local_hour() {
    let tz = TimeZone::get("Europe/Berlin").expect("tz");
    let q = QuietHours::new(22 * 60, 7 * 60).expect("valid");
    // The night clocks go forward (29 March 2026, 02:00 → 03:00): 07:00 is then UTC+2.
    assert_eq!(
        q.held_until(at("2026-03-28T22:00:00Z"), &tz),
        Some(at("2026-03-29T05:00:00Z"))
    );
    // The night they go back (25 October 2026): 07:00 is UTC+1 again.
    assert_eq!(
        q.held_until(at("2026-10-24T21:00:00Z"), &tz),
        Some(at("2026-10-25T06:00:00Z"))
    );
    // An end inside the skipped hour (02:30) is the first instant after it: 03:00 CEST.
    let skipped = QuietHours::new(60, 150).expect("valid");
    assert_eq!(
        skipped.held_until(at("2026-03-29T00:30:00Z"), &tz),
        Some(at("2026-03-29T01:30:00Z"))
    );
}

#[test]
fn clock_times_parse_and_bad_ones_name_the_field() {
    assert_eq!(QuietHours::parse_clock("quiet_start", "22:30"), Ok(1350));
    assert_eq!(QuietHours::clock(1350), "22:30");
    for bad in ["24:00", "7", "07:60", "x:y"] {
        assert_eq!(
            QuietHours::parse_clock("quiet_start", bad)
                .expect_err("refused")
                .field,
            "quiet_start"
        );
    }
    assert_eq!(
        QuietHours::new(0, 1440).expect_err("refused").field,
        "quiet_end"
    );
}

#[test]
fn retries_back_off_to_an_hour_and_stop_after_a_day() {
    // Without jitter (0): half the nominal wait; with 1: the whole of it.
    assert_eq!(next_try(0, 0, 1, 1.0), Some(30));
    assert_eq!(next_try(0, 0, 1, 0.0), Some(15));
    assert_eq!(next_try(0, 100, 2, 1.0), Some(160));
    assert_eq!(next_try(0, 0, 8, 1.0), Some(3600));
    assert_eq!(next_try(0, 0, 40, 1.0), Some(3600));
    // The last try lands at most a day after the first was due.
    assert_eq!(
        next_try(0, GIVE_UP_SECS - 3600, 20, 1.0),
        Some(GIVE_UP_SECS)
    );
    assert_eq!(next_try(0, GIVE_UP_SECS - 10, 20, 1.0), None);
}

#[test]
fn settings_are_checked_field_by_field() {
    let s = AlertSettings {
        quota_levels: vec![100, 80, 80],
        ..AlertSettings::default()
    };
    assert_eq!(s.validate().expect("valid").quota_levels, vec![80, 100]);
    let bad = |s: AlertSettings| s.validate().expect_err("refused").field;
    assert_eq!(
        bad(AlertSettings {
            quota_levels: vec![0],
            ..Default::default()
        }),
        "quota_levels"
    );
    assert_eq!(
        bad(AlertSettings {
            range_minutes: 5000,
            ..Default::default()
        }),
        "range_minutes"
    );
    assert_eq!(
        bad(AlertSettings {
            range_hysteresis: 0.9,
            ..Default::default()
        }),
        "range_hysteresis"
    );
    assert_eq!(
        bad(AlertSettings {
            collector_failures: 0,
            ..Default::default()
        }),
        "collector_failures"
    );
}

#[test]
fn a_push_lives_until_the_next_local_five_oclock() {
    let berlin = TimeZone::get("Europe/Berlin").expect("tz");
    let at = |s: &str| s.parse::<Timestamp>().expect("instant");
    // 23:30 in Berlin (UTC+1): 05:00 is 5 h 30 min away.
    assert_eq!(
        secs_until_local_hour(at("2026-12-12T22:30:00Z"), &berlin, 5),
        19_800
    );
    // 04:59:59: one second; 05:00 sharp: a whole day.
    assert_eq!(
        secs_until_local_hour(at("2026-12-13T03:59:59Z"), &berlin, 5),
        1
    );
    assert_eq!(
        secs_until_local_hour(at("2026-12-13T04:00:00Z"), &berlin, 5),
        86_400
    );
    // The night clocks go forward (29 March 2026, 02:00 → 03:00): 23 hours from noon
    // the day before to 05:00 CEST is 16 h, not 17.
    assert_eq!(
        secs_until_local_hour(at("2026-03-28T11:00:00Z"), &berlin, 5),
        16 * 3600
    );
    assert_eq!(push_topic(Some(42)), "meter-42");
    assert!(push_topic(Some(i64::MAX)).len() <= 32);
}
