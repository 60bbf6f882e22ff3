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
//! | `HEADROOM_COLLECTOR` | `collector` | `true` | run the collectors and scheduled jobs (when this instance holds the leader lease) |
//! | `HEADROOM_LEASE_SECS` | `lease_secs` | 30 | how long the jobs leader's lease lasts; another instance takes over within this after a crash |
//! | `HEADROOM_COLLECTOR_RETRY_MS` | `collector_retry_ms` | 10000 | wait before the one retry of a failed collection |
//! | `HEADROOM_OUTBOUND_ALLOW` | `outbound_allow` | none | comma-separated CIDR ranges (or single addresses) the server may fetch from although they are not public, e.g. `192.168.1.0/24,127.0.0.1/32` for a router on the home LAN; loopback, private, link-local and other non-public addresses are refused otherwise, metadata services (169.254.169.254, fd00:ec2::254) always |
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

use std::{
    collections::{BTreeMap, HashMap},
    fmt,
    net::SocketAddr,
    path::{Path, PathBuf},
    str::FromStr,
    time::Duration,
};

use ipnet::IpNet;
use jiff::Timestamp;

// The one import of config: the TTL table is the cache's own type (keyed by its
// strategies), parsed here with every other setting.
pub use crate::server::cache::strategy::Ttls;

/// Everything the server is configured with.
#[derive(Debug, Clone)]
pub struct Settings {
    pub addr: SocketAddr,
    pub database_url: Secret,
    pub db_max_connections: u32,
    pub redis_url: Option<Secret>,
    /// Every Redis key and the pub/sub channel start with `{redis_namespace}:`.
    pub redis_namespace: String,
    pub data_dir: PathBuf,
    pub log_filter: String,
    pub log_format: LogFormat,
    pub secure_cookies: bool,
    pub session_days: u32,
    pub shutdown_grace_secs: u64,
    pub memory_cache_mb: u64,
    pub cache_ttls: Ttls,
    pub cache_local_ttl: Duration,
    pub replay_ttl: Duration,
    pub cache_compress_bytes: usize,
    pub redis_timeout: Duration,
    pub rate_limits: RateLimits,
    pub request_timeout: Duration,
    pub upload_timeout: Duration,
    pub upload_limit_bytes: u64,
    pub seed_demo: bool,
    pub retention: Retention,
    pub jobs_enabled: bool,
    pub lease_secs: i64,
    pub collector_retry_ms: u64,
    /// Non-public ranges opened to outbound requests (`server::outbound`).
    pub outbound_allow: Vec<IpNet>,
    pub fixed_now: Option<Timestamp>,
    pub test_hooks: bool,
    pub monitoring: bool,
    pub monitoring_sample_secs: u64,
    /// Reverse proxies whose forwarding headers are believed.
    pub trusted_proxies: Vec<IpNet>,
    /// Password hashes computed at once.
    pub password_hashes: usize,
    pub max_connections: usize,
    pub header_timeout: Duration,
    pub stream_timeout: Duration,
    /// Requests per hour per API token.
    pub token_rate_limit: u32,
    /// Requests per hour per user to server functions and form routes.
    pub app_rate_limit: u32,
}

/// API requests per hour allowed by plan tier (SPEC S7).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateLimits {
    pub per_hour: BTreeMap<String, u32>,
    pub count_admins: bool,
}

pub const PLAN_TIERS: [&str; 4] = ["budget", "mid", "professional", "enterprise"];

impl RateLimits {
    /// The seeds' limits, with overrides from `tier=n,tier=n`; `None` for an unknown tier or
    /// a number that is not a whole number from 1 to 10 000 000.
    pub fn with_overrides(spec: &str) -> Option<BTreeMap<String, u32>> {
        let mut limits: BTreeMap<String, u32> = PLAN_TIERS
            .iter()
            .zip([50, 100, 200, 500])
            .map(|(t, n)| ((*t).to_string(), n))
            .collect();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (tier, n) = part.split_once('=')?;
            let tier = tier.trim();
            let n: u32 = n
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=10_000_000).contains(n))?;
            *limits.get_mut(tier)? = n;
        }
        Some(limits)
    }

    /// The hourly limit of `tier`; an unknown tier gets the smallest.
    pub fn for_tier(&self, tier: &str) -> u32 {
        self.per_hour
            .get(tier)
            .copied()
            .unwrap_or_else(|| self.per_hour.values().copied().min().unwrap_or(50))
    }
}

/// How long each kind of data is kept, in days.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    pub raw_days: i64,
    pub rollup_days: i64,
    pub attempts_days: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Pretty,
    Json,
}

/// A string that must not appear in logs. `Debug`/`Display` print it with any password
/// masked (URLs) or not at all.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The real value, for the one place that needs it (opening a connection).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The URL with its password replaced by `***`: safe to log.
    pub fn redacted(&self) -> String {
        redact_url(&self.0)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.redacted())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "[redacted]".to_string();
    };
    let (authority, tail) = rest
        .split_once('/')
        .map_or((rest, None), |(a, t)| (a, Some(t)));
    let authority = match authority.rsplit_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{user}:***@{host}"),
            None => format!("{userinfo}@{host}"),
        },
        None => authority.to_string(),
    };
    let mut out = format!("{scheme}://{authority}");
    if let Some(tail) = tail {
        // Query strings may carry passwords too (`?password=`): drop them.
        out.push('/');
        out.push_str(tail.split('?').next().unwrap_or_default());
    }
    out
}

/// One or more settings were wrong; each line names the variable and what is allowed.
#[derive(Debug, thiserror::Error)]
#[error("invalid configuration:\n{}", .problems.join("\n"))]
pub struct ConfigError {
    pub problems: Vec<String>,
}

/// Where raw setting values come from, env first, then the TOML file.
struct Sources {
    env: HashMap<String, String>,
    file: BTreeMap<String, String>,
    file_path: Option<PathBuf>,
    problems: Vec<String>,
}

const KEYS: &[&str] = &[
    "addr",
    "database_url",
    "db_max_connections",
    "redis_url",
    "redis_namespace",
    "data_dir",
    "log",
    "log_format",
    "secure_cookies",
    "session_days",
    "shutdown_grace_secs",
    "memory_cache_mb",
    "cache_ttl",
    "cache_local_ttl_secs",
    "replay_ms",
    "cache_compress_bytes",
    "redis_timeout_ms",
    "rate_limits",
    "rate_limit_admins",
    "request_timeout_secs",
    "upload_timeout_secs",
    "upload_limit_bytes",
    "seed_demo",
    "retention_raw_days",
    "retention_rollup_days",
    "retention_attempts_days",
    "collector",
    "lease_secs",
    "collector_retry_ms",
    "outbound_allow",
    "now",
    "test_hooks",
    "monitoring",
    "monitoring_sample_secs",
    "trusted_proxies",
    "password_hashes",
    "max_connections",
    "header_timeout_secs",
    "stream_timeout_secs",
    "token_rate_limit",
    "app_rate_limit",
];

fn env_name(key: &str) -> String {
    format!("HEADROOM_{}", key.to_ascii_uppercase())
}

impl Sources {
    fn raw(&self, key: &str) -> Option<(String, String)> {
        let var = env_name(key);
        if let Some(v) = self.env.get(&var).filter(|v| !v.is_empty()) {
            return Some((v.clone(), var));
        }
        let origin = match &self.file_path {
            Some(p) => format!("{} (key `{key}`)", p.display()),
            None => key.to_string(),
        };
        self.file.get(key).map(|v| (v.clone(), origin))
    }

    fn parse<T>(&mut self, key: &str, default: T, allowed: &str) -> T
    where
        T: FromStr,
    {
        self.parse_with(key, default, allowed, |s| s.parse().ok())
    }

    fn parse_with<T>(
        &mut self,
        key: &str,
        default: T,
        allowed: &str,
        f: impl Fn(&str) -> Option<T>,
    ) -> T {
        match self.raw(key) {
            None => default,
            Some((value, origin)) => match f(value.trim()) {
                Some(v) => v,
                None => {
                    let shown = if key.ends_with("_url") {
                        redact_url(&value)
                    } else {
                        value
                    };
                    self.problems
                        .push(format!("  {origin} = {shown:?}: expected {allowed}"));
                    default
                }
            },
        }
    }

    fn flag(&mut self, key: &str) -> bool {
        self.parse_with(key, false, "true or false", parse_bool)
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Some(true),
        "0" | "false" | "no" | "off" => Some(false),
        _ => None,
    }
}

/// `192.168.1.0/24, 10.0.0.7` → ranges (a bare address is itself a range of one); `Err`
/// holds the first entry that is neither.
pub fn parse_ip_ranges(spec: &str) -> Result<Vec<IpNet>, String> {
    spec.split(',')
        .map(str::trim)
        .filter(|part| !part.is_empty())
        .map(|part| {
            part.parse::<IpNet>()
                .map(|net| net.trunc())
                .or_else(|_| part.parse::<std::net::IpAddr>().map(IpNet::from))
                .map_err(|_| part.to_string())
        })
        .collect()
}

fn parse_db_url(s: &str) -> Option<Secret> {
    (s.starts_with("sqlite:") || s.starts_with("postgres://") || s.starts_with("postgresql://"))
        .then(|| Secret::new(s))
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
        let mut problems = Vec::new();
        let mut table = BTreeMap::new();
        let file_path = file.as_ref().map(|(p, _)| p.clone());
        if let Some((path, text)) = file {
            match text.parse::<toml::Table>() {
                Ok(parsed) => {
                    for (k, v) in parsed {
                        if !KEYS.contains(&k.as_str()) {
                            problems.push(format!(
                                "  {}: unknown key `{k}` (known: {})",
                                path.display(),
                                KEYS.join(", ")
                            ));
                            continue;
                        }
                        let text = match v {
                            toml::Value::String(s) => s,
                            other => other.to_string(),
                        };
                        table.insert(k, text);
                    }
                }
                Err(e) => problems.push(format!("  {}: not valid TOML: {e}", path.display())),
            }
        }
        let mut src = Sources {
            env,
            file: table,
            file_path,
            problems,
        };

        let addr = src.parse("addr", default_addr, "an address like 127.0.0.1:3000");
        let data_dir: PathBuf = src.parse("data_dir", PathBuf::from("data"), "a directory path");
        let default_db = Secret::new(format!("sqlite://{}/headroom.db", data_dir.display()));
        let database_url = src.parse_with(
            "database_url",
            default_db,
            "sqlite://<path> or postgres://user:pass@host/db",
            parse_db_url,
        );
        let default_pool = if database_url.expose().starts_with("sqlite:") {
            8
        } else {
            16
        };
        let db_max_connections = src.parse_with(
            "db_max_connections",
            default_pool,
            "a whole number from 1 to 512",
            |s| s.parse().ok().filter(|n| (1..=512).contains(n)),
        );
        let redis_url = src.parse_with(
            "redis_url",
            None,
            "redis://[user:pass@]host:port[/db]",
            |s| {
                (s.starts_with("redis://") || s.starts_with("rediss://"))
                    .then(|| Some(Secret::new(s)))
            },
        );
        let redis_namespace = src.parse_with(
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
        );
        let log_filter = src.parse(
            "log",
            "info".to_string(),
            "a tracing filter like info or headroom=debug",
        );
        let log_format =
            src.parse_with(
                "log_format",
                LogFormat::Pretty,
                "pretty or json",
                |s| match s {
                    "pretty" => Some(LogFormat::Pretty),
                    "json" => Some(LogFormat::Json),
                    _ => None,
                },
            );
        let secure_cookies = src.flag("secure_cookies");
        let session_days = src.parse_with(
            "session_days",
            30,
            "a whole number of days from 1 to 365",
            |s| s.parse().ok().filter(|n| (1..=365).contains(n)),
        );
        let shutdown_grace_secs = src.parse_with(
            "shutdown_grace_secs",
            20,
            "a whole number of seconds from 0 to 600",
            |s| s.parse().ok().filter(|n| *n <= 600),
        );
        let memory_cache_mb = src.parse_with(
            "memory_cache_mb",
            64,
            "a whole number of MiB from 1 to 65536",
            |s| s.parse().ok().filter(|n| (1..=65_536).contains(n)),
        );
        let cache_ttls = src.parse_with(
            "cache_ttl",
            Ttls::default(),
            "strategy=seconds pairs like outlook=3600,dashboard=60 (strategies: dashboard, trends, timeline, outlook, balance_score, peer_comparison, content_templates, performance_summary, session)",
            Ttls::with_overrides,
        );
        let cache_local_ttl = Duration::from_secs(src.parse_with(
            "cache_local_ttl_secs",
            60,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        ));
        let replay_ttl = Duration::from_millis(src.parse_with(
            "replay_ms",
            1000,
            "a whole number of milliseconds from 0 (off) to 60000",
            |s| s.parse().ok().filter(|n| *n <= 60_000),
        ));
        let cache_compress_bytes = src.parse_with(
            "cache_compress_bytes",
            1024,
            "a whole number of bytes",
            |s| s.parse().ok(),
        );
        let redis_timeout = Duration::from_millis(src.parse_with(
            "redis_timeout_ms",
            50,
            "a whole number of milliseconds from 1 to 10000",
            |s| s.parse().ok().filter(|n| (1..=10_000).contains(n)),
        ));
        let rate_limits = RateLimits {
            per_hour: src.parse_with(
                "rate_limits",
                RateLimits::with_overrides("").unwrap_or_default(),
                "tier=requests-per-hour pairs like budget=50,enterprise=500 (tiers: budget, mid, professional, enterprise)",
                RateLimits::with_overrides,
            ),
            count_admins: src.flag("rate_limit_admins"),
        };
        let request_timeout = Duration::from_secs(src.parse_with(
            "request_timeout_secs",
            30,
            "a whole number of seconds from 1 to 3600",
            |s| s.parse().ok().filter(|n| (1..=3600).contains(n)),
        ));
        let upload_timeout = Duration::from_secs(src.parse_with(
            "upload_timeout_secs",
            300,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        ));
        // A year of 10-second readings in CSV is about 100 MB; bigger files are better
        // imported with `headroom import` on the server.
        let upload_limit_bytes = src.parse_with(
            "upload_limit_bytes",
            128 * 1024 * 1024,
            "a whole number of bytes from 1024 to 17179869184 (16 GiB)",
            |s| s.parse().ok().filter(|n| (1024..=16 << 30).contains(n)),
        );
        let seed_demo = src.flag("seed_demo");
        let days = |src: &mut Sources, key: &str, default: i64| {
            src.parse_with(
                key,
                default,
                "a whole number of days from 1 to 36500",
                |s| s.parse().ok().filter(|n| (1..=36_500).contains(n)),
            )
        };
        let retention = Retention {
            raw_days: days(&mut src, "retention_raw_days", 365),
            rollup_days: days(&mut src, "retention_rollup_days", 730),
            attempts_days: days(&mut src, "retention_attempts_days", 30),
        };
        let jobs_enabled = src.parse_with("collector", true, "true or false", parse_bool);
        let lease_secs = src.parse_with(
            "lease_secs",
            30,
            "a whole number of seconds from 3 to 3600",
            |s| s.parse().ok().filter(|n| (3..=3600).contains(n)),
        );
        let collector_retry_ms = src.parse_with(
            "collector_retry_ms",
            10_000,
            "a whole number of milliseconds up to 600000",
            |s| s.parse().ok().filter(|n| *n <= 600_000),
        );
        // Parsed by hand to name the bad entry: one typo in a long list is hard to spot.
        let outbound_allow = match src.raw("outbound_allow") {
            None => Vec::new(),
            Some((value, origin)) => parse_ip_ranges(&value).unwrap_or_else(|bad| {
                src.problems.push(format!(
                    "  {origin} = {value:?}: {bad:?} is not a CIDR range; expected comma-separated ranges like 192.168.1.0/24,127.0.0.1/32"
                ));
                Vec::new()
            }),
        };
        let fixed_now = src.parse_with(
            "now",
            None,
            "an RFC 3339 instant like 2026-11-20T18:00:00Z",
            |s| s.parse::<Timestamp>().ok().map(Some),
        );
        let test_hooks = src.flag("test_hooks");
        let monitoring = src.parse_with("monitoring", true, "true or false", parse_bool);
        let monitoring_sample_secs = src.parse_with(
            "monitoring_sample_secs",
            5,
            "a whole number of seconds up to 300 (0: no automatic sampling)",
            |s| s.parse().ok().filter(|n| *n <= 300),
        );
        let trusted_proxies = match src.raw("trusted_proxies") {
            None => Vec::new(),
            Some((value, origin)) => parse_ip_ranges(&value).unwrap_or_else(|bad| {
                src.problems.push(format!(
                    "  {origin} = {value:?}: {bad:?} is not an address or CIDR range; expected a comma-separated list like 127.0.0.1/32,10.0.0.0/8"
                ));
                Vec::new()
            }),
        };
        // Half the cores: a sign-in flood must leave the other half serving everyone else.
        let cores = std::thread::available_parallelism().map_or(2, std::num::NonZero::get);
        let password_hashes = src.parse_with(
            "password_hashes",
            (cores / 2).max(1),
            "a whole number from 1 to 64",
            |s| s.parse().ok().filter(|n| (1..=64).contains(n)),
        );
        let max_connections = src.parse_with(
            "max_connections",
            10_000,
            "a whole number from 1 to 1000000",
            |s| s.parse().ok().filter(|n| (1..=1_000_000).contains(n)),
        );
        let header_timeout = Duration::from_secs(src.parse_with(
            "header_timeout_secs",
            10,
            "a whole number of seconds from 1 to 300",
            |s| s.parse().ok().filter(|n| (1..=300).contains(n)),
        ));
        let stream_timeout = Duration::from_secs(src.parse_with(
            "stream_timeout_secs",
            600,
            "a whole number of seconds from 1 to 86400",
            |s| s.parse().ok().filter(|n| (1..=86_400).contains(n)),
        ));
        let per_hour = |src: &mut Sources, key: &str, default: u32| {
            src.parse_with(
                key,
                default,
                "a whole number of requests per hour from 1 to 10000000",
                |s| s.parse().ok().filter(|n| (1..=10_000_000).contains(n)),
            )
        };
        let token_rate_limit = per_hour(&mut src, "token_rate_limit", 1000);
        let app_rate_limit = per_hour(&mut src, "app_rate_limit", 3000);

        let known: Vec<String> = KEYS.iter().map(|k| env_name(k)).collect();
        for var in src.env.keys() {
            if var.starts_with("HEADROOM_") && var != "HEADROOM_CONFIG" && !known.contains(var) {
                // Not fatal: tooling may set its own HEADROOM_TEST_* variables. Logged later.
                tracing::warn!(variable = %var, "unknown HEADROOM_ variable ignored");
            }
        }

        if !src.problems.is_empty() {
            return Err(ConfigError {
                problems: src.problems,
            });
        }
        Ok(Settings {
            addr,
            database_url,
            db_max_connections,
            redis_url,
            redis_namespace,
            data_dir,
            log_filter,
            log_format,
            secure_cookies,
            session_days,
            shutdown_grace_secs,
            memory_cache_mb,
            cache_ttls,
            cache_local_ttl,
            replay_ttl,
            cache_compress_bytes,
            redis_timeout,
            rate_limits,
            request_timeout,
            upload_timeout,
            upload_limit_bytes,
            seed_demo,
            retention,
            jobs_enabled,
            lease_secs,
            collector_retry_ms,
            outbound_allow,
            fixed_now,
            test_hooks,
            monitoring,
            monitoring_sample_secs,
            trusted_proxies,
            password_hashes,
            max_connections,
            header_timeout,
            stream_timeout,
            token_rate_limit,
            app_rate_limit,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr() -> SocketAddr {
        "127.0.0.1:3000".parse().expect("literal")
    }

    fn env(pairs: &[(&str, &str)]) -> HashMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_the_embedded_setup() {
        let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
        assert_eq!(s.database_url.expose(), "sqlite://data/headroom.db");
        assert!(s.redis_url.is_none());
        assert_eq!(s.redis_namespace, "headroom");
        assert_eq!(s.addr, addr());
        assert_eq!(s.db_max_connections, 8);
    }

    #[test]
    fn bad_values_name_the_variable_and_what_is_allowed() {
        let err = Settings::from_sources(
            env(&[
                ("HEADROOM_ADDR", "localhost"),
                ("HEADROOM_DATABASE_URL", "mysql://root:hunter2@db/x"),
                ("HEADROOM_LOG_FORMAT", "xml"),
                ("HEADROOM_REDIS_NAMESPACE", "two words"),
            ]),
            None,
            addr(),
        )
        .expect_err("four problems");
        let text = err.to_string();
        assert!(
            text.contains("HEADROOM_ADDR = \"localhost\": expected an address"),
            "{text}"
        );
        assert!(text.contains("HEADROOM_DATABASE_URL"), "{text}");
        assert!(
            text.contains("HEADROOM_LOG_FORMAT = \"xml\": expected pretty or json"),
            "{text}"
        );
        assert!(
            text.contains("HEADROOM_REDIS_NAMESPACE = \"two words\": expected 1 to 64 letters"),
            "{text}"
        );
        assert!(!text.contains("hunter2"), "password leaked: {text}");
    }

    #[test]
    fn cache_ttls_and_rate_limits_are_configurable_by_name() {
        let s = Settings::from_sources(
            env(&[
                ("HEADROOM_CACHE_TTL", "outlook=600"),
                ("HEADROOM_RATE_LIMITS", "budget=10"),
            ]),
            None,
            addr(),
        )
        .expect("valid");
        assert_eq!(
            s.cache_ttls
                .get(crate::server::cache::Strategy::Outlook)
                .as_secs(),
            600
        );
        assert_eq!(s.rate_limits.for_tier("budget"), 10);
        assert_eq!(s.rate_limits.for_tier("enterprise"), 500);
        assert!(!s.rate_limits.count_admins);
        let err = Settings::from_sources(
            env(&[
                ("HEADROOM_CACHE_TTL", "outlok=600"),
                ("HEADROOM_RATE_LIMITS", "gold=10"),
            ]),
            None,
            addr(),
        )
        .expect_err("two problems")
        .to_string();
        assert!(err.contains("HEADROOM_CACHE_TTL = \"outlok=600\""), "{err}");
        assert!(err.contains("HEADROOM_RATE_LIMITS = \"gold=10\""), "{err}");
    }

    #[test]
    fn outbound_allow_takes_cidr_ranges_and_names_a_bad_one() {
        let s = Settings::from_sources(
            env(&[(
                "HEADROOM_OUTBOUND_ALLOW",
                "192.168.1.7/24, 127.0.0.1,fd12::/16",
            )]),
            None,
            addr(),
        )
        .expect("valid");
        let shown: Vec<String> = s.outbound_allow.iter().map(|n| n.to_string()).collect();
        assert_eq!(shown, ["192.168.1.0/24", "127.0.0.1/32", "fd12::/16"]);
        assert!(
            Settings::from_sources(HashMap::new(), None, addr())
                .expect("defaults valid")
                .outbound_allow
                .is_empty()
        );
        let err = Settings::from_sources(
            env(&[("HEADROOM_OUTBOUND_ALLOW", "10.0.0.0/8,192.168.1.0/33")]),
            None,
            addr(),
        )
        .expect_err("bad prefix")
        .to_string();
        assert!(
            err.contains("HEADROOM_OUTBOUND_ALLOW")
                && err.contains("\"192.168.1.0/33\" is not a CIDR range"),
            "{err}"
        );
    }

    #[test]
    fn uploads_have_a_size_limit_and_a_deadline_of_their_own() {
        let s = Settings::from_sources(HashMap::new(), None, addr()).expect("defaults valid");
        assert_eq!(s.upload_limit_bytes, 128 * 1024 * 1024);
        assert_eq!(s.upload_timeout, Duration::from_secs(300));
        let s = Settings::from_sources(
            env(&[
                ("HEADROOM_UPLOAD_LIMIT_BYTES", "1000000"),
                ("HEADROOM_UPLOAD_TIMEOUT_SECS", "5"),
            ]),
            None,
            addr(),
        )
        .expect("valid");
        assert_eq!(
            (s.upload_limit_bytes, s.upload_timeout.as_secs()),
            (1_000_000, 5)
        );
        let err = Settings::from_sources(
            env(&[
                ("HEADROOM_UPLOAD_LIMIT_BYTES", "0"),
                ("HEADROOM_UPLOAD_TIMEOUT_SECS", "0"),
            ]),
            None,
            addr(),
        )
        .expect_err("two problems")
        .to_string();
        assert!(err.contains("HEADROOM_UPLOAD_LIMIT_BYTES = \"0\""), "{err}");
        assert!(
            err.contains("HEADROOM_UPLOAD_TIMEOUT_SECS = \"0\""),
            "{err}"
        );
    }

    #[test]
    fn env_overrides_the_file_and_unknown_file_keys_fail() {
        let file = Some((
            PathBuf::from("headroom.toml"),
            "addr = \"127.0.0.1:4000\"\nmemory_cache_mb = 32\n".to_string(),
        ));
        let s = Settings::from_sources(env(&[("HEADROOM_ADDR", "127.0.0.1:5000")]), file, addr())
            .expect("valid");
        assert_eq!(s.addr.port(), 5000);
        assert_eq!(s.memory_cache_mb, 32);

        let bad = Some((PathBuf::from("h.toml"), "adress = \"x\"".to_string()));
        let err = Settings::from_sources(HashMap::new(), bad, addr()).expect_err("typo");
        assert!(err.to_string().contains("unknown key `adress`"));
    }

    #[test]
    fn secrets_are_redacted_in_debug() {
        let s = Settings::from_sources(
            env(&[
                (
                    "HEADROOM_DATABASE_URL",
                    "postgres://app:s3cret@db:5432/headroom?sslmode=require",
                ),
                ("HEADROOM_REDIS_URL", "redis://:r3dis@cache:6379/0"),
            ]),
            None,
            addr(),
        )
        .expect("valid");
        let shown = format!("{s:?}");
        assert!(
            !shown.contains("s3cret") && !shown.contains("r3dis"),
            "{shown}"
        );
        assert!(
            shown.contains("postgres://app:***@db:5432/headroom"),
            "{shown}"
        );
    }
}
