//! How much must have happened before a figure is judged. A fresh or idle server has
//! little to go on: its first cache reads are all misses (0 % hit rate), and one slow
//! request among three is its p95. Judged on that, it raised a critical "cache hit rate
//! 0 %" alert five seconds after start and advised lengthening a TTL after a handful of
//! reads. Below these counts a figure is "not measured": no score penalty, no alert, no
//! recommendation.

use super::histogram::Snapshot;

/// Requests in the evaluation window before its p95 counts.
pub const MIN_REQUESTS: u64 = 20;
/// Requests in the window before its error rate counts: one failure among a first
/// minute's few dozen requests is several per cent, and says little.
pub const MIN_REQUESTS_FOR_ERRORS: u64 = 100;
/// Statements in the window before their p95 counts.
pub const MIN_STATEMENTS: u64 = 20;
/// Cache reads in the window before the hit rate counts.
pub const MIN_CACHE_READS: u64 = 50;
/// Reads of one cache strategy since start before it is advised on: a strategy read a
/// few times a day (the outlook, 24 h TTL) misses on each first read by design.
pub const MIN_STRATEGY_READS: u64 = 200;
/// Requests of one route before its p95 or its errors are named in advice.
pub const MIN_ROUTE_REQUESTS: u64 = 20;

/// `figure`, when `count` reaches `min`.
pub fn enough<T>(count: u64, min: u64, figure: Option<T>) -> Option<T> {
    figure.filter(|_| count >= min)
}

/// The `q` quantile of `s` in milliseconds, when it holds at least `min` observations.
pub fn quantile_ms(s: &Snapshot, q: f64, min: u64) -> Option<f64> {
    enough(s.count(), min, s.quantile_ms(q))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_figure_counts_from_its_minimum() {
        assert_eq!(enough(19, MIN_REQUESTS, Some(1.0)), None);
        assert_eq!(enough(20, MIN_REQUESTS, Some(1.0)), Some(1.0));
        assert_eq!(enough::<f64>(500, MIN_REQUESTS, None), None);
    }
}
