//! Retention on a large table: old data goes in small batches, none of which holds its
//! transaction for long; on PostgreSQL whole old partitions are dropped.

use std::collections::BTreeSet;

use headroom::{
    domain::rollup::Reading,
    server::{
        jobs::retention,
        storage::{Pool, blocks::utc_day, codec, retention::BATCH, sources::AttemptRow},
    },
};

use crate::helpers::*;
use crate::on_both_backends;

const METERS: i64 = 120;
const DAYS: i64 = 500;

/// Fills the block tables with `METERS` × `DAYS` day blocks ending today, directly in SQL
/// (going through ingest would take minutes for 60 000 days of readings).
async fn fill(app: &TestApp, user: i64) -> (i64, i64) {
    let today = utc_day(app.state.clock.now_secs());
    let mut first_meter = 0;
    for i in 0..METERS {
        let id = app
            .add_quota_meter(user, &format!("m{i}"), 1.0, "monthly:1", "UTC")
            .await;
        if i == 0 {
            first_meter = id;
        }
    }
    let block = codec::encode_readings(
        &(0..144)
            .map(|i| Reading {
                ts: i * 600,
                value: i as f64,
                remaining: None,
            })
            .collect::<Vec<_>>(),
    );
    let days: BTreeSet<i64> = (today - DAYS + 1..=today).collect();
    app.state
        .db
        .ensure_partitions_for_days(&days)
        .await
        .expect("partitions");
    let (from, to) = (first_meter, first_meter + METERS - 1);
    match &app.state.db.pool {
        Pool::Sqlite(pool) => {
            for table in ["reading_blocks", "rollup_blocks"] {
                sqlx::query(&format!(
                    "WITH RECURSIVE d(day) AS (SELECT $1 UNION ALL SELECT day + 1 FROM d WHERE day < $2), \
                     m(id) AS (SELECT $3 UNION ALL SELECT id + 1 FROM m WHERE id < $4) \
                     INSERT INTO {table} (id, meter_id, day, {extra} data) \
                     SELECT (m.id << 20) | d.day, m.id, d.day, {values} $5 FROM m, d",
                    extra = if table == "reading_blocks" { "count, first_ts, last_ts," } else { "" },
                    values = if table == "reading_blocks" { "144, d.day * 86400, d.day * 86400 + 85800," } else { "" },
                ))
                .bind(today - DAYS + 1).bind(today).bind(from).bind(to).bind(&block)
                .execute(pool).await.expect("fill");
            }
        }
        Pool::Postgres(pool) => {
            for table in ["reading_blocks", "rollup_blocks"] {
                sqlx::query(&format!(
                    "INSERT INTO {table} (meter_id, day, {extra} data) \
                     SELECT m, d, {values} $5 FROM generate_series($3::BIGINT, $4::BIGINT) m, generate_series($1::BIGINT, $2::BIGINT) d",
                    extra = if table == "reading_blocks" { "count, first_ts, last_ts," } else { "" },
                    values = if table == "reading_blocks" { "144, d * 86400, d * 86400 + 85800," } else { "" },
                ))
                .bind(today - DAYS + 1).bind(today).bind(from).bind(to).bind(&block)
                .execute(pool).await.expect("fill");
            }
        }
    }
    for n in 0..40 {
        app.state
            .db
            .record_attempt(&AttemptRow {
                meter_id: first_meter,
                started_at: app.state.clock.now_secs() - 86_400 * (n * 2),
                attempt: 1,
                status: "success".into(),
                response_ms: Some(1),
                http_status: Some(200),
                error: None,
            })
            .await
            .expect("attempt");
    }
    (first_meter, today)
}

async fn block_days(app: &TestApp, meter: i64) -> (i64, i64) {
    let blocks = app
        .state
        .db
        .reading_blocks(meter, 0, 1_000_000)
        .await
        .expect("blocks");
    (*blocks.keys().next().expect("some"), blocks.len() as i64)
}

on_both_backends! {
    async fn old_data_goes_in_short_batches(backend) {
        // A pinned clock: the cutoffs must not move between the two runs.
        let app = spawn_app_with(backend, Options { now: "2026-11-21T12:00:00Z".parse().ok(), ..Options::default() }).await;
        let user = app.add_user("mia@example.org", "member", "UTC").await;
        let (meter, today) = fill(&app, user).await;
        let report = retention::run_once(&app.state).await.expect("retention");

        // Raw blocks: the 365 newest days stay; 135 days × 120 meters go.
        let (oldest, kept) = block_days(&app, meter).await;
        assert_eq!(oldest, today - 365);
        assert_eq!(kept, 366);
        let removed = report.raw_blocks as i64 + partition_rows(&report, backend);
        assert!(removed > 0);
        // Rollups are kept for 730 days: nothing of these 500 days goes.
        assert_eq!(report.rollup_blocks, 0);
        assert_eq!(report.attempts, 24, "attempts 32, 34 … 78 days old");
        // No single batch holds its transaction for long (SPEC: about 100 ms at most): each
        // deletes a bounded number of rows. (Their time is logged, not asserted: it is the
        // machine's as much as ours.)
        assert!(
            (1..=BATCH as u64).contains(&report.largest_batch),
            "{report:?}"
        );
        match backend {
            Backend::Sqlite => assert!(report.batches > 30, "{} batches", report.batches),
            // Whole old months are dropped rather than emptied.
            Backend::Postgres => assert!(!report.partitions_dropped.is_empty(), "{report:?}"),
        }
        // A second run finds nothing to do.
        let again = retention::run_once(&app.state).await.expect("retention");
        assert_eq!((again.raw_blocks, again.attempts), (0, 0));
    }
}

/// Rows removed by dropping partitions are not counted by batches; PostgreSQL only.
fn partition_rows(report: &retention::RetentionReport, backend: Backend) -> i64 {
    match backend {
        Backend::Sqlite => 0,
        Backend::Postgres => report.partitions_dropped.len() as i64,
    }
}
