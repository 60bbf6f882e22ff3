//! The cache: an in-process tier bounded by bytes, and Redis as a shared second tier when
//! `HEADROOM_REDIS_URL` is set. Callers see one [`Cache`] and name a [`Strategy`] (which
//! sets the TTL) and the tags a value depends on; no handler talks to Redis.
//!
//! Reads go memory → Redis → compute, and a computation runs once per key however many
//! requests miss at the same moment. Writes invalidate by tag (`user:<id>`,
//! `meter:<id>`), key or prefix, here and — over Redis pub/sub — in every other
//! instance. A Redis failure is never an error for the caller: it reads as a miss.

mod breaker;
mod derived;
mod memory;
mod pubsub;
mod redis_tier;
mod replay;
mod stats;
pub mod strategy;
mod tally;

use std::{
    collections::HashMap,
    future::Future,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering::Relaxed},
    },
    time::{Duration, Instant},
};

use serde::{Serialize, de::DeserializeOwned};
use tokio::sync::OnceCell;

pub use derived::{COMPRESS_ABOVE_BYTES, Derived, Effort, Encoding};
pub use memory::MemoryTier;
pub use pubsub::Invalidation;
pub use redis_tier::RedisTier;
pub use replay::{Replay, ReplayStats, ReplayTable, Ticket};
pub use stats::StrategyStats;
pub use strategy::{Strategy, Ttls};

use stats::Counters;

/// Where a value came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Memory,
    Redis,
    Computed,
}

/// A cached value: its bytes (JSON), a hash of them for ETags, and where it came from.
#[derive(Debug, Clone)]
pub struct Hit {
    pub bytes: Arc<[u8]>,
    pub etag: u64,
    pub source: Source,
    pub strategy: Strategy,
    /// Compressed copies and the decoded value, shared with the in-process entry.
    pub derived: Arc<Derived>,
}

impl Hit {
    pub(super) fn new(bytes: Arc<[u8]>, source: Source, strategy: Strategy) -> Self {
        let etag = xxhash_rust::xxh3::xxh3_64(&bytes);
        Hit {
            bytes,
            etag,
            source,
            strategy,
            derived: Arc::default(),
        }
    }

    pub fn cached(&self) -> bool {
        self.source != Source::Computed
    }

    /// The value as `T`; `None` if the bytes are not a `T` (an older format, say).
    pub fn json<T: DeserializeOwned>(&self) -> Option<T> {
        serde_json::from_slice(&self.bytes).ok()
    }

    /// The value as `T`, parsed once per cached entry and shared by every reader of it.
    pub fn decoded<T: DeserializeOwned + Send + Sync + 'static>(&self) -> Option<Arc<T>> {
        self.derived.decoded(&self.bytes)
    }

    /// The value compressed with `encoding`, compressed once per cached entry.
    pub fn encoded(&self, encoding: Encoding) -> Option<bytes::Bytes> {
        self.derived.encoded(encoding, &self.bytes)
    }
}

/// The key of `rest` under `strategy`: `outlook:u1:20412`. Patterns like `outlook:*` then
/// select a strategy's keys.
pub fn key(strategy: Strategy, rest: impl std::fmt::Display) -> String {
    format!("{}:{rest}", strategy.name())
}

type Flights = Arc<Mutex<HashMap<String, Arc<OnceCell<Hit>>>>>;

#[derive(Clone)]
pub struct Cache {
    memory: MemoryTier,
    redis: Option<RedisTier>,
    counters: Arc<Counters>,
    ttls: Arc<Ttls>,
    /// With Redis, the longest an in-process copy may live (see `cache_local_ttl_secs`).
    local_cap: Option<Duration>,
    /// Bumped by every invalidation: a value computed across one is not kept, since it
    /// may have been read before the write it would then outlive.
    generation: Arc<AtomicU64>,
    flights: Flights,
    replay: ReplayTable,
    /// Windowed counters' in-process tier (see `tally.rs`).
    tally: tally::LocalTally,
    /// This instance's name on the invalidation channel.
    origin: Arc<str>,
}

/// How a [`Cache`] is set up; `config` makes it from the settings, so the cache itself
/// reads no configuration.
#[derive(Debug, Clone)]
pub struct CacheOptions {
    /// The in-process tier's budget.
    pub memory_bytes: u64,
    pub redis: Option<RedisOptions>,
    /// With Redis, the longest an in-process copy lives.
    pub local_ttl: Duration,
    pub ttls: Ttls,
    /// How long an answer stays in the replay table (zero: off).
    pub replay_ttl: Duration,
}

impl CacheOptions {
    /// An in-process cache with the default TTLs and a 64 MiB budget (tests, tools).
    pub fn in_process() -> Self {
        CacheOptions {
            memory_bytes: 64 * 1024 * 1024,
            redis: None,
            local_ttl: Duration::from_secs(60),
            ttls: Ttls::default(),
            replay_ttl: Duration::from_secs(1),
        }
    }
}

/// The Redis tier's connection.
#[derive(Clone)]
pub struct RedisOptions {
    pub url: String,
    /// The URL with its password masked, for messages.
    pub url_for_logs: String,
    /// Every key and the invalidation channel start with `{namespace}:`.
    pub namespace: String,
    /// Longest wait on one operation.
    pub timeout: Duration,
    /// Values at least this big are stored compressed.
    pub compress_from: usize,
}

impl std::fmt::Debug for RedisOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisOptions")
            .field("url", &self.url_for_logs)
            .field("namespace", &self.namespace)
            .finish_non_exhaustive()
    }
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
    pub replay: ReplayStats,
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

/// What a clear or a listing applies to, from a pattern like `outlook:*`, `*` or an exact
/// key. Only a trailing `*` is understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pattern {
    Prefix(String),
    Exact(String),
}

impl Pattern {
    pub fn parse(text: &str) -> Option<Pattern> {
        let text = text.trim();
        match text.strip_suffix('*') {
            Some(prefix) if !prefix.contains('*') => Some(Pattern::Prefix(prefix.to_string())),
            None if !text.is_empty() && !text.contains('*') => {
                Some(Pattern::Exact(text.to_string()))
            }
            _ => None,
        }
    }
}

impl Cache {
    pub fn new(options: CacheOptions) -> anyhow::Result<Self> {
        let counters = Arc::new(Counters::default());
        let memory = MemoryTier::new(options.memory_bytes, counters.clone());
        let redis = match &options.redis {
            Some(r) => Some(RedisTier::connect_lazy(r, counters.clone())?),
            None => None,
        };
        let origin = format!(
            "{:x}-{:x}",
            std::process::id(),
            xxhash_rust::xxh3::xxh3_64(format!("{:?}", Instant::now()).as_bytes())
        );
        Ok(Cache {
            local_cap: redis.as_ref().map(|_| options.local_ttl),
            memory,
            redis,
            counters: counters.clone(),
            ttls: Arc::new(options.ttls),
            generation: Arc::default(),
            flights: Arc::default(),
            replay: ReplayTable::new(options.replay_ttl, counters.clone()),
            tally: tally::LocalTally::default(),
            origin: origin.into(),
        })
    }

    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    /// Starts listening to other instances' invalidations (with Redis only).
    pub fn spawn_listener(&self) {
        if self.redis.is_some() {
            tokio::spawn(pubsub::listen(self.clone()));
        }
    }

    pub fn ttl(&self, strategy: Strategy) -> Duration {
        self.ttls.get(strategy)
    }

    fn local_ttl(&self, ttl: Duration) -> Duration {
        self.local_cap.map_or(ttl, |cap| ttl.min(cap))
    }

    fn bump_generation(&self) {
        self.generation.fetch_add(1, Relaxed);
    }

    /// How many invalidations this instance has applied: whatever was read before a
    /// change of it may be stale.
    pub fn generation(&self) -> u64 {
        self.generation.load(Relaxed)
    }

    /// Answers filed for replay (see [`ReplayTable`]).
    pub fn replay(&self) -> &ReplayTable {
        &self.replay
    }

    /// The cached value of an untagged `key`, from memory or Redis.
    pub async fn get(&self, strategy: Strategy, key: &str) -> Option<Hit> {
        self.lookup(strategy, key, &[]).await
    }

    /// The cached value of `key`. A copy promoted from Redis is filed under `tags` here
    /// too, so a later invalidation of those tags (ours or another instance's) finds it.
    async fn lookup(&self, strategy: Strategy, key: &str, tags: &[String]) -> Option<Hit> {
        let counters = self.counters.of(strategy);
        let started = Instant::now();
        let entry = self.memory.get(key).await;
        self.counters.memory.record(started.elapsed());
        if let Some(e) = entry {
            counters.memory_hits.fetch_add(1, Relaxed);
            return Some(Hit {
                bytes: e.bytes,
                etag: e.etag,
                source: Source::Memory,
                strategy,
                derived: e.derived,
            });
        }
        // Boxed: the Redis round trip is the rare path, and inline its future would make
        // every lookup's (a memory hit's included) several times larger to move around.
        if self.redis.is_some()
            && let Some(hit) = Box::pin(self.promote_from_redis(strategy, key, tags)).await
        {
            counters.redis_hits.fetch_add(1, Relaxed);
            return Some(hit);
        }
        counters.misses.fetch_add(1, Relaxed);
        None
    }

    /// `key` from the Redis tier, promoted into memory for what is left of its life
    /// unless it was invalidated meanwhile.
    async fn promote_from_redis(
        &self,
        strategy: Strategy,
        key: &str,
        tags: &[String],
    ) -> Option<Hit> {
        let redis = self.redis.as_ref()?;
        let generation = self.generation.load(Relaxed);
        let (bytes, left) = redis.get_with_ttl(key).await?;
        let hit = Hit::new(bytes.into(), Source::Redis, strategy);
        if self.generation.load(Relaxed) == generation {
            self.memory
                .insert(key, strategy, &hit, self.local_ttl(left), tags)
                .await;
        }
        Some(hit)
    }

    /// Keeps `bytes` under `key` in both tiers.
    pub async fn put(&self, strategy: Strategy, key: &str, tags: &[String], bytes: Vec<u8>) -> Hit {
        let hit = Hit::new(bytes.into(), Source::Computed, strategy);
        self.store(strategy, key, tags, &hit).await;
        hit
    }

    async fn store(&self, strategy: Strategy, key: &str, tags: &[String], hit: &Hit) {
        let ttl = self.ttl(strategy);
        if ttl.is_zero() {
            return;
        }
        if let Some(redis) = &self.redis {
            redis.set(key, &hit.bytes, ttl, tags).await;
        }
        self.memory
            .insert(key, strategy, hit, self.local_ttl(ttl), tags)
            .await;
    }

    /// The value of `key`, computing it with `compute` on a miss — once, however many
    /// callers miss at the same time; the others wait for that one result.
    pub async fn get_or_compute<E, Fut>(
        &self,
        strategy: Strategy,
        key: &str,
        tags: &[String],
        compute: impl FnOnce() -> Fut,
    ) -> Result<Hit, E>
    where
        Fut: Future<Output = Result<Vec<u8>, E>>,
    {
        if let Some(hit) = self.lookup(strategy, key, tags).await {
            return Ok(hit);
        }
        let cell = {
            let mut flights = self
                .flights
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            flights.entry(key.to_string()).or_default().clone()
        };
        let result = cell
            .get_or_try_init(|| async {
                let generation = self.generation.load(Relaxed);
                let counters = self.counters.of(strategy);
                let started = Instant::now();
                let bytes = compute().await?;
                counters.computations.fetch_add(1, Relaxed);
                counters.compute_ns.fetch_add(
                    u64::try_from(started.elapsed().as_nanos()).unwrap_or(u64::MAX),
                    Relaxed,
                );
                let hit = Hit::new(bytes.into(), Source::Computed, strategy);
                if self.generation.load(Relaxed) == generation {
                    self.store(strategy, key, tags, &hit).await;
                } else {
                    counters.not_kept.fetch_add(1, Relaxed);
                }
                Ok(hit)
            })
            .await
            .cloned();
        let mut flights = self
            .flights
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if flights.get(key).is_some_and(|c| Arc::ptr_eq(c, &cell)) {
            flights.remove(key);
        }
        result
    }

    /// [`Cache::get_or_compute`] for a value serialised as JSON.
    pub async fn get_or_compute_json<T, E, Fut>(
        &self,
        strategy: Strategy,
        key: &str,
        tags: &[String],
        compute: impl FnOnce() -> Fut,
    ) -> Result<Hit, E>
    where
        T: Serialize,
        Fut: Future<Output = Result<T, E>>,
        E: From<serde_json::Error>,
    {
        self.get_or_compute(strategy, key, tags, || async {
            Ok(serde_json::to_vec(&compute().await?)?)
        })
        .await
    }

    /// Bumps the generation before the removal (a value computed meanwhile is not kept)
    /// and after it (an answer that read the old value meanwhile is not replayed).
    async fn apply_local(&self, inv: &Invalidation) -> usize {
        self.bump_generation();
        let removed = match inv {
            Invalidation::Key(k) => {
                self.memory.remove(k).await;
                1
            }
            Invalidation::Tag(t) => self.memory.remove_tag(t).await,
            Invalidation::Prefix(p) => {
                if p.is_empty() {
                    self.replay.clear();
                }
                self.memory.remove_prefix(p).await
            }
        };
        self.bump_generation();
        removed
    }

    /// Another instance's invalidation, heard over pub/sub.
    async fn apply_remote(&self, message: &str) {
        if let Some((origin, inv)) = Invalidation::decode(message)
            && origin != &*self.origin
        {
            self.counters.remote_invalidations.fetch_add(1, Relaxed);
            self.apply_local(&inv).await;
        }
    }

    async fn publish(&self, inv: &Invalidation) {
        if let Some(redis) = &self.redis {
            redis.publish(inv.encode(&self.origin)).await;
        }
    }

    /// Drops every value carrying one of `tags`, in every tier and instance.
    pub async fn invalidate_tags(&self, tags: &[String]) {
        if tags.is_empty() {
            return;
        }
        self.counters.invalidations.fetch_add(1, Relaxed);
        // Redis first: dropped here while Redis still held it, a value could be read
        // back from Redis and promoted into memory again by a request in between.
        if let Some(redis) = &self.redis {
            redis.delete_tags(tags).await;
        }
        for t in tags {
            self.apply_local(&Invalidation::Tag(t.clone())).await;
        }
        if self.redis.is_some() {
            for t in tags {
                self.publish(&Invalidation::Tag(t.clone())).await;
            }
        }
    }

    /// Drops one key everywhere.
    pub async fn invalidate_key(&self, key: &str) {
        self.counters.invalidations.fetch_add(1, Relaxed);
        let inv = Invalidation::Key(key.to_string());
        // Redis first, for the reason given in `invalidate_tags`.
        if let Some(redis) = &self.redis {
            redis.delete(key).await;
        }
        self.apply_local(&inv).await;
        self.publish(&inv).await;
    }

    /// Drops what `pattern` selects everywhere; how many keys this instance and Redis held.
    pub async fn clear(&self, pattern: &Pattern) -> ClearReport {
        self.counters.invalidations.fetch_add(1, Relaxed);
        let inv = match pattern {
            Pattern::Prefix(p) => Invalidation::Prefix(p.clone()),
            Pattern::Exact(k) => Invalidation::Key(k.clone()),
        };
        // Redis first, for the reason given in `invalidate_tags`.
        let redis = match (&self.redis, pattern) {
            (None, _) => None,
            (Some(r), Pattern::Prefix(p)) => r.delete_prefix(p).await,
            (Some(r), Pattern::Exact(k)) => {
                r.delete(k).await;
                Some(1)
            }
        };
        let memory = self.apply_local(&inv).await;
        self.publish(&inv).await;
        ClearReport { memory, redis }
    }

    /// Adds one to the counter `key`, which lives `ttl_secs`: in Redis when it is there
    /// (shared by every instance), in process otherwise or while Redis fails.
    pub async fn count(&self, key: &str, ttl_secs: u64) -> u64 {
        if let Some(redis) = &self.redis
            && let Some(n) = redis.count(key, ttl_secs).await
        {
            return n;
        }
        self.tally.add(key)
    }

    /// Takes one back from the counter `key`.
    pub async fn uncount(&self, key: &str) {
        if let Some(redis) = &self.redis
            && redis.uncount(key).await
        {
            return;
        }
        self.tally.take_back(key);
    }

    /// Removes the counter `key`.
    pub async fn forget_count(&self, key: &str) {
        if let Some(redis) = &self.redis {
            redis.delete(key).await;
        }
        self.tally.forget(key);
    }

    /// Drops every in-process copy (not Redis's, not other instances').
    pub async fn clear_local(&self) {
        self.apply_local(&Invalidation::Prefix(String::new())).await;
    }

    /// Keys that `pattern` selects, per tier, at most `limit` each.
    pub async fn keys(&self, pattern: &Pattern, limit: usize) -> KeysReport {
        let prefix = match pattern {
            Pattern::Prefix(p) | Pattern::Exact(p) => p.as_str(),
        };
        let exact = |keys: Vec<String>| match pattern {
            Pattern::Exact(k) => keys.into_iter().filter(|x| x == k).collect(),
            Pattern::Prefix(_) => keys,
        };
        let memory = exact(self.memory.keys(prefix, limit));
        let redis = match &self.redis {
            Some(r) => r.keys(prefix, limit).await.map(exact),
            None => None,
        };
        KeysReport { memory, redis }
    }

    pub async fn stats(&self) -> CacheStats {
        let strategies: Vec<StrategyStats> = Strategy::ALL
            .iter()
            .map(|s| StrategyStats::from(*s, self.ttl(*s), self.counters.of(*s)))
            .collect();
        let hits = strategies.iter().map(|s| s.hits).sum();
        let misses = strategies.iter().map(|s| s.misses).sum();
        let m = self.memory.status();
        let c = &self.counters;
        let (status, used, keys) = match &self.redis {
            None => ("disabled", None, None),
            Some(r) => match r.ping().await {
                Some(_) => ("ok", r.used_memory().await, r.db_size().await),
                None => ("down", None, None),
            },
        };
        CacheStats {
            hit_rate: stats::hit_rate(hits, misses),
            hits,
            misses,
            strategies,
            memory: MemoryTierStats {
                entries: m.entries,
                bytes: m.bytes,
                capacity_bytes: m.capacity_bytes,
                evicted: c.memory_evicted.load(Relaxed),
                expired: c.memory_expired.load(Relaxed),
                reads: c.memory.ops.load(Relaxed),
                mean_read_ms: c.memory.mean_ms(),
            },
            redis: RedisTierStats {
                status,
                breaker: match &self.redis {
                    Some(r) if r.breaker_open() => "open",
                    _ => "closed",
                },
                calls: c.redis.ops.load(Relaxed),
                mean_call_ms: c.redis.mean_ms(),
                errors: c.redis_errors.load(Relaxed),
                skipped: c.redis_skipped.load(Relaxed),
                used_memory_bytes: used,
                keys,
            },
            invalidations: c.invalidations.load(Relaxed),
            remote_invalidations: c.remote_invalidations.load(Relaxed),
            replay: self.replay.stats(),
        }
    }

    pub async fn status(&self) -> CacheStatus {
        let memory = self.memory.status();
        let redis = match &self.redis {
            None => RedisStatus {
                status: "disabled",
                latency_ms: None,
            },
            Some(r) => match r.ping().await {
                Some(latency) => RedisStatus {
                    status: "ok",
                    latency_ms: Some(latency.as_secs_f64() * 1000.0),
                },
                None => RedisStatus {
                    status: "down",
                    latency_ms: None,
                },
            },
        };
        // The cache is degraded, not failed, when Redis is down: requests still succeed.
        let status = if redis.status == "down" {
            "degraded"
        } else {
            "ok"
        };
        CacheStatus {
            status,
            memory,
            redis,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct ClearReport {
    pub memory: usize,
    pub redis: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct KeysReport {
    pub memory: Vec<String>,
    pub redis: Option<Vec<String>>,
}

#[cfg(test)]
mod tests;
