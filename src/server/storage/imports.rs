//! Imports in progress or done, so a rerun of the same file resumes where it stopped.

use super::{Db, StoreError, StoreResult, with_pool};

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ImportRow {
    pub id: i64,
    pub meter_id: i64,
    pub file_name: String,
    pub file_sha256: String,
    pub format: String,
    pub total_bytes: i64,
    pub done_bytes: i64,
    pub rows_imported: i64,
    pub rows_skipped: i64,
    pub status: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub finished_at: Option<i64>,
}

macro_rules! import_columns {
    () => {
        "id, meter_id, file_name, file_sha256, format, total_bytes, done_bytes, rows_imported, \
         rows_skipped, status, error, created_at, finished_at"
    };
}

impl Db {
    /// The import of this file into this meter, created (running) if it is new, and
    /// whether this call created it. An earlier import of the same content comes back as
    /// it was left (to be resumed, or already done). Another import running on the meter
    /// is [`StoreError::Conflict`] (a partial unique index: one running per meter).
    pub async fn start_import(
        &self,
        meter_id: i64,
        file_name: &str,
        sha256: &str,
        format: &str,
        total_bytes: i64,
        now: i64,
    ) -> StoreResult<(ImportRow, bool)> {
        let created = with_pool!(self, pool => {
            sqlx::query(
                "INSERT INTO imports (meter_id, file_name, file_sha256, format, total_bytes, status, created_at) \
                 VALUES ($1, $2, $3, $4, $5, 'running', $6) ON CONFLICT (meter_id, file_sha256) DO NOTHING")
                .bind(meter_id)
                .bind(file_name)
                .bind(sha256)
                .bind(format)
                .bind(total_bytes)
                .bind(now)
                .execute(pool)
                .await
                .map_err(|e| StoreError::conflict_on(e, "a running import of this meter"))?
                .rows_affected()
                == 1
        });
        let sql = concat!(
            "SELECT ",
            import_columns!(),
            " FROM imports WHERE meter_id = $1 AND file_sha256 = $2"
        );
        let row = with_pool!(self, pool => sqlx::query_as::<_, ImportRow>(sql)
            .bind(meter_id)
            .bind(sha256)
            .fetch_one(pool)
            .await?);
        Ok((row, created))
    }

    /// Running imports of `meter_id`, and of all meters of `owner_id`.
    pub async fn running_import_counts(
        &self,
        meter_id: i64,
        owner_id: i64,
    ) -> StoreResult<(i64, i64)> {
        let sql = "SELECT COALESCE(SUM(CASE WHEN i.meter_id = $1 THEN 1 ELSE 0 END), 0), COUNT(*) \
                   FROM imports i JOIN meters m ON m.id = i.meter_id \
                   WHERE i.status = 'running' AND m.owner_id = $2";
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, (i64, i64)>(sql)
            .bind(meter_id)
            .bind(owner_id)
            .fetch_one(pool)
            .await?),
        )
    }

    pub async fn import(&self, id: i64) -> StoreResult<Option<ImportRow>> {
        let sql = concat!("SELECT ", import_columns!(), " FROM imports WHERE id = $1");
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, ImportRow>(sql).bind(id).fetch_optional(pool).await?),
        )
    }

    /// Imports of a meter, newest first.
    pub async fn imports_of(&self, meter_id: i64, limit: i64) -> StoreResult<Vec<ImportRow>> {
        let sql = concat!(
            "SELECT ",
            import_columns!(),
            " FROM imports WHERE meter_id = $1 ORDER BY id DESC LIMIT $2"
        );
        Ok(
            with_pool!(self, pool => sqlx::query_as::<_, ImportRow>(sql).bind(meter_id).bind(limit).fetch_all(pool).await?),
        )
    }

    /// Imports left running (the process stopped mid-way), to resume at start.
    pub async fn running_imports(&self) -> StoreResult<Vec<ImportRow>> {
        let sql = concat!(
            "SELECT ",
            import_columns!(),
            " FROM imports WHERE status = 'running' ORDER BY id"
        );
        Ok(with_pool!(self, pool => sqlx::query_as::<_, ImportRow>(sql).fetch_all(pool).await?))
    }

    /// Records progress up to byte `done_bytes` of the file (a line boundary).
    pub async fn import_progress(
        &self,
        id: i64,
        done_bytes: i64,
        imported: i64,
        skipped: i64,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE imports SET done_bytes = $1, rows_imported = $2, rows_skipped = $3 WHERE id = $4")
                .bind(done_bytes)
                .bind(imported)
                .bind(skipped)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    pub async fn finish_import(
        &self,
        id: i64,
        status: &str,
        error: Option<&str>,
        now: i64,
    ) -> StoreResult<()> {
        with_pool!(self, pool => {
            sqlx::query("UPDATE imports SET status = $1, error = $2, finished_at = $3 WHERE id = $4")
                .bind(status)
                .bind(error)
                .bind(now)
                .bind(id)
                .execute(pool)
                .await?;
        });
        Ok(())
    }

    /// Lets a failed import run again (a resumed rerun); false when it was not failed
    /// any more (someone restarted it first). Another import running on the meter is
    /// [`StoreError::Conflict`].
    pub async fn restart_import(&self, id: i64) -> StoreResult<bool> {
        Ok(with_pool!(self, pool => {
            sqlx::query("UPDATE imports SET status = 'running', error = NULL, finished_at = NULL WHERE id = $1 AND status = 'failed'")
                .bind(id)
                .execute(pool)
                .await
                .map_err(|e| StoreError::conflict_on(e, "a running import of this meter"))?
                .rows_affected()
                == 1
        }))
    }
}
