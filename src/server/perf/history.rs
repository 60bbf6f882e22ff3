//! Samples (one per sampler tick, an hour of them in memory), chart points, per-minute
//! rows persisted for 7 days, window summaries and trend detection.

use super::{histogram::Snapshot, system::SystemFigures};
pub use crate::dto::perf::{ChartPoint, Trend};
use crate::server::storage::perf::HistoryRow;

/// How long persisted history is kept.
pub const KEEP_SECS: i64 = 7 * 86_400;

/// What happened between two ticks.
#[derive(Clone, Debug, Default)]
pub struct Sample {
    /// Unix seconds (wall clock) at the end of the interval.
    pub at: i64,
    pub secs: f64,
    pub requests: u64,
    pub errors: u64,
    pub latency: Snapshot,
    pub queries: Snapshot,
    pub slow_queries: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub system: SystemFigures,
    pub db_connections: u32,
    pub in_flight: i64,
    pub score: u32,
}

fn rate(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

fn round2(v: Option<f64>) -> Option<f64> {
    v.map(|x| (x * 100.0).round() / 100.0)
}

impl Sample {
    pub fn point(&self) -> ChartPoint {
        ChartPoint {
            t: self.at,
            requests: self.requests,
            rps: if self.secs > 0.0 {
                (self.requests as f64 / self.secs * 100.0).round() / 100.0
            } else {
                0.0
            },
            errors: self.errors,
            error_rate: rate(self.errors, self.requests),
            p50_ms: round2(self.latency.quantile_ms(0.5)),
            p95_ms: round2(self.latency.quantile_ms(0.95)),
            p99_ms: round2(self.latency.quantile_ms(0.99)),
            queries: self.queries.count(),
            query_p95_ms: round2(self.queries.quantile_ms(0.95)),
            slow_queries: self.slow_queries,
            cache_hit_rate: rate(self.cache_hits, self.cache_hits + self.cache_misses),
            rss_mb: round2(self.system.rss_mb),
            cpu_percent: round2(self.system.cpu_percent),
            db_connections: self.db_connections,
            score: self.score,
        }
    }
}

/// Several samples taken together (the evaluation window, a minute, the last 5 minutes).
#[derive(Clone, Debug, Default)]
pub struct Window {
    pub secs: f64,
    pub samples: usize,
    pub requests: u64,
    pub errors: u64,
    pub latency: Snapshot,
    pub queries: Snapshot,
    pub slow_queries: u64,
    pub cache_hits: u64,
    pub cache_misses: u64,
    pub rss_last: Option<f64>,
    pub rss_sum: f64,
    pub rss_n: u32,
    pub rss_max: Option<f64>,
    pub cpu_sum: f64,
    pub cpu_n: u32,
    pub disk_free_mb: Option<f64>,
    pub db_connections: u32,
    pub score_sum: u64,
}

impl Window {
    pub fn of<'a>(samples: impl IntoIterator<Item = &'a Sample>) -> Window {
        let mut w = Window::default();
        for s in samples {
            w.secs += s.secs;
            w.samples += 1;
            w.requests += s.requests;
            w.errors += s.errors;
            w.latency.add(&s.latency);
            w.queries.add(&s.queries);
            w.slow_queries += s.slow_queries;
            w.cache_hits += s.cache_hits;
            w.cache_misses += s.cache_misses;
            if let Some(r) = s.system.rss_mb {
                w.rss_last = Some(r);
                w.rss_sum += r;
                w.rss_n += 1;
                w.rss_max = Some(w.rss_max.map_or(r, |m: f64| m.max(r)));
            }
            if let Some(c) = s.system.cpu_percent {
                w.cpu_sum += c;
                w.cpu_n += 1;
            }
            w.disk_free_mb = s.system.disk_free_mb.or(w.disk_free_mb);
            w.db_connections = s.db_connections;
            w.score_sum += u64::from(s.score);
        }
        w
    }

    pub fn error_rate(&self) -> Option<f64> {
        rate(self.errors, self.requests)
    }

    pub fn cache_hit_rate(&self) -> Option<f64> {
        rate(self.cache_hits, self.cache_hits + self.cache_misses)
    }

    pub fn rss_mean(&self) -> Option<f64> {
        (self.rss_n > 0).then(|| self.rss_sum / f64::from(self.rss_n))
    }

    pub fn cpu_mean(&self) -> Option<f64> {
        (self.cpu_n > 0).then(|| self.cpu_sum / f64::from(self.cpu_n))
    }

    pub fn score_mean(&self) -> Option<f64> {
        (self.samples > 0).then(|| self.score_sum as f64 / self.samples as f64)
    }

    /// The minute's row for the history table.
    pub fn row(&self, minute: i64, instance: &str) -> HistoryRow {
        let i = |v: u64| i64::try_from(v).unwrap_or(i64::MAX);
        HistoryRow {
            ts: minute,
            instance: instance.to_owned(),
            requests: i(self.requests),
            errors: i(self.errors),
            p50_ms: round2(self.latency.quantile_ms(0.5)),
            p95_ms: round2(self.latency.quantile_ms(0.95)),
            p99_ms: round2(self.latency.quantile_ms(0.99)),
            queries: i(self.queries.count()),
            query_p95_ms: round2(self.queries.quantile_ms(0.95)),
            slow_queries: i(self.slow_queries),
            cache_hits: i(self.cache_hits),
            cache_misses: i(self.cache_misses),
            rss_mb: round2(self.rss_mean()),
            cpu_percent: round2(self.cpu_mean()),
            disk_free_mb: round2(self.disk_free_mb),
            db_connections: i64::from(self.db_connections),
            score: self.score_mean().map_or(100, |s| s.round() as i64),
        }
    }
}

/// A persisted minute as a chart point.
pub fn row_point(r: &HistoryRow) -> ChartPoint {
    let u = |v: i64| u64::try_from(v).unwrap_or(0);
    ChartPoint {
        t: r.ts,
        requests: u(r.requests),
        rps: (r.requests as f64 / 60.0 * 100.0).round() / 100.0,
        errors: u(r.errors),
        error_rate: rate(u(r.errors), u(r.requests)),
        p50_ms: r.p50_ms,
        p95_ms: r.p95_ms,
        p99_ms: r.p99_ms,
        queries: u(r.queries),
        query_p95_ms: r.query_p95_ms,
        slow_queries: u(r.slow_queries),
        cache_hit_rate: rate(u(r.cache_hits), u(r.cache_hits) + u(r.cache_misses)),
        rss_mb: r.rss_mb,
        cpu_percent: r.cpu_percent,
        db_connections: u32::try_from(r.db_connections).unwrap_or(0),
        score: u32::try_from(r.score).unwrap_or(0),
    }
}

fn weighted_p95(points: &[ChartPoint]) -> Option<f64> {
    let (sum, n) = points.iter().fold((0.0, 0u64), |(s, n), p| match p.p95_ms {
        Some(v) if p.requests > 0 => (s + v * p.requests as f64, n + p.requests),
        _ => (s, n),
    });
    (n > 0).then(|| sum / n as f64)
}

fn error_rate(points: &[ChartPoint]) -> Option<f64> {
    let req: u64 = points.iter().map(|p| p.requests).sum();
    let err: u64 = points.iter().map(|p| p.errors).sum();
    rate(err, req)
}

fn mean_score(points: &[ChartPoint]) -> Option<f64> {
    (!points.is_empty())
        .then(|| points.iter().map(|p| f64::from(p.score)).sum::<f64>() / points.len() as f64)
}

/// Points must be in time order.
pub fn trend(points: &[ChartPoint]) -> Trend {
    if points.len() < 4 {
        return Trend {
            direction: "unknown".into(),
            score_change: None,
            p95_change: None,
            error_rate_change: None,
        };
    }
    let (early, late) = points.split_at(points.len() / 2);
    let score_change = mean_score(late)
        .zip(mean_score(early))
        .map(|(l, e)| ((l - e) * 10.0).round() / 10.0);
    let p95_change = weighted_p95(late)
        .zip(weighted_p95(early))
        .filter(|(_, e)| *e > 0.0)
        .map(|(l, e)| ((l / e - 1.0) * 1000.0).round() / 1000.0);
    let error_rate_change = error_rate(late)
        .zip(error_rate(early))
        .map(|(l, e)| ((l - e) * 10_000.0).round() / 10_000.0);
    // Votes: the score moving by 5 points, p95 by 20 %, the error rate by a point.
    let mut vote = 0i32;
    if let Some(s) = score_change {
        vote += if s >= 5.0 {
            1
        } else if s <= -5.0 {
            -1
        } else {
            0
        };
    }
    if let Some(p) = p95_change {
        vote += if p <= -0.2 {
            1
        } else if p >= 0.2 {
            -1
        } else {
            0
        };
    }
    if let Some(e) = error_rate_change {
        vote += if e <= -0.01 {
            1
        } else if e >= 0.01 {
            -1
        } else {
            0
        };
    }
    Trend {
        direction: match vote {
            1.. => "improving",
            0 => "stable",
            _ => "degrading",
        }
        .into(),
        score_change,
        p95_change,
        error_rate_change,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(t: i64, p95: f64, score: u32) -> ChartPoint {
        ChartPoint {
            t,
            requests: 100,
            rps: 1.0,
            errors: 0,
            error_rate: Some(0.0),
            p50_ms: Some(p95 / 2.0),
            p95_ms: Some(p95),
            p99_ms: Some(p95),
            queries: 0,
            query_p95_ms: None,
            slow_queries: 0,
            cache_hit_rate: None,
            rss_mb: None,
            cpu_percent: None,
            db_connections: 1,
            score,
        }
    }

    #[test]
    fn trends() {
        let slower: Vec<ChartPoint> = (0..8)
            .map(|i| point(i, 10.0 + 40.0 * i as f64, 100 - 5 * i as u32))
            .collect();
        assert_eq!(trend(&slower).direction, "degrading");
        let mut faster = slower.clone();
        faster.reverse();
        for (i, p) in faster.iter_mut().enumerate() {
            p.t = i as i64;
        }
        assert_eq!(trend(&faster).direction, "improving");
        let flat: Vec<ChartPoint> = (0..8).map(|i| point(i, 20.0, 100)).collect();
        assert_eq!(trend(&flat).direction, "stable");
        assert_eq!(trend(&flat[..2]).direction, "unknown");
    }
}
