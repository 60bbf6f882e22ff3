//! The performance center's reports, shared by the JSON API and the admin pages: the seed
//! documents' shapes (`metrics`, `analytics`, `summary`) with Headroom's detail added.

use super::{
    EVAL_SAMPLES, advice,
    collect::RouteSnapshot,
    history::{Window, row_point, trend},
    sampler::figures,
    score::{self, Health},
    sql::{self, StatementSnapshot},
    wire::{cache_report, components, iso, r2, r2o},
};
use crate::{
    dto::perf::{
        Alert, Analytics, CachePerformance, CacheReport, CacheStrategy, ChartPoint,
        DatabaseFigures, JobRow, KeyMetrics, MemoryFigures, Metrics, OutlookDatabase,
        OutlookPerformance, ProcessFigures, RequestFigures, RouteRow, StatementRow, Summary,
        WindowTotals,
    },
    server::{state::AppState, storage::StoreResult},
};

fn now() -> i64 {
    crate::server::clock::wall_now().as_second()
}

/// The routes with requests, slowest (p95) first.
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

/// The statements by total time, at most `limit`.
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

/// The seed's figures over a window: requests, statements and memory.
fn window_figures(w: &Window) -> (RequestFigures, DatabaseFigures, MemoryFigures) {
    let requests = RequestFigures {
        total_requests: w.requests,
        avg_response_time: w.latency.mean_ms().map(|m| m / 1000.0),
        max_response_time: (w.requests > 0).then(|| w.latency.max_us as f64 / 1e6),
        min_response_time: w.latency.quantile_ms(0.0).map(|m| m / 1000.0),
        p50_response_time: w.latency.quantile_ms(0.5).map(|m| m / 1000.0),
        p95_response_time: w.latency.quantile_ms(0.95).map(|m| m / 1000.0),
        p99_response_time: w.latency.quantile_ms(0.99).map(|m| m / 1000.0),
        error_rate: w.error_rate().unwrap_or(0.0),
    };
    let database = DatabaseFigures {
        total_queries: w.queries.count(),
        avg_query_time: w.queries.mean_ms().map(|m| m / 1000.0),
        max_query_time: (w.queries.count() > 0).then(|| w.queries.max_us as f64 / 1e6),
        p95_query_time: w.queries.quantile_ms(0.95).map(|m| m / 1000.0),
        slow_query_count: w.slow_queries,
        open_connections: w.db_connections,
    };
    let memory = MemoryFigures {
        current_memory_mb: r2o(w.rss_last),
        avg_memory_mb: r2o(w.rss_mean()),
        max_memory_mb: r2o(w.rss_max),
    };
    (requests, database, memory)
}

/// `GET /api/performance/cache/stats`: the cache's statistics with the replay table's.
pub async fn cache(state: &AppState) -> CacheReport {
    cache_report(&state.cache.stats().await, state.perf.replay.snapshot())
}

/// `GET /api/performance/metrics`: the seed's figures over the last 5 minutes, then the
/// per-route, per-statement, SSR, job, cache and system detail since start.
pub async fn metrics(state: &AppState) -> Metrics {
    let perf = &state.perf;
    let since = now() - 300;
    let samples = perf.samples_since(since).await;
    let (requests, database, memory) = window_figures(&Window::of(samples.iter()));
    let routes = route_rows(&perf.routes.snapshot());
    let ssr: Vec<RouteRow> = routes.iter().filter(|r| r.pages > 0).cloned().collect();
    let statements = sql::global().snapshot();
    let last = samples.last().map(|s| &s.system);
    let jobs = perf
        .jobs
        .snapshot()
        .into_iter()
        .map(|(name, j)| JobRow {
            job: name.into(),
            runs: j.runs,
            failures: j.failures,
            mean_ms: if j.runs > 0 {
                r2(j.total_ms / j.runs as f64)
            } else {
                0.0
            },
            max_ms: r2(j.max_ms),
            last_ms: r2(j.last_ms),
            last_run_at: iso(j.last_run_at),
        })
        .collect();
    Metrics {
        requests,
        database,
        memory,
        timestamp: iso(now()),
        period_minutes: 5,
        monitoring: perf.enabled,
        routes,
        ssr,
        queries: statement_rows(&statements, 50),
        slow_queries: sql::global().slow_log(),
        jobs,
        cache: cache(state).await,
        system: ProcessFigures {
            rss_mb: last.and_then(|s| r2o(s.rss_mb)),
            cpu_percent: last.and_then(|s| r2o(s.cpu_percent)),
            disk_free_mb: last.and_then(|s| r2o(s.disk_free_mb)),
            disk_total_mb: last.and_then(|s| r2o(s.disk_total_mb)),
            open_files: last.and_then(|s| s.open_files),
            threads: last.and_then(|s| s.threads),
            db_connections: state.db.pool_size(),
            http_in_flight: perf.routes.in_flight(),
            http_connections: perf.connections.open(),
        },
    }
}

/// Chart points for the last `minutes`: persisted minutes before the in-memory samples,
/// then the samples.
pub async fn points(state: &AppState, minutes: i64) -> StoreResult<Vec<ChartPoint>> {
    let since = now() - minutes * 60;
    let samples = state.perf.samples_since(since).await;
    let first_sample = samples.first().map_or(i64::MAX, |s| s.at);
    let rows = state.db.perf_history(since).await?;
    let mut points: Vec<ChartPoint> = rows
        .iter()
        .filter(|r| r.ts + 60 <= first_sample)
        .map(row_point)
        .collect();
    points.extend(samples.iter().map(|s| s.point()));
    points.sort_by_key(|p| p.t);
    Ok(points)
}

/// `GET /api/performance/analytics?minutes=`.
pub async fn analytics(state: &AppState, minutes: i64) -> StoreResult<Analytics> {
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
    Ok(Analytics {
        timestamp: iso(now()),
        minutes,
        health_score: health.score,
        status: health.status.into(),
        components: components(&health.components),
        alerts: open.iter().map(Alert::from).collect(),
        recommendations,
        trend: trend(&points),
        cache_performance: CachePerformance {
            hit_rate: cache.hit_rate,
            total_operations: cache.hits + cache.misses,
        },
        window: WindowTotals {
            requests,
            errors,
            error_rate: (requests > 0).then(|| errors as f64 / requests as f64),
        },
        series: points,
    })
}

/// `GET /api/performance/summary`.
pub async fn summary(state: &AppState) -> StoreResult<Summary> {
    let health = health(state).await;
    let open = state.db.perf_alerts(Some(false), 1000).await?;
    let w = state.perf.window(EVAL_SAMPLES).await;
    let cache = state.cache.stats().await;
    Ok(Summary {
        status: health.status.into(),
        health_score: health.score,
        active_alerts: open.len() as u64,
        key_metrics: KeyMetrics {
            avg_response_time: w.latency.mean_ms().map(|m| m / 1000.0).unwrap_or(0.0),
            p95_response_time: w.latency.quantile_ms(0.95).map(|m| m / 1000.0),
            error_rate: w.error_rate().unwrap_or(0.0),
            cache_hit_rate: cache.hit_rate,
            memory_usage_mb: r2o(w.rss_last),
            requests_per_second: if w.secs > 0.0 {
                r2(w.requests as f64 / w.secs)
            } else {
                0.0
            },
            db_connections: state.db.pool_size(),
        },
        components: components(&health.components),
        monitoring: state.perf.enabled,
        outbox: state
            .db
            .outbox_figures(state.clock.now_secs())
            .await
            .ok()
            .map(|o| crate::dto::perf::Outbox {
                pending: o.pending,
                oldest_due_secs: o.oldest_due_secs,
                failures_last_hour: o.failures_last_hour,
                dead: o.dead,
            }),
    })
}

/// The `data` of `GET /api/v2/daily-outlook/performance`: the outlook's own routes and
/// cache strategy, with the overall score.
pub async fn outlook(state: &AppState) -> OutlookPerformance {
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
        .map(CacheStrategy::from);
    let requests: u64 = routes.iter().map(|r| r.requests).sum();
    let w = state.perf.window(EVAL_SAMPLES).await;
    OutlookPerformance {
        health_score: health.score,
        status: health.status.into(),
        outlook_requests: requests,
        routes,
        cache: outlook_cache,
        cache_hit_rate: cache.hit_rate,
        database: OutlookDatabase {
            p95_query_time: w.queries.quantile_ms(0.95).map(|m| m / 1000.0),
            open_connections: state.db.pool_size(),
        },
    }
}
