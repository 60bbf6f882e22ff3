//! The in-process tier: a concurrent cache bounded by the bytes it holds, with a TTL per
//! entry. Bounded by bytes rather than entries because one outlook and one health check
//! differ in size by orders of magnitude.

use std::{
    sync::Arc,
    time::{Duration, Instant},
};

use moka::{Expiry, future::Cache as Moka};

use super::MemoryStatus;

#[derive(Clone)]
struct Entry {
    bytes: Arc<[u8]>,
    ttl: Duration,
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

#[derive(Clone)]
pub struct MemoryTier {
    inner: Moka<String, Entry>,
    capacity: u64,
}

impl MemoryTier {
    pub fn new(capacity_bytes: u64) -> Self {
        let inner = Moka::builder()
            .max_capacity(capacity_bytes)
            .weigher(|k: &String, v: &Entry| {
                u32::try_from(k.len() + v.bytes.len() + 64).unwrap_or(u32::MAX)
            })
            .expire_after(PerEntryTtl)
            .build();
        MemoryTier {
            inner,
            capacity: capacity_bytes,
        }
    }

    pub async fn get(&self, key: &str) -> Option<Arc<[u8]>> {
        self.inner.get(key).await.map(|e| e.bytes)
    }

    pub async fn insert(&self, key: &str, bytes: Arc<[u8]>, ttl: Duration) {
        if ttl.is_zero() {
            return;
        }
        self.inner
            .insert(key.to_string(), Entry { bytes, ttl })
            .await;
    }

    pub async fn remove(&self, key: &str) {
        self.inner.invalidate(key).await;
    }

    pub fn status(&self) -> MemoryStatus {
        MemoryStatus {
            entries: self.inner.entry_count(),
            bytes: self.inner.weighted_size(),
            capacity_bytes: self.capacity,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stays_within_its_byte_budget() {
        let tier = MemoryTier::new(64 * 1024);
        let value: Arc<[u8]> = vec![7u8; 1024].into();
        for i in 0..500 {
            tier.insert(&format!("k{i}"), value.clone(), Duration::from_secs(60))
                .await;
        }
        tier.inner.run_pending_tasks().await;
        let s = tier.status();
        assert!(s.bytes <= 64 * 1024, "holds {} bytes", s.bytes);
        assert!(s.entries > 10, "kept {} entries", s.entries);
    }

    #[tokio::test]
    async fn entries_expire_after_their_own_ttl() {
        let tier = MemoryTier::new(1024 * 1024);
        tier.insert("short", vec![1u8].into(), Duration::from_millis(30))
            .await;
        tier.insert("long", vec![2u8].into(), Duration::from_secs(60))
            .await;
        tokio::time::sleep(Duration::from_millis(60)).await;
        assert!(tier.get("short").await.is_none());
        assert_eq!(tier.get("long").await.as_deref(), Some(&[2u8][..]));
    }
}
