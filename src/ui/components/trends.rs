//! The outlook's last days per meter, as charts with the day's budget as a guide line.

use leptos::prelude::*;

use crate::{
    domain::{
        outlook::MeterTrend,
        units::{Precision, format_amount},
    },
    ui::components::bar_chart::{Bar, BarChart},
};

/// A meter's trend as a bar chart of daily use against the daily budget.
#[component]
pub fn TrendChart(
    trend: MeterTrend,
    #[prop(default = "Last 7 days")] span: &'static str,
) -> impl IntoView {
    let a = |v: f64| format_amount(v, &trend.unit, Precision::Compact);
    let max = trend
        .days
        .iter()
        .flat_map(|d| [d.usage, d.budget])
        .flatten()
        .fold(0.0_f64, f64::max);
    let bars = trend
        .days
        .iter()
        .map(|d| {
            let note = match (d.usage, d.budget) {
                (Some(u), Some(b)) => format!(
                    "{}: {} of a {} budget",
                    d.date.strftime("%a %-d %b"),
                    a(u),
                    a(b)
                ),
                (Some(u), None) => format!("{}: {}", d.date.strftime("%a %-d %b"), a(u)),
                _ => format!("{}: no readings", d.date.strftime("%a %-d %b")),
            };
            Bar {
                label: d.date.strftime("%-d").to_string(),
                value: d.usage,
                guide: d.budget,
                note,
            }
        })
        .collect();
    let title = format!("{}: use per day, {}", trend.name, span.to_lowercase());
    let total: f64 = trend.days.iter().filter_map(|d| d.usage).sum();
    let avg3 = trend.days.last().and_then(|d| d.rolling_3);
    let change = trend.days.last().and_then(|d| d.change);
    view! {
        <figure class="trend" data-testid="trend">
            <figcaption>
                <strong>{trend.name.clone()}</strong>
                <span class="muted small">" · " {span} ": " {a(total)}</span>
            </figcaption>
            <BarChart title bars max_label=a(max) />
            <p class="muted small">
                {avg3.map(|v| format!("3-day average {}", a(v)))}
                {change.map(|c| format!(" · yesterday {}{} on the day before", if c >= 0.0 { "+" } else { "−" }, a(c.abs())))}
            </p>
        </figure>
    }
    .into_any()
}
