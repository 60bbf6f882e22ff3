//! `/admin/performance/ssr`: server-rendered pages and static assets.

use leptos::prelude::*;
use serde_json::Value;

use super::shared::{PerfShell, Section, route_table, rows, with_report};

#[component]
pub fn PerfSsrPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Ssr>
            {with_report(5, |r| {
                let ssr = rows(&r["metrics"]["ssr"]);
                let assets: Vec<Value> = rows(&r["metrics"]["routes"])
                    .into_iter()
                    .filter(|x| x["route"].as_str().is_some_and(|p| p.starts_with("/pkg")))
                    .collect();
                view! {
                    <section class="card">
                        <h2>"Server-rendered pages"</h2>
                        <p class="muted small">"Time until the page starts streaming, per page route."</p>
                        {route_table(&ssr, "ssr")}
                    </section>
                    <section class="card">
                        <h2>"Static assets"</h2>
                        {route_table(&assets, "assets")}
                    </section>
                }
                    .into_any()
            })}
        </PerfShell>
    }
}
