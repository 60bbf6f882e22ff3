//! The sampler: every `HEADROOM_MONITORING_SAMPLE_SECS` it turns the counters into a
//! [`Sample`], scores the evaluation window, raises and clears alerts, sends the chart
//! point to live viewers and, once a minute, persists the minute's row.

use std::{sync::Arc, time::Instant};

use tokio::{sync::watch, task::JoinHandle};

use super::{
    EVAL_SAMPLES, Evaluation, RING, SamplerState,
    alerts::{Action, Severity, Tracker},
    collect::RouteSnapshot,
    evidence,
    history::{KEEP_SECS, Sample, Window},
    score::{self, Figures, Metric},
    sql,
    thresholds::Thresholds,
};
use crate::server::{
    cache::CacheStats,
    state::AppState,
    storage::{StoreResult, perf::NewAlert},
};

fn now() -> i64 {
    crate::server::clock::wall_now().as_second()
}

/// Loads stored thresholds and re-opens the tracker's view of alerts left open.
pub async fn load(state: &AppState) -> StoreResult<()> {
    let perf = &state.perf;
    let t = state
        .db
        .perf_thresholds()
        .await?
        .and_then(|b| Thresholds::from_stored(&b))
        .unwrap_or_else(Thresholds::production);
    perf.set_thresholds(t);
    let open = state.db.perf_alerts(Some(false), 100).await?;
    let mut s = perf.sampler.lock().await;
    for a in open.iter().rev() {
        if let Some(m) = Metric::parse(&a.metric) {
            s.tracker.restore(m, a.id, Severity::parse(&a.severity));
        }
    }
    Ok(())
}

/// The figures the score and alerts judge, from a window of samples; a figure with too
/// little behind it (`evidence`) is left unmeasured.
pub fn figures(w: &Window) -> Figures {
    let reads = w.cache_hits + w.cache_misses;
    Figures {
        response_time: evidence::quantile_ms(&w.latency, 0.95, evidence::MIN_REQUESTS)
            .map(|ms| ms / 1000.0),
        error_rate: evidence::enough(
            w.requests,
            evidence::MIN_REQUESTS_FOR_ERRORS,
            w.error_rate(),
        ),
        memory_mb: w.rss_last,
        query_time: evidence::quantile_ms(&w.queries, 0.95, evidence::MIN_STATEMENTS)
            .map(|ms| ms / 1000.0),
        cache_hit_rate: evidence::enough(reads, evidence::MIN_CACHE_READS, w.cache_hit_rate()),
        // Read from the outbox by `evaluate`, not from the window.
        delivery_lag: None,
    }
}

fn message(m: Metric, value: f64, threshold: f64, sev: Severity) -> String {
    let what = match m {
        Metric::ResponseTime => format!(
            "p95 response time {:.0} ms is above {:.0} ms",
            value * 1000.0,
            threshold * 1000.0
        ),
        Metric::QueryTime => format!(
            "p95 statement time {:.1} ms is above {:.1} ms",
            value * 1000.0,
            threshold * 1000.0
        ),
        Metric::ErrorRate => format!(
            "error rate {:.1} % is above {:.1} %",
            value * 100.0,
            threshold * 100.0
        ),
        Metric::Memory => format!("memory {value:.0} MB is above {threshold:.0} MB"),
        Metric::DeliveryLag => format!(
            "the oldest due notification has waited {value:.0} s, more than {threshold:.0} s"
        ),
        Metric::CacheHitRate => format!(
            "cache hit rate {:.0} % is below {:.0} %",
            value * 100.0,
            threshold * 100.0
        ),
    };
    format!("{} ({})", what, sev.name())
}

/// One sampling step. Tests call it directly (with automatic sampling off).
///
/// The sampler's lock is held from the sample to the history roll-over, alerts included,
/// so two ticks never interleave their deltas or alert decisions.
pub async fn tick(state: &AppState) -> StoreResult<()> {
    let cache = state.cache.stats().await;
    let routes = state.perf.routes.snapshot();
    let mut s = state.perf.sampler.lock().await;
    let at = now();
    take_sample(state, &mut s, &cache, &routes, at);
    evaluate(state, &mut s, at).await?;
    send_live_point(state, &s);
    let finished = roll_minute(&mut s, at);
    drop(s);
    if let Some((m, samples)) = finished {
        persist(state, m, &samples).await?;
    }
    Ok(())
}

/// Phase 1: the counters' growth since the last tick becomes a sample at the ring's end.
fn take_sample(
    state: &AppState,
    s: &mut SamplerState,
    cache: &CacheStats,
    routes: &[RouteSnapshot],
    at: i64,
) {
    let sqls = sql::global();
    let mut requests = histogram_sum(routes.iter().map(|r| &r.latency));
    requests.max_us = requests.max_us.max(s.last_requests.max_us);
    let errors: u64 = routes.iter().map(|r| r.errors).sum();
    let queries = sqls.all.snapshot();
    let slow = sqls.slow_total.load(std::sync::atomic::Ordering::Relaxed);
    let elapsed = s.last_at.map_or(0.0, |t| t.elapsed().as_secs_f64());
    let system = super::system::read(&state.settings.server.data_dir, &mut s.cpu);
    let latency = requests.since(&s.last_requests);
    let sample = Sample {
        at,
        secs: elapsed,
        requests: latency.count(),
        errors: errors.saturating_sub(s.last_errors),
        latency,
        queries: queries.since(&s.last_queries),
        slow_queries: slow.saturating_sub(s.last_slow),
        cache_hits: cache.hits.saturating_sub(s.last_cache.0),
        cache_misses: cache.misses.saturating_sub(s.last_cache.1),
        system,
        db_connections: state.db.pool_size(),
        in_flight: state.perf.routes.in_flight(),
        score: 100,
    };
    s.last_at = Some(Instant::now());
    s.last_requests = requests;
    s.last_errors = errors;
    s.last_queries = queries;
    s.last_slow = slow;
    s.last_cache = (cache.hits, cache.misses);
    if s.ring.len() >= RING {
        s.ring.pop_front();
    }
    s.ring.push_back(sample);
}

/// Phase 2: scores the evaluation window (the newest sample gets the score), acts on
/// what each metric's alert tracker decides, and publishes the evaluation.
async fn evaluate(state: &AppState, s: &mut SamplerState, at: i64) -> StoreResult<()> {
    let skip = s.ring.len().saturating_sub(EVAL_SAMPLES);
    let window = Window::of(s.ring.iter().skip(skip));
    let mut f = figures(&window);
    f.delivery_lag = delivery_lag(state).await;
    let t = state.perf.thresholds();
    let health = score::health(&f, &t);
    if let Some(last) = s.ring.back_mut() {
        last.score = health.score;
    }
    for m in Metric::ALL {
        let value = m.value(&f);
        let threshold = m.threshold(&t);
        let ratio = m.ratio(value, threshold);
        let Some(action) = s.tracker.observe(m, ratio) else {
            continue;
        };
        let seen = Observation {
            metric: m,
            value: value.unwrap_or(0.0),
            threshold,
            ratio: ratio.unwrap_or(0.0),
            at,
        };
        apply_alert_action(state, &mut s.tracker, action, &seen).await?;
    }
    *state.perf.latest.write().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(Evaluation {
        at,
        health,
        figures: f,
    }));
    Ok(())
}

/// How long the oldest due delivery of the notifications outbox has waited (the outbox
/// is the database's, so every instance sees the same figure); `None` when nothing is
/// waiting or notifications are off.
async fn delivery_lag(state: &AppState) -> Option<f64> {
    if !state.settings.jobs.notifications {
        return None;
    }
    let now = state.clock.now_secs();
    match state.db.outbox_figures(now).await {
        Ok(o) if o.oldest_due_secs > 0 => Some(o.oldest_due_secs as f64),
        Ok(_) => None,
        Err(e) => {
            tracing::debug!(error = %e, "outbox figures unavailable");
            None
        }
    }
}

/// A metric as this tick saw it, for the alert it raises or updates.
#[derive(Clone, Copy)]
struct Observation {
    metric: Metric,
    value: f64,
    threshold: f64,
    ratio: f64,
    at: i64,
}

/// Stores what the tracker decided: a new alert, a higher severity, fresh figures, or
/// the alert cleared.
async fn apply_alert_action(
    state: &AppState,
    tracker: &mut Tracker,
    action: Action,
    seen: &Observation,
) -> StoreResult<()> {
    let Observation {
        metric: m,
        value: v,
        threshold,
        ratio: r,
        at,
    } = *seen;
    match action {
        Action::Raise { metric, severity } => {
            let msg = message(metric, v, threshold, severity);
            let id = state
                .db
                .insert_perf_alert(&NewAlert {
                    metric: metric.name(),
                    severity: severity.name(),
                    message: &msg,
                    value: v,
                    threshold,
                    ratio: r,
                    at,
                })
                .await?;
            tracing::warn!(
                alert.id = id,
                metric = metric.name(),
                severity = severity.name(),
                "{msg}"
            );
            tracker.raised(metric, id);
        }
        Action::Escalate { id, severity } => {
            let msg = message(m, v, threshold, severity);
            state
                .db
                .update_perf_alert(id, severity.name(), &msg, v, r, at)
                .await?;
            tracing::warn!(
                alert.id = id,
                metric = m.name(),
                severity = severity.name(),
                "{msg}"
            );
        }
        Action::Update { id } => {
            // The figures move; the severity and message stay as raised/escalated.
            if let Some(a) = state.db.perf_alert(id).await? {
                state
                    .db
                    .update_perf_alert(id, &a.severity, &a.message, v, r, at)
                    .await?;
            }
        }
        Action::Resolve { id } => {
            state.db.resolve_perf_alert(id, "auto", at).await?;
            tracing::info!(alert.id = id, metric = m.name(), "alert cleared");
        }
    }
    Ok(())
}

/// Phase 3: the newest sample's chart point to live viewers (none listening is fine).
fn send_live_point(state: &AppState, s: &SamplerState) {
    if let Some(last) = s.ring.back() {
        let point = last.point();
        if let Ok(json) = serde_json::to_string(&point) {
            let _ = state.perf.live.send(json.into());
        }
    }
}

/// Phase 4: adds the newest sample to its minute; when the minute has changed, returns
/// the finished one for the history table (persisted after the lock is released).
fn roll_minute(s: &mut SamplerState, at: i64) -> Option<(i64, Vec<Sample>)> {
    let minute = at - at.rem_euclid(60);
    let latest = s.ring.back().cloned();
    match &mut s.minute {
        Some((m, samples)) if *m == minute => {
            samples.extend(latest);
            None
        }
        other => {
            let done = other.take();
            *other = Some((minute, latest.into_iter().collect()));
            done
        }
    }
}

fn histogram_sum<'a>(
    it: impl Iterator<Item = &'a super::histogram::Snapshot>,
) -> super::histogram::Snapshot {
    let mut total = super::histogram::Snapshot::default();
    for h in it {
        total.add(h);
    }
    total
}

async fn persist(state: &AppState, minute: i64, samples: &[Sample]) -> StoreResult<()> {
    if samples.is_empty() {
        return Ok(());
    }
    let row = Window::of(samples).row(minute, &state.perf.instance);
    state.db.insert_perf_history(&row).await?;
    let mut s = state.perf.sampler.lock().await;
    if minute - s.last_prune >= 3600 {
        s.last_prune = minute;
        drop(s);
        state.db.prune_perf_history(minute - KEEP_SECS).await?;
    }
    Ok(())
}

/// Persists the minute gathered so far (at shutdown, and for tests).
pub async fn flush(state: &AppState) -> StoreResult<()> {
    let pending = state.perf.sampler.lock().await.minute.take();
    if let Some((m, samples)) = pending {
        persist(state, m, &samples).await?;
    }
    Ok(())
}

/// Starts the sampler (when monitoring is on and the interval is not 0). It flushes the
/// current minute and tells live viewers to go when `stop` turns true.
pub fn start(state: AppState, mut stop: watch::Receiver<bool>) -> Option<JoinHandle<()>> {
    let every = state.settings.jobs.monitoring_sample_secs;
    if !state.perf.enabled {
        return None;
    }
    Some(tokio::spawn(async move {
        if every > 0 {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(every));
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    _ = tick.tick() => {}
                    _ = stop.wait_for(|s| *s) => break,
                }
                if let Err(e) = self::tick(&state).await {
                    tracing::warn!(error = %e, "performance sample failed");
                }
            }
        } else {
            let _ = stop.wait_for(|s| *s).await;
        }
        let _ = state.perf.stopping.send(true);
        if let Err(e) = flush(&state).await {
            tracing::warn!(error = %e, "persisting the last performance minute failed");
        }
    }))
}
