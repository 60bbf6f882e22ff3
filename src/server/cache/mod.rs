//! The cache: an in-process tier bounded by bytes, and Redis as a shared second tier when
//! `HEADROOM_REDIS_URL` is set. Callers see one [`Cache`]; no handler talks to Redis.
//!
//! Values are stored as bytes (JSON today) so both tiers hold the same thing and sizes are
//! known. A Redis failure is never an error for the caller: it reads as a miss and the
//! write goes to the in-process tier only.

mod memory;
mod redis_tier;

use std::{sync::Arc, time::Duration};

use serde::{Serialize, de::DeserializeOwned};

pub use memory::MemoryTier;
pub use redis_tier::RedisTier;

use crate::server::config::Settings;

#[derive(Clone)]
pub struct Cache {
    memory: MemoryTier,
    redis: Option<RedisTier>,
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

impl Cache {
    pub fn from_settings(settings: &Settings) -> anyhow::Result<Self> {
        let memory = MemoryTier::new(settings.memory_cache_mb * 1024 * 1024);
        let redis = match &settings.redis_url {
            Some(url) => Some(RedisTier::connect_lazy(url)?),
            None => None,
        };
        Ok(Cache { memory, redis })
    }

    pub fn has_redis(&self) -> bool {
        self.redis.is_some()
    }

    pub async fn get_bytes(&self, key: &str) -> Option<Arc<[u8]>> {
        if let Some(hit) = self.memory.get(key).await {
            return Some(hit);
        }
        let redis = self.redis.as_ref()?;
        let (bytes, ttl) = redis.get_with_ttl(key).await?;
        let bytes: Arc<[u8]> = bytes.into();
        // Promote to the fast tier for what is left of its life in Redis.
        self.memory.insert(key, bytes.clone(), ttl).await;
        Some(bytes)
    }

    pub async fn set_bytes(&self, key: &str, value: Arc<[u8]>, ttl: Duration) {
        if let Some(redis) = &self.redis {
            redis.set(key, &value, ttl).await;
        }
        self.memory.insert(key, value, ttl).await;
    }

    pub async fn remove(&self, key: &str) {
        if let Some(redis) = &self.redis {
            redis.delete(key).await;
        }
        self.memory.remove(key).await;
    }

    pub async fn get_json<T: DeserializeOwned>(&self, key: &str) -> Option<T> {
        let bytes = self.get_bytes(key).await?;
        serde_json::from_slice(&bytes).ok()
    }

    pub async fn set_json<T: Serialize>(&self, key: &str, value: &T, ttl: Duration) {
        if let Ok(bytes) = serde_json::to_vec(value) {
            self.set_bytes(key, bytes.into(), ttl).await;
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
