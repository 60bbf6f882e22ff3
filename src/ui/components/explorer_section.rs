//! The meter page's "History" card: the chart explorer. What the server renders here —
//! range, pan and zoom links, compare links, the chart, a custom range form and the CSV
//! link — works without JavaScript; the [`ChartExplorer`] island around the links and the
//! chart takes over once hydrated.

use leptos::prelude::*;

use crate::{
    dto::series::Explorer,
    ui::{
        components::series_plot::{SeriesPlot, TimeStyle, fmt_time},
        islands::chart_explorer::ChartExplorer,
    },
};

/// `?…` for this page with `range` or `from`/`to` and `with`.
fn href(range: &str, with: &[i64]) -> String {
    let mut q = format!("?{range}");
    if !with.is_empty() {
        let ids: Vec<String> = with.iter().map(i64::to_string).collect();
        q.push_str(&format!("&with={}", ids.join(",")));
    }
    q.push_str("#explorer");
    q
}

#[component]
pub fn ExplorerSection(meter_id: i64, explorer: Explorer) -> impl IntoView {
    let e = explorer;
    let tz = e
        .set
        .series
        .first()
        .map(|s| s.timezone.clone())
        .unwrap_or_else(|| "UTC".into());
    let range_q = match &e.preset {
        Some(p) => format!("range={p}"),
        None => format!("from={}&to={}", e.from, e.to),
    };
    let compare = (!e.candidates.is_empty()).then(|| {
        let links = e
            .candidates
            .iter()
            .map(|(id, name)| {
                let on = e.with.contains(id);
                let mut next: Vec<i64> = e.with.iter().copied().filter(|w| w != id).collect();
                if !on {
                    next.push(*id);
                }
                next.truncate(3);
                view! {
                    <a class="button quiet" class:active=on aria-pressed=if on { "true" } else { "false" } href=href(&range_q, &next)>
                        {if on { format!("✓ {name}") } else { format!("+ {name}") }}
                    </a>
                }
            })
            .collect_view();
        view! { <p class="row small compare"><span class="muted">"Compare with"</span> {links}</p> }
    });
    let date = |t: i64| {
        jiff::Timestamp::from_second(t)
            .map(|ts| {
                ts.to_zoned(jiff::tz::TimeZone::get(&tz).unwrap_or(jiff::tz::TimeZone::UTC))
                    .date()
                    .to_string()
            })
            .unwrap_or_default()
    };
    let (from_day, to_day) = (date(e.from), date(e.to - 1));
    let shown = format!(
        "{} – {}",
        fmt_time(e.from, &tz, TimeStyle::Full),
        fmt_time(e.to, &tz, TimeStyle::Full)
    );
    view! {
        <section class="card" aria-labelledby="explorer-title" id="explorer">
            <h2 id="explorer-title">"History"</h2>
            {e.problem.clone().map(|p| view! { <p class="notice error" role="alert">{format!("That range cannot be shown ({p}); here are the last 24 hours.")}</p> })}
            {compare}
            <ChartExplorer meter_id preset=e.preset.clone() from=e.from to=e.to with=e.with.clone() same_up_to=e.same_up_to>
                <SeriesPlot set=e.set.clone() />
                <p class="muted small">{shown}</p>
            </ChartExplorer>
            <form method="get" action="#explorer" class="row custom-range">
                <label>"From " <input type="date" name="from" value=from_day.clone() required /></label>
                <label>"to " <input type="date" name="to" value=to_day.clone() required /></label>
                {(!e.with.is_empty()).then(|| {
                    let ids: Vec<String> = e.with.iter().map(i64::to_string).collect();
                    view! { <input type="hidden" name="with" value=ids.join(",") /> }
                })}
                <button type="submit" class="button">"Show"</button>
            </form>
        </section>
    }
}
