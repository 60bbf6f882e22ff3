//! `/admin/performance/*`: the performance center's pages (admins only; members get 403):
//! overview (score, components, alerts, key figures, recommendations, live charts), routes,
//! queries, cache (with clear-by-pattern), SSR pages and assets, system (with jobs and the
//! thresholds form). Server-rendered from the same reports as the JSON API; only the live
//! chart is an island.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;
use serde_json::Value;

use crate::{
    dto::LivePoint,
    server_fns::admin::performance_report,
    ui::{components::header::AppHeader, islands::perf_live::PerfLive},
};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Section {
    Overview,
    Routes,
    Queries,
    Cache,
    Ssr,
    System,
}

const SECTIONS: [(Section, &str, &str); 6] = [
    (Section::Overview, "/admin/performance", "Overview"),
    (Section::Routes, "/admin/performance/routes", "Routes"),
    (Section::Queries, "/admin/performance/queries", "Queries"),
    (Section::Cache, "/admin/performance/cache", "Cache"),
    (Section::Ssr, "/admin/performance/ssr", "SSR & assets"),
    (Section::System, "/admin/performance/system", "System"),
];

fn text(v: &Value) -> String {
    match v {
        Value::Null => "—".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if f.fract() != 0.0 => format!("{f:.2}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

fn ms(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |m| format!("{m:.1} ms"))
}

fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("—".into(), |r| format!("{:.1} %", r * 100.0))
}

fn secs_as_ms(v: &Value) -> String {
    v.as_f64()
        .map_or("—".into(), |s| format!("{:.1} ms", s * 1000.0))
}

fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// A table that scrolls sideways on a phone.
fn table(head: &[&'static str], body: Vec<Vec<String>>, testid: &'static str) -> AnyView {
    if body.is_empty() {
        return view! { <p class="muted">"Nothing recorded yet."</p> }.into_any();
    }
    let head: Vec<&'static str> = head.to_vec();
    view! {
        <div class="table-scroll">
            <table class="perf-table" data-testid=testid>
                <thead>
                    <tr>{head.into_iter().map(|h| view! { <th scope="col">{h}</th> }).collect_view()}</tr>
                </thead>
                <tbody>
                    {body
                        .into_iter()
                        .map(|r| view! { <tr>{r.into_iter().map(|c| view! { <td>{c}</td> }).collect_view()}</tr> })
                        .collect_view()}
                </tbody>
            </table>
        </div>
    }
    .into_any()
}

fn figures(list: Vec<(&'static str, String)>) -> impl IntoView {
    view! {
        <dl class="perf-figures">
            {list
                .into_iter()
                .map(|(k, v)| view! { <div><dt>{k}</dt><dd>{v}</dd></div> })
                .collect_view()}
        </dl>
    }
}

#[component]
fn PerfShell(section: Section, children: ChildrenFn) -> impl IntoView {
    #[cfg(feature = "ssr")]
    crate::server_fns::require_user_or_redirect();
    let title = SECTIONS
        .iter()
        .find(|s| s.0 == section)
        .map_or("Performance", |s| s.2);
    view! {
        <Title text=format!("Performance · {title} · Headroom") />
        <AppHeader />
        <main class="page perf" id="main">
            <h1>"Performance"</h1>
            <nav class="perf-nav" aria-label="Performance sections">
                {SECTIONS
                    .iter()
                    .map(|(s, href, label)| {
                        let current = (*s == section).then_some("page");
                        view! { <a href=*href aria-current=current>{*label}</a> }
                    })
                    .collect_view()}
            </nav>
            {children()}
        </main>
    }
}

/// Loads the report and renders `body` with it, or the admins-only notice (with 403).
fn with_report(
    minutes: i64,
    body: impl Fn(Value) -> AnyView + Send + Sync + Clone + 'static,
) -> impl IntoView {
    let report = Resource::new(move || minutes, performance_report);
    view! {
        <Suspense fallback=|| view! { <p class="muted">"Loading…"</p> }>
            {move || {
                let body = body.clone();
                Suspend::new(async move {
                    match report.await {
                        Ok(r) => body(r),
                        Err(_) => {
                            view! {
                                <p class="notice error" role="alert">"This page is for administrators."</p>
                            }
                                .into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn PerfOverviewPage() -> impl IntoView {
    view! {
        <PerfShell section=Section::Overview>
            {with_report(60, overview)}
        </PerfShell>
    }
}

fn overview(r: Value) -> AnyView {
    let s = &r["summary"];
    let a = &r["analytics"];
    let score = s["health_score"].as_u64().unwrap_or(0);
    let status = s["status"].as_str().unwrap_or("unknown").to_owned();
    let k = &s["key_metrics"];
    let components: Vec<Vec<String>> = rows(&s["components"])
        .iter()
        .map(|c| {
            vec![
                c["name"].as_str().unwrap_or("").replace('_', " "),
                text(&c["weight"]),
                text(&c["value"]),
                text(&c["threshold"]),
                text(&c["score"]),
                text(&c["points"]),
            ]
        })
        .collect();
    let alerts = rows(&a["alerts"]);
    let recs: Vec<String> = rows(&a["recommendations"])
        .iter()
        .filter_map(|v| v.as_str().map(str::to_owned))
        .collect();
    let trend = a["trend"]["direction"]
        .as_str()
        .unwrap_or("unknown")
        .to_owned();
    let points: Vec<LivePoint> = rows(&a["series"])
        .into_iter()
        .filter_map(|p| serde_json::from_value(p).ok())
        .collect();
    let monitoring = s["monitoring"].as_bool().unwrap_or(true);
    view! {
        {(!monitoring).then(|| view! { <p class="notice" role="status">"Monitoring is switched off (HEADROOM_MONITORING=false): nothing is being collected."</p> })}
        <section class="card perf-score" aria-labelledby="score-h">
            <h2 id="score-h">"Health"</h2>
            <p class="perf-score-value">
                <strong data-testid="health-score" data-status=status.clone()>{score}</strong>
                <span>" / 100 · " {status} " · trend: " <span data-testid="trend">{trend}</span></span>
            </p>
            {table(&["Component", "Weight", "Value", "Threshold", "Score", "Points"], components, "components")}
        </section>
        <section class="card" aria-labelledby="key-h">
            <h2 id="key-h">"Key figures (last minute)"</h2>
            {figures(vec![
                ("Requests / s", text(&k["requests_per_second"])),
                ("Mean response", secs_as_ms(&k["avg_response_time"])),
                ("p95 response", secs_as_ms(&k["p95_response_time"])),
                ("Error rate", pct(&k["error_rate"])),
                ("Cache hit rate", pct(&k["cache_hit_rate"])),
                ("Memory", k["memory_usage_mb"].as_f64().map_or("—".into(), |m| format!("{m:.0} MB"))),
                ("DB connections", text(&k["db_connections"])),
            ])}
        </section>
        <section class="card" aria-labelledby="live-h">
            <h2 id="live-h">"Live"</h2>
            <PerfLive points=points />
        </section>
        <section class="card" aria-labelledby="alerts-h">
            <h2 id="alerts-h">"Open alerts"</h2>
            {if alerts.is_empty() {
                view! { <p class="muted" data-testid="no-alerts">"No open alerts."</p> }.into_any()
            } else {
                view! {
                    <ul class="perf-alerts" data-testid="alerts">
                        {alerts
                            .into_iter()
                            .map(|al| {
                                let id = al["id"].as_i64().unwrap_or(0);
                                let sev = al["severity"].as_str().unwrap_or("low").to_owned();
                                let acked = al["acknowledged"].as_bool().unwrap_or(false);
                                view! {
                                    <li class=format!("alert sev-{sev}")>
                                        <span class="badge">{sev.clone()}</span>
                                        " " {al["message"].as_str().unwrap_or("").to_owned()}
                                        " · since " {al["timestamp"].as_str().unwrap_or("").to_owned()}
                                        {acked.then_some(" · acknowledged")}
                                        <form method="post" action=format!("/admin/performance/alerts/{id}") class="inline">
                                            {(!acked).then(|| view! { <button type="submit" name="action" value="acknowledge" class="button quiet">"Acknowledge"</button> })}
                                            <button type="submit" name="action" value="resolve" class="button quiet">"Resolve"</button>
                                        </form>
                                    </li>
                                }
                            })
                            .collect_view()}
                    </ul>
                }
                    .into_any()
            }}
        </section>
        <section class="card" aria-labelledby="recs-h">
            <h2 id="recs-h">"Recommendations"</h2>
            <ul data-testid="recommendations">{recs.into_iter().map(|t| view! { <li>{t}</li> }).collect_view()}</ul>
        </section>
    }
    .into_any()
}

fn route_table(list: &[Value], testid: &'static str) -> AnyView {
    let body = list
        .iter()
        .map(|r| {
            vec![
                text(&r["route"]),
                text(&r["requests"]),
                pct(&r["error_rate"]),
                ms(&r["p50_ms"]),
                ms(&r["p95_ms"]),
                ms(&r["p99_ms"]),
                ms(&r["max_ms"]),
            ]
        })
        .collect();
    table(
        &["Route", "Requests", "Errors", "p50", "p95", "p99", "Max"],
        body,
        testid,
    )
}

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

#[component]
pub fn PerfCachePage() -> impl IntoView {
    let query = use_query_map();
    let cleared = move || query.with(|q| q.get("cleared"));
    let invalid = move || query.with(|q| q.get("invalid")).is_some();
    view! {
        <PerfShell section=Section::Cache>
            {move || cleared().map(|n| view! { <p class="notice" role="status">{format!("Cleared {n} entries from this instance's memory tier (and Redis, when configured).")}</p> })}
            {move || invalid().then(|| view! { <p class="notice error" role="alert">"A pattern is a key, or a prefix ending in a single * (like outlook:*)."</p> })}
            {with_report(5, |r| {
                let c = &r["metrics"]["cache"];
                let strategies = rows(&c["strategies"])
                    .iter()
                    .map(|s| vec![
                        text(&s["strategy"]),
                        text(&s["ttl_secs"]),
                        text(&s["hits"]),
                        text(&s["replay_hits"]),
                        text(&s["misses"]),
                        pct(&s["hit_rate"]),
                        text(&s["computations"]),
                        ms(&s["mean_compute_ms"]),
                    ])
                    .collect();
                view! {
                    <section class="card">
                        <h2>"Cache"</h2>
                        {figures(vec![
                            ("Hit rate", pct(&c["hit_rate"])),
                            ("Memory entries", text(&c["memory"]["entries"])),
                            ("Memory bytes", text(&c["memory"]["bytes"])),
                            ("Evicted", text(&c["memory"]["evicted"])),
                            ("Replay entries", text(&c["replay"]["entries"])),
                            ("Redis", text(&c["redis"]["status"])),
                            ("Invalidations", text(&c["invalidations"])),
                        ])}
                        <p class="muted small">"Hits include replays: requests answered again from the replay table, without the handler."</p>
                        {table(&["Strategy", "TTL s", "Hits", "Replayed", "Misses", "Hit rate", "Computed", "Mean compute"], strategies, "cache-strategies")}
                    </section>
                }
                    .into_any()
            })}
            <section class="card">
                <h2>"Clear by pattern"</h2>
                <form method="post" action="/admin/performance/cache/clear" class="stack">
                    <label for="pattern">"Key or prefix*"</label>
                    <input id="pattern" name="pattern" placeholder="outlook:*" required />
                    <button type="submit" class="button">"Clear"</button>
                </form>
            </section>
        </PerfShell>
    }
}

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
