//! What the performance pages share: the section navigation around each page, the report
//! loader, tables, figure lists and the formatting of the report's values.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::{
    dto::perf::{PerfReport, RouteRow},
    server_fns::admin::performance_report,
    ui::components::header::AppHeader,
};

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

/// What a figure not measured (yet) shows as.
pub(super) const NOTHING: &str = "—";

/// A figure as the pages have always written it: two decimals when it has a fraction,
/// otherwise one (`80.0`), so whole and fractional figures stay apart.
pub(super) fn decimal(f: f64) -> String {
    if !f.is_finite() {
        NOTHING.into()
    } else if f.fract() != 0.0 {
        format!("{f:.2}")
    } else {
        format!("{f:.1}")
    }
}

/// A figure that may be missing: written by `show`, or as [`NOTHING`].
pub(super) fn or_nothing<T>(v: Option<T>, show: impl FnOnce(T) -> String) -> String {
    v.map_or_else(|| NOTHING.into(), show)
}

pub(super) fn ms(v: impl Into<Option<f64>>) -> String {
    or_nothing(v.into(), |m| format!("{m:.1} ms"))
}

/// A share 0–1 as a percentage.
pub(super) fn pct(v: impl Into<Option<f64>>) -> String {
    or_nothing(v.into(), |r| format!("{:.1} %", r * 100.0))
}

pub(super) fn secs_as_ms(v: impl Into<Option<f64>>) -> String {
    or_nothing(v.into(), |s| format!("{:.1} ms", s * 1000.0))
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
    body: impl Fn(PerfReport) -> AnyView + Send + Sync + Clone + 'static,
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

/// Routes with their request count, error rate and latency percentiles.
pub(super) fn route_table<'a>(
    list: impl IntoIterator<Item = &'a RouteRow>,
    testid: &'static str,
) -> AnyView {
    let body = list
        .into_iter()
        .map(|r| {
            vec![
                r.route.clone(),
                r.requests.to_string(),
                pct(r.error_rate),
                ms(r.p50_ms),
                ms(r.p95_ms),
                ms(r.p99_ms),
                ms(r.max_ms),
            ]
        })
        .collect();
    table(
        &["Route", "Requests", "Errors", "p50", "p95", "p99", "Max"],
        body,
        testid,
    )
}
