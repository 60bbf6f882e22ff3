//! The database going away or filling up is a condition to report, not a bug: writes
//! answer a JSON 503 (`unavailable`) or 507 (`storage_full`) with `Retry-After`, at once,
//! and the server carries on by itself when the database is back. The fault matrix
//! (`scripts/fault-matrix`) does the same to real processes; these pin the answers.

use std::time::{Duration, Instant};

use headroom::server::storage::Pool;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T12:00:00Z";

async fn token_for(app: &TestApp, meter: i64) -> String {
    let (status, body) = json_of(
        app.post_json(
            "/api/v1/tokens",
            &json!({"name": "router", "meter_ids": [meter]}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

async fn ingest(app: &TestApp, token: &str, meter: i64, at: &str) -> reqwest::Response {
    app.anonymous()
        .post(app.url("/api/v1/readings"))
        .bearer_auth(token)
        .json(&json!({"readings": [{"meter_id": meter, "timestamp": at, "value": 10.0}]}))
        .send()
        .await
        .expect("POST")
}

on_both_backends! {
    async fn a_session_that_cannot_be_looked_up_is_a_503_not_a_sign_out(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        app.signed_in_user("ola@example.org", "UTC").await;
        // Signed in but never looked up: its session is in the database only.
        match &app.state.db.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        let res = app.get("/api/v1/meters").await;
        assert_eq!(res.status(), 503, "a database outage is not a reason to sign anyone out");
        assert!(res.headers().contains_key("retry-after"));
        let (_, body) = json_of(res).await;
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        // Without a session cookie it is still a plain 401.
        let res = app.anonymous().get(app.url("/api/v1/meters")).send().await.expect("GET");
        assert_eq!(res.status(), 401);
    }

    async fn a_database_that_is_gone_is_a_503_with_retry_after(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let user = app.signed_in_user("ola@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1_000_000.0, "monthly:1", "UTC").await;
        let token = token_for(&app, meter).await;
        assert_eq!(ingest(&app, &token, meter, "2026-11-21T10:00:00Z").await.status(), 201);

        // No connection to be had: what a request meets while the database is down.
        match &app.state.db.pool {
            Pool::Sqlite(p) => p.close().await,
            Pool::Postgres(p) => p.close().await,
        }
        let started = Instant::now();
        let res = ingest(&app, &token, meter, "2026-11-21T10:10:00Z").await;
        assert!(started.elapsed() < Duration::from_secs(5), "took {:?}", started.elapsed());
        assert_eq!(res.status(), 503);
        let retry: u64 = res.headers()["retry-after"].to_str().expect("ascii").parse().expect("seconds");
        assert!((1..=10).contains(&retry), "{retry}");
        let (_, body) = json_of(res).await;
        assert_eq!(body["error"]["code"], "unavailable", "{body}");
        assert!(!body["error"]["message"].as_str().unwrap_or("").contains("sqlx"), "{body}");
        // The seed API's envelope says when to try again too.
        let res = app.get(&format!("/api/v2/daily-outlook/{user}")).await;
        assert_eq!(res.status(), 503);
        assert!(res.headers().contains_key("retry-after"), "{:?}", res.headers());
        let (_, body) = json_of(res).await;
        assert_eq!((body["success"].as_bool(), body["error"]["code"].as_str()), (Some(false), Some("unavailable")), "{body}");
    }
}

/// SQLite out of room (`max_page_count` stands in for a full disk): the write is a 507,
/// nothing is half-stored, and once there is room again writes go on without a restart
/// — on the very connection that failed (the pool has one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_sqlite_database_is_a_507_and_writes_resume_when_there_is_room() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: NOW.parse().ok(),
            env: vec![("HEADROOM_DB_MAX_CONNECTIONS", "1".into())],
            ..Options::default()
        },
    )
    .await;
    let user = app.signed_in_user("ola@example.org", "UTC").await;
    let meter = app
        .add_quota_meter(user, "Fibre", 1_000_000.0, "monthly:1", "UTC")
        .await;
    let token = token_for(&app, meter).await;
    let Pool::Sqlite(pool) = &app.state.db.pool else {
        unreachable!()
    };
    let pages: i64 = sqlx::query_scalar("PRAGMA page_count")
        .fetch_one(pool)
        .await
        .expect("pages");
    sqlx::query(&format!("PRAGMA max_page_count = {pages}"))
        .execute(pool)
        .await
        .expect("limit");

    // 174 days of readings (up to 10:00 on NOW's day) need pages the file may not grow by.
    let readings: Vec<_> = (0..5000)
        .map(|k| json!({"meter_id": meter, "timestamp": 1_795_258_800 - 3000 * k, "value": 1e6 - k as f64}))
        .collect();
    let body = json!({"readings": readings});
    let send = || async {
        app.anonymous()
            .post(app.url("/api/v1/readings"))
            .bearer_auth(&token)
            .json(&body)
            .send()
            .await
            .expect("POST")
    };
    let res = send().await;
    assert_eq!(res.status(), 507);
    assert!(res.headers().contains_key("retry-after"));
    let (_, err) = json_of(res).await;
    assert_eq!(err["error"]["code"], "storage_full", "{err}");
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM reading_blocks")
        .fetch_one(pool)
        .await
        .expect("count");
    assert_eq!(stored, 0, "a refused batch stores nothing");

    sqlx::query("PRAGMA max_page_count = 1073741823")
        .execute(pool)
        .await
        .expect("room again");
    let res = send().await;
    assert_eq!(res.status(), 201, "{:?}", res.text().await);
}
