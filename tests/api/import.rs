//! CSV imports: the legacy monitor's export and the generic shape, idempotent and
//! resumable, from the command line, the upload form and the API.

use std::time::{Duration, Instant};

use headroom::server::service::import::{self, ImportFormat};

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T12:00:00Z";

/// A legacy export: `days` of 10-minute rows ending before NOW, every 50th row FAILED,
/// and one broken line near the start.
fn legacy_csv(days: i64) -> (String, usize, usize) {
    let end: jiff::Timestamp = NOW.parse().expect("literal");
    let start = end.as_second() - days * 86_400;
    let mut out = String::from(
        "timestamp,total_used_mb,remaining_mb,collection_status,api_response_time_ms\n",
    );
    let (mut ok, mut failed) = (0, 0);
    let mut used = 0i64;
    for i in 0..days * 144 {
        let ts = jiff::Timestamp::from_second(start + i * 600).expect("ts");
        used += 300;
        if i == 3 {
            out.push_str("not-a-time,1,2,SUCCESS,100\n");
        }
        if i % 50 == 49 {
            failed += 1;
            out.push_str(&format!(
                "{ts},{used},{},FAILED,30000\n",
                (1_048_576 - used).max(0)
            ));
        } else {
            ok += 1;
            out.push_str(&format!(
                "{ts},{used},{},SUCCESS,180\n",
                (1_048_576 - used).max(0)
            ));
        }
    }
    (out, ok, failed)
}

async fn wait_done(app: &TestApp, id: i64) -> serde_json::Value {
    let started = Instant::now();
    loop {
        let (status, view) = json_of(app.get(&format!("/api/v1/imports/{id}")).await).await;
        assert_eq!(status, 200, "{view}");
        if view["status"] != "running" {
            return view;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "import did not finish: {view}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

on_both_backends! {
    async fn a_legacy_export_imports_once_and_resumes_where_it_stopped(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let user = app.add_user("mia@example.org", "member", "UTC").await;
        let meter_id = app.add_quota_meter(user, "Fibre", 1_048_576.0, "monthly:1", "UTC").await;
        let meter = app.state.db.meter(meter_id).await.expect("q").expect("meter");
        // 80 days: 11 520 rows, more than one 10 000-row batch.
        let (csv, ok, failed) = legacy_csv(80);
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("legacy.csv");
        std::fs::write(&path, &csv).expect("write");
        let now = app.state.clock.now_secs();

        // As if an earlier run stopped after the first 10 000 rows: resume from there.
        let row = import::prepare(&app.state.db, &meter, &path, "legacy.csv", ImportFormat::Legacy, now).await.expect("prepare");
        let first_lines: usize = csv.lines().take(10_002).map(|l| l.len() + 1).sum();
        app.state.db.import_progress(row.id, first_lines as i64, 0, 0).await.expect("progress");
        let row = app.state.db.import(row.id).await.expect("q").expect("row");
        let mut steps = Vec::new();
        let outcome = import::run(&app.state.db, &meter, &row, &path, now, 0, |done, total| steps.push((done, total))).await.expect("run");
        assert_eq!(outcome.import.status, "done");
        assert!(steps.len() >= 2 && steps.first().is_some_and(|(d, _)| *d == first_lines as u64), "{steps:?}");
        assert!(steps.last().is_some_and(|(d, t)| d == t), "{steps:?}");
        let resumed = app.state.db.count_readings(meter_id).await.expect("count") as usize;
        let rest = csv.lines().skip(10_002).filter(|l| l.contains("SUCCESS")).count();
        assert_eq!(resumed, rest, "only the rest of the file");

        // A fresh import of the whole file fills in the rest and duplicates nothing.
        let again = tempfile::tempdir().expect("dir");
        let copy = again.path().join("legacy-copy.csv");
        std::fs::write(&copy, format!("{csv}\n")).expect("write");
        let row = import::prepare(&app.state.db, &meter, &copy, "legacy-copy.csv", ImportFormat::Legacy, now).await.expect("prepare");
        let outcome = import::run(&app.state.db, &meter, &row, &copy, now, 0, |_, _| {}).await.expect("run");
        assert_eq!(app.state.db.count_readings(meter_id).await.expect("count") as usize, ok);
        assert_eq!(outcome.import.rows_skipped as usize, failed + 1, "FAILED rows and the broken line");
        assert!(outcome.problems[0].starts_with("line 5:") && outcome.problems[0].contains("not a time"), "{:?}", outcome.problems);
        // Remaining equal to quota − used is not stored twice.
        let r = app.state.db.reading_at_or_before(meter_id, now, 2).await.expect("q").expect("reading");
        assert_eq!(r.remaining, None);

        // Importing the same file again is a no-op.
        let row = import::prepare(&app.state.db, &meter, &copy, "legacy-copy.csv", ImportFormat::Legacy, now).await.expect("prepare");
        assert_eq!(row.status, "done");
    }

    async fn the_upload_form_and_the_api_import_in_the_background(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1_048_576.0, "monthly:1", "UTC").await;
        let (csv, ok, _) = legacy_csv(3);
        let form = reqwest::multipart::Form::new()
            .text("format", "legacy")
            .part("file", reqwest::multipart::Part::text(csv).file_name("export.csv"));
        let res = app.client.post(app.url(&format!("/meters/{meter}/import"))).multipart(form).send().await.expect("POST");
        assert_eq!(res.status(), 303);
        let to = res.headers()["location"].to_str().expect("ascii").to_string();
        let id: i64 = to.split("import=").nth(1).and_then(|s| s.split('#').next()).and_then(|s| s.parse().ok()).expect("import id");
        let view = wait_done(&app, id).await;
        assert_eq!(view["rows_imported"].as_u64(), Some(ok as u64));
        let page = app.get(&format!("/meters/{meter}")).await.text().await.expect("html");
        assert!(page.contains("export.csv") && page.contains("readings imported"));

        let generic = "timestamp,value\n2026-11-21T08:00:00Z,10\n2026-11-21T09:00:00Z,12.5,100\n";
        let sensor = app.add_quota_meter(user, "Other", 100.0, "monthly:1", "UTC").await;
        let res = app.client.post(app.url(&format!("/api/v1/meters/{sensor}/imports?format=generic"))).body(generic).send().await.expect("POST");
        let (status, view) = json_of(res).await;
        assert_eq!(status, 202, "{view}");
        let done = wait_done(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(done["rows_imported"], 2);

        // A file in the wrong shape fails with a reason.
        let res = app.client.post(app.url(&format!("/api/v1/meters/{sensor}/imports?format=legacy"))).body("when,how much\n1,2\n").send().await.expect("POST");
        let (_, view) = json_of(res).await;
        let failed = wait_done(&app, view["id"].as_i64().expect("id")).await;
        assert_eq!(failed["status"], "failed");
        assert!(failed["note"].as_str().unwrap_or("").contains("should name the columns"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_imports_with_progress_and_exports() {
    let dir = tempfile::tempdir().expect("dir");
    let db_url = format!("sqlite://{}/cli.db", dir.path().display());
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            database: Some(db_url.clone()),
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await;
    let user = app.add_user("mia@example.org", "member", "UTC").await;
    let meter = app
        .add_quota_meter(user, "Fibre", 1_048_576.0, "monthly:1", "UTC")
        .await;
    let (csv, ok, _) = legacy_csv(2);
    let file = dir.path().join("legacy.csv");
    std::fs::write(&file, csv).expect("write");
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
            .args(args)
            .env("HEADROOM_DATABASE_URL", &db_url)
            .env("HEADROOM_NOW", NOW)
            .env("HEADROOM_LOG", "warn")
            .output()
            .expect("run headroom")
    };
    let out = run(&[
        "import",
        "--meter",
        &meter.to_string(),
        "--format",
        "legacy",
        file.to_str().expect("utf-8"),
    ]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(said.contains(&format!("imported {ok} readings")), "{said}");
    let out = run(&[
        "export",
        "--meter",
        &meter.to_string(),
        "--from",
        "2026-11-20",
        "--format",
        "csv",
    ]);
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.starts_with("timestamp,value,remaining\n2026-11-20T00:00:00Z,"),
        "{}",
        &text[..80.min(text.len())]
    );
    let out = run(&["import", "--meter", "999", file.to_str().expect("utf-8")]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("there is no meter 999"));
}
