//! The server's own figures as the wire types of `dto::perf`. The server keeps its types
//! (static names, no `Deserialize`); the wire types are owned plain data that the pages
//! can decode, so the copy happens here, once.

use crate::{
    dto::perf::{
        Alert, CacheMemoryTier, CacheRedisTier, CacheReplay, CacheReport, CacheStrategy,
        ScoreComponent,
    },
    server::{
        cache::{CacheStats, StrategyStats},
        storage::perf::AlertRow,
    },
};

use super::score::Component;

/// RFC 3339 of Unix seconds.
pub fn iso(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Two decimals: enough for milliseconds and rates on a page, and stable in tests.
pub fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

pub fn r2o(v: Option<f64>) -> Option<f64> {
    v.map(r2)
}

impl From<&AlertRow> for Alert {
    fn from(a: &AlertRow) -> Self {
        Alert {
            id: a.id,
            kind: a.metric.clone(),
            metric: a.metric.clone(),
            severity: a.severity.clone(),
            message: a.message.clone(),
            value: a.value,
            threshold: a.threshold,
            ratio: r2(a.ratio),
            timestamp: iso(a.raised_at),
            updated_at: iso(a.updated_at),
            acknowledged: a.acknowledged_at.is_some(),
            acknowledged_at: a.acknowledged_at.map(iso),
            acknowledged_by: a.acknowledged_by.clone(),
            resolved: a.resolved_at.is_some(),
            resolved_at: a.resolved_at.map(iso),
            resolved_by: a.resolved_by.clone(),
        }
    }
}

impl From<&Component> for ScoreComponent {
    fn from(c: &Component) -> Self {
        ScoreComponent {
            name: c.name.into(),
            metric: c.metric.into(),
            weight: c.weight,
            value: c.value,
            unit: c.unit.into(),
            threshold: c.threshold,
            ratio: c.ratio,
            score: c.score,
            points: c.points,
        }
    }
}

pub fn components(list: &[Component]) -> Vec<ScoreComponent> {
    list.iter().map(ScoreComponent::from).collect()
}

impl From<&StrategyStats> for CacheStrategy {
    fn from(s: &StrategyStats) -> Self {
        CacheStrategy {
            strategy: s.strategy.into(),
            ttl_secs: s.ttl_secs,
            hits: s.hits,
            memory_hits: s.memory_hits,
            redis_hits: s.redis_hits,
            replay_hits: s.replay_hits,
            misses: s.misses,
            hit_rate: s.hit_rate,
            computations: s.computations,
            mean_compute_ms: s.mean_compute_ms,
            not_kept: s.not_kept,
        }
    }
}

/// The cache's statistics beside the replay table's figures, which the HTTP layer keeps.
pub fn cache_report(c: &CacheStats, replay: CacheReplay) -> CacheReport {
    {
        let (m, r) = (&c.memory, &c.redis);
        CacheReport {
            hit_rate: c.hit_rate,
            hits: c.hits,
            misses: c.misses,
            strategies: c.strategies.iter().map(CacheStrategy::from).collect(),
            memory: CacheMemoryTier {
                entries: m.entries,
                bytes: m.bytes,
                capacity_bytes: m.capacity_bytes,
                evicted: m.evicted,
                expired: m.expired,
                reads: m.reads,
                mean_read_ms: m.mean_read_ms,
            },
            redis: CacheRedisTier {
                status: r.status.into(),
                breaker: r.breaker.into(),
                calls: r.calls,
                mean_call_ms: r.mean_call_ms,
                errors: r.errors,
                skipped: r.skipped,
                used_memory_bytes: r.used_memory_bytes,
                keys: r.keys,
            },
            invalidations: c.invalidations,
            remote_invalidations: c.remote_invalidations,
            replay,
        }
    }
}
