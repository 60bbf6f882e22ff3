//! `/admin/performance/queries`: statements by total time and the slow-query log.

use leptos::prelude::*;

use super::shared::{PerfShell, Section, ms, rows, table, text, with_report};

#[component]
pub fn PerfQueriesPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Queries>
            {with_report(5, |r| {
                let m = &r["metrics"];
                let threshold = r["thresholds"]["slow_query_threshold"].as_f64().unwrap_or(0.0) * 1000.0;
                let shapes = rows(&m["queries"])
                    .iter()
                    .map(|q| vec![
                        text(&q["statement"]),
                        text(&q["count"]),
                        ms(&q["total_ms"]),
                        ms(&q["mean_ms"]),
                        ms(&q["p95_ms"]),
                        ms(&q["max_ms"]),
                        text(&q["slow"]),
                    ])
                    .collect();
                let slow = rows(&m["slow_queries"])
                    .iter()
                    .map(|q| vec![text(&q["at"]), ms(&q["ms"]), text(&q["statement"])])
                    .collect();
                view! {
                    <section class="card">
                        <h2>"Statements by total time"</h2>
                        <p class="muted small">"Normalized: literals and parameters shown as ?."</p>
                        {table(&["Statement", "Count", "Total", "Mean", "p95", "Max", "Slow"], shapes, "statements")}
                    </section>
                    <section class="card">
                        <h2>{format!("Slow-query log (above {threshold:.0} ms), newest first")}</h2>
                        {table(&["When", "Time", "Statement"], slow, "slow-log")}
                    </section>
                }
                    .into_any()
            })}
        </PerfShell>
    }
}
