//! Scheduled snapshots of the embedded database (`HEADROOM_BACKUP_HOURS`), taken by the
//! jobs leader into `<data dir>/backups` and pruned to `HEADROOM_BACKUP_KEEP`. Whether
//! one is due is read from the folder (the newest snapshot's name), so a restart neither
//! skips one nor takes an extra.

use crate::server::{
    state::AppState,
    storage::backup::{self, BackupError, Verified},
};

/// Takes a snapshot when the newest one is `HEADROOM_BACKUP_HOURS` old (or there is
/// none), then deletes the oldest beyond what is kept. `None` when none was due.
pub async fn run_if_due(state: &AppState) -> Result<Option<Verified>, BackupError> {
    let settings = state.settings.database.backups;
    if settings.every_hours == 0 {
        return Ok(None);
    }
    let dir = state.settings.server.data_dir.join("backups");
    let now = state.clock.now();
    let every = jiff::SignedDuration::from_hours(i64::from(settings.every_hours));
    if let Some(newest) = backup::newest_snapshot(&dir)?
        && now.duration_since(newest) < every
    {
        return Ok(None);
    }
    let taken = state
        .db
        .backup_to(&backup::snapshot_path(&dir, now))
        .await?;
    let pruned = backup::prune(&dir, settings.keep)?;
    tracing::info!(path = %taken.path.display(), bytes = taken.bytes, pruned, "backup taken");
    Ok(Some(taken))
}
