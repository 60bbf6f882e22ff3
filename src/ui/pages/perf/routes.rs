//! `/admin/performance/routes`: every route since start, slowest first.

use leptos::prelude::*;

use super::shared::{PerfShell, Section, route_table, rows, with_report};

#[component]
pub fn PerfRoutesPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Routes>
            {with_report(5, |r| {
                let list = rows(&r["metrics"]["routes"]);
                view! {
                    <section class="card">
                        <h2>"Routes since start, slowest first"</h2>
                        <p class="muted small">"Time to response headers, per matched route; errors are 5xx answers."</p>
                        {route_table(&list, "routes")}
                    </section>
                }
                    .into_any()
            })}
        </PerfShell>
    }
}
