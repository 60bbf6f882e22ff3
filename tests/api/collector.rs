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

/// A server on `ip` that counts the requests it gets, answers `/ok` with a usage figure and
/// `/redirect?to=<url>` with a 302 there: for showing which requests the policy stops.
async fn counting_server(ip: &str) -> (String, Arc<AtomicUsize>) {
    let hits = Arc::new(AtomicUsize::new(0));
    let counted = hits.clone();
    let app = Router::new()
        .route(
            "/ok",
            get(|| async { Json(json!({"data": {"used_gb": 1}})) }),
        )
        .route(
            "/redirect",
            get(
                |axum::extract::Query(q): axum::extract::Query<
                    std::collections::HashMap<String, String>,
                >| async move {
                    (
                        StatusCode::FOUND,
                        [("location", q.get("to").cloned().unwrap_or_default())],
                    )
                },
            ),
        )
        .layer(axum::middleware::from_fn(
            move |req: axum::extract::Request, next: axum::middleware::Next| {
                counted.fetch_add(1, Ordering::SeqCst);
                next.run(req)
            },
        ));
    let listener = tokio::net::TcpListener::bind((ip, 0)).await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), hits)
}

async fn put_source(
    app: &TestApp,
    meter: i64,
    body: serde_json::Value,
) -> (u16, serde_json::Value) {
    json_of(
        app.client
            .put(app.url(&format!("/api/v1/meters/{meter}/source")))
            .json(&body)
            .send()
            .await
            .expect("PUT"),
    )
    .await
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn fields_of(res: &serde_json::Value) -> Vec<&str> {
    res["error"]["fields"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["field"].as_str()).collect())
        .unwrap_or_default()
}

async fn collect_all(app: &TestApp) {
    let collector = Collector::new(app.state.clone()).expect("collector");
    for t in collector.run_once().await.expect("run") {
        t.await.expect("task");
    }
}

const REFUSED: &str = "the address is not allowed by the outbound policy";

on_both_backends! {
    async fn every_kind_of_source_is_logged_and_none_holds_up_another(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![
                ("HEADROOM_COLLECTOR_RETRY_MS", "300".into()),
                // The pretend ISP is on loopback, which the outbound policy refuses unless
                // an administrator opens it.
                ("HEADROOM_OUTBOUND_ALLOW", "127.0.0.0/8".into()),
            ],
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
        assert_eq!(app.state.db.attempts(garbage, 1).await.expect("attempts")[0].error.as_deref(), Some("the answer is not JSON"));

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

    async fn local_private_and_metadata_addresses_are_refused_when_saved(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "m", 1.0, "monthly:1", "UTC").await;
        let (local, _) = counting_server("127.0.0.1").await;
        for url in [
            format!("{local}/ok"),
            "http://169.254.169.254/latest/meta-data".into(),
            "http://[::1]/".into(),
            "http://10.0.0.1/".into(),
            "http://[::ffff:127.0.0.1]/".into(),
            "http://[fd00:ec2::254]/".into(),
            // The URL parser reads these as 127.0.0.1.
            "http://2130706433/".into(),
            "http://0x7f.1/".into(),
        ] {
            let (status, res) = put_source(&app, meter, json!({"kind": "http", "url": url, "used_path": "data.used_gb"})).await;
            assert_eq!(status, 422, "{url}: {res}");
            assert_eq!(fields_of(&res), vec!["url"], "{url}: {res}");
        }
        assert!(app.state.db.source(meter).await.expect("source").is_none());
    }

    async fn identity_and_hop_by_hop_headers_are_refused_when_saved(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "m", 1.0, "monthly:1", "UTC").await;
        for name in ["Host", "Cookie", "Metadata-Flavor", "X-Forwarded-For", "Proxy-Authorization",
                     "Transfer-Encoding", "X-aws-ec2-metadata-token"] {
            let body = json!({"kind": "http", "url": "https://isp.example/usage", "used_path": "used",
                              "headers": {name: "x"}});
            let (status, res) = put_source(&app, meter, body).await;
            assert_eq!(status, 422, "{name}: {res}");
            assert_eq!(fields_of(&res), vec!["headers"], "{name}: {res}");
            assert!(res.to_string().contains(name), "the message names the header: {res}");
        }
        // An ordinary API key header is fine.
        let body = json!({"kind": "http", "url": "https://isp.example/usage", "used_path": "used",
                          "headers": {"X-Api-Key": "k"}});
        assert_eq!(put_source(&app, meter, body).await.0, 200);
    }

    async fn a_name_that_resolves_to_loopback_is_not_fetched(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![("HEADROOM_COLLECTOR_RETRY_MS", "50".into())],
            ..Options::default()
        }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "m", 1_048_576.0, "monthly:1", "UTC").await;
        let (local, hits) = counting_server("127.0.0.1").await;
        let port = local.rsplit(':').next().expect("port");
        // A name may not resolve yet when it is saved, so names are checked when fetched.
        let url = format!("http://localhost:{port}/ok");
        let (status, res) = put_source(&app, meter, json!({"kind": "http", "url": url, "used_path": "data.used_gb"})).await;
        assert_eq!(status, 200, "{res}");
        collect_all(&app).await;
        assert_eq!(statuses(&app, meter).await, vec!["failed", "failed"]);
        let attempt = &app.state.db.attempts(meter, 1).await.expect("attempts")[0];
        assert_eq!(attempt.error.as_deref(), Some(REFUSED));
        assert_eq!(hits.load(Ordering::SeqCst), 0, "the local server was asked");
        assert_eq!(app.state.db.count_readings(meter).await.expect("count"), 0);
    }

    async fn redirects_to_addresses_the_policy_refuses_are_not_followed(backend) {
        // The allow-list opens 127.0.0.2 only (on Linux all of 127/8 reaches loopback), so
        // the server there stands for a public one; 127.0.0.1 stays closed.
        let app = spawn_app_with(backend, Options {
            env: vec![
                ("HEADROOM_COLLECTOR_RETRY_MS", "50".into()),
                ("HEADROOM_OUTBOUND_ALLOW", "127.0.0.2/32".into()),
            ],
            ..Options::default()
        }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let (public, public_hits) = counting_server("127.0.0.2").await;
        let (private, private_hits) = counting_server("127.0.0.1").await;
        let port = private.rsplit(':').next().expect("port");
        let mut meters = Vec::new();
        for target in [format!("{private}/ok"), format!("http://localhost:{port}/ok"), "file:///etc/passwd".into()] {
            let meter = app.add_quota_meter(user, &format!("m{}", meters.len()), 1_048_576.0, "monthly:1", "UTC").await;
            let url = format!("{public}/redirect?to={}", urlencode(&target));
            let (status, res) = put_source(&app, meter, json!({"kind": "http", "url": url, "used_path": "data.used_gb"})).await;
            assert_eq!(status, 200, "{res}");
            meters.push(meter);
        }
        // The allowed address itself is fetched normally.
        let direct = app.add_quota_meter(user, "direct", 1_048_576.0, "monthly:1", "UTC").await;
        let (status, res) = put_source(&app, direct, json!({"kind": "http", "url": format!("{public}/ok"), "used_path": "data.used_gb"})).await;
        assert_eq!(status, 200, "{res}");
        collect_all(&app).await;
        assert_eq!(statuses(&app, direct).await, vec!["success"]);
        // The client itself stops at a redirect to another scheme, so that one is just the 302.
        let expected = [REFUSED, REFUSED, "HTTP 302"];
        for (meter, error) in meters.into_iter().zip(expected) {
            assert_eq!(statuses(&app, meter).await, vec!["failed", "failed"], "meter {meter}");
            let attempt = &app.state.db.attempts(meter, 1).await.expect("attempts")[0];
            assert_eq!(attempt.error.as_deref(), Some(error), "meter {meter}");
            assert_eq!(app.state.db.count_readings(meter).await.expect("count"), 0);
        }
        assert!(public_hits.load(Ordering::SeqCst) >= 4);
        assert_eq!(private_hits.load(Ordering::SeqCst), 0, "a redirect reached 127.0.0.1");
    }

    async fn headers_saved_before_the_rules_are_not_sent(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![
                ("HEADROOM_COLLECTOR_RETRY_MS", "50".into()),
                ("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32".into()),
            ],
            ..Options::default()
        }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "m", 1_048_576.0, "monthly:1", "UTC").await;
        let (local, hits) = counting_server("127.0.0.1").await;
        let (status, res) = put_source(&app, meter, json!({"kind": "http", "url": format!("{local}/ok"), "used_path": "data.used_gb"})).await;
        assert_eq!(status, 200, "{res}");
        // A row saved before headers were checked, as the database may still hold.
        let mut row = app.state.db.source(meter).await.expect("q").expect("source");
        row.headers = json!({"Metadata-Flavor": "Google"}).to_string();
        app.state.db.put_source(&row).await.expect("put");
        collect_all(&app).await;
        assert_eq!(statuses(&app, meter).await, vec!["failed", "failed"]);
        let attempt = &app.state.db.attempts(meter, 1).await.expect("attempts")[0];
        assert_eq!(attempt.error.as_deref(), Some("a configured header is not allowed by the outbound policy"));
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    async fn the_attempts_log_keeps_no_text_from_the_answer(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![
                ("HEADROOM_COLLECTOR_RETRY_MS", "50".into()),
                ("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32".into()),
            ],
            ..Options::default()
        }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let (local, _) = counting_server("127.0.0.1").await;
        let mut errors = Vec::new();
        for (used_path, remaining_path) in [("data.secret_key", None), ("data", None), ("data.used_gb", Some("data.nope"))] {
            let meter = app.add_quota_meter(user, used_path, 1_048_576.0, "monthly:1", "UTC").await;
            let body = json!({"kind": "http", "url": format!("{local}/ok"), "used_path": used_path, "remaining_path": remaining_path});
            assert_eq!(put_source(&app, meter, body).await.0, 200);
            collect_all(&app).await;
            assert_eq!(statuses(&app, meter).await, vec!["invalid", "invalid"]);
            let (_, attempts) = json_of(app.get(&format!("/api/v1/meters/{meter}/attempts")).await).await;
            errors.push(attempts[0]["error"].as_str().unwrap_or_default().to_string());
        }
        // Fixed messages: neither the configured paths nor anything of the answer.
        assert_eq!(errors, vec![
            "the answer lacks the field mapped to used",
            "the field mapped to used is not a number",
            "the answer lacks the field mapped to remaining",
        ]);
    }
}
