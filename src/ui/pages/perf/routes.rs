//! `/admin/performance/routes`: every route since start, slowest first.

use leptos::prelude::*;

use super::shared::{PerfShell, Section, route_table, with_report};

#[component]
pub fn PerfRoutesPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Routes>
            {with_report(5, |r| {
                view! {
                    <section class="card">
                        <h2>"Routes since start, slowest first"</h2>
                        <p class="muted small">"Time to response headers, per matched route; errors are 5xx answers."</p>
                        {route_table(&r.metrics.routes, "routes")}
                    </section>
                }
                    .into_any()
            })}
        </PerfShell>
    }
}
