//! The outlook against hand-computed cases, and properties over random inputs.

use jiff::civil::{Date, date};
use proptest::prelude::*;

use super::{
    advice::Advice,
    meter::DayRun,
    meter::{AverageBasis, DayRecord, QuotaMeterData, QuotaOutlook, Status, runs_of, streak_of},
    *,
};
use crate::domain::{
    period::{Period, ResetRule},
    quota::CounterSample,
    units::{Precision, format_amount},
};

const NOV_1: i64 = 1_761_955_200; // 2026-11-01T00:00:00Z

fn sample(at: i64, used: f64) -> CounterSample {
    CounterSample {
        at,
        used,
        remaining: None,
    }
}

fn week(usage: f64, budget: f64, today: Date) -> Vec<DayRecord> {
    (1..=7)
        .rev()
        .map(|back| DayRecord {
            date: today
                .checked_sub(jiff::Span::new().days(back))
                .expect("in range"),
            usage: Some(usage),
            budget: Some(budget),
        })
        .collect()
}

/// 300 000 MB a month from the 1st; on the 21st, 200 000 used by midnight, 204 000 now.
fn november(average: f64) -> QuotaMeterData {
    let today = date(2026, 11, 21);
    QuotaMeterData {
        meter_id: 1,
        name: "Fibre".into(),
        unit: "MB".into(),
        quota: 300_000.0,
        period: Period {
            start: date(2026, 11, 1),
            end: date(2026, 12, 1),
        },
        period_start_ts: NOV_1,
        today,
        now: NOV_1 + 20 * 86_400 + 36_000,
        latest: Some(sample(NOV_1 + 20 * 86_400 + 35_000, 204_000.0)),
        at_day_start: Some(sample(NOV_1 + 20 * 86_400 - 600, 200_000.0)),
        history: week(average, 10_000.0, today),
        earlier: vec![],
    }
}

#[test]
fn on_pace_with_room_to_spare() {
    let o = QuotaOutlook::compute(&november(9_000.0));
    assert_eq!(o.snapshot.days_left, 10);
    assert_eq!(o.snapshot.daily_budget, 10_000.0);
    assert_eq!(
        (o.snapshot.used_today, o.snapshot.left_today),
        (4_000.0, 6_000.0)
    );
    assert_eq!(
        (o.average, o.average_basis),
        (9_000.0, AverageBasis::LastSevenDays)
    );
    // 204 000 + the rest of today (9 000 − 4 000) + 9 more days × 9 000.
    assert_eq!(o.projected_total, 290_000.0);
    assert_eq!(
        (o.pace, o.status, o.projected_excess, o.run_out),
        (1.0, Status::Excellent, 0.0, None)
    );
    assert_eq!(o.safe_days, 10.0);
    assert_eq!(
        o.advice,
        vec![Advice::Spare {
            average: 9_000.0,
            budget: 10_000.0,
            spare: 1_000.0
        }]
    );
}

#[test]
fn heading_over_names_the_run_out_day() {
    let o = QuotaOutlook::compute(&november(12_000.0));
    // 204 000 + 8 000 + 9 × 12 000 = 320 000.
    assert_eq!(o.projected_total, 320_000.0);
    assert_eq!(o.projected_excess, 20_000.0);
    assert!((o.pace - 0.9375).abs() < 1e-12);
    // 96 000 left; today takes 8 000 more; 88 000 / 12 000 = 7.3 → the 8th day after today.
    assert_eq!(o.run_out, Some(date(2026, 11, 29)));
    assert_eq!(o.safe_days, 8.0);
    let Advice::HeadingOver {
        excess,
        run_out,
        budget,
        ..
    } = &o.advice[0]
    else {
        panic!("{:?}", o.advice);
    };
    assert_eq!(
        (*excess, *run_out, *budget),
        (20_000.0, Some(date(2026, 11, 29)), 10_000.0)
    );
    assert_eq!(
        o.advice[0].text("MB"),
        "At 11.7 GB a day you would reach 312 GB by Mon 30 Nov, 19.5 GB over the quota, running out on Sun 29 Nov; keep to 9.77 GB a day to stay within it."
    );
}

#[test]
fn over_quota_comes_first_and_runs_out_today() {
    let mut d = november(9_000.0);
    d.latest = Some(sample(d.now - 60, 310_000.0));
    let o = QuotaOutlook::compute(&d);
    assert_eq!(o.snapshot.remaining, -10_000.0);
    assert_eq!(o.run_out, Some(d.today));
    assert_eq!(o.safe_days, 0.0);
    assert!(matches!(o.advice[0], Advice::OverQuota { over, .. } if over == 10_000.0));
    // The projection alone would say "good" (300 000 / 391 000): being over is a concern.
    assert!((o.pace - 300_000.0 / 391_000.0).abs() < 1e-12);
    assert_eq!(o.status, Status::Concern);
}

#[test]
fn today_over_budget_spreads_the_difference() {
    let mut d = november(9_000.0);
    d.latest = Some(sample(d.now - 60, 212_500.0));
    let o = QuotaOutlook::compute(&d);
    assert_eq!(o.snapshot.left_today, -2_500.0);
    let over = o
        .advice
        .iter()
        .find(|a| matches!(a, Advice::OverToday { .. }))
        .expect("over today");
    assert_eq!(
        over,
        &Advice::OverToday {
            over_today: 2_500.0,
            budget: 10_000.0,
            per_day_less: 2_500.0 / 9.0,
            days: 9
        }
    );
}

#[test]
fn a_quota_raised_mid_period_raises_the_budget() {
    let mut d = november(9_000.0);
    d.quota = 400_000.0;
    let o = QuotaOutlook::compute(&d);
    assert_eq!(o.snapshot.daily_budget, 20_000.0);
}

#[test]
fn zero_quota_is_concern_from_the_first_unit() {
    let mut d = november(0.0);
    d.quota = 0.0;
    d.latest = Some(sample(d.now - 60, 5.0));
    d.at_day_start = None;
    let o = QuotaOutlook::compute(&d);
    assert_eq!((o.pace, o.status), (0.0, Status::Concern));
    assert!(matches!(o.advice[0], Advice::OverQuota { .. }));
}

#[test]
fn gaps_average_over_the_days_that_have_data() {
    let mut d = november(0.0);
    for (i, h) in d.history.iter_mut().enumerate() {
        h.usage = [
            Some(6_000.0),
            None,
            Some(12_000.0),
            None,
            None,
            Some(9_000.0),
            None,
        ][i];
    }
    let o = QuotaOutlook::compute(&d);
    assert_eq!(o.average, 9_000.0);
    // A gap breaks the streak.
    assert_eq!(o.streak, 0);
}

#[test]
fn the_first_day_averages_the_period_so_far() {
    let mut d = november(0.0);
    d.history.clear();
    let o = QuotaOutlook::compute(&d);
    assert_eq!(o.average_basis, AverageBasis::PeriodSoFar);
    assert!((o.average - 204_000.0 / 21.0).abs() < 1e-9);
}

#[test]
fn last_day_rules_in_short_months_and_leap_years() {
    let rule: ResetRule = "monthly:last".parse().expect("rule");
    // 2026: February ends on the 28th, so the period through the 27th ends there.
    let p = rule.period_containing(date(2026, 2, 27));
    assert_eq!(
        (p.start, p.end, p.days_left_including(date(2026, 2, 27))),
        (date(2026, 1, 31), date(2026, 2, 28), 1)
    );
    // 2028 is a leap year: one more day.
    let p = rule.period_containing(date(2028, 2, 27));
    assert_eq!(
        (p.end, p.days_left_including(date(2028, 2, 27))),
        (date(2028, 2, 29), 2)
    );
    // A 30-day month: from 31 March to the last day of April.
    let p = rule.period_containing(date(2026, 4, 15));
    assert_eq!(
        (p.start, p.end, p.length_days()),
        (date(2026, 3, 31), date(2026, 4, 30), 30)
    );
}

#[test]
fn streaks_count_finished_days_within_budget() {
    let today = date(2026, 11, 21);
    let mut m = november(9_000.0);
    assert_eq!(streak_of(&m, date(2026, 11, 20)), 7);
    m.history[3].usage = Some(10_500.0);
    assert_eq!(streak_of(&m, date(2026, 11, 20)), 3);
    assert_eq!(m.today, today);
}

#[test]
fn older_days_count_through_their_runs() {
    let mut m = november(9_000.0);
    // 1–13 November: within budget until the 6th, over on the 7th, within again after.
    m.earlier = vec![
        DayRun {
            first: date(2026, 11, 1),
            last: date(2026, 11, 6),
            within: Some(true),
        },
        DayRun {
            first: date(2026, 11, 7),
            last: date(2026, 11, 7),
            within: Some(false),
        },
        DayRun {
            first: date(2026, 11, 8),
            last: date(2026, 11, 13),
            within: Some(true),
        },
    ];
    assert_eq!(streak_of(&m, date(2026, 11, 20)), 13);
    let o = Outlook::compute(&OutlookInput {
        user_id: 1,
        today: m.today,
        now: m.now,
        meters: vec![m.clone()],
        sensors: vec![],
        tips: vec![],
    });
    assert_eq!((o.streak, o.best_streak), (13, 13));
    // A day without data breaks the run like a day over budget.
    m.earlier[2].within = None;
    assert_eq!(streak_of(&m, date(2026, 11, 20)), 7);
}

#[test]
fn across_meters_the_worst_news_leads() {
    let calm = november(9_000.0);
    let mut tight = november(12_000.0);
    tight.meter_id = 2;
    tight.name = "Mobile".into();
    let o = Outlook::compute(&OutlookInput {
        user_id: 7,
        today: calm.today,
        now: calm.now,
        meters: vec![calm, tight],
        sensors: vec![],
        tips: vec![TipTemplate {
            title: "Budget".into(),
            body: "Today {meter} allows {daily_budget}.".into(),
        }],
    });
    assert_eq!(o.balance_score, Some(97)); // (1 + 0.9375) / 2
    assert_eq!(o.primary_insight.meter_id, Some(2));
    assert!(
        o.primary_insight
            .text
            .starts_with("Mobile: At 11.7 GB a day"),
        "{}",
        o.primary_insight.text
    );
    assert_eq!(o.quick_actions[0].href, "/meters/2?range=24h#explorer");
    // Both meters within budget all week (12 000 ≤ 10 000 is false for Mobile): no run.
    assert_eq!(o.streak, 0);
    assert_eq!(
        o.tip.map(|t| t.text),
        Some("Today Fibre allows 9.77 GB.".into())
    );
    assert_eq!(o.trends[0].days.len(), 7);
    assert!(
        o.encouragement
            .as_deref()
            .is_some_and(|e| e.starts_with("Yesterday Mobile went 1.95 GB over")),
        "{:?}",
        o.encouragement
    );
}

#[test]
fn a_meter_that_runs_out_is_never_excellent_or_good() {
    // Pace 0.9375 would read "excellent", but it runs out on 29 Nov of a November period.
    let d = november(12_000.0);
    let o = Outlook::compute(&OutlookInput {
        user_id: 7,
        today: d.today,
        now: d.now,
        meters: vec![d],
        sensors: vec![],
        tips: vec![],
    });
    assert_eq!(o.balance_score, Some(94));
    assert_eq!(o.meters[0].run_out, Some(date(2026, 11, 29)));
    assert_eq!(o.meters[0].status, Status::Caution);
    assert_eq!(o.status, Some(Status::Caution));
    // On pace with room: still excellent.
    let calm = QuotaOutlook::compute(&november(9_000.0));
    assert_eq!((calm.run_out, calm.status), (None, Status::Excellent));
}

#[test]
fn a_tip_whose_premise_is_false_today_is_not_chosen() {
    let run = TipTemplate {
        title: "Keep the run going".into(),
        body: "You are on a run of {streak} days within budget.".into(),
    };
    let plain = TipTemplate {
        title: "Budget".into(),
        body: "Today {meter} allows {daily_budget}.".into(),
    };
    let outlook = |average: f64, tips: Vec<TipTemplate>| {
        let d = november(average);
        Outlook::compute(&OutlookInput {
            user_id: 7,
            today: d.today,
            now: d.now,
            meters: vec![d],
            sensors: vec![],
            tips,
        })
    };
    // 12 000 a day is over the 10 000 budget every day: a run of 0 days.
    let o = outlook(12_000.0, vec![run.clone(), plain.clone()]);
    assert_eq!(o.streak, 0);
    assert_eq!(o.tip.map(|t| t.title), Some("Budget".into()));
    assert_eq!(outlook(12_000.0, vec![run.clone()]).tip, None);
    // Within budget all week: the run is real, and whichever tip today names is shown.
    let o = outlook(9_000.0, vec![run]);
    assert_eq!(
        o.tip.map(|t| t.text),
        Some("You are on a run of 7 days within budget.".into())
    );
}

#[test]
fn a_run_within_budget_is_celebrated_with_its_length() {
    let d = november(9_000.0);
    let o = Outlook::compute(&OutlookInput {
        user_id: 7,
        today: d.today,
        now: d.now,
        meters: vec![d],
        sensors: vec![],
        tips: vec![],
    });
    assert_eq!((o.streak, o.best_streak), (7, 7));
    assert_eq!(
        o.encouragement.as_deref(),
        Some("7 days in a row within budget: your longest run this year.")
    );
}

#[test]
fn a_sensor_out_of_range_is_said_with_its_range() {
    use crate::domain::{meter::NormalRange, outlook::sensor::SensorData};
    let d = november(9_000.0);
    let o = Outlook::compute(&OutlookInput {
        user_id: 7,
        today: d.today,
        now: d.now,
        meters: vec![d],
        sensors: vec![SensorData {
            meter_id: 9,
            name: "Living room".into(),
            unit: "°C".into(),
            range: NormalRange {
                min: Some(19.0),
                max: Some(24.0),
            },
            latest: Some((0, 16.5)),
            today: None,
        }],
        tips: vec![],
    });
    assert_eq!(
        o.primary_insight.text,
        "Living room is at 16.5 °C, outside its normal 19.0 °C–24.0 °C."
    );
    assert!(o.sensors[0].out_of_range);
}

#[test]
fn tips_only_use_known_placeholders() {
    assert!(
        tips::check_template(
            "Evenings",
            "Big downloads at night leave {left_today} for the evening."
        )
        .is_ok()
    );
    let e = tips::check_template("x", "Your {password} is safe").expect_err("unknown");
    assert_eq!(e[0].field, "body");
    assert!(tips::check_template("x", "open {brace").is_err());
    assert!(tips::check_template("", "fine").is_err());
}

fn arb_meter() -> impl Strategy<Value = QuotaMeterData> {
    (
        0.0f64..2e6, // quota
        0usize..4,   // rule
        0i64..800,   // day offset from 2026-01-01 (leap 2028 inside)
        0.0f64..1.5, // used at day start, share of quota
        0.0f64..0.2, // used today, share of quota
        prop::collection::vec(prop::option::of(0.0f64..1e5), 0..10),
        0i64..86_400 * 2, // reading age
    )
        .prop_map(
            |(quota, rule, offset, start_share, today_share, usages, age)| {
                let rule: ResetRule = [
                    "monthly:1",
                    "monthly:last",
                    "weekly:mon",
                    "every:30:2025-12-15",
                ][rule]
                    .parse()
                    .expect("rule");
                let today = date(2026, 1, 1)
                    .checked_add(jiff::Span::new().days(offset))
                    .expect("date");
                let period = rule.period_containing(today);
                let start_ts = 1_767_225_600
                    + (crate::domain::period::days_between(date(2026, 1, 1), period.start))
                        * 86_400;
                let day_start =
                    start_ts + crate::domain::period::days_between(period.start, today) * 86_400;
                let at_start = start_share * quota.max(1.0);
                let history = usages
                    .iter()
                    .enumerate()
                    .map(|(i, u)| DayRecord {
                        date: today
                            .checked_sub(jiff::Span::new().days(usages.len() as i64 - i as i64))
                            .expect("date"),
                        usage: *u,
                        budget: Some(quota / 30.0),
                    })
                    .collect();
                QuotaMeterData {
                    meter_id: 1,
                    name: "M".into(),
                    unit: "MB".into(),
                    quota,
                    period,
                    period_start_ts: start_ts,
                    today,
                    now: day_start + 43_200,
                    latest: Some(sample(
                        day_start + 43_200 - age.min(43_200),
                        at_start + today_share * quota,
                    )),
                    at_day_start: (day_start > start_ts).then(|| sample(day_start - 600, at_start)),
                    history,
                    earlier: vec![],
                }
            },
        )
}

fn amount(v: f64) -> String {
    format_amount(v, "MB", Precision::Compact)
}

proptest! {
    #[test]
    fn figures_stay_in_their_ranges(d in arb_meter()) {
        let o = QuotaOutlook::compute(&d);
        prop_assert!((0.0..=1.0).contains(&o.pace));
        prop_assert!(o.safe_days >= 0.0 && o.safe_days <= o.snapshot.days_left as f64);
        prop_assert!(o.projected_total >= o.snapshot.used - 1e-9);
        prop_assert!(o.snapshot.days_left >= 1);
        if let Some(day) = o.run_out {
            prop_assert!(day >= d.today && day <= o.period_last_day);
        }
        if o.projected_total <= d.quota && o.snapshot.remaining >= 0.0 {
            prop_assert_eq!(o.pace, 1.0);
            prop_assert!(o.run_out.is_none());
        }
        if o.snapshot.remaining < 0.0 {
            prop_assert_eq!(o.status, Status::Concern);
        } else if o.run_out.is_some() {
            // Running out before the period ends is never excellent or good.
            prop_assert!(o.status >= Status::Caution);
            prop_assert_eq!(o.status, Status::of_pace(o.pace).no_better_than(Status::Caution));
        } else {
            prop_assert_eq!(o.status, Status::of_pace(o.pace));
        }
    }

    /// Every number a sentence states is one of the outlook's own figures (or follows from
    /// them as documented), and appears in the sentence as the outlook would show it.
    #[test]
    fn every_sentence_states_only_figures_the_outlook_shows(d in arb_meter()) {
        let o = QuotaOutlook::compute(&d);
        let s = &o.snapshot;
        for a in &o.advice {
            let text = a.text("MB");
            match a {
                Advice::OverQuota { over, quota, last_day } => {
                    prop_assert_eq!(*over, -s.remaining);
                    prop_assert_eq!(*quota, s.quota);
                    prop_assert_eq!(*last_day, o.period_last_day);
                    prop_assert!(text.contains(&amount(*over)) && text.contains(&amount(*quota)));
                }
                Advice::HeadingOver { average, projected, excess, last_day, run_out, budget } => {
                    prop_assert!(o.pace < 1.0);
                    prop_assert_eq!((*average, *projected, *excess), (o.average, o.projected_total, o.projected_excess));
                    prop_assert_eq!((*last_day, *run_out, *budget), (o.period_last_day, o.run_out, s.daily_budget));
                    for v in [average, projected, excess, budget] {
                        prop_assert!(text.contains(&amount(*v)), "{} lacks {}", text, amount(*v));
                    }
                }
                Advice::OverToday { over_today, budget, per_day_less, days } => {
                    prop_assert_eq!((*over_today, *budget), (-s.left_today, s.daily_budget));
                    prop_assert_eq!(*days, (s.days_left - 1).max(0));
                    if *days > 0 {
                        prop_assert!((per_day_less * *days as f64 - over_today).abs() < 1e-6 * over_today.max(1.0));
                    }
                    prop_assert!(text.contains(&amount(*over_today)));
                }
                Advice::StaleReading { hours } => {
                    prop_assert_eq!(Some(*hours), o.reading_age_hours);
                }
                Advice::Spare { average, budget, spare } => {
                    prop_assert_eq!((*average, *budget), (o.average, s.daily_budget));
                    prop_assert!((spare - (budget - average)).abs() < 1e-9);
                    prop_assert!(text.contains(&amount(*spare)));
                }
            }
        }
    }

    #[test]
    fn older_history_as_runs_gives_the_same_outlook(
        base in arb_meter(),
        days in prop::collection::vec((1i64..3, prop::option::of(0.0f64..2.0)), 0..80),
        cut in 0usize..80,
    ) {
        // Walk back from yesterday in steps of 1–2 days (a step of 2 leaves a gap); usage
        // as a share of a budget of 100, or no data.
        let mut full = base.clone();
        let mut back = 0;
        let mut records: Vec<DayRecord> = days.iter().map(|(step, share)| {
            back += step;
            DayRecord {
                date: base.today.checked_sub(jiff::Span::new().days(back)).expect("date"),
                usage: share.map(|s| s * 100.0),
                budget: Some(100.0),
            }
        }).collect();
        records.reverse();
        full.history = records.clone();
        // Only days before the last eight may become runs: trends and averages need the rest.
        let keep_from = base.today.checked_sub(jiff::Span::new().days(8)).expect("date");
        let cut = cut.min(records.iter().take_while(|r| r.date < keep_from).count());
        let mut split = base;
        split.earlier = runs_of(&records[..cut]);
        split.history = records[cut..].to_vec();
        let compute = |m: QuotaMeterData| Outlook::compute(&OutlookInput {
            user_id: 1, today: m.today, now: m.now, meters: vec![m], sensors: vec![], tips: vec![],
        });
        prop_assert_eq!(compute(full), compute(split));
    }

    #[test]
    fn balance_is_a_percentage_of_the_average_pace(ms in prop::collection::vec(arb_meter(), 1..4)) {
        let today = ms[0].today;
        let now = ms[0].now;
        let o = Outlook::compute(&OutlookInput { user_id: 1, today, now, meters: ms, sensors: vec![], tips: vec![] });
        let b = o.balance_score.expect("has meters");
        prop_assert!(b <= 100);
        let mean = o.meters.iter().map(|m| m.pace).sum::<f64>() / o.meters.len() as f64;
        prop_assert_eq!(b, (mean * 100.0).round() as u8);
        prop_assert!(o.quick_actions.len() <= 3);
        prop_assert!(o.streak <= o.best_streak);
    }
}
