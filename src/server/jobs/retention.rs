//! Retention: raw readings after `retention_raw_days`, quarter-hour and hourly rollups
//! after `retention_rollup_days`, collection attempts after `retention_attempts_days`,
//! and expired sessions. Daily and weekly rollups are kept for good.

use std::time::Duration;

use crate::server::{
    state::AppState,
    storage::{StoreResult, blocks::utc_day, retention::Batch},
};

#[derive(Debug, Clone, Default)]
pub struct RetentionReport {
    pub raw_blocks: u64,
    pub rollup_blocks: u64,
    pub attempts: u64,
    pub sessions: u64,
    pub outlooks: u64,
    pub partitions_dropped: Vec<String>,
    pub batches: u64,
    /// The most rows any single batch deleted: at most `storage::retention::BATCH`, which
    /// is what keeps each transaction short.
    pub largest_batch: u64,
    /// The longest any single batch held its transaction open (logged; its size bound is
    /// what a test can hold it to, since time depends on the machine).
    pub longest_batch: Duration,
}

impl RetentionReport {
    fn add(&mut self, b: Batch) -> u64 {
        self.batches += 1;
        self.largest_batch = self.largest_batch.max(b.rows);
        self.longest_batch = self.longest_batch.max(b.took);
        b.rows
    }
}

/// Deletes everything past its retention, in small batches; returns what it did.
pub async fn run_once(state: &AppState) -> StoreResult<RetentionReport> {
    let db = &state.db;
    let now = state.clock.now_secs();
    let r = state.settings.database.retention;
    let mut report = RetentionReport::default();
    for (table, days) in [
        ("reading_blocks", r.raw_days),
        ("rollup_blocks", r.rollup_days),
    ] {
        let before = utc_day(now) - days;
        report
            .partitions_dropped
            .extend(db.drop_partitions_before(table, before).await?);
        loop {
            let batch = db.delete_blocks_batch(table, before).await?;
            let rows = report.add(batch);
            if table == "reading_blocks" {
                report.raw_blocks += rows;
            } else {
                report.rollup_blocks += rows;
            }
            if rows == 0 {
                break;
            }
            // Let writers in between batches.
            tokio::task::yield_now().await;
        }
    }
    loop {
        let rows = report.add(
            db.delete_attempts_batch(now - r.attempts_days * 86_400)
                .await?,
        );
        report.attempts += rows;
        if rows == 0 {
            break;
        }
        tokio::task::yield_now().await;
    }
    report.sessions = db.delete_expired_sessions(now).await?;
    // Precomputed outlooks are for the morning glance; two weeks is plenty.
    report.outlooks = db.delete_outlooks_before(utc_day(now) - 14).await?;
    tracing::info!(
        raw_blocks = report.raw_blocks,
        rollup_blocks = report.rollup_blocks,
        attempts = report.attempts,
        sessions = report.sessions,
        partitions_dropped = report.partitions_dropped.len(),
        longest_batch_ms = report.longest_batch.as_millis() as u64,
        "retention done"
    );
    Ok(report)
}
