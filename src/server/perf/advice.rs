//! Recommendations that name what to look at: the slowest route, the statement with the
//! most slow runs, a cache strategy that misses, the route with the most errors.

use super::{collect::RouteSnapshot, sql::StatementSnapshot, thresholds::Thresholds};
use crate::server::cache::CacheStats;

/// Reads below this many are too few to judge a cache strategy by.
const MIN_CACHE_READS: u64 = 20;

pub fn recommendations(
    routes: &[RouteSnapshot],
    statements: &[StatementSnapshot],
    cache: &CacheStats,
    memory_mb: Option<f64>,
    t: &Thresholds,
) -> Vec<String> {
    let mut out = Vec::new();
    let slow_ms = t.slow_request_threshold * 1000.0;
    let slowest = routes
        .iter()
        .filter_map(|r| Some((r, r.latency.quantile_ms(0.95)?)))
        .filter(|(_, p95)| *p95 > slow_ms)
        .max_by(|a, b| a.1.total_cmp(&b.1));
    if let Some((r, p95)) = slowest {
        out.push(format!(
            "Route {} answers in {p95:.0} ms at p95 (threshold {slow_ms:.0} ms): profile it, cache its result, or move work off the request.",
            r.route
        ));
    }
    let erring = routes
        .iter()
        .filter(|r| r.errors > 0)
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
        if reads >= MIN_CACHE_READS && st.hit_rate.is_some_and(|h| h < t.cache_hit_rate_threshold) {
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
