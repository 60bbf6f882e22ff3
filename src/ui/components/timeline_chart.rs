//! A meter's last 24 hours: consumption per hour (budgets) or the hourly mean (sensors).

use leptos::prelude::*;

use crate::{
    domain::units::{Precision, format_amount},
    dto::Timeline,
    ui::{
        components::bar_chart::{Bar, BarChart},
        format,
    },
};

#[component]
pub fn TimelineChart(timeline: Timeline, name: String) -> impl IntoView {
    let a = |v: f64| format_amount(v, &timeline.unit, Precision::Compact);
    let mut max = 0.0_f64;
    let bars = timeline
        .hours
        .iter()
        .map(|h| {
            let at = jiff::Timestamp::from_second(h.start)
                .map(|t| t.to_string())
                .unwrap_or_default();
            let when = format::instant(&at);
            let value = if timeline.counter {
                h.consumption
            } else {
                h.mean
            };
            max = max.max(value.unwrap_or(0.0));
            let note = match (timeline.counter, value) {
                (true, Some(v)) => format!("{when}: {} used", a(v)),
                (false, Some(v)) => format!(
                    "{when}: mean {}, low {}, high {}",
                    a(v),
                    h.min.map(a).unwrap_or_default(),
                    h.max.map(a).unwrap_or_default()
                ),
                _ => format!("{when}: no readings"),
            };
            Bar {
                label: when
                    .rsplit(' ')
                    .next()
                    .unwrap_or_default()
                    .split(':')
                    .next()
                    .unwrap_or_default()
                    .to_string(),
                value,
                guide: None,
                note,
            }
        })
        .collect();
    let total: f64 = timeline.hours.iter().filter_map(|h| h.consumption).sum();
    let title = if timeline.counter {
        format!("{name}: use per hour over the last 24 hours")
    } else {
        format!("{name}: hourly mean over the last 24 hours")
    };
    view! {
        <figure class="trend" data-testid="timeline">
            <figcaption>
                <strong>"Last 24 hours"</strong>
                {timeline.counter.then(|| view! { <span class="muted small">" · " {a(total)} " used"</span> })}
            </figcaption>
            <BarChart title bars max_label=a(max) />
        </figure>
    }
    .into_any()
}
