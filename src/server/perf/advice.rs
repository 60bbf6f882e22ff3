//! Recommendations that name what to look at: the slowest routes, the statement with the
//! most slow runs, a cache strategy that misses, the route with the most errors.

use super::{
    collect::RouteSnapshot,
    evidence::{MIN_ROUTE_REQUESTS, MIN_STRATEGY_READS, quantile_ms},
    sql::StatementSnapshot,
    thresholds::Thresholds,
};
use crate::server::cache::CacheStats;

/// How many slow routes a recommendation names, slowest first.
const SLOW_ROUTES_NAMED: usize = 3;

pub fn recommendations(
    routes: &[RouteSnapshot],
    statements: &[StatementSnapshot],
    cache: &CacheStats,
    memory_mb: Option<f64>,
    t: &Thresholds,
) -> Vec<String> {
    let mut out = Vec::new();
    let slow_ms = t.slow_request_threshold * 1000.0;
    // The few slowest, not only the slowest: a route that is slow by design (sign-in's
    // deliberately costly password hash) must not hide the one that needs the work.
    let mut slow: Vec<(&RouteSnapshot, f64)> = routes
        .iter()
        .filter_map(|r| Some((r, quantile_ms(&r.latency, 0.95, MIN_ROUTE_REQUESTS)?)))
        .filter(|(_, p95)| *p95 > slow_ms)
        .collect();
    slow.sort_by(|a, b| b.1.total_cmp(&a.1));
    for (r, p95) in slow.into_iter().take(SLOW_ROUTES_NAMED) {
        out.push(format!(
            "Route {} answers in {p95:.0} ms at p95 (threshold {slow_ms:.0} ms): profile it, cache its result, or move work off the request.",
            r.route
        ));
    }
    let erring = routes
        .iter()
        .filter(|r| r.errors > 0 && r.requests() >= MIN_ROUTE_REQUESTS)
        .max_by_key(|r| r.errors);
    if let Some(r) = erring {
        let rate = r.errors as f64 / r.requests().max(1) as f64;
        if rate > t.error_rate_threshold {
            out.push(format!(
                "Route {} fails {:.1} % of its requests ({} server errors): check the logs for its request ids.",
                r.route,
                rate * 100.0,
                r.errors
            ));
        }
    }
    let worst_sql = statements
        .iter()
        .filter(|s| s.slow > 0)
        .max_by_key(|s| (s.slow, s.latency.sum_us));
    if let Some(s) = worst_sql {
        out.push(format!(
            "Statement `{}` ran {} time(s) above the slow-query threshold ({:.0} ms, longest {:.0} ms): add an index for its filter or cache its result.",
            s.statement,
            s.slow,
            t.slow_query_threshold * 1000.0,
            s.latency.max_us as f64 / 1000.0
        ));
    }
    for st in &cache.strategies {
        let reads = st.hits + st.misses;
        if reads >= MIN_STRATEGY_READS
            && st.hit_rate.is_some_and(|h| h < t.cache_hit_rate_threshold)
        {
            out.push(format!(
                "Cache strategy '{}' answers only {:.0} % of reads (TTL {} s): lengthen its TTL with HEADROOM_CACHE_TTL={}=…, or warm it ahead of the morning.",
                st.strategy,
                st.hit_rate.unwrap_or(0.0) * 100.0,
                st.ttl_secs,
                st.strategy
            ));
        }
    }
    if let Some(m) = memory_mb
        && m > 0.8 * t.high_memory_threshold
    {
        out.push(format!(
            "Memory is at {m:.0} MB of {:.0} MB allowed: lower HEADROOM_MEMORY_CACHE_MB or raise the threshold.",
            t.high_memory_threshold
        ));
    }
    if out.is_empty() {
        out.push("No action needed: every figure is within its threshold.".into());
    }
    out
}

#[cfg(test)]
mod tests {
    use std::{collections::HashMap, time::Duration};

    use super::*;
    use crate::server::{cache::Cache, config::Settings, perf::histogram::Histogram};

    fn route(name: &str, ms: u64) -> RouteSnapshot {
        let h = Histogram::default();
        for _ in 0..20 {
            h.record(Duration::from_millis(ms));
        }
        RouteSnapshot {
            route: name.into(),
            latency: h.snapshot(),
            errors: 0,
            client_errors: 0,
            pages: 0,
        }
    }

    #[tokio::test]
    async fn a_handful_of_reads_or_requests_is_not_advised_on() {
        let settings =
            Settings::from_sources(HashMap::new(), None, "127.0.0.1:0".parse().expect("addr"))
                .expect("default settings");
        let cache = Cache::new(crate::server::startup::cache_options(&settings)).expect("cache");
        // Five outlook reads, all misses: 0 % for the outlook strategy.
        for i in 0..5 {
            let key = format!("outlook:u{i}");
            let _: Result<_, serde_json::Error> = cache
                .get_or_compute_json(
                    crate::server::cache::Strategy::Outlook,
                    &key,
                    &[],
                    || async { Ok(1) },
                )
                .await;
        }
        let few_slow = Histogram::default();
        for _ in 0..3 {
            few_slow.record(Duration::from_millis(900));
        }
        let routes = [RouteSnapshot {
            route: "/slow-once".into(),
            latency: few_slow.snapshot(),
            errors: 2,
            client_errors: 0,
            pages: 0,
        }];
        let recs = recommendations(
            &routes,
            &[],
            &cache.stats().await,
            None,
            &Thresholds::production(),
        );
        assert_eq!(
            recs,
            ["No action needed: every figure is within its threshold."]
        );
    }

    #[tokio::test]
    async fn the_slowest_routes_are_named_slowest_first() {
        let settings =
            Settings::from_sources(HashMap::new(), None, "127.0.0.1:0".parse().expect("addr"))
                .expect("default settings");
        let cache = Cache::new(crate::server::startup::cache_options(&settings))
            .expect("cache")
            .stats()
            .await;
        let routes = [
            route("/fast", 5),
            route("/login", 400),
            route("/a", 150),
            route("/b", 250),
            route("/c", 120),
        ];
        let t = Thresholds {
            slow_request_threshold: 0.1,
            ..Thresholds::production()
        };
        let named: Vec<String> = recommendations(&routes, &[], &cache, None, &t)
            .iter()
            .filter_map(|r| r.strip_prefix("Route "))
            .filter_map(|r| r.split_once(' ').map(|(route, _)| route.to_owned()))
            .collect();
        assert_eq!(named, ["/login", "/b", "/a"]);
    }
}
