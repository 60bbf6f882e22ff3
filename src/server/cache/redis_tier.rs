//! The shared tier in Redis. Every call goes through [`RedisTier::run`]: skipped while the
//! circuit breaker is open, cut off after `HEADROOM_REDIS_TIMEOUT_MS`, and a failure reads
//! as a miss. A slow or dead Redis costs a little latency for a few requests, never a
//! failed one.
//!
//! Layout: `headroom:<key>` holds a value (first byte `r` raw or `z` zstd-compressed);
//! `headroom:tag:<tag>` is the set of keys carrying that tag.

use std::{
    future::Future,
    sync::{Arc, atomic::Ordering::Relaxed},
    time::{Duration, Instant},
};

use redis::{
    AsyncCommands, Client, Script,
    aio::{ConnectionManager, ConnectionManagerConfig},
};

use super::{breaker::Breaker, options::RedisOptions, stats::Counters};

/// Tag sets outlive the longest strategy TTL; stale members are harmless.
const TAG_TTL_MS: u64 = 8 * 86_400 * 1000;

const RAW: u8 = b'r';
const ZSTD: u8 = b'z';

#[derive(Clone)]
pub struct RedisTier {
    client: Client,
    conn: ConnectionManager,
    breaker: Arc<Breaker>,
    timeout: Duration,
    compress_from: usize,
    counters: Arc<Counters>,
    /// `{HEADROOM_REDIS_NAMESPACE}:`, in front of every key and the channel, so that one
    /// Redis can serve several installs without them reading each other's values.
    prefix: Arc<str>,
}

/// Frames a value for Redis, compressing it when it is big enough to be worth it.
fn encode(value: &[u8], compress_from: usize) -> Vec<u8> {
    if value.len() >= compress_from
        && let Ok(z) = zstd::bulk::compress(value, 3)
        && z.len() < value.len()
    {
        let mut out = Vec::with_capacity(z.len() + 1);
        out.push(ZSTD);
        out.extend_from_slice(&z);
        return out;
    }
    let mut out = Vec::with_capacity(value.len() + 1);
    out.push(RAW);
    out.extend_from_slice(value);
    out
}

fn decode(framed: &[u8]) -> Option<Vec<u8>> {
    match framed.split_first()? {
        (&RAW, rest) => Some(rest.to_vec()),
        // 64 MiB is far beyond any value we store: a corrupt frame cannot balloon.
        (&ZSTD, rest) => zstd::bulk::decompress(rest, 64 << 20).ok(),
        _ => None,
    }
}

impl RedisTier {
    /// Prepares the connection without waiting for it: the app starts even when Redis is
    /// down, and the manager reconnects by itself when it comes back.
    pub fn connect_lazy(options: &RedisOptions, counters: Arc<Counters>) -> anyhow::Result<Self> {
        let RedisOptions {
            namespace,
            timeout,
            compress_from,
            ..
        } = options;
        let (timeout, compress_from) = (*timeout, *compress_from);
        let client = Client::open(options.url.as_str())
            .map_err(|e| anyhow::anyhow!("HEADROOM_REDIS_URL ({}): {e}", options.url_for_logs))?;
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(timeout))
            .set_number_of_retries(1)
            .set_max_delay(Duration::from_secs(1));
        let conn = ConnectionManager::new_lazy_with_config(client.clone(), config)?;
        Ok(RedisTier {
            client,
            conn,
            breaker: Arc::new(Breaker::new(Duration::from_secs(1))),
            timeout,
            compress_from,
            counters,
            prefix: format!("{namespace}:").into(),
        })
    }

    fn full(&self, key: &str) -> String {
        format!("{}{key}", self.prefix)
    }

    fn tag_key(&self, tag: &str) -> String {
        format!("{}tag:{tag}", self.prefix)
    }

    /// The pub/sub channel of invalidations between this install's instances.
    pub fn channel(&self) -> String {
        format!("{}invalidate", self.prefix)
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn breaker_open(&self) -> bool {
        self.breaker.is_open()
    }

    /// One guarded call: `None` when skipped, timed out or failed.
    async fn run<T, F, Fut>(&self, what: &'static str, op: F) -> Option<T>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = redis::RedisResult<T>>,
    {
        if !self.breaker.allow() {
            self.counters.redis_skipped.fetch_add(1, Relaxed);
            return None;
        }
        let started = Instant::now();
        let outcome = tokio::time::timeout(self.timeout, op(self.conn.clone())).await;
        self.counters.redis.record(started.elapsed());
        match outcome {
            Ok(Ok(v)) => {
                self.breaker.record_success();
                Some(v)
            }
            Ok(Err(e)) => {
                self.counters.redis_errors.fetch_add(1, Relaxed);
                self.breaker.record_failure();
                tracing::debug!(error = %e, op = what, "redis call failed; treated as a miss");
                None
            }
            Err(_) => {
                self.counters.redis_errors.fetch_add(1, Relaxed);
                self.breaker.record_failure();
                tracing::debug!(op = what, "redis call timed out; treated as a miss");
                None
            }
        }
    }

    /// The value and its remaining TTL, or `None` on a miss or any failure.
    pub async fn get_with_ttl(&self, key: &str) -> Option<(Vec<u8>, Duration)> {
        let k = self.full(key);
        let (value, ttl_ms): (Option<Vec<u8>>, i64) = self
            .run("get", |mut c| async move {
                redis::pipe().get(&k).pttl(&k).query_async(&mut c).await
            })
            .await?;
        let ttl = Duration::from_millis(u64::try_from(ttl_ms).ok()?);
        decode(&value?).map(|v| (v, ttl))
    }

    pub async fn set(&self, key: &str, value: &[u8], ttl: Duration, tags: &[String]) {
        let k = self.full(key);
        let framed = encode(value, self.compress_from);
        let ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX).max(1);
        self.run("set", |mut c| async move {
            let mut p = redis::pipe();
            p.cmd("SET").arg(&k).arg(framed).arg("PX").arg(ms).ignore();
            for t in tags {
                let tk = self.tag_key(t);
                p.sadd(&tk, key)
                    .ignore()
                    .pexpire(&tk, TAG_TTL_MS as i64)
                    .ignore();
            }
            p.query_async::<()>(&mut c).await
        })
        .await;
    }

    pub async fn delete(&self, key: &str) {
        let k = self.full(key);
        self.run("del", |mut c| async move { c.del::<_, ()>(k).await })
            .await;
    }

    /// Deletes every key carrying one of `tags`, and the tag sets.
    pub async fn delete_tags(&self, tags: &[String]) {
        // One round trip, atomic: read each set, delete its members and the set.
        static SCRIPT: &str = r"
            local n = 0
            for _, tag in ipairs(KEYS) do
              local members = redis.call('SMEMBERS', tag)
              for _, k in ipairs(members) do
                n = n + redis.call('DEL', ARGV[1] .. k)
              end
              redis.call('DEL', tag)
            end
            return n";
        let keys: Vec<String> = tags.iter().map(|t| self.tag_key(t)).collect();
        let prefix = self.prefix.clone();
        self.run("delete_tags", |mut c| async move {
            let script = Script::new(SCRIPT);
            let mut inv = script.prepare_invoke();
            for k in &keys {
                inv.key(k);
            }
            inv.arg(&*prefix);
            inv.invoke_async::<i64>(&mut c).await
        })
        .await;
    }

    /// Keys (without the namespace) starting with `prefix`, at most `limit`; `None` when
    /// Redis cannot be asked.
    pub async fn keys(&self, prefix: &str, limit: usize) -> Option<Vec<String>> {
        let pattern = format!("{}{}*", escape_glob(&self.prefix), escape_glob(prefix));
        let (ours, tags) = (self.prefix.clone(), self.tag_key(""));
        let found: Vec<String> = self
            .run("scan", |mut c| async move {
                let mut found = Vec::new();
                let mut iter = c.scan_match::<_, String>(pattern).await?;
                while let Some(k) = futures::StreamExt::next(&mut iter).await {
                    let k = k?;
                    if !k.starts_with(&tags) {
                        found.push(k[ours.len()..].to_string());
                    }
                    if found.len() >= limit {
                        break;
                    }
                }
                Ok(found)
            })
            .await?;
        let mut found = found;
        found.sort();
        Some(found)
    }

    /// Deletes every key starting with `prefix` ("" clears every Headroom key); how many.
    pub async fn delete_prefix(&self, prefix: &str) -> Option<usize> {
        let keys = self.keys(prefix, usize::MAX).await?;
        for chunk in keys.chunks(500) {
            let full: Vec<String> = chunk.iter().map(|k| self.full(k)).collect();
            self.run(
                "unlink",
                |mut c| async move { c.unlink::<_, ()>(full).await },
            )
            .await?;
        }
        Some(keys.len())
    }

    /// Adds one to a counter that expires `ttl_secs` after its first use; the new count.
    pub async fn count(&self, key: &str, ttl_secs: u64) -> Option<u64> {
        let k = self.full(key);
        let (n,): (u64,) = self
            .run("incr", |mut c| async move {
                redis::pipe()
                    .incr(&k, 1)
                    .cmd("EXPIRE")
                    .arg(&k)
                    .arg(ttl_secs)
                    .arg("NX")
                    .ignore()
                    .query_async(&mut c)
                    .await
            })
            .await?;
        Some(n)
    }

    /// Takes one back from a counter made by [`RedisTier::count`]; `false` when Redis
    /// did not answer.
    pub async fn uncount(&self, key: &str) -> bool {
        let k = self.full(key);
        self.run(
            "decr",
            |mut c| async move { c.decr::<_, _, i64>(k, 1).await },
        )
        .await
        .is_some()
    }

    pub async fn publish(&self, message: String) {
        let channel = self.channel();
        self.run("publish", |mut c| async move {
            c.publish::<_, _, ()>(channel, message).await
        })
        .await;
    }

    /// Round-trip time of a PING, or `None` when Redis does not answer (or is skipped).
    pub async fn ping(&self) -> Option<Duration> {
        let started = Instant::now();
        self.run("ping", |mut c| async move {
            redis::cmd("PING").query_async::<String>(&mut c).await
        })
        .await
        .map(|_| started.elapsed())
    }

    /// Keys in Redis's database (all of them, not only ours): one O(1) call, unlike a scan
    /// of our prefix, which could outlast the call budget and trip the breaker.
    pub async fn db_size(&self) -> Option<u64> {
        self.run("dbsize", |mut c| async move {
            redis::cmd("DBSIZE").query_async::<u64>(&mut c).await
        })
        .await
    }

    /// Redis's own memory use, from `INFO memory`.
    pub async fn used_memory(&self) -> Option<u64> {
        let info: String = self
            .run("info", |mut c| async move {
                redis::cmd("INFO").arg("memory").query_async(&mut c).await
            })
            .await?;
        info.lines()
            .find_map(|l| l.strip_prefix("used_memory:"))
            .and_then(|v| v.trim().parse().ok())
    }
}

/// Makes a literal prefix safe inside a Redis glob.
fn escape_glob(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_round_trip_and_big_values_shrink() {
        let small = b"{\"a\":1}".to_vec();
        assert_eq!(encode(&small, 1024)[0], RAW);
        assert_eq!(decode(&encode(&small, 1024)), Some(small));
        let big = "{\"outlook\":\"within budget\"}".repeat(200).into_bytes();
        let framed = encode(&big, 1024);
        assert_eq!(framed[0], ZSTD);
        assert!(framed.len() < big.len() / 4);
        assert_eq!(decode(&framed), Some(big));
        assert_eq!(decode(b"?junk"), None);
        assert_eq!(decode(b""), None);
    }

    #[test]
    fn prefixes_are_literal_in_globs() {
        assert_eq!(escape_glob("a*b?[c]"), "a\\*b\\?\\[c\\]");
    }
}
