//! The shared tier in Redis. Every operation has a short timeout and failures read as
//! misses: a slow or dead Redis costs a little latency, never a failed request.

use std::time::{Duration, Instant};

use redis::{
    Client,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use crate::server::config::Secret;

/// Keys are namespaced so one Redis can serve several Headroom installs.
const PREFIX: &str = "headroom:";

#[derive(Clone)]
pub struct RedisTier {
    conn: ConnectionManager,
}

impl RedisTier {
    /// Prepares the connection without waiting for it: the app starts even when Redis is
    /// down, and the manager reconnects by itself when it comes back.
    pub fn connect_lazy(url: &Secret) -> anyhow::Result<Self> {
        let client = Client::open(url.expose())
            .map_err(|e| anyhow::anyhow!("HEADROOM_REDIS_URL ({}): {e}", url.redacted()))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_millis(250)))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(2));
        let conn = ConnectionManager::new_lazy_with_config(client, config)?;
        Ok(RedisTier { conn })
    }

    /// The value and its remaining TTL, or `None` on a miss or any failure.
    pub async fn get_with_ttl(&self, key: &str) -> Option<(Vec<u8>, Duration)> {
        let mut conn = self.conn.clone();
        let (value, ttl_ms): (Option<Vec<u8>>, i64) = redis::pipe()
            .get(format!("{PREFIX}{key}"))
            .pttl(format!("{PREFIX}{key}"))
            .query_async(&mut conn)
            .await
            .map_err(|e| tracing::debug!(error = %e, "redis get failed; treated as a miss"))
            .ok()?;
        let ttl = Duration::from_millis(u64::try_from(ttl_ms).ok()?);
        value.map(|v| (v, ttl))
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration) {
        let mut conn = self.conn.clone();
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        let done: redis::RedisResult<()> = redis::cmd("SET")
            .arg(format!("{PREFIX}{key}"))
            .arg(value)
            .arg("PX")
            .arg(ms)
            .query_async(&mut conn)
            .await;
        if let Err(e) = done {
            tracing::debug!(error = %e, "redis set failed; kept in process only");
        }
    }

    pub async fn delete(&self, key: &str) {
        let mut conn = self.conn.clone();
        let done: redis::RedisResult<()> = redis::cmd("DEL")
            .arg(format!("{PREFIX}{key}"))
            .query_async(&mut conn)
            .await;
        if let Err(e) = done {
            tracing::debug!(error = %e, "redis delete failed");
        }
    }

    /// Round-trip time of a PING, or `None` when Redis does not answer.
    pub async fn ping(&self) -> Option<Duration> {
        let mut conn = self.conn.clone();
        let started = Instant::now();
        let pong: redis::RedisResult<String> = redis::cmd("PING").query_async(&mut conn).await;
        pong.ok().map(|_| started.elapsed())
    }
}
