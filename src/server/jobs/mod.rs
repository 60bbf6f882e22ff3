//! Background work: collectors, warming, retention, scheduled backups, partitions ahead
//! of time. Only the instance
//! holding the `jobs` lease runs it, so several instances on one database never collect
//! twice; when the leader stops (or dies) another takes over within a lease period.
//! Each job exposes a `run_once` step that tests call directly.

pub mod backup;
pub mod collector;
pub mod deliver;
pub mod retention;
pub mod source;
pub mod warmer;

use std::{
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    },
    time::Duration,
};

use tokio::{sync::watch, task::JoinHandle};

use crate::server::{
    jobs::collector::Collector, outbound::Outbound, service::alerts, state::AppState,
    storage::blocks::utc_day,
};

/// The lease that names the jobs leader.
pub const LEASE: &str = "jobs";
/// Retention runs this often (it is cheap when there is nothing to delete).
const RETENTION_EVERY: Duration = Duration::from_secs(3600);
/// The warmer looks for users past 05:00 without today's outlook this often.
const WARM_EVERY: Duration = Duration::from_secs(60);
/// The quota rules of every meter are evaluated this often (a new day moves projections
/// and budgets without any reading; readings are evaluated as they are written).
const ALERTS_EVERY: Duration = Duration::from_secs(300);
/// Whether a scheduled backup is due is looked at this often.
const BACKUP_CHECK_EVERY: Duration = Duration::from_secs(60);

/// A random name for this process in the lease table.
fn instance_name() -> String {
    let mut bytes = [0u8; 8];
    use argon2::password_hash::rand_core::{OsRng, RngCore};
    OsRng.fill_bytes(&mut bytes);
    format!("{}-{:016x}", std::process::id(), u64::from_le_bytes(bytes))
}

/// Starts the scheduler; it stops (and gives up the lease) when `stop` turns true.
pub fn start(state: AppState, mut stop: watch::Receiver<bool>) -> anyhow::Result<JoinHandle<()>> {
    let collector = Collector::new(state.clone())?;
    let outbound = Outbound::from_settings(&state.settings)?;
    let holder = instance_name();
    Ok(tokio::spawn(async move {
        let lease = state.settings.jobs.lease_secs;
        let renew_every = Duration::from_secs((lease / 3).max(1) as u64);
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut leader = false;
        let mut last_renewal: Option<tokio::time::Instant> = None;
        let mut last_retention: Option<tokio::time::Instant> = None;
        let mut last_warm: Option<tokio::time::Instant> = None;
        let mut last_backup_check: Option<tokio::time::Instant> = None;
        // A snapshot of a big database can outlast the check interval: one at a time.
        let backing_up = Arc::new(AtomicBool::new(false));
        let warming = Arc::new(AtomicBool::new(false));
        // One pass over the outbox at a time, and one pass over the rules.
        let delivering = Arc::new(AtomicBool::new(false));
        let evaluating = Arc::new(AtomicBool::new(false));
        let mut last_alerts: Option<tokio::time::Instant> = None;
        let mut partitions_day = i64::MIN;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = stop.wait_for(|s| *s) => break,
            }
            let now = state.clock.now_secs();
            // The leader renews every third of a lease; a standby asks every second, so a
            // crashed leader's work resumes within a second of its lease running out
            // (asking every third of a lease let takeover take a third longer).
            if !leader || last_renewal.is_none_or(|t| t.elapsed() >= renew_every) {
                let was = leader;
                leader = state
                    .db
                    .try_lease(LEASE, &holder, now, now + lease)
                    .await
                    .unwrap_or(false);
                last_renewal = Some(tokio::time::Instant::now());
                if leader != was {
                    tracing::info!(holder = %holder, leader, "jobs leadership changed");
                }
            }
            if !leader {
                continue;
            }
            let started = std::time::Instant::now();
            let collected = collector.run_once().await;
            state
                .perf
                .jobs
                .record("collector", started.elapsed(), collected.is_ok());
            if let Err(e) = collected {
                tracing::warn!(error = %e, "collector pass failed");
            }
            if state.settings.jobs.notifications && !delivering.swap(true, Relaxed) {
                let (state, outbound, delivering) =
                    (state.clone(), outbound.clone(), delivering.clone());
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let mut attempted = 0;
                    for _ in 0..deliver::PASSES_PER_TICK {
                        match deliver::run_once(&state, &outbound).await {
                            Ok(n) => {
                                attempted += n;
                                if n < deliver::PER_PASS {
                                    break;
                                }
                            }
                            Err(e) => {
                                state
                                    .perf
                                    .jobs
                                    .record("deliveries", started.elapsed(), false);
                                tracing::warn!(error = %e, "sending the outbox failed");
                                attempted = 0;
                                break;
                            }
                        }
                    }
                    if attempted > 0 {
                        state
                            .perf
                            .jobs
                            .record("deliveries", started.elapsed(), true);
                    }
                    delivering.store(false, Relaxed);
                });
            }
            if last_alerts.is_none_or(|t| t.elapsed() >= ALERTS_EVERY)
                && !evaluating.swap(true, Relaxed)
            {
                last_alerts = Some(tokio::time::Instant::now());
                let (state, evaluating) = (state.clone(), evaluating.clone());
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let pass = alerts::scheduled_pass(&state).await;
                    state
                        .perf
                        .jobs
                        .record("alerts", started.elapsed(), pass.is_ok());
                    if let Err(e) = pass {
                        tracing::warn!(error = %e, "evaluating notification rules failed");
                    }
                    evaluating.store(false, Relaxed);
                });
            }
            if utc_day(now) != partitions_day {
                match state.db.ensure_partitions_ahead(utc_day(now)).await {
                    Ok(()) => partitions_day = utc_day(now),
                    Err(e) => tracing::warn!(error = %e, "creating partitions failed"),
                }
            }
            // One warming at a time: on a big instance a pass can outlast WARM_EVERY,
            // and overlapping passes would each compute the same outlooks.
            if last_warm.is_none_or(|t| t.elapsed() >= WARM_EVERY) && !warming.swap(true, Relaxed) {
                last_warm = Some(tokio::time::Instant::now());
                let (state, warming) = (state.clone(), warming.clone());
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let warmed = warmer::run_once(&state).await;
                    state
                        .perf
                        .jobs
                        .record("warmer", started.elapsed(), warmed.is_ok());
                    if let Err(e) = warmed {
                        tracing::warn!(error = %e, "warming failed");
                    }
                    warming.store(false, Relaxed);
                });
            }
            if last_backup_check.is_none_or(|t| t.elapsed() >= BACKUP_CHECK_EVERY)
                && !backing_up.swap(true, Relaxed)
            {
                last_backup_check = Some(tokio::time::Instant::now());
                let (state, backing_up) = (state.clone(), backing_up.clone());
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    match backup::run_if_due(&state).await {
                        Ok(None) => {}
                        Ok(Some(_)) => state.perf.jobs.record("backup", started.elapsed(), true),
                        Err(e) => {
                            state.perf.jobs.record("backup", started.elapsed(), false);
                            tracing::warn!(error = %e, "scheduled backup failed");
                        }
                    }
                    backing_up.store(false, Relaxed);
                });
            }
            if last_retention.is_none_or(|t| t.elapsed() >= RETENTION_EVERY) {
                last_retention = Some(tokio::time::Instant::now());
                let state = state.clone();
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let kept = retention::run_once(&state).await;
                    state
                        .perf
                        .jobs
                        .record("retention", started.elapsed(), kept.is_ok());
                    if let Err(e) = kept {
                        tracing::warn!(error = %e, "retention failed");
                    }
                });
            }
        }
        if leader {
            let _ = state.db.release_lease(LEASE, &holder).await;
            tracing::info!(holder = %holder, "jobs lease released");
        }
    }))
}
