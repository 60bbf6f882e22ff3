//! What the performance pages share: the section navigation around each page, the report
//! loader, tables, figure lists and the formatting of the report's values.

use leptos::prelude::*;
use leptos_meta::Title;
use serde_json::Value;

use crate::{server_fns::admin::performance_report, ui::components::header::AppHeader};

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Section {
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

pub(super) fn text(v: &Value) -> String {
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

pub(super) fn ms(v: &Value) -> String {
    v.as_f64().map_or("—".into(), |m| format!("{m:.1} ms"))
}

pub(super) fn pct(v: &Value) -> String {
    v.as_f64()
        .map_or("—".into(), |r| format!("{:.1} %", r * 100.0))
}

pub(super) fn secs_as_ms(v: &Value) -> String {
    v.as_f64()
        .map_or("—".into(), |s| format!("{:.1} ms", s * 1000.0))
}

pub(super) fn rows(v: &Value) -> Vec<Value> {
    v.as_array().cloned().unwrap_or_default()
}

/// A table that scrolls sideways on a phone.
pub(super) fn table(
    head: &[&'static str],
    body: Vec<Vec<String>>,
    testid: &'static str,
) -> AnyView {
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

pub(super) fn figures(list: Vec<(&'static str, String)>) -> impl IntoView {
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
pub(super) fn PerfShell(section: Section, children: ChildrenFn) -> impl IntoView {
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
pub(super) fn with_report(
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

pub(super) fn route_table(list: &[Value], testid: &'static str) -> AnyView {
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
