//! `/admin/performance/system`: the process, background jobs and the thresholds form.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use super::shared::{PerfShell, Section, figures, ms, rows, table, text, with_report};

#[component]
pub fn PerfSystemPage() -> impl IntoView {
    let query = use_query_map();
    let saved = move || query.with(|q| q.get("saved")).is_some();
    let invalid = move || query.with(|q| q.get("invalid"));
    view! {
        <PerfShell section=Section::System>
            {move || saved().then(|| view! { <p class="notice" role="status">"Thresholds saved."</p> })}
            {move || invalid().map(|f| view! { <p class="notice error" role="alert">{format!("Not saved: {f} is out of range.")}</p> })}
            {with_report(5, system)}
        </PerfShell>
    }
}

fn system(r: Value) -> AnyView {
    let s = &r["metrics"]["system"];
    let t = r["thresholds"].clone();
    let jobs = rows(&r["metrics"]["jobs"])
        .iter()
        .map(|j| {
            vec![
                text(&j["job"]),
                text(&j["runs"]),
                text(&j["failures"]),
                ms(&j["mean_ms"]),
                ms(&j["max_ms"]),
                text(&j["last_run_at"]),
            ]
        })
        .collect();
    let preset = t["preset"].as_str().unwrap_or("custom").to_owned();
    let field = move |name: &'static str, label: &'static str, step: &'static str| {
        let value = text(&t[name]);
        view! {
            <label for=name>{label}</label>
            <input id=name name=name type="number" step=step min="0" value=value />
        }
    };
    view! {
        <section class="card">
            <h2>"Process"</h2>
            {figures(vec![
                ("Memory (RSS)", s["rss_mb"].as_f64().map_or("—".into(), |m| format!("{m:.0} MB"))),
                ("CPU", s["cpu_percent"].as_f64().map_or("—".into(), |c| format!("{c:.1} %"))),
                ("Disk free", s["disk_free_mb"].as_f64().map_or("—".into(), |m| format!("{:.1} GB", m / 1024.0))),
                ("Open files", text(&s["open_files"])),
                ("Threads", text(&s["threads"])),
                ("DB connections", text(&s["db_connections"])),
                ("Requests in flight", text(&s["http_in_flight"])),
            ])}
        </section>
        <section class="card">
            <h2>"Background jobs"</h2>
            {table(&["Job", "Runs", "Failures", "Mean", "Max", "Last run"], jobs, "jobs")}
        </section>
        <section class="card">
            <h2>"Alert thresholds"</h2>
            <form method="post" action="/admin/performance/thresholds" class="stack" data-testid="thresholds">
                <label for="preset">"Preset"</label>
                <select id="preset" name="preset">
                    {["custom", "production", "development"]
                        .into_iter()
                        .map(|p| view! { <option value=p selected=p == preset>{p}</option> })
                        .collect_view()}
                </select>
                <p class="muted small">"Choose a preset to apply it, or keep custom and set each value."</p>
                {field("slow_request_threshold", "p95 response time (s)", "0.001")}
                {field("slow_query_threshold", "Slow statement (s)", "0.0001")}
                {field("high_memory_threshold", "Memory (MB)", "1")}
                {field("error_rate_threshold", "Error rate (0–1)", "0.001")}
                {field("cache_hit_rate_threshold", "Lowest cache hit rate (0–1)", "0.01")}
                <button type="submit" class="button">"Save thresholds"</button>
            </form>
        </section>
    }
    .into_any()
}
