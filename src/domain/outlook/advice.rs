//! What a meter's numbers suggest, as sentences.
//!
//! Each piece of advice is a value that carries the figures its sentence states, taken
//! from (or computed from) the fields of the `QuotaOutlook` it is about (`meter.rs` chooses
//! it) — the same
//! figures the outlook shows. The text is rendered from those values only, so no sentence
//! can say something the numbers beside it do not; the tests check this for random inputs.

use jiff::civil::Date;
use serde::{Deserialize, Serialize};

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
