//! The in-process cache, its lifetimes, and Redis as the shared second tier.

use std::time::Duration;

// The cache's own type (keyed by its strategies), parsed here with every other setting.
use crate::server::cache::strategy::Ttls;

use super::{secret::Secret, sources::Sources};

pub const KEYS: &[&str] = &[
    "memory_cache_mb",
    "cache_ttl",
    "cache_local_ttl_secs",
    "replay_ms",
    "cache_compress_bytes",
    "redis_url",
    "redis_namespace",
    "redis_timeout_ms",
];

#[derive(Debug, Clone)]
pub struct CacheSettings {
    pub memory_mb: u64,
    pub ttls: Ttls,
    pub local_ttl: Duration,
    pub replay_ttl: Duration,
    pub compress_bytes: usize,
    pub redis_url: Option<Secret>,
    /// Every Redis key and the pub/sub channel start with `{redis_namespace}:`.
    pub redis_namespace: String,
    pub redis_timeout: Duration,
}

pub fn parse(src: &mut Sources) -> CacheSettings {
    CacheSettings {
        memory_mb: src.parse_with(
            "memory_cache_mb",
            64,
            "a whole number of MiB from 1 to 65536",
            |s| s.parse().ok().filter(|n| (1..=65_536).contains(n)),
        ),
        ttls: src.parse_with(
            "cache_ttl",
            Ttls::default(),
            "strategy=seconds pairs like outlook=3600,dashboard=60 (strategies: dashboard, trends, timeline, outlook, balance_score, peer_comparison, content_templates, performance_summary, session)",
            Ttls::with_overrides,
        ),
        local_ttl: Duration::from_secs(src.parse_with(
            "cache_local_ttl_secs",
            60,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        )),
        replay_ttl: Duration::from_millis(src.parse_with(
            "replay_ms",
            1000,
            "a whole number of milliseconds from 0 (off) to 60000",
            |s| s.parse().ok().filter(|n| *n <= 60_000),
        )),
        compress_bytes: src.parse_with(
            "cache_compress_bytes",
            1024,
            "a whole number of bytes",
            |s| s.parse().ok(),
        ),
        redis_url: src.parse_with(
            "redis_url",
            None,
            "redis://[user:pass@]host:port[/db]",
            |s| {
                (s.starts_with("redis://") || s.starts_with("rediss://"))
                    .then(|| Some(Secret::new(s)))
            },
        ),
        redis_namespace: src.parse_with(
            "redis_namespace",
            "headroom".to_string(),
            "1 to 64 letters, digits, '-', '_' or '.'",
            |s| {
                (!s.is_empty()
                    && s.len() <= 64
                    && s.bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
                .then(|| s.to_string())
            },
        ),
        redis_timeout: Duration::from_millis(src.parse_with(
            "redis_timeout_ms",
            50,
            "a whole number of milliseconds from 1 to 10000",
            |s| s.parse().ok().filter(|n| (1..=10_000).contains(n)),
        )),
    }
}
