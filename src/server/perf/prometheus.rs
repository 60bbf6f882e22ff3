//! Prometheus text exposition (format 0.0.4) for `GET /metrics`.
//!
//! Labels stay low-cardinality: `route` is the matched route *template* (a fixed set),
//! `strategy` and `job` are fixed names, `component` the five score components. SQL
//! statements are not labels (their text is unbounded in principle); the statement table is
//! in the JSON API.

use std::fmt::Write as _;

use super::{
    Evaluation, JobStats,
    collect::RouteSnapshot,
    histogram::{BOUNDS_US, Snapshot, is_exported_bound},
    system::SystemFigures,
};
use crate::server::cache::CacheStats;

pub struct Inputs<'a> {
    pub routes: &'a [RouteSnapshot],
    pub queries: &'a Snapshot,
    pub slow_queries: u64,
    pub cache: &'a CacheStats,
    pub jobs: &'a [(&'static str, JobStats)],
    pub system: Option<&'a SystemFigures>,
    pub db_connections: u32,
    pub in_flight: i64,
    pub connections: u64,
    pub connections_parked: u64,
    pub evaluation: Option<&'a Evaluation>,
    pub open_alerts: usize,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// One metric family: `# HELP` and `# TYPE` lines, then its samples. `render` lists the
/// families and one loop writes them, so every family is written the same way.
struct Family<'a> {
    name: &'static str,
    kind: &'static str,
    help: &'static str,
    samples: Vec<Sample<'a>>,
}

/// One series of a family: a number on one line, or a histogram's bucket, sum and count
/// lines. At most one label; its value is escaped when written.
struct Sample<'a> {
    label: Option<(&'static str, String)>,
    value: Value<'a>,
}

enum Value<'a> {
    /// Already formatted, so each figure keeps its own precision.
    Number(String),
    Histogram(&'a Snapshot),
}

impl<'a> Family<'a> {
    fn counter(name: &'static str, help: &'static str) -> Self {
        Self::new(name, "counter", help)
    }

    fn gauge(name: &'static str, help: &'static str) -> Self {
        Self::new(name, "gauge", help)
    }

    fn histogram(name: &'static str, help: &'static str) -> Self {
        Self::new(name, "histogram", help)
    }

    fn new(name: &'static str, kind: &'static str, help: &'static str) -> Self {
        Family {
            name,
            kind,
            help,
            samples: Vec::new(),
        }
    }

    /// The family's only sample, without labels.
    fn value(mut self, v: impl std::fmt::Display) -> Self {
        self.samples.push(Sample {
            label: None,
            value: Value::Number(v.to_string()),
        });
        self
    }

    /// A sample per item, labelled `label`, from the item's label value and figure.
    fn each<T, V: std::fmt::Display>(
        mut self,
        label: &'static str,
        items: impl IntoIterator<Item = T>,
        of: impl Fn(T) -> (String, V),
    ) -> Self {
        self.samples.extend(items.into_iter().map(|item| {
            let (name, v) = of(item);
            Sample {
                label: Some((label, name)),
                value: Value::Number(v.to_string()),
            }
        }));
        self
    }

    fn histograms(
        mut self,
        label: Option<&'static str>,
        items: impl IntoIterator<Item = (String, &'a Snapshot)>,
    ) -> Self {
        self.samples
            .extend(items.into_iter().map(|(name, h)| Sample {
                label: label.map(|l| (l, name)),
                value: Value::Histogram(h),
            }));
        self
    }

    fn write(&self, out: &mut String) {
        let name = self.name;
        let _ = writeln!(out, "# HELP {name} {}", self.help);
        let _ = writeln!(out, "# TYPE {name} {}", self.kind);
        for s in &self.samples {
            let labels = s
                .label
                .as_ref()
                .map(|(k, v)| format!("{k}=\"{}\"", escape(v)))
                .unwrap_or_default();
            match &s.value {
                Value::Number(v) if labels.is_empty() => {
                    let _ = writeln!(out, "{name} {v}");
                }
                Value::Number(v) => {
                    let _ = writeln!(out, "{name}{{{labels}}} {v}");
                }
                Value::Histogram(h) => histogram(out, name, &labels, h),
            }
        }
    }
}

fn histogram(out: &mut String, name: &str, labels: &str, h: &Snapshot) {
    let sep = if labels.is_empty() { "" } else { "," };
    let mut cumulative = 0u64;
    for (i, c) in h.counts.iter().enumerate() {
        cumulative += c;
        if is_exported_bound(i) {
            let le = BOUNDS_US[i] as f64 / 1e6;
            let _ = writeln!(
                out,
                "{name}_bucket{{{labels}{sep}le=\"{le}\"}} {cumulative}"
            );
        }
    }
    let _ = writeln!(
        out,
        "{name}_bucket{{{labels}{sep}le=\"+Inf\"}} {cumulative}"
    );
    let _ = writeln!(out, "{name}_sum{{{labels}}} {}", h.sum_us as f64 / 1e6);
    let _ = writeln!(out, "{name}_count{{{labels}}} {cumulative}");
}

pub fn render(i: &Inputs<'_>) -> String {
    let mut out = String::with_capacity(16 * 1024);
    for family in families(i) {
        family.write(&mut out);
    }
    out
}

/// Every family, in exposition order. Process figures and the score appear only once
/// measured: a missing series is better than a made-up zero.
fn families<'a>(i: &Inputs<'a>) -> Vec<Family<'a>> {
    let routes = i.routes;
    let strategies = &i.cache.strategies;
    let jobs = i.jobs;
    let mut out = vec![
        Family::counter(
            "headroom_http_requests_total",
            "Requests answered, by matched route.",
        )
        .each("route", routes, |r| (r.route.clone(), r.requests())),
        Family::counter(
            "headroom_http_server_errors_total",
            "Responses with a 5xx status, by matched route.",
        )
        .each("route", routes, |r| (r.route.clone(), r.errors)),
        Family::counter(
            "headroom_http_client_errors_total",
            "Responses with a 4xx status, by matched route.",
        )
        .each("route", routes, |r| (r.route.clone(), r.client_errors)),
        Family::histogram(
            "headroom_http_request_duration_seconds",
            "Time to response headers, by matched route.",
        )
        .histograms(
            Some("route"),
            routes.iter().map(|r| (r.route.clone(), &r.latency)),
        ),
        Family::gauge(
            "headroom_http_requests_in_flight",
            "Requests being answered.",
        )
        .value(i.in_flight),
        Family::gauge(
            "headroom_http_connections_open",
            "Client connections open, idle keep-alive ones included.",
        )
        .value(i.connections),
        Family::gauge(
            "headroom_http_connections_parked",
            "Of the open connections, those idle between requests and holding no HTTP state.",
        )
        .value(i.connections_parked),
        Family::histogram(
            "headroom_db_query_duration_seconds",
            "SQL statement time, all statements.",
        )
        .histograms(None, [(String::new(), i.queries)]),
        Family::counter(
            "headroom_db_slow_queries_total",
            "Statements above the slow-query threshold.",
        )
        .value(i.slow_queries),
        Family::gauge(
            "headroom_db_connections",
            "Open database connections (busy and idle).",
        )
        .value(i.db_connections),
        Family::counter(
            "headroom_cache_hits_total",
            "Cache reads answered by a tier, by strategy.",
        )
        .each("strategy", strategies, |s| (s.strategy.to_owned(), s.hits)),
        Family::counter(
            "headroom_cache_misses_total",
            "Cache reads that had to compute, by strategy.",
        )
        .each("strategy", strategies, |s| {
            (s.strategy.to_owned(), s.misses)
        }),
        Family::gauge(
            "headroom_cache_memory_bytes",
            "Bytes held by the in-process cache tier.",
        )
        .value(i.cache.memory.bytes),
        Family::counter("headroom_job_runs_total", "Background job runs, by job.").each(
            "job",
            jobs,
            |(name, j)| (name.to_string(), j.runs),
        ),
        Family::counter(
            "headroom_job_failures_total",
            "Background job runs that failed, by job.",
        )
        .each("job", jobs, |(name, j)| (name.to_string(), j.failures)),
        Family::counter(
            "headroom_job_duration_seconds_total",
            "Time spent in background job runs, by job.",
        )
        .each("job", jobs, |(name, j)| {
            (name.to_string(), j.total_ms / 1000.0)
        }),
    ];
    if let Some(s) = i.system {
        out.extend(s.rss_mb.map(|rss| {
            Family::gauge(
                "headroom_process_resident_memory_bytes",
                "Resident memory of this process.",
            )
            .value((rss * 1_048_576.0).round())
        }));
        out.extend(s.cpu_percent.map(|cpu| {
            Family::gauge(
                "headroom_process_cpu_percent",
                "CPU used by this process over the last sample, % of one core.",
            )
            .value(format!("{cpu:.2}"))
        }));
        out.extend(s.disk_free_mb.map(|free| {
            Family::gauge(
                "headroom_data_disk_free_bytes",
                "Free space on the data directory's file system.",
            )
            .value((free * 1_048_576.0).round())
        }));
        out.extend(s.open_files.map(|files| {
            Family::gauge(
                "headroom_process_open_fds",
                "Open file descriptors (sockets included).",
            )
            .value(files)
        }));
    }
    if let Some(e) = i.evaluation {
        out.push(
            Family::gauge("headroom_health_score", "Health score, 0-100.").value(e.health.score),
        );
        out.push(
            Family::gauge(
                "headroom_health_component_score",
                "Health score components, 0-100 each.",
            )
            .each("component", &e.health.components, |c| {
                (c.name.to_owned(), c.score)
            }),
        );
    }
    out.push(
        Family::gauge(
            "headroom_alerts_open",
            "Performance alerts not yet resolved.",
        )
        .value(i.open_alerts),
    );
    out
}
