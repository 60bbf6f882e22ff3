//! Importing readings from CSV: the legacy monitor's export
//! (`timestamp,total_used_mb,remaining_mb,collection_status,api_response_time_ms`) and a
//! generic `timestamp,value[,remaining]`.
//!
//! Idempotent (readings are keyed by meter and instant) and resumable: progress is
//! recorded per batch as a byte offset of the file, keyed by the file's SHA-256, so a
//! rerun of the same file picks up after the last batch that was stored.
//!
//! Uploaded files: see `upload_file.rs` for how they are kept and removed.

use crate::domain::access::MeterAction;
use std::{
    collections::HashSet,
    io::{BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use jiff::{Timestamp, civil::DateTime};
use sha2::{Digest, Sha256};
use tokio::sync::mpsc;

use crate::dto::ImportView;
use crate::server::{
    auth::CurrentUser,
    service::{
        ServiceError, ServiceResult, freshness,
        ingest::{self, NewReading},
        line_cap::{self, LineCap, MAX_LINE_BYTES},
        outlook::timezone,
        readings::check_entry,
        upload_file::{self, TempUpload},
    },
    state::AppState,
    storage::{Db, StoreError, imports::ImportRow, meters::MeterRow},
};

/// Rows per stored batch: one transaction, and one progress step.
const BATCH_ROWS: usize = 10_000;
/// Lines whose problems the report lists; beyond that only counted.
const MAX_LISTED: usize = 20;
/// Most imports one user may have running at once: each keeps a reader thread and a
/// database writer busy.
pub const MAX_RUNNING_PER_USER: i64 = 3;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ImportFormat {
    Legacy,
    Generic,
}

impl ImportFormat {
    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "legacy" => Some(ImportFormat::Legacy),
            "generic" => Some(ImportFormat::Generic),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            ImportFormat::Legacy => "legacy",
            ImportFormat::Generic => "generic",
        }
    }
}

/// How an import ended.
#[derive(Debug, Clone)]
pub struct ImportOutcome {
    pub import: ImportRow,
    /// Lines that could not be imported, with why (the first [`MAX_LISTED`]).
    pub problems: Vec<String>,
}

/// SHA-256 of a file, streamed.
pub fn file_sha256(path: &Path) -> std::io::Result<String> {
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
    }
    let mut out = String::new();
    crate::server::hex::push_bytes(&mut out, &hasher.finalize());
    Ok(out)
}

/// Registers (or finds) the import of `path` into `meter`. An import of the same file
/// left running (a stopped `headroom import`) comes back to be resumed.
pub async fn prepare(
    db: &Db,
    meter: &MeterRow,
    path: &Path,
    file_name: &str,
    format: ImportFormat,
    now: i64,
) -> ServiceResult<ImportRow> {
    Ok(claim(db, meter, path, file_name, format, now).await?.0)
}

/// [`prepare`], and whether this call set the import running (created or restarted it).
async fn claim(
    db: &Db,
    meter: &MeterRow,
    path: &Path,
    file_name: &str,
    format: ImportFormat,
    now: i64,
) -> ServiceResult<(ImportRow, bool)> {
    let (sha, size) = {
        let path = path.to_path_buf();
        tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
            Ok((file_sha256(&path)?, std::fs::metadata(&path)?.len()))
        })
        .await
        .map_err(|e| {
            ServiceError::Store(StoreError::Sqlx(sqlx::Error::Io(std::io::Error::other(e))))
        })?
        .map_err(|e| ServiceError::Store(StoreError::Sqlx(sqlx::Error::Io(e))))?
    };
    let (row, created) = db
        .start_import(meter.id, file_name, &sha, format.as_str(), size as i64, now)
        .await
        .map_err(busy)?;
    if row.status == "failed" {
        if !db.restart_import(row.id).await.map_err(busy)? {
            return Err(already_running());
        }
        return Ok((db.import(row.id).await?.unwrap_or(row), true));
    }
    Ok((row, created))
}

fn already_running() -> ServiceError {
    ServiceError::Busy(
        "an import is already running for this meter; try again when it has finished".into(),
    )
}

/// The one-running-import-per-meter index, hit by a writer that came in between.
fn busy(e: StoreError) -> ServiceError {
    match e {
        StoreError::Conflict(_) => already_running(),
        other => other.into(),
    }
}

/// Whether `user` may start an import into `meter_id` now: the meter is theirs, nothing
/// is being imported into it, and fewer than [`MAX_RUNNING_PER_USER`] of theirs are
/// running. Checked before an upload is received (a refusal costs no transfer) and again
/// once it is; the per-meter rule is also the database's, so it holds under races.
pub async fn admit(state: &AppState, user: &CurrentUser, meter_id: i64) -> ServiceResult<MeterRow> {
    let meter =
        crate::server::service::meters::allowed(state, user, meter_id, MeterAction::WriteReadings)
            .await?;
    check_room(&state.db, &meter).await?;
    Ok(meter)
}

async fn check_room(db: &Db, meter: &MeterRow) -> ServiceResult<()> {
    let (on_meter, of_owner) = db.running_import_counts(meter.id, meter.owner_id).await?;
    if on_meter > 0 {
        return Err(already_running());
    }
    if of_owner >= MAX_RUNNING_PER_USER {
        return Err(ServiceError::TooManyImports(format!(
            "{of_owner} of your imports are running, the most at once; try again when one has finished"
        )));
    }
    Ok(())
}

/// What the reader thread sends: a batch of rows and the file offset after its last row.
struct Batch {
    rows: Vec<csv::StringRecord>,
    /// Offset just past the batch's last record.
    end: u64,
    /// Line number of the batch's first record.
    first_line: u64,
}

/// Reads `path` from `offset` in batches on a blocking thread.
fn spawn_reader(
    path: PathBuf,
    offset: u64,
    first_line: u64,
    tx: mpsc::Sender<Result<Batch, String>>,
) {
    std::thread::spawn(move || {
        let result = (|| -> Result<(), String> {
            let mut file = std::fs::File::open(&path).map_err(|e| e.to_string())?;
            file.seek(SeekFrom::Start(offset))
                .map_err(|e| e.to_string())?;
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(LineCap::new(
                    BufReader::new(file),
                    MAX_LINE_BYTES,
                    first_line,
                ));
            let mut line = first_line;
            let mut batch = Batch {
                rows: Vec::with_capacity(BATCH_ROWS),
                end: offset,
                first_line: line,
            };
            let mut record = csv::StringRecord::new();
            while reader
                .read_record(&mut record)
                .map_err(|e| describe(&e, line))?
            {
                batch.rows.push(record.clone());
                line += 1;
                batch.end = offset + reader.position().byte();
                if batch.rows.len() == BATCH_ROWS {
                    let full = std::mem::replace(
                        &mut batch,
                        Batch {
                            rows: Vec::with_capacity(BATCH_ROWS),
                            end: 0,
                            first_line: line,
                        },
                    );
                    batch.end = full.end;
                    tx.blocking_send(Ok(full))
                        .map_err(|_| "import stopped".to_string())?;
                }
            }
            if !batch.rows.is_empty() {
                tx.blocking_send(Ok(batch))
                    .map_err(|_| "import stopped".to_string())?;
            }
            Ok(())
        })();
        if let Err(e) = result {
            let _ = tx.blocking_send(Err(e));
        }
    });
}

/// A CSV error as the import's note; a line over the cap names itself.
fn describe(e: &csv::Error, line: u64) -> String {
    match line_cap::too_long(e) {
        Some(long) => long.to_string(),
        None => format!("line {line}: {e}"),
    }
}

fn parse_time(raw: &str, meter: &MeterRow) -> Option<i64> {
    let raw = raw.trim();
    if let Ok(t) = raw.parse::<Timestamp>() {
        return Some(t.as_second());
    }
    // A time without an offset is the meter's local time.
    raw.replace(' ', "T")
        .parse::<DateTime>()
        .ok()
        .and_then(|dt| dt.to_zoned(timezone(&meter.timezone)).ok())
        .map(|z| z.timestamp().as_second())
}

/// How many of the meter's unit one MB is, for the legacy format (which is in MB).
fn mb_factor(unit: &str) -> Option<f64> {
    match unit.to_ascii_uppercase().as_str() {
        "MB" => Some(1.0),
        "GB" => Some(1.0 / 1024.0),
        "TB" => Some(1.0 / 1_048_576.0),
        _ => None,
    }
}

enum Row {
    Reading(NewReading),
    /// Not a reading, on purpose (a failed collection in the legacy log).
    Skip,
}

fn convert(rec: &csv::StringRecord, format: ImportFormat, meter: &MeterRow) -> Result<Row, String> {
    let field = |i: usize| rec.get(i).map(str::trim).unwrap_or_default();
    let number = |i: usize, name: &str| -> Result<f64, String> {
        field(i)
            .parse::<f64>()
            .ok()
            .filter(|v| v.is_finite())
            .ok_or_else(|| format!("{name} {:?} is not a number", field(i)))
    };
    let ts = parse_time(field(0), meter)
        .ok_or_else(|| format!("timestamp {:?} is not a time", field(0)))?;
    match format {
        ImportFormat::Legacy => {
            if !field(3).eq_ignore_ascii_case("SUCCESS") {
                return Ok(Row::Skip);
            }
            let factor = mb_factor(&meter.unit).unwrap_or(1.0);
            let value = number(1, "total_used_mb")? * factor;
            let remaining = number(2, "remaining_mb")? * factor;
            // Keep `remaining` only when it says something quota − used does not.
            let implied = meter.quota.map(|q| q - value);
            let remaining = match implied {
                Some(i) if (i.max(0.0) - remaining).abs() <= 1e-9 * i.abs().max(1.0) => None,
                _ => Some(remaining),
            };
            Ok(Row::Reading(NewReading {
                meter_id: meter.id,
                ts,
                value,
                remaining,
            }))
        }
        ImportFormat::Generic => {
            let value = number(1, "value")?;
            let remaining = match field(2) {
                "" => None,
                _ => Some(number(2, "remaining")?),
            };
            Ok(Row::Reading(NewReading {
                meter_id: meter.id,
                ts,
                value,
                remaining,
            }))
        }
    }
}

/// The header the format expects (checked on a fresh start).
fn check_header(path: &Path, format: ImportFormat) -> Result<u64, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(LineCap::new(file, MAX_LINE_BYTES, 1));
    let mut header = csv::StringRecord::new();
    if !reader
        .read_record(&mut header)
        .map_err(|e| describe(&e, 1))?
    {
        return Err("the file is empty".into());
    }
    let names: Vec<String> = header
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let expected: &[&str] = match format {
        ImportFormat::Legacy => &[
            "timestamp",
            "total_used_mb",
            "remaining_mb",
            "collection_status",
        ],
        ImportFormat::Generic => &["timestamp", "value"],
    };
    if names.len() < expected.len() || names.iter().zip(expected).any(|(a, b)| a != b) {
        return Err(format!(
            "the first line should name the columns {} (found {})",
            expected.join(","),
            names.join(",")
        ));
    }
    Ok(reader.position().byte())
}

/// Runs (or resumes) an import; `progress(done_bytes, total_bytes)` is called per batch.
#[allow(clippy::too_many_arguments)]
pub async fn run(
    db: &Db,
    meter: &MeterRow,
    import: &ImportRow,
    path: &Path,
    now: i64,
    oldest: i64,
    mut progress: impl FnMut(u64, u64) + Send,
) -> ServiceResult<ImportOutcome> {
    if import.status == "done" {
        progress(import.total_bytes as u64, import.total_bytes as u64);
        return Ok(ImportOutcome {
            import: import.clone(),
            problems: Vec::new(),
        });
    }
    let format = ImportFormat::parse(&import.format).unwrap_or(ImportFormat::Generic);
    let total = import.total_bytes as u64;
    let fail = |e: String| ServiceError::Invalid(vec![crate::domain::DomainError::new("file", e)]);
    let mut offset = import.done_bytes as u64;
    if offset == 0 {
        let p = path.to_path_buf();
        let header = tokio::task::spawn_blocking(move || check_header(&p, format))
            .await
            .map_err(|e| e.to_string())
            .and_then(|r| r);
        match header {
            Ok(end) => offset = end,
            Err(e) => {
                // A file of the wrong shape will not get better on a rerun.
                db.finish_import(import.id, "failed", Some(&e), now).await?;
                return Err(fail(e));
            }
        }
    }
    let (mut imported, mut skipped) = (import.rows_imported, import.rows_skipped);
    let (tx, mut rx) = mpsc::channel(2);
    // Line numbers are exact from a fresh start; after a resume they count from there.
    spawn_reader(
        path.to_path_buf(),
        offset,
        (imported + skipped + 2) as u64,
        tx,
    );
    let mut problems = Vec::new();
    progress(offset, total);
    while let Some(batch) = rx.recv().await {
        let batch = match batch {
            Ok(b) => b,
            Err(e) => {
                db.finish_import(import.id, "failed", Some(&e), now).await?;
                return Err(fail(e));
            }
        };
        let mut readings = Vec::with_capacity(batch.rows.len());
        for (i, rec) in batch.rows.iter().enumerate() {
            let line = batch.first_line + i as u64;
            let checked = convert(rec, format, meter).and_then(|row| match row {
                Row::Skip => Ok(None),
                Row::Reading(r) => check_entry(meter, r.ts, r.value, now, oldest)
                    .map(|()| Some(r))
                    .map_err(|(field, msg)| format!("{field} {msg}")),
            });
            match checked {
                Ok(Some(r)) => readings.push(r),
                Ok(None) => skipped += 1,
                Err(why) => {
                    skipped += 1;
                    if problems.len() < MAX_LISTED {
                        problems.push(format!("line {line}: {why}"));
                    }
                }
            }
        }
        imported += ingest::write(db, &readings).await?.stored as i64;
        db.import_progress(import.id, batch.end as i64, imported, skipped)
            .await?;
        progress(batch.end, total);
    }
    // Problems are kept with the import, so the page can say why rows were skipped.
    let note = (!problems.is_empty()).then(|| problems.join("\n"));
    db.finish_import(import.id, "done", note.as_deref(), now)
        .await?;
    let import = db
        .import(import.id)
        .await?
        .unwrap_or_else(|| import.clone());
    tracing::info!(
        import.id = import.id,
        meter.id = meter.id,
        imported,
        skipped,
        "import done"
    );
    Ok(ImportOutcome { import, problems })
}

pub fn view(row: &ImportRow) -> ImportView {
    ImportView {
        id: row.id,
        meter_id: row.meter_id,
        file_name: row.file_name.clone(),
        status: row.status.clone(),
        done_bytes: row.done_bytes,
        total_bytes: row.total_bytes,
        rows_imported: row.rows_imported,
        rows_skipped: row.rows_skipped,
        note: row.error.clone(),
    }
}

/// The caller's import `id`.
pub async fn owned(state: &AppState, user: &CurrentUser, id: i64) -> ServiceResult<ImportView> {
    let row = state.db.import(id).await?.ok_or(ServiceError::NotFound)?;
    crate::server::service::meters::allowed(state, user, row.meter_id, MeterAction::WriteReadings)
        .await?;
    Ok(view(&row))
}

/// Where uploaded files wait while their import runs.
pub fn upload_dir(state: &AppState) -> PathBuf {
    state.settings.server.data_dir.join("imports")
}

fn upload_path(state: &AppState, id: i64) -> PathBuf {
    upload_dir(state).join(format!("{id}.csv"))
}

/// Starts importing an uploaded file into `meter` (see [`admit`]) in the background;
/// returns the import to follow. The same content uploaded again is the same import
/// (resumed after a failure, or already done; the upload is then dropped, removing it).
pub async fn start_upload(
    state: &AppState,
    meter: MeterRow,
    file: TempUpload,
    file_name: &str,
    format: ImportFormat,
) -> ServiceResult<ImportView> {
    // On a task of its own: once the import is recorded as running, its file has to be
    // handed over and its runner started even if the request is dropped meanwhile (the
    // upload deadline, a client gone), or the meter would stay busy with nothing running.
    let task = register(state.clone(), meter, file, file_name.to_string(), format);
    tokio::spawn(task)
        .await
        .map_err(|e| ServiceError::Internal(e.into()))?
}

async fn register(
    state: AppState,
    meter: MeterRow,
    file: TempUpload,
    file_name: String,
    format: ImportFormat,
) -> ServiceResult<ImportView> {
    // Again: others may have started while this one was uploading.
    check_room(&state.db, &meter).await?;
    let now = state.clock.now_secs();
    let (row, started) = claim(&state.db, &meter, file.path(), &file_name, format, now).await?;
    // Running, but not by this call: another upload of the same file just started it.
    if row.status == "running" && !started {
        return Err(already_running());
    }
    if row.status == "running" {
        let path = upload_path(&state, row.id);
        if let Err(e) = file.hand_over(&path) {
            // Nothing will run it: end it, so the meter is free again.
            let why = "the upload could not be kept; upload it again";
            let _ = state
                .db
                .finish_import(row.id, "failed", Some(why), now)
                .await;
            return Err(ServiceError::Internal(e.into()));
        }
        spawn_run(state.clone(), meter, row.clone(), path);
    }
    Ok(view(&row))
}

fn spawn_run(state: AppState, meter: MeterRow, row: ImportRow, path: PathBuf) {
    tokio::spawn(async move {
        let now = state.clock.now_secs();
        let oldest = crate::server::service::readings::oldest_allowed(&state, now);
        let outcome = run(&state.db, &meter, &row, &path, now, oldest, |_, _| {}).await;
        // Even a stopped import may have written some batches.
        freshness::meter_changed(&state, meter.id).await;
        let ended = match outcome {
            Ok(_) => true,
            Err(e) => {
                tracing::warn!(import.id = row.id, error = ?e, "import stopped");
                end_failed(&state, row.id, now).await
            }
        };
        // The file is needed only while the import runs: a rerun after a failure needs
        // the file uploaded again anyway (and resumes from the recorded offset). A
        // process stopped mid-way never gets here; the file stays for `resume_all`.
        if ended
            && let Err(e) = tokio::fs::remove_file(&path).await
            && e.kind() != std::io::ErrorKind::NotFound
        {
            tracing::warn!(import.id = row.id, error = %e, "cannot remove the import's file");
        }
    });
}

/// After `run` failed: true once the import is in a final state. `run` itself marks the
/// file's own faults failed; anything else (a database error mid-way) is marked failed
/// here, so the meter is free and uploading the file again resumes it. When even that
/// cannot be recorded, the import stays running, to be resumed at the next start.
async fn end_failed(state: &AppState, id: i64, now: i64) -> bool {
    match state.db.import(id).await {
        Ok(Some(row)) if row.status == "running" => {
            let why = "the import stopped on a server error; upload the file again to resume";
            state
                .db
                .finish_import(id, "failed", Some(why), now)
                .await
                .is_ok()
        }
        // Failed or done; or gone with its meter.
        Ok(_) => true,
        Err(_) => false,
    }
}

/// Resumes imports that were running when the process stopped, if their file is here,
/// after sweeping the upload folder of what no running import needs.
pub async fn resume_all(state: &AppState) -> ServiceResult<usize> {
    let running = state.db.running_imports().await?;
    let ids: HashSet<i64> = running.iter().map(|r| r.id).collect();
    let dir = upload_dir(state);
    match tokio::task::spawn_blocking(move || upload_file::sweep(&dir, &ids)).await {
        Ok(Ok(0)) => {}
        Ok(Ok(n)) => tracing::info!(files = n, "swept leftover uploads"),
        Ok(Err(e)) => tracing::warn!(error = %e, "cannot sweep the upload folder"),
        Err(e) => tracing::warn!(error = %e, "cannot sweep the upload folder"),
    }
    let mut resumed = 0;
    for row in running {
        let path = upload_path(state, row.id);
        let Some(meter) = state.db.meter(row.meter_id).await? else {
            continue;
        };
        if tokio::fs::try_exists(&path).await.unwrap_or(false) {
            tracing::info!(import.id = row.id, done = row.done_bytes, "resuming import");
            spawn_run(state.clone(), meter, row, path);
            resumed += 1;
        }
    }
    Ok(resumed)
}
