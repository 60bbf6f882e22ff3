//! The cache's statistics: the counters behind `GET /api/performance/cache/stats` (per
//! strategy and per tier; plain relaxed atomics: statistics may be a request behind,
//! never a lock on the hot path), and the figures made from them for that endpoint and
//! for `/health`.

use std::{
    sync::atomic::{AtomicU64, Ordering::Relaxed},
    time::Duration,
};

use serde::Serialize;

use super::strategy::{Strategy, Ttls};

#[derive(Default)]
pub struct StrategyCounters {
    pub memory_hits: AtomicU64,
    pub redis_hits: AtomicU64,
    /// Requests answered from the replay table with a value of this strategy.
    pub replay_hits: AtomicU64,
    pub misses: AtomicU64,
    pub computations: AtomicU64,
    pub compute_ns: AtomicU64,
    /// Computed while a write invalidated the cache, so deliberately not kept.
    pub not_kept: AtomicU64,
}

/// Time spent in one tier's reads.
#[derive(Default)]
pub struct Latency {
    pub ops: AtomicU64,
    pub ns: AtomicU64,
}

impl Latency {
    pub fn record(&self, took: Duration) {
        self.ops.fetch_add(1, Relaxed);
        self.ns
            .fetch_add(u64::try_from(took.as_nanos()).unwrap_or(u64::MAX), Relaxed);
    }

    pub fn mean_ms(&self) -> f64 {
        let ops = self.ops.load(Relaxed);
        if ops == 0 {
            0.0
        } else {
            self.ns.load(Relaxed) as f64 / ops as f64 / 1e6
        }
    }
}

#[derive(Default)]
pub struct Counters {
    pub strategies: [StrategyCounters; Strategy::ALL.len()],
    pub memory: Latency,
    pub memory_evicted: AtomicU64,
    pub memory_expired: AtomicU64,
    pub redis: Latency,
    pub redis_errors: AtomicU64,
    /// Calls that did not go to Redis because its breaker was open.
    pub redis_skipped: AtomicU64,
    pub invalidations: AtomicU64,
    /// Invalidations that arrived from other instances over pub/sub.
    pub remote_invalidations: AtomicU64,
}

impl Counters {
    pub fn of(&self, s: Strategy) -> &StrategyCounters {
        &self.strategies[s as usize]
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct StrategyStats {
    pub strategy: &'static str,
    pub ttl_secs: u64,
    pub hits: u64,
    pub memory_hits: u64,
    pub redis_hits: u64,
    pub replay_hits: u64,
    pub misses: u64,
    /// Share of reads answered from a cache tier, 0–1 (`null` before the first read).
    pub hit_rate: Option<f64>,
    pub computations: u64,
    pub mean_compute_ms: f64,
    pub not_kept: u64,
}

impl StrategyStats {
    pub fn from(s: Strategy, ttl: Duration, c: &StrategyCounters) -> Self {
        let memory_hits = c.memory_hits.load(Relaxed);
        let redis_hits = c.redis_hits.load(Relaxed);
        let replay_hits = c.replay_hits.load(Relaxed);
        let misses = c.misses.load(Relaxed);
        let hits = memory_hits + redis_hits + replay_hits;
        let computations = c.computations.load(Relaxed);
        StrategyStats {
            strategy: s.name(),
            ttl_secs: ttl.as_secs(),
            hits,
            memory_hits,
            redis_hits,
            replay_hits,
            misses,
            hit_rate: hit_rate(hits, misses),
            computations,
            mean_compute_ms: if computations == 0 {
                0.0
            } else {
                c.compute_ns.load(Relaxed) as f64 / computations as f64 / 1e6
            },
            not_kept: c.not_kept.load(Relaxed),
        }
    }
}

pub fn hit_rate(hits: u64, misses: u64) -> Option<f64> {
    let total = hits + misses;
    (total > 0).then(|| hits as f64 / total as f64)
}

/// What `/health` reports about the cache.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CacheStatus {
    pub status: &'static str,
    pub memory: MemoryStatus,
    pub redis: RedisStatus,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MemoryStatus {
    pub entries: u64,
    pub bytes: u64,
    pub capacity_bytes: u64,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RedisStatus {
    /// `disabled` (not configured), `ok` or `down`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub latency_ms: Option<f64>,
}

/// Everything `GET /api/performance/cache/stats` shows.
#[derive(Debug, Clone, Serialize)]
pub struct CacheStats {
    pub hit_rate: Option<f64>,
    pub hits: u64,
    pub misses: u64,
    pub strategies: Vec<StrategyStats>,
    pub memory: MemoryTierStats,
    pub redis: RedisTierStats,
    pub invalidations: u64,
    pub remote_invalidations: u64,
}

#[derive(Debug, Clone, Serialize)]
pub struct MemoryTierStats {
    pub entries: u64,
    pub bytes: u64,
    pub capacity_bytes: u64,
    pub evicted: u64,
    pub expired: u64,
    pub reads: u64,
    pub mean_read_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct RedisTierStats {
    pub status: &'static str,
    /// `closed` (in use) or `open` (skipped after failures).
    pub breaker: &'static str,
    pub calls: u64,
    pub mean_call_ms: f64,
    pub errors: u64,
    pub skipped: u64,
    pub used_memory_bytes: Option<u64>,
    /// Keys in the Redis database (`DBSIZE`).
    pub keys: Option<u64>,
}

/// What the Redis tier reports of itself when asked (`disabled` when there is none).
pub struct RedisFigures {
    pub status: &'static str,
    pub breaker_open: bool,
    pub used_memory_bytes: Option<u64>,
    pub keys: Option<u64>,
}

impl Default for RedisFigures {
    fn default() -> Self {
        RedisFigures {
            status: "disabled",
            breaker_open: false,
            used_memory_bytes: None,
            keys: None,
        }
    }
}

/// The statistics from the counters, the in-process tier's size and what Redis said.
pub fn cache_stats(
    c: &Counters,
    ttls: &Ttls,
    memory: MemoryStatus,
    redis: RedisFigures,
) -> CacheStats {
    let strategies: Vec<StrategyStats> = Strategy::ALL
        .iter()
        .map(|s| StrategyStats::from(*s, ttls.get(*s), c.of(*s)))
        .collect();
    let hits = strategies.iter().map(|s| s.hits).sum();
    let misses = strategies.iter().map(|s| s.misses).sum();
    CacheStats {
        hit_rate: hit_rate(hits, misses),
        hits,
        misses,
        strategies,
        memory: MemoryTierStats {
            entries: memory.entries,
            bytes: memory.bytes,
            capacity_bytes: memory.capacity_bytes,
            evicted: c.memory_evicted.load(Relaxed),
            expired: c.memory_expired.load(Relaxed),
            reads: c.memory.ops.load(Relaxed),
            mean_read_ms: c.memory.mean_ms(),
        },
        redis: RedisTierStats {
            status: redis.status,
            breaker: if redis.breaker_open { "open" } else { "closed" },
            calls: c.redis.ops.load(Relaxed),
            mean_call_ms: c.redis.mean_ms(),
            errors: c.redis_errors.load(Relaxed),
            skipped: c.redis_skipped.load(Relaxed),
            used_memory_bytes: redis.used_memory_bytes,
            keys: redis.keys,
        },
        invalidations: c.invalidations.load(Relaxed),
        remote_invalidations: c.remote_invalidations.load(Relaxed),
    }
}
