//! `/admin/performance/queries`: statements by total time and the slow-query log.

use leptos::prelude::*;

use super::shared::{PerfShell, Section, ms, table, with_report};

#[component]
pub fn PerfQueriesPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Queries>
            {with_report(5, |r| {
                let threshold = r.thresholds.slow_query_threshold * 1000.0;
                let shapes = r
                    .metrics
                    .queries
                    .iter()
                    .map(|q| vec![
                        q.statement.clone(),
                        q.count.to_string(),
                        ms(q.total_ms),
                        ms(q.mean_ms),
                        ms(q.p95_ms),
                        ms(q.max_ms),
                        q.slow.to_string(),
                    ])
                    .collect();
                let slow = r
                    .metrics
                    .slow_queries
                    .iter()
                    .map(|q| vec![q.at.clone(), ms(q.ms), q.statement.clone()])
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
