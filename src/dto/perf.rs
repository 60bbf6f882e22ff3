//! The performance center's reports as they go over the wire: the JSON API
//! (`/api/performance/*`) serializes them, and the admin pages read them by field, so a
//! renamed field breaks the build instead of a page. Built by `server::perf::report`.
//!
//! Field names are the seed interface's (SPEC S12); times ending in `_time` are seconds,
//! `_ms` milliseconds, rates are shares 0–1. Plain data only: this module also compiles to
//! WebAssembly, where only [`LivePoint`] is used (by the live chart island).

use serde::{Deserialize, Serialize};

/// Everything the performance pages show: what the summary, analytics, metrics and
/// thresholds endpoints answer, in one reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PerfReport {
    pub summary: Summary,
    pub analytics: Analytics,
    pub metrics: Metrics,
    pub thresholds: Thresholds,
}

/// `GET /api/performance/summary`: the score now and the last minute's key figures.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Summary {
    pub status: String,
    pub health_score: u32,
    pub active_alerts: u64,
    pub key_metrics: KeyMetrics,
    pub components: Vec<ScoreComponent>,
    /// False when `HEADROOM_MONITORING=false`: nothing is collected.
    pub monitoring: bool,
    /// The notifications outbox; `None` when it could not be read.
    #[serde(default)]
    pub outbox: Option<Outbox>,
}

/// Over the evaluation window.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct KeyMetrics {
    pub avg_response_time: f64,
    pub p95_response_time: Option<f64>,
    pub error_rate: f64,
    pub cache_hit_rate: Option<f64>,
    pub memory_usage_mb: Option<f64>,
    pub requests_per_second: f64,
    pub db_connections: u32,
}

/// One of the health score's five components.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ScoreComponent {
    pub name: String,
    pub metric: String,
    pub weight: u32,
    pub value: Option<f64>,
    pub unit: String,
    pub threshold: f64,
    pub ratio: Option<f64>,
    /// 0–100.
    pub score: f64,
    /// This component's share of the total: weight × score ÷ 100.
    pub points: f64,
}

/// `GET /api/performance/analytics?minutes=`: the score, open alerts, advice, and the
/// chart series of the last `minutes`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Analytics {
    /// RFC 3339.
    pub timestamp: String,
    pub minutes: i64,
    pub health_score: u32,
    pub status: String,
    pub components: Vec<ScoreComponent>,
    pub alerts: Vec<Alert>,
    pub recommendations: Vec<String>,
    pub trend: Trend,
    pub cache_performance: CachePerformance,
    pub window: WindowTotals,
    pub series: Vec<ChartPoint>,
}

/// Direction of the figures over a window: the later half against the earlier half.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Trend {
    /// `improving`, `degrading`, `stable`, or `unknown` with too few points.
    pub direction: String,
    pub score_change: Option<f64>,
    /// p95 response time, later half ÷ earlier half − 1 (request-weighted).
    pub p95_change: Option<f64>,
    pub error_rate_change: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CachePerformance {
    pub hit_rate: Option<f64>,
    pub total_operations: u64,
}

/// Requests and errors over the analytics window's points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct WindowTotals {
    pub requests: u64,
    pub errors: u64,
    pub error_rate: Option<f64>,
}

/// One point of a chart: a sampler tick, or a persisted minute.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ChartPoint {
    /// Unix seconds.
    pub t: i64,
    pub requests: u64,
    pub rps: f64,
    pub errors: u64,
    pub error_rate: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub queries: u64,
    pub query_p95_ms: Option<f64>,
    pub slow_queries: u64,
    pub cache_hit_rate: Option<f64>,
    pub rss_mb: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub db_connections: u32,
    pub score: u32,
}

/// One point of the performance center's live charts (a sampler tick), as the sampler
/// sends it over server-sent events; fields the charts do not draw are ignored. Kept
/// apart from [`ChartPoint`] so the island's bundle decodes only what it draws.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LivePoint {
    /// Unix seconds.
    pub t: i64,
    pub rps: f64,
    pub p95_ms: Option<f64>,
    pub error_rate: Option<f64>,
    pub rss_mb: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub score: u32,
}

impl From<&ChartPoint> for LivePoint {
    fn from(p: &ChartPoint) -> Self {
        LivePoint {
            t: p.t,
            rps: p.rps,
            p95_ms: p.p95_ms,
            error_rate: p.error_rate,
            rss_mb: p.rss_mb,
            cpu_percent: p.cpu_percent,
            score: p.score,
        }
    }
}

/// A performance alert, open or closed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Alert {
    pub id: i64,
    /// The seed's name for `metric`; both are sent.
    #[serde(rename = "type")]
    pub kind: String,
    pub metric: String,
    /// `low`, `medium`, `high` or `critical`.
    pub severity: String,
    pub message: String,
    pub value: f64,
    pub threshold: f64,
    pub ratio: f64,
    /// When it was raised, RFC 3339.
    pub timestamp: String,
    pub updated_at: String,
    pub acknowledged: bool,
    pub acknowledged_at: Option<String>,
    pub acknowledged_by: Option<String>,
    pub resolved: bool,
    pub resolved_at: Option<String>,
    pub resolved_by: Option<String>,
}

/// `GET /api/performance/metrics`: the seed's figures over the last 5 minutes
/// (`requests`, `database`, `memory`), then Headroom's detail since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Metrics {
    pub requests: RequestFigures,
    pub database: DatabaseFigures,
    pub memory: MemoryFigures,
    /// RFC 3339.
    pub timestamp: String,
    pub period_minutes: u32,
    pub monitoring: bool,
    /// Slowest (p95) first.
    pub routes: Vec<RouteRow>,
    /// The routes that served HTML pages.
    pub ssr: Vec<RouteRow>,
    /// Statements by total time, at most 50.
    pub queries: Vec<StatementRow>,
    /// Newest first.
    pub slow_queries: Vec<SlowQuery>,
    pub jobs: Vec<JobRow>,
    pub cache: CacheReport,
    pub system: ProcessFigures,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RequestFigures {
    pub total_requests: u64,
    pub avg_response_time: Option<f64>,
    pub max_response_time: Option<f64>,
    pub min_response_time: Option<f64>,
    pub p50_response_time: Option<f64>,
    pub p95_response_time: Option<f64>,
    pub p99_response_time: Option<f64>,
    pub error_rate: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct DatabaseFigures {
    pub total_queries: u64,
    pub avg_query_time: Option<f64>,
    pub max_query_time: Option<f64>,
    pub p95_query_time: Option<f64>,
    pub slow_query_count: u64,
    pub open_connections: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct MemoryFigures {
    pub current_memory_mb: Option<f64>,
    pub avg_memory_mb: Option<f64>,
    pub max_memory_mb: Option<f64>,
}

/// A route's figures since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RouteRow {
    pub route: String,
    pub requests: u64,
    pub errors: u64,
    pub client_errors: u64,
    pub error_rate: Option<f64>,
    pub mean_ms: Option<f64>,
    pub p50_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub max_ms: f64,
    /// Of which HTML pages (server-side rendered).
    pub pages: u64,
}

/// A normalized SQL statement's figures since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct StatementRow {
    pub statement: String,
    pub count: u64,
    pub total_ms: f64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: f64,
    pub slow: u64,
}

/// An entry of the slow-query log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct SlowQuery {
    pub statement: String,
    pub ms: f64,
    /// RFC 3339.
    pub at: String,
}

/// A background job's runs since start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct JobRow {
    pub job: String,
    pub runs: u64,
    pub failures: u64,
    pub mean_ms: f64,
    pub max_ms: f64,
    pub last_ms: f64,
    /// RFC 3339.
    pub last_run_at: String,
}

/// The process, from the newest sample (nothing before the first).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ProcessFigures {
    pub rss_mb: Option<f64>,
    pub cpu_percent: Option<f64>,
    pub disk_free_mb: Option<f64>,
    pub disk_total_mb: Option<f64>,
    pub open_files: Option<u64>,
    pub threads: Option<u64>,
    pub db_connections: u32,
    pub http_in_flight: i64,
    /// Client connections open now, idle keep-alive ones included.
    pub http_connections: u64,
}

/// The cache's statistics, as `GET /api/performance/cache/stats` gives them.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CacheReport {
    pub hit_rate: Option<f64>,
    pub hits: u64,
    pub misses: u64,
    pub strategies: Vec<CacheStrategy>,
    pub memory: CacheMemoryTier,
    pub redis: CacheRedisTier,
    pub invalidations: u64,
    pub remote_invalidations: u64,
    pub replay: CacheReplay,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CacheStrategy {
    pub strategy: String,
    pub ttl_secs: u64,
    pub hits: u64,
    pub memory_hits: u64,
    pub redis_hits: u64,
    pub replay_hits: u64,
    pub misses: u64,
    /// Share of reads answered from a cache tier (`null` before the first read).
    pub hit_rate: Option<f64>,
    pub computations: u64,
    pub mean_compute_ms: f64,
    pub not_kept: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CacheMemoryTier {
    pub entries: u64,
    pub bytes: u64,
    pub capacity_bytes: u64,
    pub evicted: u64,
    pub expired: u64,
    pub reads: u64,
    pub mean_read_ms: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CacheRedisTier {
    pub status: String,
    /// `closed` (in use) or `open` (skipped after failures).
    pub breaker: String,
    pub calls: u64,
    pub mean_call_ms: f64,
    pub errors: u64,
    pub skipped: u64,
    pub used_memory_bytes: Option<u64>,
    pub keys: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CacheReplay {
    pub enabled: bool,
    pub ttl_ms: u64,
    pub entries: u64,
    pub fills: u64,
    pub stale: u64,
}

/// Alert thresholds (seed field names). The presets and the rules for changing them are
/// the server's (`server::perf::thresholds`).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Thresholds {
    /// `production`, `development`, or `custom` once a value differs from both.
    pub preset: String,
    /// p95 response time over the evaluation window, in seconds.
    pub slow_request_threshold: f64,
    /// p95 statement time, in seconds; single statements above it go to the slow-query log.
    pub slow_query_threshold: f64,
    /// Resident memory, in MB.
    pub high_memory_threshold: f64,
    /// Share of responses that are 5xx, 0–1.
    pub error_rate_threshold: f64,
    /// The lowest acceptable cache hit rate, 0–1 (an alert when the rate falls *below*).
    pub cache_hit_rate_threshold: f64,
    /// How long the oldest due notification delivery may wait, in seconds.
    #[serde(default = "default_delivery_lag")]
    pub delivery_lag_threshold: f64,
}

fn default_delivery_lag() -> f64 {
    300.0
}

/// The notifications outbox at a glance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Outbox {
    /// Deliveries not yet sent nor given up.
    pub pending: i64,
    /// How long the oldest due one has waited, seconds (0: none is due).
    pub oldest_due_secs: i64,
    pub failures_last_hour: i64,
    /// Dead letters not sent again.
    pub dead: i64,
}

/// The `data` of `GET /api/v2/daily-outlook/performance`: the outlook's own routes and
/// cache strategy, with the overall score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutlookPerformance {
    pub health_score: u32,
    pub status: String,
    pub outlook_requests: u64,
    pub routes: Vec<RouteRow>,
    pub cache: Option<CacheStrategy>,
    pub cache_hit_rate: Option<f64>,
    pub database: OutlookDatabase,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct OutlookDatabase {
    pub p95_query_time: Option<f64>,
    pub open_connections: u32,
}
