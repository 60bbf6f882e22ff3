//! Typed settings, read once at start from `HEADROOM_*` environment variables and an
//! optional TOML file, and validated before anything else happens.
//!
//! | variable | TOML key | default | meaning |
//! |---|---|---|---|
//! | `HEADROOM_CONFIG` | — | none | path of an optional TOML file with the keys below |
//! | `HEADROOM_ADDR` | `addr` | Leptos.toml `site-addr` (127.0.0.1:3000) | listen address |
//! | `HEADROOM_DATABASE_URL` | `database_url` | `sqlite://<data_dir>/headroom.db` | `sqlite://…` or `postgres://…` |
//! | `HEADROOM_DB_MAX_CONNECTIONS` | `db_max_connections` | 8 (SQLite) / 16 (PostgreSQL) | pool size |
//! | `HEADROOM_REDIS_URL` | `redis_url` | none: in-process cache only | `redis://…` second cache tier |
//! | `HEADROOM_REDIS_NAMESPACE` | `redis_namespace` | `headroom` | prefix of every Redis key and of the invalidation channel: instances of one install share it; separate installs on one Redis each need their own, or they would read each other's cached data and share rate limits |
//! | `HEADROOM_DATA_DIR` | `data_dir` | `data` | where the SQLite file lives |
//! | `HEADROOM_LOG` | `log` | `info` | tracing filter, e.g. `headroom=debug,info` |
//! | `HEADROOM_LOG_FORMAT` | `log_format` | `pretty` | `pretty` or `json` |
//! | `HEADROOM_SECURE_COOKIES` | `secure_cookies` | `false` | mark cookies `Secure` (set behind TLS) |
//! | `HEADROOM_SESSION_DAYS` | `session_days` | 30 | how long a sign-in lasts |
//! | `HEADROOM_INVITE_HOURS` | `invite_hours` | 72 | how long an invitation or password-reset link works (each works once) |
//! | `HEADROOM_SHUTDOWN_GRACE_SECS` | `shutdown_grace_secs` | 20 | how long to drain requests on SIGTERM |
//! | `HEADROOM_MEMORY_CACHE_MB` | `memory_cache_mb` | 64 | in-process cache budget in MiB |
//! | `HEADROOM_CACHE_TTL` | `cache_ttl` | the seeds' (SPEC S6) | TTL overrides per strategy, e.g. `outlook=3600,dashboard=60` |
//! | `HEADROOM_CACHE_LOCAL_TTL_SECS` | `cache_local_ttl_secs` | 60 | with Redis: longest an in-process copy lives (bounds staleness while pub/sub is down) |
//! | `HEADROOM_REPLAY_MS` | `replay_ms` | 1000 | how long a signed-in user's cached JSON answer is sent again from memory without the session lookup or the handler (any invalidation ends it at once; 0: off) |
//! | `HEADROOM_CACHE_COMPRESS_BYTES` | `cache_compress_bytes` | 1024 | values at least this big are stored compressed in Redis |
//! | `HEADROOM_REDIS_TIMEOUT_MS` | `redis_timeout_ms` | 50 | longest wait on one Redis operation before it counts as failed |
//! | `HEADROOM_RATE_LIMITS` | `rate_limits` | `budget=50,mid=100,professional=200,enterprise=500` | API requests per hour by plan tier |
//! | `HEADROOM_RATE_LIMIT_ADMINS` | `rate_limit_admins` | `false` | count administrators' requests too |
//! | `HEADROOM_REQUEST_TIMEOUT_SECS` | `request_timeout_secs` | 30 | a request still unanswered after this gets 503 |
//! | `HEADROOM_UPLOAD_TIMEOUT_SECS` | `upload_timeout_secs` | 300 | the same for the two upload routes (form and API), whose body may take minutes; a partial upload is removed |
//! | `HEADROOM_UPLOAD_LIMIT_BYTES` | `upload_limit_bytes` | 134217728 (128 MiB) | largest upload body; larger is 413, refused before reading when `Content-Length` says so |
//! | `HEADROOM_SEED_DEMO` | `seed_demo` | `false` | seed demo data when the database has no users |
//! | `HEADROOM_RETENTION_RAW_DAYS` | `retention_raw_days` | 365 | keep raw readings this long |
//! | `HEADROOM_RETENTION_ROLLUP_DAYS` | `retention_rollup_days` | 730 | keep 15-minute and hourly rollups this long (daily and weekly: forever) |
//! | `HEADROOM_RETENTION_ATTEMPTS_DAYS` | `retention_attempts_days` | 30 | keep the collector's attempt log this long |
//! | `HEADROOM_BACKUP_HOURS` | `backup_hours` | 0 (off) | with SQLite, snapshot the database into `<data dir>/backups` this often (the jobs leader does it; see `headroom backup`) |
//! | `HEADROOM_BACKUP_KEEP` | `backup_keep` | 7 | scheduled snapshots kept; older ones are deleted |
//! | `HEADROOM_COLLECTOR` | `collector` | `true` | run the collectors and scheduled jobs (when this instance holds the leader lease) |
//! | `HEADROOM_LEASE_SECS` | `lease_secs` | 30 | how long the jobs leader's lease lasts; another instance takes over within this after a crash |
//! | `HEADROOM_COLLECTOR_RETRY_MS` | `collector_retry_ms` | 10000 | wait before the one retry of a failed collection |
//! | `HEADROOM_NOTIFICATIONS` | `notifications` | `true` | evaluate notification rules and send the outbox (off: nobody is told; what is queued waits) |
//! | `HEADROOM_RULES_EVERY_MS` | `rules_every_ms` | 500 | the rules of written meters are evaluated in the background, each meter once per this many milliseconds however many writes touched it (0: as soon as the evaluator is free) |
//! | `HEADROOM_DELIVERY_CLAIM_SECS` | `delivery_claim_secs` | 60 | how long a sender's claim on a batch of the outbox lasts (15–3600; more than a request's 10 s): a sender killed mid-delivery leaves its batches to be sent again, with the same idempotency key, this long after |
//! | `HEADROOM_OUTBOUND_ALLOW` | `outbound_allow` | none | comma-separated CIDR ranges (or single addresses) the server may fetch from although they are not public, e.g. `192.168.1.0/24,127.0.0.1/32` for a router on the home LAN; loopback, private, link-local and other non-public addresses are refused otherwise, metadata services (169.254.169.254, fd00:ec2::254) always |
//! | `HEADROOM_PUSH_CONTACT` | `push_contact` | none | `mailto:` or `https:` address sent to push services as the VAPID `sub` claim (how they reach the operator; Apple's requires one) |
//! | `HEADROOM_NOW` | `now` | none | pin "now" (RFC 3339), for benchmarks and demos |
//! | `HEADROOM_TEST_HOOKS` | `test_hooks` | `false` | mount `/__test/*` routes used by the test suite |
//! | `HEADROOM_MONITORING` | `monitoring` | `true` | the performance center's collection (per-route and per-statement timing, sampler); `false` for an overhead comparison |
//! | `HEADROOM_MONITORING_SAMPLE_SECS` | `monitoring_sample_secs` | 5 | how often the sampler snapshots the counters, scores and raises alerts (0: never on its own — tests drive it) |
//! | `HEADROOM_TRUSTED_PROXIES` | `trusted_proxies` | none | CIDR list of reverse proxies whose `X-Forwarded-For` / `X-Forwarded-Proto` are believed, e.g. `127.0.0.1/32,10.0.0.0/8` |
//! | `HEADROOM_PASSWORD_HASHES` | `password_hashes` | half the cores, at least 1 | password hashes (19 MiB and a core each) computed at once; a short queue waits, beyond it sign-in answers 503 |
//! | `HEADROOM_MAX_CONNECTIONS` | `max_connections` | 10000 | open client connections; beyond it new ones wait in the kernel's queue |
//! | `HEADROOM_HEADER_TIMEOUT_SECS` | `header_timeout_secs` | 10 | a client must send a request's headers within this, or the connection is closed |
//! | `HEADROOM_STREAM_TIMEOUT_SECS` | `stream_timeout_secs` | 600 | longest a streamed answer (an export, a live chart) may take in all |
//! | `HEADROOM_TOKEN_RATE_LIMIT` | `token_rate_limit` | 1000 | requests per hour one API token may make (a looping device cannot flood the write path) |
//! | `HEADROOM_APP_RATE_LIMIT` | `app_rate_limit` | 3000 | requests per hour a signed-in user's pages may make to server functions and form routes (the API's plan limits are separate) |
//!
//! Secrets (URLs with passwords) are wrapped in [`Secret`] so `Debug` and logs never show them.
//!
//! Each section of [`Settings`] has a file that lists the keys it reads (`KEYS`) and
//! parses them with their defaults and ranges; the keys the TOML file may hold are the
//! union of those lists. `Sources` (sources.rs) holds the raw values and collects every
//! problem, so one start reports them all.

mod cache;
mod database;
mod jobs;
mod secret;
mod security;
mod server;
mod sources;
#[cfg(test)]
mod tests;

use std::{
    collections::HashMap,
    net::SocketAddr,
    path::{Path, PathBuf},
};

pub use cache::CacheSettings;
pub use database::{DatabaseSettings, Retention};
pub use jobs::JobSettings;
pub use secret::Secret;
pub use security::{PLAN_TIERS, RateLimits, SecuritySettings, parse_ip_ranges};
pub use server::{LogFormat, ServerSettings};
pub use sources::ConfigError;

use sources::Sources;

/// Every section's keys; `HEADROOM_<KEY>` is its variable.
const SECTIONS: [&[&str]; 5] = [
    server::KEYS,
    database::KEYS,
    cache::KEYS,
    security::KEYS,
    jobs::KEYS,
];

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub cache: CacheSettings,
    pub security: SecuritySettings,
    pub jobs: JobSettings,
}

impl Settings {
    /// Reads the process environment and, when `HEADROOM_CONFIG` (or `config_file`) names
    /// one, a TOML file.
    pub fn from_environment(
        config_file: Option<&Path>,
        default_addr: SocketAddr,
    ) -> Result<Self, ConfigError> {
        let env: HashMap<String, String> = std::env::vars().collect();
        let path = config_file
            .map(Path::to_path_buf)
            .or_else(|| env.get("HEADROOM_CONFIG").map(PathBuf::from));
        let file = match &path {
            Some(p) => Some((
                p.clone(),
                std::fs::read_to_string(p).map_err(|e| ConfigError {
                    problems: vec![format!(
                        "  HEADROOM_CONFIG: cannot read {}: {e}",
                        p.display()
                    )],
                })?,
            )),
            None => None,
        };
        Self::from_sources(env, file, default_addr)
    }

    /// The pure part of [`Settings::from_environment`], for tests.
    pub fn from_sources(
        env: HashMap<String, String>,
        file: Option<(PathBuf, String)>,
        default_addr: SocketAddr,
    ) -> Result<Self, ConfigError> {
        let mut src = Sources::new(env, file, SECTIONS.concat());
        let server = server::parse(&mut src, default_addr);
        let database = database::parse(&mut src, &server.data_dir);
        let cache = cache::parse(&mut src);
        let security = security::parse(&mut src);
        let jobs = jobs::parse(&mut src);
        src.finish()?;
        Ok(Settings {
            server,
            database,
            cache,
            security,
            jobs,
        })
    }
}
