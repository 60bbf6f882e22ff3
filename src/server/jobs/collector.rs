//! Collecting readings from each meter's source on its interval.
//!
//! Every collection runs in a task of its own, so a slow or hanging source holds up only
//! itself: [`Collector::run_once`] starts what is due and returns at once. A failed attempt
//! is retried once after a pause; every attempt — failures too — is logged with its status
//! and response time.

use std::{
    collections::HashSet,
    sync::{Arc, Mutex},
    time::Duration,
};

use tokio::task::JoinHandle;

use crate::server::{
    jobs::source::{self, Attempt, Outcome},
    outbound::Outbound,
    service::{
        alerts, freshness,
        ingest::{self, NewReading},
    },
    simulation::simulate_next,
    state::AppState,
    storage::{
        StoreResult,
        sources::{AttemptRow, SourceRow},
    },
};

/// At most this many collections start in one run; the rest wait for the next second.
const MAX_PER_RUN: i64 = 64;

#[derive(Clone)]
pub struct Collector {
    state: AppState,
    outbound: Outbound,
    /// Meters with a collection under way: never two at once for one meter.
    inflight: Arc<Mutex<HashSet<i64>>>,
}

/// Removes a meter from the in-flight set when its collection ends, however it ends.
struct InFlight {
    set: Arc<Mutex<HashSet<i64>>>,
    meter_id: i64,
}

impl Drop for InFlight {
    fn drop(&mut self) {
        if let Ok(mut set) = self.set.lock() {
            set.remove(&self.meter_id);
        }
    }
}

/// The next run on the source's schedule after `now` (skipping runs missed while down).
fn next_due(source: &SourceRow, now: i64) -> i64 {
    let interval = source.interval_secs.max(1);
    if source.next_due_at <= 0 {
        return now + interval;
    }
    let behind = (now - source.next_due_at).max(0);
    source.next_due_at + (behind / interval + 1) * interval
}

impl Collector {
    pub fn new(state: AppState) -> anyhow::Result<Self> {
        let outbound = Outbound::from_settings(&state.settings)?;
        Ok(Collector {
            state,
            outbound,
            inflight: Arc::default(),
        })
    }

    /// Starts every collection that is due and not already running; returns their tasks
    /// (callers may await them; the scheduler lets them run).
    pub async fn run_once(&self) -> StoreResult<Vec<JoinHandle<()>>> {
        let now = self.state.clock.now_secs();
        let mut started = Vec::new();
        for source in self.state.db.due_sources(now, MAX_PER_RUN).await? {
            let guard = {
                let Ok(mut set) = self.inflight.lock() else {
                    break;
                };
                if !set.insert(source.meter_id) {
                    continue;
                }
                InFlight {
                    set: self.inflight.clone(),
                    meter_id: source.meter_id,
                }
            };
            // Book the next run first: a collection that outlives its interval must not
            // be started again by the next pass.
            self.state
                .db
                .reschedule_source(source.meter_id, next_due(&source, now), None)
                .await?;
            let this = self.clone();
            started.push(tokio::spawn(async move {
                let _guard = guard;
                if let Err(e) = this.collect(&source).await {
                    tracing::warn!(meter.id = source.meter_id, error = %e, "collection could not be recorded");
                }
            }));
        }
        Ok(started)
    }

    async fn attempt(
        &self,
        source: &SourceRow,
        last: Option<crate::domain::rollup::Reading>,
    ) -> StoreResult<Attempt> {
        Ok(match source.kind.as_str() {
            "simulator" => {
                let meter = self.state.db.meter(source.meter_id).await?;
                let used = meter.map_or(0.0, |m| {
                    simulate_next(&m, last, self.state.clock.now_secs())
                });
                Attempt {
                    outcome: Outcome::Success {
                        used,
                        remaining: None,
                        quota: None,
                    },
                    http_status: None,
                    elapsed: Duration::ZERO,
                }
            }
            _ => source::fetch(&self.outbound, source).await,
        })
    }

    /// One collection: an attempt, one retry after a pause if it failed, every attempt
    /// logged, and the reading stored on success.
    async fn collect(&self, source: &SourceRow) -> StoreResult<()> {
        let db = &self.state.db;
        let now = self.state.clock.now_secs();
        let last = db.reading_at_or_before(source.meter_id, now, 2).await?;
        let mut result = None;
        for n in 1..=2 {
            let started_at = self.state.clock.now_secs();
            let attempt = self.attempt(source, last).await?;
            db.record_attempt(&AttemptRow {
                meter_id: source.meter_id,
                started_at,
                attempt: n,
                status: attempt.outcome.status().to_string(),
                response_ms: Some(attempt.elapsed.as_millis() as i64),
                http_status: attempt.http_status.map(i64::from),
                error: attempt.outcome.error(),
            })
            .await?;
            tracing::debug!(
                meter.id = source.meter_id,
                attempt = n,
                status = attempt.outcome.status(),
                response_ms = attempt.elapsed.as_millis() as u64,
                "collection attempt"
            );
            if let Outcome::Success {
                used,
                remaining,
                quota,
            } = attempt.outcome
            {
                result = Some((started_at, used, remaining, quota));
                break;
            }
            if n == 1 {
                tokio::time::sleep(Duration::from_millis(
                    self.state.settings.jobs.collector_retry_ms,
                ))
                .await;
            }
        }
        let failures = match result {
            Some((ts, used, remaining, quota)) => {
                if let Some(q) = quota {
                    self.apply_quota(source.meter_id, q).await?;
                }
                let reading = [NewReading {
                    meter_id: source.meter_id,
                    ts,
                    value: used,
                    remaining,
                }];
                let report = ingest::write(db, &reading).await?;
                freshness::readings_written(&self.state, &report.meters, &report.audience).await;
                alerts::after_write(&self.state, &reading).await;
                0
            }
            None => {
                tracing::warn!(
                    meter.id = source.meter_id,
                    failures = source.consecutive_failures + 1,
                    "collection failed"
                );
                source.consecutive_failures + 1
            }
        };
        let due = db
            .source(source.meter_id)
            .await?
            .map_or(0, |s| s.next_due_at);
        db.reschedule_source(source.meter_id, due, Some(failures))
            .await?;
        alerts::after_collection(
            &self.state,
            source.meter_id,
            u32::try_from(failures).unwrap_or(u32::MAX),
        )
        .await;
        Ok(())
    }

    /// A source that reports the plan's quota keeps the meter's quota current.
    async fn apply_quota(&self, meter_id: i64, quota: f64) -> StoreResult<()> {
        let db = &self.state.db;
        if let Some(meter) = db.meter(meter_id).await?
            && meter.kind == "quota"
            && meter.quota != Some(quota)
        {
            db.set_meter_quota(meter_id, quota).await?;
            if let Some(updated) = db.meter(meter_id).await? {
                ingest::rebuild_local_rollups(db, &updated).await?;
                freshness::meter_changed(&self.state, meter_id).await;
            }
            tracing::info!(meter.id = meter_id, quota, "quota changed by the source");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_stay_on_their_schedule() {
        let mut s = SourceRow {
            meter_id: 1,
            kind: "http".into(),
            url: None,
            headers: "{}".into(),
            bearer_token: None,
            used_path: None,
            remaining_path: None,
            quota_path: None,
            scale: 1.0,
            interval_secs: 600,
            timeout_secs: 30,
            enabled: true,
            next_due_at: 0,
            consecutive_failures: 0,
        };
        assert_eq!(next_due(&s, 1_000), 1_600);
        s.next_due_at = 1_600;
        assert_eq!(next_due(&s, 1_601), 2_200);
        // Down for an hour: no burst of missed runs, just the next slot.
        assert_eq!(next_due(&s, 5_000), 5_200);
    }
}
