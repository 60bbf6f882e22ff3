//! The performance center's reports, shared by the JSON API and the admin pages: the seed
//! documents' shapes (`metrics`, `analytics`, `summary`) with Headroom's detail added.

use serde::Serialize;
use serde_json::{Value, json};

use super::{
    EVAL_SAMPLES, advice,
    collect::RouteSnapshot,
    history::{Point, Window, trend},
    sampler::figures,
    score::{self, Health},
    sql::{self, StatementSnapshot},
};
use crate::server::{
    state::AppState,
    storage::{StoreResult, perf::AlertRow},
};

fn now() -> i64 {
    crate::server::clock::wall_now().as_second()
}

fn iso(secs: i64) -> String {
    jiff::Timestamp::from_second(secs)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

fn r2(v: f64) -> f64 {
    (v * 100.0).round() / 100.0
}

fn r2o(v: Option<f64>) -> Option<f64> {
    v.map(r2)
}

/// A route's figures since start.
#[derive(Clone, Debug, Serialize)]
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

pub fn route_rows(routes: &[RouteSnapshot]) -> Vec<RouteRow> {
    let mut rows: Vec<RouteRow> = routes
        .iter()
        .filter(|r| r.requests() > 0)
        .map(|r| RouteRow {
            route: r.route.clone(),
            requests: r.requests(),
            errors: r.errors,
            client_errors: r.client_errors,
            error_rate: (r.requests() > 0).then(|| r.errors as f64 / r.requests() as f64),
            mean_ms: r2o(r.latency.mean_ms()),
            p50_ms: r2o(r.latency.quantile_ms(0.5)),
            p95_ms: r2o(r.latency.quantile_ms(0.95)),
            p99_ms: r2o(r.latency.quantile_ms(0.99)),
            max_ms: r2(r.latency.max_us as f64 / 1000.0),
            pages: r.pages,
        })
        .collect();
    rows.sort_by(|a, b| {
        b.p95_ms
            .unwrap_or(0.0)
            .total_cmp(&a.p95_ms.unwrap_or(0.0))
            .then(a.route.cmp(&b.route))
    });
    rows
}

#[derive(Clone, Debug, Serialize)]
pub struct StatementRow {
    pub statement: String,
    pub count: u64,
    pub total_ms: f64,
    pub mean_ms: Option<f64>,
    pub p95_ms: Option<f64>,
    pub max_ms: f64,
    pub slow: u64,
}

pub fn statement_rows(statements: &[StatementSnapshot], limit: usize) -> Vec<StatementRow> {
    let mut rows: Vec<StatementRow> = statements
        .iter()
        .map(|s| StatementRow {
            statement: s.statement.to_string(),
            count: s.latency.count(),
            total_ms: r2(s.latency.sum_us as f64 / 1000.0),
            mean_ms: r2o(s.latency.mean_ms()),
            p95_ms: r2o(s.latency.quantile_ms(0.95)),
            max_ms: r2(s.latency.max_us as f64 / 1000.0),
            slow: s.slow,
        })
        .collect();
    rows.sort_by(|a, b| b.total_ms.total_cmp(&a.total_ms));
    rows.truncate(limit);
    rows
}

/// The health of the evaluation window (computed now if the sampler has not run yet).
pub async fn health(state: &AppState) -> Health {
    if let Some(e) = state.perf.latest() {
        return e.health.clone();
    }
    let w = state.perf.window(EVAL_SAMPLES).await;
    score::health(&figures(&w), &state.perf.thresholds())
}

pub fn alert_json(a: &AlertRow) -> Value {
    json!({
        "id": a.id,
        "type": a.metric,
        "metric": a.metric,
        "severity": a.severity,
        "message": a.message,
        "value": a.value,
        "threshold": a.threshold,
        "ratio": r2(a.ratio),
        "timestamp": iso(a.raised_at),
        "updated_at": iso(a.updated_at),
        "acknowledged": a.acknowledged_at.is_some(),
        "acknowledged_at": a.acknowledged_at.map(iso),
        "acknowledged_by": a.acknowledged_by,
        "resolved": a.resolved_at.is_some(),
        "resolved_at": a.resolved_at.map(iso),
        "resolved_by": a.resolved_by,
    })
}

fn window_json(w: &Window) -> Value {
    json!({
        "requests": {
            "total_requests": w.requests,
            "avg_response_time": w.latency.mean_ms().map(|m| m / 1000.0),
            "max_response_time": (w.requests > 0).then(|| w.latency.max_us as f64 / 1e6),
            "min_response_time": w.latency.quantile_ms(0.0).map(|m| m / 1000.0),
            "p50_response_time": w.latency.quantile_ms(0.5).map(|m| m / 1000.0),
            "p95_response_time": w.latency.quantile_ms(0.95).map(|m| m / 1000.0),
            "p99_response_time": w.latency.quantile_ms(0.99).map(|m| m / 1000.0),
            "error_rate": w.error_rate().unwrap_or(0.0),
        },
        "database": {
            "total_queries": w.queries.count(),
            "avg_query_time": w.queries.mean_ms().map(|m| m / 1000.0),
            "max_query_time": (w.queries.count() > 0).then(|| w.queries.max_us as f64 / 1e6),
            "p95_query_time": w.queries.quantile_ms(0.95).map(|m| m / 1000.0),
            "slow_query_count": w.slow_queries,
            "open_connections": w.db_connections,
        },
        "memory": {
            "current_memory_mb": r2o(w.rss_last),
            "avg_memory_mb": r2o(w.rss_mean()),
            "max_memory_mb": r2o(w.rss_max),
        },
    })
}

/// `GET /api/performance/metrics`: the seed's figures over the last 5 minutes, then the
/// per-route, per-statement, SSR, job, cache and system detail since start.
pub async fn metrics(state: &AppState) -> Value {
    let perf = &state.perf;
    let since = now() - 300;
    let samples = perf.samples_since(since).await;
    let w = Window::of(samples.iter());
    let routes = route_rows(&perf.routes.snapshot());
    let ssr: Vec<&RouteRow> = routes.iter().filter(|r| r.pages > 0).collect();
    let statements = sql::global().snapshot();
    let last = samples.last();
    let mut out = window_json(&w);
    let jobs: Vec<Value> = perf
        .jobs
        .snapshot()
        .into_iter()
        .map(|(name, j)| {
            json!({"job": name, "runs": j.runs, "failures": j.failures,
                   "mean_ms": if j.runs > 0 { r2(j.total_ms / j.runs as f64) } else { 0.0 },
                   "max_ms": r2(j.max_ms), "last_ms": r2(j.last_ms), "last_run_at": iso(j.last_run_at)})
        })
        .collect();
    if let Value::Object(m) = &mut out {
        m.insert("timestamp".into(), json!(iso(now())));
        m.insert("period_minutes".into(), json!(5));
        m.insert("monitoring".into(), json!(perf.enabled));
        m.insert("routes".into(), json!(routes));
        m.insert("ssr".into(), json!(ssr));
        m.insert("queries".into(), json!(statement_rows(&statements, 50)));
        m.insert("slow_queries".into(), json!(sql::global().slow_log()));
        m.insert("jobs".into(), json!(jobs));
        m.insert("cache".into(), json!(state.cache.stats().await));
        m.insert(
            "system".into(),
            json!({
                "rss_mb": last.and_then(|s| r2o(s.system.rss_mb)),
                "cpu_percent": last.and_then(|s| r2o(s.system.cpu_percent)),
                "disk_free_mb": last.and_then(|s| r2o(s.system.disk_free_mb)),
                "disk_total_mb": last.and_then(|s| r2o(s.system.disk_total_mb)),
                "open_files": last.and_then(|s| s.system.open_files),
                "threads": last.and_then(|s| s.system.threads),
                "db_connections": state.db.pool_size(),
                "http_in_flight": perf.routes.in_flight(),
            }),
        );
    }
    out
}

/// Chart points for the last `minutes`: persisted minutes before the in-memory samples,
/// then the samples.
pub async fn points(state: &AppState, minutes: i64) -> StoreResult<Vec<Point>> {
    let since = now() - minutes * 60;
    let samples = state.perf.samples_since(since).await;
    let first_sample = samples.first().map_or(i64::MAX, |s| s.at);
    let rows = state.db.perf_history(since).await?;
    let mut points: Vec<Point> = rows
        .iter()
        .filter(|r| r.ts + 60 <= first_sample)
        .map(Point::from_row)
        .collect();
    points.extend(samples.iter().map(|s| s.point()));
    points.sort_by_key(|p| p.t);
    Ok(points)
}

/// `GET /api/performance/analytics?minutes=`.
pub async fn analytics(state: &AppState, minutes: i64) -> StoreResult<Value> {
    let points = points(state, minutes).await?;
    let health = health(state).await;
    let open = state.db.perf_alerts(Some(false), 100).await?;
    let cache = state.cache.stats().await;
    let t = state.perf.thresholds();
    let routes = state.perf.routes.snapshot();
    let statements = sql::global().snapshot();
    let memory = state.perf.latest().and_then(|e| e.figures.memory_mb);
    let recommendations = advice::recommendations(&routes, &statements, &cache, memory, &t);
    let requests: u64 = points.iter().map(|p| p.requests).sum();
    let errors: u64 = points.iter().map(|p| p.errors).sum();
    let reads = cache.hits + cache.misses;
    Ok(json!({
        "timestamp": iso(now()),
        "minutes": minutes,
        "health_score": health.score,
        "status": health.status,
        "components": health.components,
        "alerts": open.iter().map(alert_json).collect::<Vec<_>>(),
        "recommendations": recommendations,
        "trend": trend(&points),
        "cache_performance": {"hit_rate": cache.hit_rate, "total_operations": reads},
        "window": {"requests": requests, "errors": errors,
                   "error_rate": (requests > 0).then(|| errors as f64 / requests as f64)},
        "series": points,
    }))
}

/// `GET /api/performance/summary`.
pub async fn summary(state: &AppState) -> StoreResult<Value> {
    let health = health(state).await;
    let open = state.db.perf_alerts(Some(false), 1000).await?;
    let w = state.perf.window(EVAL_SAMPLES).await;
    let cache = state.cache.stats().await;
    Ok(json!({
        "status": health.status,
        "health_score": health.score,
        "active_alerts": open.len(),
        "key_metrics": {
            "avg_response_time": w.latency.mean_ms().map(|m| m / 1000.0).unwrap_or(0.0),
            "p95_response_time": w.latency.quantile_ms(0.95).map(|m| m / 1000.0),
            "error_rate": w.error_rate().unwrap_or(0.0),
            "cache_hit_rate": cache.hit_rate,
            "memory_usage_mb": r2o(w.rss_last),
            "requests_per_second": if w.secs > 0.0 { r2(w.requests as f64 / w.secs) } else { 0.0 },
            "db_connections": state.db.pool_size(),
        },
        "components": health.components,
        "monitoring": state.perf.enabled,
    }))
}

/// The `data` of `GET /api/v2/daily-outlook/performance`: the outlook's own routes and
/// cache strategy, with the overall score.
pub async fn outlook(state: &AppState) -> Value {
    let health = health(state).await;
    let routes: Vec<RouteRow> = route_rows(&state.perf.routes.snapshot())
        .into_iter()
        .filter(|r| r.route.contains("outlook") || r.route == "/")
        .collect();
    let cache = state.cache.stats().await;
    let outlook_cache = cache
        .strategies
        .iter()
        .find(|s| s.strategy == "outlook")
        .cloned();
    let requests: u64 = routes.iter().map(|r| r.requests).sum();
    let w = state.perf.window(EVAL_SAMPLES).await;
    json!({
        "health_score": health.score,
        "status": health.status,
        "outlook_requests": requests,
        "routes": routes,
        "cache": outlook_cache,
        "cache_hit_rate": cache.hit_rate,
        "database": {
            "p95_query_time": w.queries.quantile_ms(0.95).map(|m| m / 1000.0),
            "open_connections": state.db.pool_size(),
        },
    })
}
