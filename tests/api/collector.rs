//! The collector against a real local HTTP server that answers fast, slowly, never, with
//! 5xx, with garbage, and flakily: every attempt is logged, one retry follows a failure,
//! and no source holds up another or the server.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{Json, Router, http::StatusCode, routing::get};
use headroom::server::jobs::collector::Collector;
use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

/// A pretend ISP: each route misbehaves in its own way.
async fn isp() -> String {
    let flaky = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route(
            "/ok",
            get(|| async {
                Json(json!({"data": {"used_gb": 600, "left_gb": "424"}, "plan": {"gb": 1024}}))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_millis(1500)).await;
                Json(json!({"data": {"used_gb": 1}}))
            }),
        )
        .route(
            "/hang",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(120)).await;
                "never"
            }),
        )
        .route(
            "/error",
            get(|| async { (StatusCode::SERVICE_UNAVAILABLE, "down for maintenance") }),
        )
        .route("/garbage", get(|| async { "<html>login required</html>" }))
        .route(
            "/flaky",
            get(move || {
                let n = flaky.fetch_add(1, Ordering::SeqCst);
                async move {
                    if n == 0 {
                        Err(StatusCode::BAD_GATEWAY)
                    } else {
                        Ok(Json(json!({"data": {"used_gb": 2}})))
                    }
                }
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    format!("http://{addr}")
}

async fn meter_with_source(app: &TestApp, user: i64, name: &str, url: String, timeout: i64) -> i64 {
    let meter = app
        .add_quota_meter(user, name, 1_048_576.0, "monthly:1", "UTC")
        .await;
    let body = json!({"kind": "http", "url": url, "used_path": "data.used_gb", "remaining_path": null,
                      "scale": 1024, "timeout_secs": timeout, "headers": {"x-api-key": "k"}});
    let (status, res) = json_of(
        app.client
            .put(app.url(&format!("/api/v1/meters/{meter}/source")))
            .json(&body)
            .send()
            .await
            .expect("PUT"),
    )
    .await;
    assert_eq!(status, 200, "{res}");
    meter
}

async fn statuses(app: &TestApp, meter: i64) -> Vec<String> {
    let mut rows = app.state.db.attempts(meter, 10).await.expect("attempts");
    rows.reverse();
    rows.into_iter().map(|a| a.status).collect()
}

on_both_backends! {
    async fn every_kind_of_source_is_logged_and_none_holds_up_another(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![("HEADROOM_COLLECTOR_RETRY_MS", "300".into())],
            ..Options::default()
        }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let base = isp().await;
        let ok = meter_with_source(&app, user, "ok", format!("{base}/ok"), 5).await;
        let slow = meter_with_source(&app, user, "slow", format!("{base}/slow"), 5).await;
        let hang = meter_with_source(&app, user, "hang", format!("{base}/hang"), 2).await;
        let error = meter_with_source(&app, user, "error", format!("{base}/error"), 5).await;
        let garbage = meter_with_source(&app, user, "garbage", format!("{base}/garbage"), 5).await;
        let flaky = meter_with_source(&app, user, "flaky", format!("{base}/flaky"), 5).await;
        // Remaining is mapped for the good source only.
        let body = json!({"kind": "http", "url": format!("{base}/ok"), "used_path": "data.used_gb",
                          "remaining_path": "data.left_gb", "quota_path": "plan.gb", "scale": 1024});
        app.client.put(app.url(&format!("/api/v1/meters/{ok}/source"))).json(&body).send().await.expect("PUT");

        let collector = Collector::new(app.state.clone()).expect("collector");
        let started = Instant::now();
        let tasks = collector.run_once().await.expect("run");
        assert_eq!(tasks.len(), 6);
        // The good source's reading lands long before the hanging one gives up.
        loop {
            if app.state.db.count_readings(ok).await.expect("count") == 1 { break; }
            assert!(started.elapsed() < Duration::from_secs(2), "the good source was held up");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // And the server answers meanwhile.
        let t = Instant::now();
        assert_eq!(app.get("/health").await.status(), 200);
        assert!(t.elapsed() < Duration::from_secs(1));
        // A second pass starts nothing: everything is booked for its next interval.
        assert!(collector.run_once().await.expect("run").is_empty());
        for t in tasks {
            t.await.expect("task");
        }

        assert_eq!(statuses(&app, ok).await, vec!["success"]);
        assert_eq!(statuses(&app, slow).await, vec!["success"]);
        assert_eq!(statuses(&app, hang).await, vec!["timeout", "timeout"]);
        assert_eq!(statuses(&app, error).await, vec!["failed", "failed"]);
        assert_eq!(statuses(&app, garbage).await, vec!["invalid", "invalid"]);
        assert_eq!(statuses(&app, flaky).await, vec!["failed", "success"]);

        let slow_attempt = &app.state.db.attempts(slow, 1).await.expect("attempts")[0];
        assert!(slow_attempt.response_ms.unwrap_or(0) >= 1400, "{slow_attempt:?}");
        let err_attempt = &app.state.db.attempts(error, 1).await.expect("attempts")[0];
        assert_eq!(err_attempt.http_status, Some(503));
        assert!(app.state.db.attempts(garbage, 1).await.expect("attempts")[0].error.as_deref().unwrap_or("").contains("not JSON"));

        // Values are scaled into the meter's unit (GB → MB); the source's quota is adopted.
        let r = app.state.db.reading_at_or_before(ok, app.state.clock.now_secs(), 3).await.expect("q").expect("reading");
        assert_eq!((r.value, r.remaining), (600.0 * 1024.0, Some(424.0 * 1024.0)));
        assert_eq!(app.state.db.meter(ok).await.expect("q").and_then(|m| m.quota), Some(1024.0 * 1024.0));
        assert_eq!(app.state.db.count_readings(flaky).await.expect("count"), 1);
        assert_eq!(app.state.db.count_readings(hang).await.expect("count"), 0);
        let (_, source) = json_of(app.get(&format!("/api/v1/meters/{hang}/source")).await).await;
        assert_eq!(source["consecutive_failures"], 1);
        assert_eq!(source["header_names"], json!(["x-api-key"]));
        let (_, attempts) = json_of(app.get(&format!("/api/v1/meters/{hang}/attempts")).await).await;
        assert_eq!(attempts.as_array().map(Vec::len), Some(2));
    }

    async fn bad_source_settings_are_refused_by_field(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "m", 1.0, "monthly:1", "UTC").await;
        let body = json!({"kind": "http", "url": "ftp://isp", "used_path": "a[", "scale": 0,
                          "interval_secs": 5, "timeout_secs": 500, "headers": {"Authorization": "x"}});
        let (status, res) = json_of(app.client.put(app.url(&format!("/api/v1/meters/{meter}/source"))).json(&body).send().await.expect("PUT")).await;
        assert_eq!(status, 422);
        let fields: Vec<&str> = res["error"]["fields"].as_array().expect("fields").iter().filter_map(|f| f["field"].as_str()).collect();
        assert_eq!(fields, vec!["url", "used_path", "headers", "scale", "interval_secs", "timeout_secs"]);
    }

    async fn the_simulator_keeps_demo_meters_moving(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "sim", 300_000.0, "monthly:1", "UTC").await;
        app.client.put(app.url(&format!("/api/v1/meters/{meter}/source"))).json(&json!({"kind": "simulator"})).send().await.expect("PUT");
        let collector = Collector::new(app.state.clone()).expect("collector");
        for t in collector.run_once().await.expect("run") {
            t.await.expect("task");
        }
        assert_eq!(statuses(&app, meter).await, vec!["success"]);
        assert_eq!(app.state.db.count_readings(meter).await.expect("count"), 1);
    }
}
