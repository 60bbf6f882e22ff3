//! Backups taken while the server ingests, and restoring one (`headroom backup`,
//! `headroom restore`, `storage::backup`).

use std::{
    collections::BTreeSet,
    sync::{Arc, Mutex},
    time::Instant,
};

use headroom::server::{
    config::Secret,
    storage::{Db, backup},
};
use serde_json::json;

use crate::helpers::*;

/// 2026-11-20T07:00:00Z, the first of the member's two readings; the test's readings go
/// every ten seconds after it (before the second, so values stay in order).
const FIRST: i64 = 1_795_158_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_during_ingest_holds_every_reading_acknowledged_before_it() {
    let app = Arc::new(spawn_app(Backend::Sqlite).await);
    let meter = app.member_with_meter("ada@example.org").await;
    // (time of the reading, when its 201 arrived), for every acknowledged reading.
    let acked: Arc<Mutex<Vec<(i64, Instant)>>> = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = tokio::spawn({
        let (app, acked, stop) = (app.clone(), acked.clone(), stop.clone());
        async move {
            let mut i = 1;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                let ts = FIRST + i * 10;
                let at = jiff::Timestamp::from_second(ts).expect("time").to_string();
                let body =
                    json!({"meter_id": meter, "timestamp": at, "value": 100_000.0 + i as f64});
                if app.post_json("/api/v1/readings", &body).await.status() == 201 {
                    acked.lock().expect("lock").push((ts, Instant::now()));
                }
                i += 1;
            }
        }
    });
    // Let some readings in, take the snapshot mid-stream, let more in after it.
    eventually(
        std::time::Duration::from_secs(20),
        "readings acknowledged",
        || {
            let n = acked.lock().expect("lock").len();
            async move { n >= 30 }
        },
    )
    .await;
    let dir = tempfile::tempdir().expect("dir");
    let began = Instant::now();
    let verified = app
        .state
        .db
        .backup_to(&dir.path().join("snap.db"))
        .await
        .expect("backup");
    let ended = Instant::now();
    let after = acked.lock().expect("lock").len();
    eventually(
        std::time::Duration::from_secs(20),
        "readings after the backup",
        || {
            let n = acked.lock().expect("lock").len();
            async move { n >= after + 10 }
        },
    )
    .await;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.await.expect("writer");
    assert_eq!((verified.users, verified.meters), (1, 1), "{verified:?}");

    // Restored into a new database, it holds every reading acknowledged before the
    // snapshot began, and nothing acknowledged after it ended that it could not have.
    let target = Secret::new(format!("sqlite://{}/restored.db", dir.path().display()));
    let restored = backup::restore(&verified.path, &target)
        .await
        .expect("restore");
    assert_eq!(restored.reading_blocks, verified.reading_blocks);
    let db = Db::connect(&target, 1).await.expect("open");
    db.migrate().await.expect("migrate");
    let stored: BTreeSet<i64> = db
        .reading_blocks(meter, 0, 0xF_FFFF)
        .await
        .expect("readings")
        .values()
        .flatten()
        .map(|r| r.ts)
        .collect();
    let acked = acked.lock().expect("lock").clone();
    let before: Vec<i64> = acked
        .iter()
        .filter(|(_, at)| *at < began)
        .map(|(ts, _)| *ts)
        .collect();
    assert!(before.len() >= 30);
    let missing: Vec<&i64> = before.iter().filter(|ts| !stored.contains(ts)).collect();
    assert!(
        missing.is_empty(),
        "acknowledged before the backup but not in it: {missing:?}"
    );
    let later = acked.iter().filter(|(_, at)| *at > ended).count();
    assert!(later >= 10);
    assert!(
        stored.len() <= 2 + acked.len() - later,
        "the snapshot holds readings from after it"
    );
}

#[tokio::test]
async fn restore_goes_only_into_an_empty_database_and_refuses_a_damaged_file() {
    let app = spawn_app(Backend::Sqlite).await;
    app.member_with_meter("bo@example.org").await;
    let dir = tempfile::tempdir().expect("dir");
    let snap = app
        .state
        .db
        .backup_to(&dir.path().join("a.db"))
        .await
        .expect("backup");
    // A second backup never overwrites the first.
    let again = app.state.db.backup_to(&snap.path).await;
    assert!(
        matches!(again, Err(backup::BackupError::Exists(_))),
        "{again:?}"
    );
    // The running app's database holds data: refused, untouched.
    let live = app.state.settings.database.url.clone();
    let refused = backup::restore(&snap.path, &live).await;
    assert!(
        matches!(refused, Err(backup::BackupError::NotEmpty(_))),
        "{refused:?}"
    );
    assert_eq!(app.get("/api/v1/meters").await.status(), 200);
    // A file cut short is not a backup.
    let bytes = std::fs::read(&snap.path).expect("read");
    let cut = dir.path().join("cut.db");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).expect("write");
    let target = Secret::new(format!("sqlite://{}/new.db", dir.path().display()));
    let damaged = backup::restore(&cut, &target).await;
    assert!(
        matches!(damaged, Err(backup::BackupError::Unreadable { .. })),
        "{damaged:?}"
    );
    assert!(!dir.path().join("new.db").exists());
    let restored = backup::restore(&snap.path, &target).await.expect("restore");
    assert_eq!((restored.users, restored.meters), (1, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_backs_up_a_running_server_and_restores_it() {
    let app = spawn_app(Backend::Sqlite).await;
    let meter = app.member_with_meter("cy@example.org").await;
    let dir = tempfile::tempdir().expect("dir");
    let run = |args: &[&str], db: &str| {
        std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
            .args(args)
            .env("HEADROOM_DATABASE_URL", db)
            .env("HEADROOM_DATA_DIR", dir.path())
            .env("HEADROOM_LOG", "warn")
            .output()
            .expect("run headroom")
    };
    let live = app.state.settings.database.url.expose().to_string();
    let out = run(&["backup"], &live);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("1 users, 1 meters") && said.contains("integrity ok"),
        "{said}"
    );
    let snap: Vec<_> = std::fs::read_dir(dir.path().join("backups"))
        .expect("backups folder")
        .map(|e| e.expect("entry").path())
        .collect();
    assert_eq!(snap.len(), 1, "{snap:?}");
    let restored_url = format!("sqlite://{}/restored.db", dir.path().display());
    let snapshot = snap[0].to_str().expect("utf-8").to_string();
    let out = run(&["restore", &snapshot], &restored_url);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    // A server on the restored database has the member's meter and readings.
    let second = spawn_app_with(
        Backend::Sqlite,
        Options {
            database: Some(restored_url),
            ..Options::default()
        },
    )
    .await;
    assert_eq!(
        second.sign_in("cy@example.org", PASSWORD).await.status(),
        303
    );
    let meters: serde_json::Value = second
        .get("/api/v1/meters")
        .await
        .json()
        .await
        .expect("json");
    assert!(
        meters.to_string().contains(&format!("\"id\":{meter}")),
        "{meters}"
    );
    assert_eq!(
        second.state.db.count_readings(meter).await.expect("count"),
        2
    );
    // The same command on PostgreSQL says what to use instead.
    let out = run(&["backup"], "postgres://nobody@127.0.0.1:1/none");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("pg_dump"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_jobs_leader_takes_scheduled_backups_and_keeps_the_newest() {
    // Three snapshots from earlier runs, the newest a day old: one is due at start.
    let data = tempfile::tempdir().expect("dir");
    let dir = data.path().join("backups");
    std::fs::create_dir_all(&dir).expect("dir");
    #[allow(
        clippy::disallowed_methods,
        reason = "the server below runs on the wall clock"
    )]
    let now = jiff::Timestamp::now();
    for days in [3, 2, 1] {
        let at = now - jiff::SignedDuration::from_hours(24 * days);
        std::fs::write(backup::snapshot_path(&dir, at), b"an older snapshot").expect("write");
    }
    let yesterday = backup::snapshot_path(&dir, now - jiff::SignedDuration::from_hours(24));
    let yesterday = yesterday
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            env: vec![
                ("HEADROOM_DATA_DIR", data.path().display().to_string()),
                ("HEADROOM_COLLECTOR", "true".into()),
                ("HEADROOM_BACKUP_HOURS", "6".into()),
                ("HEADROOM_BACKUP_KEEP", "2".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let names = || -> Vec<String> {
        let mut n: Vec<String> = std::fs::read_dir(&dir)
            .expect("read")
            .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
            .collect();
        n.sort();
        n
    };
    // Kept: yesterday's and the new one.
    eventually(
        std::time::Duration::from_secs(20),
        "a new backup, the oldest pruned",
        || {
            let n = names();
            let done = n.len() == 2 && n[0] == yesterday;
            async move { done }
        },
    )
    .await;
    let newest = backup::newest_snapshot(&dir).expect("read").expect("one");
    assert!(
        newest >= now - jiff::SignedDuration::from_secs(1),
        "{newest} is not the new one"
    );
    let taken = backup::verify(&backup::snapshot_path(&dir, newest))
        .await
        .expect("verified");
    assert_eq!(taken.users, 0);
    // Not due again for six hours: the next check takes none.
    assert!(
        headroom::server::jobs::backup::run_if_due(&app.state)
            .await
            .expect("check")
            .is_none()
    );
    assert_eq!(names().len(), 2);
}
