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
mod hit;
mod memory;
mod options;
mod pubsub;
mod redis_tier;
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

use futures::StreamExt;
use serde::Serialize;
use tokio::sync::OnceCell;

pub use derived::{COMPRESS_ABOVE_BYTES, Derived, Effort, Encoding};
pub use hit::{Hit, Source};
pub use memory::MemoryTier;
pub use options::{CacheOptions, RedisOptions};
pub use pubsub::Invalidation;
pub use redis_tier::RedisTier;
pub use stats::{
    CacheStats, CacheStatus, MemoryStatus, MemoryTierStats, RedisStatus, RedisTierStats,
    StrategyStats,
};
pub use strategy::{Strategy, Ttls};

use stats::{Counters, RedisFigures};

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
    /// Windowed counters' in-process tier (see `tally.rs`).
    tally: tally::LocalTally,
    /// This instance's name on the invalidation channel.
    origin: Arc<str>,
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
            tokio::spawn(self.clone().listen());
        }
    }

    /// Listens to other instances' invalidations until the process ends, reconnecting
    /// with a short pause when Redis goes away. A listener that lost its connection may
    /// have missed messages, so on every (re)subscription it empties its in-process tier:
    /// a few cache misses are the price of never serving another instance's stale value.
    async fn listen(self) {
        let cache = self;
        let Some(redis) = cache.redis.clone() else {
            return;
        };
        loop {
            match tokio::time::timeout(Duration::from_secs(1), redis.client().get_async_pubsub())
                .await
            {
                Ok(Ok(mut pubsub)) => {
                    if pubsub.subscribe(redis.channel()).await.is_ok() {
                        // Whatever was published while we were away is lost: start clean.
                        cache.memory.remove_prefix("").await;
                        cache.bump_generation();
                        tracing::info!("listening for cache invalidations from other instances");
                        let mut messages = pubsub.on_message();
                        while let Some(msg) = messages.next().await {
                            if let Ok(text) = msg.get_payload::<String>() {
                                cache.apply_remote(&text).await;
                            }
                        }
                        tracing::warn!("lost the cache invalidation channel; reconnecting");
                    }
                }
                Ok(Err(e)) => tracing::debug!(error = %e, "redis pub/sub unavailable"),
                Err(_) => tracing::debug!("redis pub/sub connect timed out"),
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
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

    /// Counts a request answered again with `strategy`'s value by the HTTP layer's replay
    /// table, which keeps the value itself: a hit, as far as the hit rate is concerned.
    pub fn count_replay_hit(&self, strategy: Strategy) {
        self.counters.of(strategy).replay_hits.fetch_add(1, Relaxed);
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
            Invalidation::Prefix(p) => self.memory.remove_prefix(p).await,
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
        let redis = match &self.redis {
            None => RedisFigures::default(),
            Some(r) => {
                let (status, used_memory_bytes, keys) = match r.ping().await {
                    Some(_) => ("ok", r.used_memory().await, r.db_size().await),
                    None => ("down", None, None),
                };
                RedisFigures {
                    status,
                    breaker_open: r.breaker_open(),
                    used_memory_bytes,
                    keys,
                }
            }
        };
        stats::cache_stats(&self.counters, &self.ttls, self.memory.status(), redis)
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
