//! A small bar chart drawn as SVG on the server: no script needed to see it. Bars above
//! their guide (the day's budget) are marked; each bar carries its value as a tooltip.

use leptos::prelude::*;

/// One bar: its label under the axis, its value, and the text of its tooltip.
#[derive(Debug, Clone, PartialEq)]
pub struct Bar {
    pub label: String,
    pub value: Option<f64>,
    /// A reference level for this bar (the day's budget), drawn as a line.
    pub guide: Option<f64>,
    pub note: String,
}

const W: f64 = 320.0;
const H: f64 = 140.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 18.0;

#[component]
pub fn BarChart(
    /// What the chart shows, for screen readers and as its title.
    title: String,
    bars: Vec<Bar>,
    /// The largest value, already formatted, written at the top of the scale.
    max_label: String,
) -> impl IntoView {
    let max = bars
        .iter()
        .flat_map(|b| [b.value, b.guide])
        .flatten()
        .fold(0.0_f64, f64::max)
        .max(f64::MIN_POSITIVE);
    let n = bars.len().max(1) as f64;
    let slot = W / n;
    let plot = H - TOP - BOTTOM;
    let y = move |v: f64| TOP + plot * (1.0 - (v / max).clamp(0.0, 1.0));
    let every = (bars.len() / 6).max(1);
    let guide_points: String = bars
        .iter()
        .enumerate()
        .filter_map(|(i, b)| {
            b.guide.map(|g| {
                format!(
                    "{:.1},{:.1} {:.1},{:.1}",
                    i as f64 * slot,
                    y(g),
                    (i as f64 + 1.0) * slot,
                    y(g)
                )
            })
        })
        .collect::<Vec<_>>()
        .join(" ");
    view! {
        <svg class="chart" viewBox=format!("0 0 {W} {H}") role="img" aria-label=title.clone() preserveAspectRatio="none">
            <title>{title.clone()}</title>
            <text class="axis" x="0" y="10">{max_label}</text>
            <line class="baseline" x1="0" x2=W y1=H - BOTTOM y2=H - BOTTOM></line>
            {bars
                .iter()
                .enumerate()
                .map(|(i, b)| {
                    let x = i as f64 * slot + slot * 0.15;
                    let over = matches!((b.value, b.guide), (Some(v), Some(g)) if v > g * (1.0 + 1e-9));
                    let v = b.value.unwrap_or(0.0);
                    let label = (i % every == 0 || i + 1 == bars.len()).then(|| b.label.clone());
                    view! {
                        <g>
                            <rect
                                class=if over { "bar over" } else if b.value.is_none() { "bar empty" } else { "bar" }
                                x=format!("{x:.1}")
                                y=format!("{:.1}", y(v))
                                width=format!("{:.1}", slot * 0.7)
                                height=format!("{:.1}", (H - BOTTOM - y(v)).max(0.5))
                            >
                                <title>{b.note.clone()}</title>
                            </rect>
                            {label
                                .map(|l| {
                                    view! {
                                        <text class="axis" x=format!("{:.1}", x + slot * 0.35) y=H - 4.0 text-anchor="middle">
                                            {l}
                                        </text>
                                    }
                                })}
                        </g>
                    }
                })
                .collect_view()}
            {(!guide_points.is_empty()).then(|| view! { <polyline class="guide" points=guide_points.clone()></polyline> })}
        </svg>
    }
    .into_any()
}
