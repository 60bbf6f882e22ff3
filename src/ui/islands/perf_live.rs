//! The performance overview's live chart: the server renders the last hour's points; in
//! the browser the island listens to `/api/performance/stream` (server-sent events, one
//! per sampler tick) and appends each new point. Two small SVG lines, no chart library.

use leptos::prelude::*;

use crate::dto::perf::LivePoint;

/// Points kept on the chart.
const KEEP: usize = 180;
const W: f64 = 300.0;
const H: f64 = 60.0;

/// An SVG polyline of `values` scaled into the chart box.
fn line(values: &[Option<f64>]) -> (String, f64) {
    let max = values.iter().flatten().fold(0.0_f64, |m, v| m.max(*v));
    let n = values.len().max(2) - 1;
    let pts = values
        .iter()
        .enumerate()
        .filter_map(|(i, v)| {
            let v = (*v)?;
            let x = i as f64 / n as f64 * W;
            let y = if max > 0.0 { H - v / max * H } else { H };
            Some(format!("{x:.1},{y:.1}"))
        })
        .collect::<Vec<_>>()
        .join(" ");
    (pts, max)
}

#[component]
fn Spark(
    label: &'static str,
    unit: &'static str,
    values: Signal<Vec<Option<f64>>>,
) -> impl IntoView {
    let drawn = move || line(&values.get());
    let last = move || {
        values
            .get()
            .last()
            .copied()
            .flatten()
            .map_or("—".to_string(), |v| format!("{v:.1} {unit}"))
    };
    view! {
        <figure class="spark">
            <figcaption>
                {label} ": " <strong>{last}</strong>
                <span class="muted small">{move || format!(" (max {:.1})", drawn().1)}</span>
            </figcaption>
            <svg viewBox=format!("0 0 {W} {H}") preserveAspectRatio="none" role="img" aria-label=label>
                <polyline points=move || drawn().0 fill="none" stroke="currentColor" stroke-width="1.5" />
            </svg>
        </figure>
    }
}

#[island]
pub fn PerfLive(points: Vec<LivePoint>) -> impl IntoView {
    let mut points = points;
    if points.len() > KEEP {
        points.drain(..points.len() - KEEP);
    }
    let series = RwSignal::new(points);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::{JsCast, closure::Closure};
        if let Ok(source) = web_sys::EventSource::new("/api/performance/stream") {
            let on_sample = Closure::<dyn FnMut(web_sys::MessageEvent)>::new(
                move |ev: web_sys::MessageEvent| {
                    let Some(data) = ev.data().as_string() else {
                        return;
                    };
                    if let Ok(p) = serde_json::from_str::<LivePoint>(&data) {
                        series.update(|s| {
                            s.push(p);
                            if s.len() > KEEP {
                                s.remove(0);
                            }
                        });
                    }
                },
            );
            let _ = source
                .add_event_listener_with_callback("sample", on_sample.as_ref().unchecked_ref());
            // Lives as long as the page.
            on_sample.forget();
        }
    }
    let p95 = Signal::derive(move || series.with(|s| s.iter().map(|p| p.p95_ms).collect()));
    let rps = Signal::derive(move || series.with(|s| s.iter().map(|p| Some(p.rps)).collect()));
    let score = Signal::derive(move || {
        series.with(|s| s.iter().map(|p| Some(f64::from(p.score))).collect())
    });
    let rss = Signal::derive(move || series.with(|s| s.iter().map(|p| p.rss_mb).collect()));
    view! {
        <div class="perf-live" data-testid="perf-live">
            <Spark label="p95 response" unit="ms" values=p95 />
            <Spark label="Requests per second" unit="/s" values=rps />
            <Spark label="Health score" unit="" values=score />
            <Spark label="Memory" unit="MB" values=rss />
        </div>
    }
}
