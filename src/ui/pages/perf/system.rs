//! `/admin/performance/system`: the process, background jobs and the thresholds form.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::shared::{PerfShell, Section, decimal, figures, ms, or_nothing, table, with_report};
use crate::dto::perf::PerfReport;

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

fn system(r: PerfReport) -> AnyView {
    let s = &r.metrics.system;
    let t = &r.thresholds;
    let jobs = r
        .metrics
        .jobs
        .iter()
        .map(|j| {
            vec![
                j.job.clone(),
                j.runs.to_string(),
                j.failures.to_string(),
                ms(j.mean_ms),
                ms(j.max_ms),
                j.last_run_at.clone(),
            ]
        })
        .collect();
    let preset = t.preset.clone();
    let field = |name: &'static str, label: &'static str, step: &'static str, value: f64| {
        let value = decimal(value);
        view! {
            <label for=name>{label}</label>
            <input id=name name=name type="number" step=step min="0" value=value />
        }
    };
    view! {
        <section class="card">
            <h2>"Process"</h2>
            {figures(vec![
                ("Memory (RSS)", or_nothing(s.rss_mb, |m| format!("{m:.0} MB"))),
                ("CPU", or_nothing(s.cpu_percent, |c| format!("{c:.1} %"))),
                ("Disk free", or_nothing(s.disk_free_mb, |m| format!("{:.1} GB", m / 1024.0))),
                ("Open files", or_nothing(s.open_files, |n| n.to_string())),
                ("Threads", or_nothing(s.threads, |n| n.to_string())),
                ("DB connections", s.db_connections.to_string()),
                ("Requests in flight", s.http_in_flight.to_string()),
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
                {field("slow_request_threshold", "p95 response time (s)", "0.001", t.slow_request_threshold)}
                {field("slow_query_threshold", "Slow statement (s)", "0.0001", t.slow_query_threshold)}
                {field("high_memory_threshold", "Memory (MB)", "1", t.high_memory_threshold)}
                {field("error_rate_threshold", "Error rate (0–1)", "0.001", t.error_rate_threshold)}
                {field("cache_hit_rate_threshold", "Lowest cache hit rate (0–1)", "0.01", t.cache_hit_rate_threshold)}
                {field("delivery_lag_threshold", "Oldest undelivered notification (s)", "1", t.delivery_lag_threshold)}
                <button type="submit" class="button">"Save thresholds"</button>
            </form>
        </section>
    }
    .into_any()
}
