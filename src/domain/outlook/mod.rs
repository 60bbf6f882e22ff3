//! The daily outlook: per quota meter (`meter`), per sensor (`sensor`), and across them —
//! balance score, the primary insight, quick actions, encouragement, the tip of the day and
//! the streak. Pure: the server gathers the inputs from rollups and calls [`Outlook::compute`].

pub mod advice;
pub mod meter;
pub mod peers;
pub mod sensor;
pub mod tips;
pub mod trends;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

pub use self::tips::TipTemplate;
use self::{
    advice::Advice,
    meter::{DayRecord, QuotaMeterData, QuotaOutlook, Status},
    sensor::{SensorData, SensorLine},
    tips::Tip,
    trends::TrendDay,
};
use crate::domain::units::{Precision, format_amount};

/// Days of trend the outlook carries per meter.
pub const TREND_DAYS: i64 = 7;

#[derive(Debug, Clone, PartialEq)]
pub struct OutlookInput {
    pub user_id: i64,
    pub today: Date,
    pub now: i64,
    pub meters: Vec<QuotaMeterData>,
    pub sensors: Vec<SensorData>,
    /// The active tips, in their order; today's is chosen from them (`tips::choose`).
    pub tips: Vec<TipTemplate>,
}

/// The most important true sentence about today, and what it is about.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Insight {
    pub meter_id: Option<i64>,
    pub text: String,
}

/// Something worth doing now, and where to do it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickAction {
    pub label: String,
    pub href: String,
}

/// A meter's recent days.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MeterTrend {
    pub meter_id: i64,
    pub name: String,
    pub unit: String,
    pub days: Vec<TrendDay>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Outlook {
    pub user_id: i64,
    pub date: Date,
    /// Unix second it was computed.
    pub computed_at: i64,
    /// 0–100: the average pace of the quota meters, as a percentage.
    pub balance_score: Option<u8>,
    pub status: Option<Status>,
    pub primary_insight: Insight,
    pub meters: Vec<QuotaOutlook>,
    pub sensors: Vec<SensorLine>,
    pub quick_actions: Vec<QuickAction>,
    pub encouragement: Option<String>,
    pub tip: Option<Tip>,
    /// Finished days in a row on which every quota meter stayed within its budget.
    pub streak: u32,
    /// The longest such run in the last year.
    pub best_streak: u32,
    pub trends: Vec<MeterTrend>,
}

/// Per day, whether all meters with data stayed within budget (`None`: no data at all).
fn days_within(meters: &[QuotaMeterData]) -> BTreeMap<Date, Option<bool>> {
    let mut by_day: BTreeMap<Date, Option<bool>> = BTreeMap::new();
    for m in meters {
        for (date, within) in m.verdicts() {
            let entry = by_day.entry(date).or_insert(None);
            if let Some(ok) = within {
                *entry = Some(entry.unwrap_or(true) && ok);
            }
        }
    }
    by_day
}

/// The current run (ending yesterday) and the longest run, of days within budget.
fn streaks(meters: &[QuotaMeterData], today: Date) -> (u32, u32) {
    let days = days_within(meters);
    let (mut best, mut run, mut prev) = (0u32, 0u32, None::<Date>);
    for (date, ok) in &days {
        let continues = prev.is_some_and(|p| p.tomorrow().ok() == Some(*date));
        run = match ok {
            Some(true) if continues => run + 1,
            Some(true) => 1,
            _ => 0,
        };
        best = best.max(run);
        prev = Some(*date);
    }
    let yesterday = today.yesterday().unwrap_or(today);
    let current = if prev == Some(yesterday) { run } else { 0 };
    (current, best)
}

impl Outlook {
    pub fn compute(input: &OutlookInput) -> Self {
        let meters: Vec<QuotaOutlook> = input.meters.iter().map(QuotaOutlook::compute).collect();
        let sensors: Vec<SensorLine> = input.sensors.iter().map(SensorLine::compute).collect();
        let balance = (!meters.is_empty()).then(|| {
            let mean = meters.iter().map(|m| m.pace).sum::<f64>() / meters.len() as f64;
            (mean * 100.0).round().clamp(0.0, 100.0) as u8
        });
        let (streak, best_streak) = streaks(&input.meters, input.today);
        let trends = input
            .meters
            .iter()
            .map(|m| MeterTrend {
                meter_id: m.meter_id,
                name: m.name.clone(),
                unit: m.unit.clone(),
                days: trends::trend(
                    &m.history,
                    input
                        .today
                        .checked_sub(jiff::Span::new().days(TREND_DAYS))
                        .unwrap_or(input.today),
                    input.today.yesterday().unwrap_or(input.today),
                ),
            })
            .collect();
        let values = tip_values(meters.first());
        let tip = tips::choose(&input.tips, input.today, &values).map(|t| Tip {
            title: t.title.clone(),
            text: tips::render(&t.body, &values),
        });
        // A meter that runs out before its period ends caps the day's label too.
        let runs_out = meters.iter().any(|m| m.run_out.is_some());
        Outlook {
            user_id: input.user_id,
            date: input.today,
            computed_at: input.now,
            balance_score: balance,
            status: balance.map(|b| {
                let status = Status::of_pace(f64::from(b) / 100.0);
                if runs_out {
                    status.no_better_than(Status::Caution)
                } else {
                    status
                }
            }),
            primary_insight: primary_insight(&meters, &sensors),
            quick_actions: quick_actions(&meters, &sensors),
            encouragement: encouragement(&input.meters, &meters, streak, best_streak, input.today),
            meters,
            sensors,
            tip,
            streak,
            best_streak,
            trends,
        }
    }
}

fn amount(v: f64, unit: &str) -> String {
    format_amount(v, unit, Precision::Compact)
}

/// Values for a tip's placeholders, from the primary meter. A value is left out when the
/// sentence around it would be false today ("a run of 0 days", "12 MB left" when the
/// budget is spent), and a tip that needs a missing value is not chosen.
fn tip_values(primary: Option<&QuotaOutlook>) -> BTreeMap<&'static str, String> {
    let mut v = BTreeMap::new();
    if let Some(m) = primary {
        let s = &m.snapshot;
        v.insert("meter", m.name.clone());
        v.insert("daily_budget", amount(s.daily_budget, &m.unit));
        if s.left_today > 0.0 {
            v.insert("left_today", amount(s.left_today, &m.unit));
        }
        v.insert("used_today", amount(s.used_today, &m.unit));
        if m.safe_days >= 1.0 {
            v.insert("safe_days", format!("{:.0}", m.safe_days.floor()));
        }
        if m.streak > 0 {
            v.insert("streak", m.streak.to_string());
        }
    }
    v
}

fn sensor_sentence(s: &SensorLine) -> Option<String> {
    let v = s.latest.filter(|_| s.out_of_range)?;
    let range = match (s.range_min, s.range_max) {
        (Some(lo), Some(hi)) => format!("{}–{}", amount(lo, &s.unit), amount(hi, &s.unit)),
        (Some(lo), None) => format!("at least {}", amount(lo, &s.unit)),
        (None, Some(hi)) => format!("at most {}", amount(hi, &s.unit)),
        (None, None) => return None,
    };
    Some(format!(
        "{} is at {}, outside its normal {range}.",
        s.name,
        amount(v, &s.unit)
    ))
}

fn primary_insight(meters: &[QuotaOutlook], sensors: &[SensorLine]) -> Insight {
    // The most important advice; between equals, the meter with the lowest pace.
    let best = meters
        .iter()
        .flat_map(|m| m.advice.iter().map(move |a| (a, m)))
        .min_by(|(a, ma), (b, mb)| a.rank().cmp(&b.rank()).then(ma.pace.total_cmp(&mb.pace)));
    let sensor = sensors
        .iter()
        .find_map(|s| sensor_sentence(s).map(|t| (s.meter_id, t)));
    match (best, sensor) {
        (Some((a, _)), Some((id, text))) if a.rank() > 3 => Insight {
            meter_id: Some(id),
            text,
        },
        (Some((a, m)), _) => Insight {
            meter_id: Some(m.meter_id),
            text: format!("{}: {}", m.name, a.text(&m.unit)),
        },
        (None, Some((id, text))) => Insight {
            meter_id: Some(id),
            text,
        },
        (None, None) => match meters.first() {
            Some(m) => Insight {
                meter_id: Some(m.meter_id),
                text: format!(
                    "{}: {} to use today, {} left this period.",
                    m.name,
                    amount(m.snapshot.daily_budget, &m.unit),
                    amount(m.snapshot.remaining, &m.unit)
                ),
            },
            None => Insight {
                meter_id: None,
                text: "Add a budget — a data cap, an energy allowance — to see what today allows."
                    .into(),
            },
        },
    }
}

/// Up to three things worth doing, each following from a figure shown.
fn quick_actions(meters: &[QuotaOutlook], sensors: &[SensorLine]) -> Vec<QuickAction> {
    let mut out = Vec::new();
    let mut by_urgency: Vec<&QuotaOutlook> = meters.iter().collect();
    by_urgency.sort_by(|a, b| a.pace.total_cmp(&b.pace));
    for m in by_urgency {
        for a in &m.advice {
            let action = match a {
                Advice::OverQuota { .. }
                | Advice::HeadingOver { .. }
                | Advice::OverToday { .. } => QuickAction {
                    label: format!("See where {} goes, hour by hour", m.name),
                    href: format!("/meters/{}?range=24h#explorer", m.meter_id),
                },
                Advice::StaleReading { .. } => QuickAction {
                    label: format!("Check how {} is collected", m.name),
                    href: format!("/meters/{}#collection", m.meter_id),
                },
                Advice::Spare { .. } => continue,
            };
            if !out.contains(&action) {
                out.push(action);
            }
        }
    }
    for s in sensors
        .iter()
        .filter(|s| s.out_of_range || s.today_out_of_range)
    {
        out.push(QuickAction {
            label: format!("Look at {} today", s.name),
            href: format!("/meters/{}", s.meter_id),
        });
    }
    if meters.is_empty() {
        out.push(QuickAction {
            label: "Add a budget".into(),
            href: "/meters/new".into(),
        });
    }
    out.truncate(3);
    out
}

fn encouragement(
    data: &[QuotaMeterData],
    meters: &[QuotaOutlook],
    streak: u32,
    best: u32,
    today: Date,
) -> Option<String> {
    let days = |n: u32| {
        if n == 1 {
            "1 day".to_string()
        } else {
            format!("{n} days")
        }
    };
    if streak >= 2 && streak == best {
        return Some(format!(
            "{} in a row within budget: your longest run this year.",
            days(streak)
        ));
    }
    if streak >= 1 {
        return Some(format!("{} in a row within budget.", days(streak)));
    }
    // Yesterday went over somewhere: say by how much, and point at today's fresh budget.
    let yesterday = today.yesterday().ok()?;
    data.iter()
        .zip(meters)
        .filter_map(|(d, m)| {
            let y = d.history.iter().find(|h| h.date == yesterday)?;
            let over = y.usage? - y.budget?;
            (over > 0.0).then_some((over, m))
        })
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(over, m)| {
            format!(
                "Yesterday {} went {} over its budget; today starts fresh with {}.",
                m.name,
                amount(over, &m.unit),
                amount(m.snapshot.daily_budget, &m.unit)
            )
        })
}

/// A day's record list from daily rows, for callers building inputs.
pub fn records(rows: impl IntoIterator<Item = (Date, Option<f64>, Option<f64>)>) -> Vec<DayRecord> {
    rows.into_iter()
        .map(|(date, usage, budget)| DayRecord {
            date,
            usage,
            budget,
        })
        .collect()
}
