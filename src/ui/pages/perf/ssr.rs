//! `/admin/performance/ssr`: server-rendered pages and static assets.

use leptos::prelude::*;

use super::shared::{PerfShell, Section, route_table, with_report};

#[component]
pub fn PerfSsrPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Ssr>
            {with_report(5, |r| {
                let assets = r.metrics.routes.iter().filter(|x| x.route.starts_with("/pkg"));
                view! {
                    <section class="card">
                        <h2>"Server-rendered pages"</h2>
                        <p class="muted small">"Time until the page starts streaming, per page route."</p>
                        {route_table(&r.metrics.ssr, "ssr")}
                    </section>
                    <section class="card">
                        <h2>"Static assets"</h2>
                        {route_table(assets, "assets")}
                    </section>
                }
                    .into_any()
            })}
        </PerfShell>
    }
}
