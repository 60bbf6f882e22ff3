//! How a [`Cache`](super::Cache) is set up: made by `startup` from the settings, so the
//! cache reads no configuration.

use std::time::Duration;

use super::strategy::Ttls;

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
}

impl CacheOptions {
    /// An in-process cache with the default TTLs and a 64 MiB budget (tests, tools).
    pub fn in_process() -> Self {
        CacheOptions {
            memory_bytes: 64 * 1024 * 1024,
            redis: None,
            local_ttl: Duration::from_secs(60),
            ttls: Ttls::default(),
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
