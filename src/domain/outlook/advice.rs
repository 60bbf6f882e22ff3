//! What a meter's numbers suggest, as sentences.
//!
//! Each piece of advice is a value that carries the figures its sentence states, taken
//! from (or computed from) the fields of the [`QuotaOutlook`] it is about — the same
//! figures the outlook shows. The text is rendered from those values only, so no sentence
//! can say something the numbers beside it do not; the tests check this for random inputs.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

use super::meter::QuotaOutlook;
use crate::domain::units::{Precision, format_amount};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Advice {
    /// The quota is used up: `over` = −remaining.
    OverQuota {
        over: f64,
        quota: f64,
        last_day: Date,
    },
    /// The projection goes over the quota.
    HeadingOver {
        average: f64,
        projected: f64,
        excess: f64,
        last_day: Date,
        run_out: Option<Date>,
        budget: f64,
    },
    /// Today went over its budget: `over_today` = −left today. `per_day_less` spreads it
    /// over the `days` after today.
    OverToday {
        over_today: f64,
        budget: f64,
        per_day_less: f64,
        days: i64,
    },
    /// The newest reading is old, so today's figures may lag.
    StaleReading { hours: f64 },
    /// On pace with room to spare: `spare` = budget − average.
    Spare {
        average: f64,
        budget: f64,
        spare: f64,
    },
}

/// How advice ranks when choosing the day's primary insight (lower is more important).
impl Advice {
    pub fn rank(&self) -> u8 {
        match self {
            Advice::OverQuota { .. } => 0,
            Advice::HeadingOver { .. } => 1,
            Advice::OverToday { .. } => 2,
            Advice::StaleReading { .. } => 4,
            Advice::Spare { .. } => 5,
        }
    }

    /// The advice that meter `m`'s numbers call for, most important first.
    pub fn for_meter(m: &QuotaOutlook, stale_hours: f64) -> Vec<Advice> {
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

    /// The sentence, with amounts in `unit`.
    pub fn text(&self, unit: &str) -> String {
        let a = |v: f64| format_amount(v, unit, Precision::Compact);
        let day = |d: &Date| d.strftime("%a %-d %b").to_string();
        match self {
            Advice::OverQuota {
                over,
                quota,
                last_day,
            } => format!(
                "{} over the {} quota until the period ends on {}.",
                a(*over),
                a(*quota),
                day(last_day)
            ),
            Advice::HeadingOver {
                average,
                projected,
                excess,
                last_day,
                run_out,
                budget,
            } => {
                let runs_out =
                    run_out.map_or_else(String::new, |d| format!(", running out on {}", day(&d)));
                format!(
                    "At {} a day you would reach {} by {}, {} over the quota{runs_out}; keep to {} a day to stay within it.",
                    a(*average),
                    a(*projected),
                    day(last_day),
                    a(*excess),
                    a(*budget)
                )
            }
            Advice::OverToday {
                over_today,
                budget,
                per_day_less,
                days,
            } if *days > 0 => format!(
                "Today is {} over its budget of {}; using {} a day less over the {} days after today makes up for it.",
                a(*over_today),
                a(*budget),
                a(*per_day_less),
                days
            ),
            Advice::OverToday {
                over_today, budget, ..
            } => {
                format!(
                    "Today is {} over its budget of {}.",
                    a(*over_today),
                    a(*budget)
                )
            }
            Advice::StaleReading { hours } => format!(
                "The newest reading is {:.0} hours old, so today's figures may lag behind.",
                hours.floor()
            ),
            Advice::Spare {
                average,
                budget,
                spare,
            } => format!(
                "At {} a day you are {} a day under your budget of {}.",
                a(*average),
                a(*spare),
                a(*budget)
            ),
        }
    }
}
