//! The in-process tier: a concurrent cache bounded by the bytes it holds, with a TTL per
//! entry. Bounded by bytes rather than entries because one outlook and one session differ
//! in size by orders of magnitude. A tag index maps each tag to its keys so a write can
//! drop exactly what it affects.

use std::{
    collections::{HashMap, HashSet},
    sync::{Arc, Mutex, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use moka::{Expiry, future::Cache as Moka, notification::RemovalCause};

use super::{
    derived::Derived,
    hit::Hit,
    stats::{Counters, MemoryStatus},
    strategy::Strategy,
};

#[derive(Clone)]
pub struct Entry {
    pub bytes: Arc<[u8]>,
    pub etag: u64,
    pub strategy: Strategy,
    pub derived: Arc<Derived>,
    ttl: Duration,
    tags: Arc<[String]>,
}

/// Each entry lives for the TTL it was written with; a rewrite restarts the clock.
struct PerEntryTtl;

impl Expiry<String, Entry> for PerEntryTtl {
    fn expire_after_create(&self, _key: &String, value: &Entry, _now: Instant) -> Option<Duration> {
        Some(value.ttl)
    }

    fn expire_after_update(
        &self,
        _key: &String,
        value: &Entry,
        _now: Instant,
        _left: Option<Duration>,
    ) -> Option<Duration> {
        Some(value.ttl)
    }
}

type TagIndex = Arc<Mutex<HashMap<String, HashSet<String>>>>;

#[derive(Clone)]
pub struct MemoryTier {
    inner: Moka<String, Entry>,
    tags: TagIndex,
    capacity: u64,
}

fn unindex(tags: &TagIndex, key: &str, entry_tags: &[String]) {
    if entry_tags.is_empty() {
        return;
    }
    let mut index = tags
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for t in entry_tags {
        if let Some(keys) = index.get_mut(t) {
            keys.remove(key);
            if keys.is_empty() {
                index.remove(t);
            }
        }
    }
}

impl MemoryTier {
    pub fn new(capacity_bytes: u64, counters: Arc<Counters>) -> Self {
        let tags: TagIndex = Arc::default();
        let index = tags.clone();
        let inner = Moka::builder()
            .max_capacity(capacity_bytes)
            .weigher(|k: &String, v: &Entry| {
                u32::try_from(k.len() + v.bytes.len() + 96).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .eviction_listener(move |key: Arc<String>, entry: Entry, cause| {
                match cause {
                    // The new value registered its own tags already.
                    RemovalCause::Replaced => return,
                    RemovalCause::Size => counters.memory_evicted.fetch_add(1, Relaxed),
                    RemovalCause::Expired => counters.memory_expired.fetch_add(1, Relaxed),
                    RemovalCause::Explicit => 0,
                };
                unindex(&index, &key, &entry.tags);
            })
            .build();
        MemoryTier {
            inner,
            tags,
            capacity: capacity_bytes,
        }
    }

    pub async fn get(&self, key: &str) -> Option<Entry> {
        self.inner.get(key).await
    }

    pub async fn insert(
        &self,
        key: &str,
        strategy: Strategy,
        hit: &Hit,
        ttl: Duration,
        tags: &[String],
    ) {
        if ttl.is_zero() {
            return;
        }
        if !tags.is_empty() {
            let mut index = self
                .tags
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for t in tags {
                index.entry(t.clone()).or_default().insert(key.to_string());
            }
        }
        let entry = Entry {
            bytes: hit.bytes.clone(),
            etag: hit.etag,
            strategy,
            derived: hit.derived.clone(),
            ttl,
            tags: tags.into(),
        };
        self.inner.insert(key.to_string(), entry).await;
    }

    pub async fn remove(&self, key: &str) {
        self.inner.invalidate(key).await;
    }

    /// Drops every entry carrying `tag`.
    pub async fn remove_tag(&self, tag: &str) -> usize {
        let keys: Vec<String> = {
            let mut index = self
                .tags
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            index
                .remove(tag)
                .map(|k| k.into_iter().collect())
                .unwrap_or_default()
        };
        for k in &keys {
            self.inner.invalidate(k).await;
        }
        keys.len()
    }

    /// Drops every entry whose key starts with `prefix` ("" drops everything).
    pub async fn remove_prefix(&self, prefix: &str) -> usize {
        let keys = self.keys(prefix, usize::MAX);
        for k in &keys {
            self.inner.invalidate(k).await;
        }
        keys.len()
    }

    /// Keys starting with `prefix`, at most `limit`, sorted.
    pub fn keys(&self, prefix: &str, limit: usize) -> Vec<String> {
        let mut keys: Vec<String> = self
            .inner
            .iter()
            .filter(|(k, _)| k.starts_with(prefix))
            .map(|(k, _)| k.as_ref().clone())
            .collect();
        keys.sort();
        keys.truncate(limit);
        keys
    }

    pub fn status(&self) -> MemoryStatus {
        MemoryStatus {
            entries: self.inner.entry_count(),
            bytes: self.inner.weighted_size(),
            capacity_bytes: self.capacity,
        }
    }

    #[cfg(test)]
    pub async fn settle(&self) {
        self.inner.run_pending_tasks().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(capacity: u64) -> MemoryTier {
        MemoryTier::new(capacity, Arc::default())
    }

    async fn put(t: &MemoryTier, key: &str, bytes: Vec<u8>, ttl: Duration, tags: &[&str]) {
        let tags: Vec<String> = tags.iter().map(ToString::to_string).collect();
        let hit = Hit::new(
            bytes.into(),
            super::super::Source::Computed,
            Strategy::Outlook,
        );
        t.insert(key, Strategy::Outlook, &hit, ttl, &tags).await;
    }

    #[tokio::test]
    async fn stays_within_its_byte_budget() {
        let t = tier(64 * 1024);
        for i in 0..500 {
            put(
                &t,
                &format!("k{i}"),
                vec![7u8; 1024],
                Duration::from_secs(60),
                &[],
            )
            .await;
        }
        t.settle().await;
        let s = t.status();
        assert!(s.bytes <= 64 * 1024, "holds {} bytes", s.bytes);
        assert!(s.entries > 10, "kept {} entries", s.entries);
    }

    #[tokio::test]
    async fn entries_expire_after_their_own_ttl() {
        let t = tier(1024 * 1024);
        put(&t, "short", vec![1], Duration::from_millis(30), &[]).await;
        put(&t, "long", vec![2], Duration::from_secs(60), &[]).await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(t.get("short").await.is_none());
        assert_eq!(t.get("long").await.map(|e| e.bytes[0]), Some(2));
    }

    #[tokio::test]
    async fn a_tag_drops_exactly_its_entries_and_prefixes_work() {
        let t = tier(1024 * 1024);
        let ttl = Duration::from_secs(60);
        put(&t, "outlook:u1", vec![1], ttl, &["user:1"]).await;
        put(&t, "timeline:m7", vec![2], ttl, &["meter:7", "user:1"]).await;
        put(&t, "timeline:m8", vec![3], ttl, &["meter:8", "user:2"]).await;
        assert_eq!(t.remove_tag("user:1").await, 2);
        assert!(t.get("outlook:u1").await.is_none());
        assert!(t.get("timeline:m7").await.is_none());
        assert!(t.get("timeline:m8").await.is_some());
        // Re-inserting a key keeps it findable by its tags after the old value is gone.
        put(&t, "timeline:m8", vec![4], ttl, &["meter:8"]).await;
        t.settle().await;
        assert_eq!(t.remove_tag("meter:8").await, 1);
        put(&t, "dashboard:a", vec![1], ttl, &[]).await;
        put(&t, "dashboard:b", vec![1], ttl, &[]).await;
        t.settle().await;
        assert_eq!(t.keys("dashboard:", 10), vec!["dashboard:a", "dashboard:b"]);
        assert_eq!(t.remove_prefix("dashboard:").await, 2);
        assert!(t.get("dashboard:a").await.is_none());
    }
}
