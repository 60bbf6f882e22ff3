//! The write path's rule evaluator: writers only add the meters they touched (and
//! sensors' readings) to `state.touched`, which costs a lock and a push; this one task
//! per instance drains that set every `HEADROOM_RULES_EVERY_MS` (500 ms) and evaluates
//! each meter once, however many writes touched it since. A burst of writes to one
//! meter thus costs one evaluation, not one per write.
//!
//! Exactness is kept: a quota meter's rules read its outlook as it is when evaluated
//! (after every reading drained so far), and a sensor's readings are judged in time
//! order, the latest write of an instant winning, from the state stored under the
//! meter's lock. Once-only holds across instances as before: the episode's unique key
//! in `alert_episodes`. Graceful shutdown drains what is left ([`Evaluator::finish`],
//! after the last request and job); a process killed before a drain loses only the
//! evaluation, not readings or notifications already recorded, and the leader's
//! scheduled pass re-evaluates every quota meter within 5 minutes.

use std::time::{Duration, Instant};

use tokio::{sync::watch, task::JoinHandle};

use crate::server::state::AppState;

/// The running evaluator of one instance.
pub struct Evaluator {
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// Starts the evaluator (when notifications are on).
pub fn start(state: AppState) -> Option<Evaluator> {
    if !state.settings.jobs.notifications {
        return None;
    }
    let (stop, mut stopped) = watch::channel(false);
    let every = Duration::from_millis(state.settings.jobs.rules_every_ms);
    let task = tokio::spawn(async move {
        loop {
            tokio::select! {
                () = state.touched.added() => {}
                _ = stopped.wait_for(|s| *s) => break,
            }
            // Let the burst gather: every meter it touches is evaluated once.
            if !every.is_zero() {
                tokio::select! {
                    () = tokio::time::sleep(every) => {}
                    _ = stopped.wait_for(|s| *s) => break,
                }
            }
            drain(&state).await;
        }
        // Stopping: what the last writes touched is evaluated before the process ends.
        drain(&state).await;
    });
    Some(Evaluator { stop, task })
}

impl Evaluator {
    /// Stops the evaluator once it has evaluated everything pending (call it after the
    /// last write: requests drained, jobs stopped); waits at most `limit`.
    pub async fn finish(self, limit: Duration) {
        let _ = self.stop.send(true);
        if tokio::time::timeout(limit, self.task).await.is_err() {
            tracing::warn!(
                limit_secs = limit.as_secs(),
                "notification rules still being evaluated at shutdown; the scheduler's pass will catch up"
            );
        }
    }
}

/// Evaluates every meter pending, each once; returns how many. One drain at a time.
pub async fn drain(state: &AppState) -> usize {
    let _one = state.touched.draining().await;
    let taken = state.touched.take();
    let n = taken.meters.len();
    if n > 0 {
        let started = Instant::now();
        for (meter_id, mut list) in taken.meters {
            // Time order, and of readings at one instant the last written (it is the one
            // stored).
            list.reverse();
            list.sort_by_key(|r| r.ts);
            list.dedup_by_key(|r| r.ts);
            if let Err(e) = super::evaluate_meter(state, meter_id, &list).await {
                tracing::warn!(meter.id = meter_id, error = %e, "notification rules not evaluated");
            }
        }
        state.perf.jobs.record("rules", started.elapsed(), true);
    }
    state.touched.done(taken.through);
    n
}

/// Waits until the rules of every write made before this call have been evaluated (at
/// once when notifications are off). For tests and benchmarks that look right after.
pub async fn settled(state: &AppState) {
    if state.settings.jobs.notifications {
        state.touched.settled().await;
    }
}
