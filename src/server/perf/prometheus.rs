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
    pub evaluation: Option<&'a Evaluation>,
    pub open_alerts: usize,
}

fn escape(v: &str) -> String {
    v.replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
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

    header(
        &mut out,
        "headroom_http_requests_total",
        "counter",
        "Requests answered, by matched route.",
    );
    for r in i.routes {
        let _ = writeln!(
            out,
            "headroom_http_requests_total{{route=\"{}\"}} {}",
            escape(&r.route),
            r.requests()
        );
    }
    header(
        &mut out,
        "headroom_http_server_errors_total",
        "counter",
        "Responses with a 5xx status, by matched route.",
    );
    for r in i.routes {
        let _ = writeln!(
            out,
            "headroom_http_server_errors_total{{route=\"{}\"}} {}",
            escape(&r.route),
            r.errors
        );
    }
    header(
        &mut out,
        "headroom_http_client_errors_total",
        "counter",
        "Responses with a 4xx status, by matched route.",
    );
    for r in i.routes {
        let _ = writeln!(
            out,
            "headroom_http_client_errors_total{{route=\"{}\"}} {}",
            escape(&r.route),
            r.client_errors
        );
    }
    header(
        &mut out,
        "headroom_http_request_duration_seconds",
        "histogram",
        "Time to response headers, by matched route.",
    );
    for r in i.routes {
        histogram(
            &mut out,
            "headroom_http_request_duration_seconds",
            &format!("route=\"{}\"", escape(&r.route)),
            &r.latency,
        );
    }
    header(
        &mut out,
        "headroom_http_requests_in_flight",
        "gauge",
        "Requests being answered.",
    );
    let _ = writeln!(out, "headroom_http_requests_in_flight {}", i.in_flight);

    header(
        &mut out,
        "headroom_db_query_duration_seconds",
        "histogram",
        "SQL statement time, all statements.",
    );
    histogram(
        &mut out,
        "headroom_db_query_duration_seconds",
        "",
        i.queries,
    );
    header(
        &mut out,
        "headroom_db_slow_queries_total",
        "counter",
        "Statements above the slow-query threshold.",
    );
    let _ = writeln!(out, "headroom_db_slow_queries_total {}", i.slow_queries);
    header(
        &mut out,
        "headroom_db_connections",
        "gauge",
        "Open database connections (busy and idle).",
    );
    let _ = writeln!(out, "headroom_db_connections {}", i.db_connections);

    header(
        &mut out,
        "headroom_cache_hits_total",
        "counter",
        "Cache reads answered by a tier, by strategy.",
    );
    for s in &i.cache.strategies {
        let _ = writeln!(
            out,
            "headroom_cache_hits_total{{strategy=\"{}\"}} {}",
            s.strategy, s.hits
        );
    }
    header(
        &mut out,
        "headroom_cache_misses_total",
        "counter",
        "Cache reads that had to compute, by strategy.",
    );
    for s in &i.cache.strategies {
        let _ = writeln!(
            out,
            "headroom_cache_misses_total{{strategy=\"{}\"}} {}",
            s.strategy, s.misses
        );
    }
    header(
        &mut out,
        "headroom_cache_memory_bytes",
        "gauge",
        "Bytes held by the in-process cache tier.",
    );
    let _ = writeln!(out, "headroom_cache_memory_bytes {}", i.cache.memory.bytes);

    header(
        &mut out,
        "headroom_job_runs_total",
        "counter",
        "Background job runs, by job.",
    );
    for (name, j) in i.jobs {
        let _ = writeln!(out, "headroom_job_runs_total{{job=\"{name}\"}} {}", j.runs);
    }
    header(
        &mut out,
        "headroom_job_failures_total",
        "counter",
        "Background job runs that failed, by job.",
    );
    for (name, j) in i.jobs {
        let _ = writeln!(
            out,
            "headroom_job_failures_total{{job=\"{name}\"}} {}",
            j.failures
        );
    }
    header(
        &mut out,
        "headroom_job_duration_seconds_total",
        "counter",
        "Time spent in background job runs, by job.",
    );
    for (name, j) in i.jobs {
        let _ = writeln!(
            out,
            "headroom_job_duration_seconds_total{{job=\"{name}\"}} {}",
            j.total_ms / 1000.0
        );
    }

    if let Some(s) = i.system {
        if let Some(rss) = s.rss_mb {
            header(
                &mut out,
                "headroom_process_resident_memory_bytes",
                "gauge",
                "Resident memory of this process.",
            );
            let _ = writeln!(
                out,
                "headroom_process_resident_memory_bytes {}",
                (rss * 1_048_576.0).round()
            );
        }
        if let Some(cpu) = s.cpu_percent {
            header(
                &mut out,
                "headroom_process_cpu_percent",
                "gauge",
                "CPU used by this process over the last sample, % of one core.",
            );
            let _ = writeln!(out, "headroom_process_cpu_percent {cpu:.2}");
        }
        if let Some(free) = s.disk_free_mb {
            header(
                &mut out,
                "headroom_data_disk_free_bytes",
                "gauge",
                "Free space on the data directory's file system.",
            );
            let _ = writeln!(
                out,
                "headroom_data_disk_free_bytes {}",
                (free * 1_048_576.0).round()
            );
        }
        if let Some(files) = s.open_files {
            header(
                &mut out,
                "headroom_process_open_fds",
                "gauge",
                "Open file descriptors (sockets included).",
            );
            let _ = writeln!(out, "headroom_process_open_fds {files}");
        }
    }

    if let Some(e) = i.evaluation {
        header(
            &mut out,
            "headroom_health_score",
            "gauge",
            "Health score, 0-100.",
        );
        let _ = writeln!(out, "headroom_health_score {}", e.health.score);
        header(
            &mut out,
            "headroom_health_component_score",
            "gauge",
            "Health score components, 0-100 each.",
        );
        for c in &e.health.components {
            let _ = writeln!(
                out,
                "headroom_health_component_score{{component=\"{}\"}} {}",
                c.name, c.score
            );
        }
    }
    header(
        &mut out,
        "headroom_alerts_open",
        "gauge",
        "Performance alerts not yet resolved.",
    );
    let _ = writeln!(out, "headroom_alerts_open {}", i.open_alerts);
    out
}
