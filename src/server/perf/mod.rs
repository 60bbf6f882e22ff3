//! The performance center (SPEC S8): the app watching itself.
//!
//! - [`collect`]: per-route latency histograms and error counts, from one middleware layer.
//! - [`sql`]: per-statement-shape timing and the slow-query log, from sqlx's events.
//! - [`jobs`](JobTable): background job runs and durations.
//! - [`system`]: RSS, CPU, disk, open files — read by the sampler, never per request.
//! - [`sampler`]: every few seconds turns counters into a [`history::Sample`], scores it
//!   ([`score`]), raises and clears alerts ([`alerts`]), persists per-minute history and
//!   feeds the live charts.
//! - [`prometheus`]: the `/metrics` text exposition.
//!
//! `HEADROOM_MONITORING=false` turns all of it off (the middleware then only passes
//! requests on, no statement events are listened to, no sampler runs).

pub mod advice;
pub mod alerts;
pub mod collect;
pub mod evidence;
pub mod histogram;
pub mod history;
pub mod prometheus;
pub mod report;
pub mod sampler;
pub mod score;
pub mod sql;
pub mod system;
pub mod thresholds;
pub mod wire;

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{Arc, Mutex, RwLock},
    time::Duration,
};

use serde::Serialize;
use tokio::sync::{broadcast, watch};

use self::{
    alerts::Tracker,
    collect::{Connections, ReplayFigures, RouteTable},
    histogram::Snapshot,
    history::{Sample, Window},
    score::Health,
    system::CpuMeter,
    thresholds::Thresholds,
};

/// Samples kept in memory: an hour at the default 5-second interval.
pub const RING: usize = 720;
/// Samples the score and the alerts look at (a minute at the default interval).
pub const EVAL_SAMPLES: usize = 12;

/// Runs of one background job.
#[derive(Clone, Debug, Default, Serialize)]
pub struct JobStats {
    pub runs: u64,
    pub failures: u64,
    pub total_ms: f64,
    pub max_ms: f64,
    pub last_ms: f64,
    /// Unix seconds.
    pub last_run_at: i64,
}

#[derive(Default)]
pub struct JobTable {
    jobs: Mutex<BTreeMap<&'static str, JobStats>>,
}

impl JobTable {
    pub fn record(&self, job: &'static str, took: Duration, ok: bool) {
        let ms = took.as_secs_f64() * 1000.0;
        let mut jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        let j = jobs.entry(job).or_default();
        j.runs += 1;
        if !ok {
            j.failures += 1;
        }
        j.total_ms += ms;
        j.max_ms = j.max_ms.max(ms);
        j.last_ms = ms;
        j.last_run_at = crate::server::clock::wall_now().as_second();
    }

    pub fn snapshot(&self) -> Vec<(&'static str, JobStats)> {
        let jobs = self.jobs.lock().unwrap_or_else(|e| e.into_inner());
        jobs.iter().map(|(k, v)| (*k, v.clone())).collect()
    }
}

/// The sampler's working state.
#[derive(Default)]
pub struct SamplerState {
    pub last_at: Option<std::time::Instant>,
    pub last_requests: Snapshot,
    pub last_errors: u64,
    pub last_queries: Snapshot,
    pub last_slow: u64,
    pub last_cache: (u64, u64),
    pub cpu: CpuMeter,
    pub ring: VecDeque<Sample>,
    pub tracker: Tracker,
    /// The minute being gathered for the history table, and its samples' indexes.
    pub minute: Option<(i64, Vec<Sample>)>,
    pub last_prune: i64,
}

/// The latest evaluation, for cheap reads by the API and pages.
#[derive(Clone, Debug, Serialize)]
pub struct Evaluation {
    pub at: i64,
    pub health: Health,
    pub figures: score::Figures,
}

pub struct Perf {
    pub enabled: bool,
    pub routes: RouteTable,
    /// The replay table's figures (`http::replay` writes them).
    pub replay: Arc<ReplayFigures>,
    /// Client connections (`http::serve` counts them).
    pub connections: Arc<Connections>,
    pub jobs: JobTable,
    pub thresholds: RwLock<Thresholds>,
    pub sampler: tokio::sync::Mutex<SamplerState>,
    pub latest: RwLock<Option<Arc<Evaluation>>>,
    /// Each new sample's chart point as JSON, for the live charts.
    pub live: broadcast::Sender<Arc<str>>,
    /// Turns true at shutdown, so live streams end and the drain can finish.
    pub stopping: watch::Sender<bool>,
    /// This process in the history table.
    pub instance: String,
}

impl Perf {
    pub fn new(enabled: bool) -> Self {
        Perf {
            enabled,
            routes: RouteTable::default(),
            replay: Arc::default(),
            connections: Arc::default(),
            jobs: JobTable::default(),
            thresholds: RwLock::new(Thresholds::production()),
            sampler: tokio::sync::Mutex::default(),
            latest: RwLock::new(None),
            live: broadcast::channel(16).0,
            stopping: watch::channel(false).0,
            instance: format!(
                "{}-{}",
                std::env::var("HOSTNAME").unwrap_or_else(|_| "local".into()),
                std::process::id()
            ),
        }
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    pub fn set_thresholds(&self, t: Thresholds) {
        sql::global().set_slow_threshold(t.slow_query_threshold);
        *self.thresholds.write().unwrap_or_else(|e| e.into_inner()) = t;
    }

    pub fn latest(&self) -> Option<Arc<Evaluation>> {
        self.latest
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The last `n` samples taken together.
    pub async fn window(&self, n: usize) -> Window {
        let s = self.sampler.lock().await;
        let skip = s.ring.len().saturating_sub(n);
        Window::of(s.ring.iter().skip(skip))
    }

    /// Samples at or after `since` (Unix seconds).
    pub async fn samples_since(&self, since: i64) -> Vec<Sample> {
        let s = self.sampler.lock().await;
        s.ring.iter().filter(|x| x.at >= since).cloned().collect()
    }
}
