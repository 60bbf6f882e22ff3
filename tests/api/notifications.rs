//! Notifications (SPEC S5): rules fire once per episode for everyone who sees the meter;
//! the in-app list and read marks; a signed webhook that retries with the same
//! idempotency key and ends as a dead letter; quiet hours that hold messages for one
//! digest; and every bad field named.

use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
};

use axum::{Router, body::Bytes, extract::State, http::HeaderMap, http::StatusCode, routing::post};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde_json::{Value, json};
use sha2::Sha256;

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-12-12T12:00:00Z";

pub(crate) async fn token_for(app: &TestApp, meters: &[i64]) -> String {
    let (status, body) = json_of(
        app.post_json(
            "/api/v1/tokens",
            &json!({"name": "router", "meter_ids": meters}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    body["token"].as_str().expect("token").to_string()
}

/// Posts readings through the API, then waits (at most 10 s) until the instance's
/// background evaluator has judged them: a notification is made within a drain
/// (`HEADROOM_RULES_EVERY_MS`, 500 ms) of the write, not during its request.
pub(crate) async fn ingest(app: &TestApp, token: &str, meter: i64, readings: &[(&str, f64)]) {
    post_readings(app, token, meter, readings).await;
    tokio::time::timeout(
        std::time::Duration::from_secs(10),
        headroom::server::service::alerts::evaluator::settled(&app.state),
    )
    .await
    .expect("the rules of the write are evaluated within 10 s");
}

async fn list(c: &reqwest::Client, app: &TestApp) -> Value {
    let (status, body) = json_of(
        c.get(app.url("/api/v1/notifications"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    body
}

fn rules(list: &Value) -> Vec<String> {
    let mut out: Vec<String> = list["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| n["rule"].as_str().expect("rule").to_string())
        .collect();
    out.reverse();
    out
}

async fn shared_meter(app: &TestApp) -> (i64, String, reqwest::Client) {
    shared_meter_in(app, "UTC").await
}

/// Mia (in `tz`), signed in on `app.client`, owns a 100 GB monthly meter shared with her
/// household (Tom, signed in on the client returned); the meter's readings start at 0 on
/// the 1st. Only the quota levels are on, so each test sees the rule it is about.
pub(crate) async fn shared_meter_in(app: &TestApp, tz: &str) -> (i64, String, reqwest::Client) {
    let mia = app.signed_in_user("mia@example.org", tz).await;
    let tom_client = crate::meters_api::spawn_user_client(app, "tom@example.org").await;
    let tom = app
        .state
        .db
        .user_by_email("tom@example.org")
        .await
        .expect("db")
        .expect("tom")
        .id;
    app.add_household("Home", &[mia, tom]).await;
    let meter = app
        .add_quota_meter(mia, "Fibre", 100_000.0, "monthly:1", "UTC")
        .await;
    app.state
        .db
        .set_household_role(meter, Some("viewer"))
        .await
        .expect("share");
    let res = app
        .client
        .put(app.url(&format!("/api/v1/meters/{meter}/rules")))
        .json(&json!({"over_today": false, "run_out": false}))
        .send()
        .await
        .expect("PUT");
    assert_eq!(res.status(), 200, "{:?}", res.text().await);
    let token = token_for(app, &[meter]).await;
    (meter, token, tom_client)
}

on_both_backends! {
    async fn crossing_a_level_tells_the_household_once_per_period(backend) {
        let app = spawn_app_at(backend, NOW).await;
        let (meter, token, tom) = shared_meter(&app).await;
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T09:00:00Z", 70_000.0)]).await;
        assert!(rules(&list(&app.client, &app).await).is_empty());
        ingest(&app, &token, meter, &[("2026-12-12T10:00:00Z", 82_000.0)]).await;
        let mia = list(&app.client, &app).await;
        assert_eq!(rules(&mia), ["quota_80"]);
        assert_eq!(mia["unread"], 1);
        assert_eq!(mia["items"][0]["title"], "Fibre: 80 % of the quota used");
        assert_eq!(mia["items"][0]["meter_id"], meter);
        // Tom sees the shared meter, so he is told too.
        assert_eq!(rules(&list(&tom, &app).await), ["quota_80"]);
        // A correction below 80 % and a second crossing: the same episode, no repeat.
        ingest(&app, &token, meter, &[("2026-12-12T10:30:00Z", 79_000.0), ("2026-12-12T11:00:00Z", 85_000.0)]).await;
        assert_eq!(rules(&list(&app.client, &app).await), ["quota_80"]);
        // 80 % to 100 % at once: one message (100 %), 90 % settled without one.
        ingest(&app, &token, meter, &[("2026-12-12T11:30:00Z", 100_500.0)]).await;
        let mia = list(&app.client, &app).await;
        assert_eq!(rules(&mia), ["quota_80", "quota_100"]);
        assert_eq!(mia["items"][0]["urgent"], true);
        // A new period re-arms the rule.
        app.state.clock.set("2027-01-02T12:00:00Z".parse::<Timestamp>().expect("ts"));
        ingest(&app, &token, meter, &[("2027-01-01T00:10:00Z", 0.0), ("2027-01-02T11:00:00Z", 81_000.0)]).await;
        assert_eq!(rules(&list(&app.client, &app).await), ["quota_80", "quota_100", "quota_80"]);
    }

    async fn read_marks_are_the_users_own(backend) {
        let app = spawn_app_at(backend, NOW).await;
        let (meter, token, tom) = shared_meter(&app).await;
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T10:00:00Z", 95_000.0)]).await;
        let mia = list(&app.client, &app).await;
        let id = mia["items"][0]["id"].as_i64().expect("id");
        // Tom cannot mark Mia's notification: it is not his (404).
        let res = tom.post(app.url(&format!("/api/v1/notifications/{id}/read"))).send().await.expect("POST");
        assert_eq!(res.status(), 404);
        let res = app.client.post(app.url(&format!("/api/v1/notifications/{id}/read"))).send().await.expect("POST");
        assert_eq!(res.status(), 204);
        let mia = list(&app.client, &app).await;
        assert_eq!(mia["unread"], 0);
        assert!(mia["items"][0]["read_at"].is_i64());
        assert_eq!(list(&tom, &app).await["unread"], 1);
        let (status, body) = json_of(tom.post(app.url("/api/v1/notifications/read-all")).send().await.expect("POST")).await;
        assert_eq!((status, body["marked"].as_i64()), (200, Some(1)));
        assert_eq!(list(&tom, &app).await["unread"], 0);
        let (status, _) = json_of(app.client.get(app.url("/api/v1/notifications?unread=true")).send().await.expect("GET")).await;
        assert_eq!(status, 200);
    }

    async fn bad_settings_name_their_field(backend) {
        let app = spawn_app_at(backend, NOW).await;
        let (meter, _, tom) = shared_meter(&app).await;
        let put = |c: &reqwest::Client, path: String, body: Value| {
            let req = c.put(app.url(&path)).json(&body);
            async move { json_of(req.send().await.expect("PUT")).await }
        };
        let rules_path = format!("/api/v1/meters/{meter}/rules");
        for (body, field) in [
            (json!({"quota_levels": [0]}), "quota_levels"),
            (json!({"range_minutes": 99999}), "range_minutes"),
            (json!({"collector_failures": 0}), "collector_failures"),
        ] {
            let (status, err) = put(&app.client, rules_path.clone(), body).await;
            assert_eq!((status, err["error"]["field"].as_str()), (422, Some(field)), "{err}");
        }
        // A viewer may read the rules but not change them.
        let (status, _) = json_of(tom.get(app.url(&rules_path)).send().await.expect("GET")).await;
        assert_eq!(status, 200);
        let (status, _) = put(&tom, rules_path.clone(), json!({"enabled": false})).await;
        assert_eq!(status, 403);
        for (body, field) in [
            (json!({"quiet_start": "22:00"}), "quiet_end"),
            (json!({"quiet_start": "25:00", "quiet_end": "07:00"}), "quiet_start"),
        ] {
            let (status, err) = put(&app.client, "/api/v1/notifications/settings".into(), body).await;
            assert_eq!((status, err["error"]["field"].as_str()), (422, Some(field)), "{err}");
        }
        for (url, field) in [("ftp://example.org/hook", "url"), ("http://169.254.169.254/x", "url"), ("not a url", "url")] {
            let (status, err) = put(&app.client, "/api/v1/webhook".into(), json!({"url": url})).await;
            assert_eq!((status, err["error"]["field"].as_str()), (422, Some(field)), "{url}: {err}");
        }
        let (status, _) = put(&app.client, "/api/v1/webhook".into(), json!({"url": "https://hooks.example.org/x"})).await;
        assert_eq!(status, 201);
        let limit = json_of(app.client.get(app.url("/api/v1/notifications?limit=1000")).send().await.expect("GET")).await;
        assert_eq!((limit.0, limit.1["error"]["field"].as_str()), (422, Some("limit")));
    }
}

/// A local webhook receiver: checks each request's signature against the secret it is
/// given, records (idempotency key, body), and answers the statuses in `script` in turn
/// (then 200).
#[derive(Clone, Default)]
struct Receiver {
    secret: Arc<Mutex<String>>,
    script: Arc<Mutex<Vec<u16>>>,
    seen: Arc<Mutex<Vec<(String, Value)>>>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let header = |n: &str| {
        headers
            .get(n)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    let ts = header("headroom-timestamp");
    let mut mac =
        Hmac::<Sha256>::new_from_slice(r.secret.lock().expect("lock").as_bytes()).expect("key");
    mac.update(format!("{ts}:").as_bytes());
    mac.update(&body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    if header("headroom-signature") != format!("sha256={expected}") {
        return StatusCode::UNAUTHORIZED;
    }
    let json: Value = serde_json::from_slice(&body).expect("JSON body");
    r.seen
        .lock()
        .expect("lock")
        .push((header("idempotency-key"), json));
    let mut script = r.script.lock().expect("lock");
    if script.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::from_u16(script.remove(0)).expect("status")
    }
}

async fn start_receiver(r: Receiver) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = Router::new().route("/hook", post(receive)).with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

pub(crate) async fn spawn_allowing_loopback(backend: Backend, now: &str) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            now: Some(now.parse().expect("instant")),
            env: vec![("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32".into())],
            ..Options::default()
        },
    )
    .await
}

async fn set_webhook(app: &TestApp, url: &str) -> String {
    let res = app
        .client
        .put(app.url("/api/v1/webhook"))
        .json(&json!({ "url": url }))
        .send()
        .await
        .expect("PUT");
    let (status, body) = json_of(res).await;
    assert_eq!(status, 201, "{body}");
    let (status, shown) = json_of(app.get("/api/v1/webhook").await).await;
    assert_eq!(status, 200);
    assert!(
        shown.get("secret").is_none(),
        "the secret is shown once: {shown}"
    );
    body["secret"].as_str().expect("secret").to_string()
}

pub(crate) async fn send_outbox(app: &TestApp) -> usize {
    let outbound =
        headroom::server::outbound::Outbound::from_settings(&app.state.settings).expect("client");
    headroom::server::jobs::deliver::run_once(&app.state, &outbound)
        .await
        .expect("deliver")
}

pub(crate) fn advance(app: &TestApp, secs: i64) {
    let now = app.state.clock.now_secs() + secs;
    app.state
        .clock
        .set(Timestamp::from_second(now).expect("ts"));
}

on_both_backends! {
    async fn a_webhook_that_fails_twice_gets_one_delivery_with_one_key(backend) {
        let app = spawn_allowing_loopback(backend, NOW).await;
        let (meter, token, _tom) = shared_meter(&app).await;
        let receiver = Receiver::default();
        let addr = start_receiver(receiver.clone()).await;
        *receiver.secret.lock().expect("lock") = set_webhook(&app, &format!("http://{addr}/hook")).await;
        *receiver.script.lock().expect("lock") = vec![500, 500];
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T10:00:00Z", 82_000.0)]).await;
        assert_eq!(send_outbox(&app).await, 1);
        // Not due again yet: back-off.
        assert_eq!(send_outbox(&app).await, 0);
        advance(&app, 31);
        assert_eq!(send_outbox(&app).await, 1);
        advance(&app, 61);
        assert_eq!(send_outbox(&app).await, 1);
        advance(&app, 3600);
        assert_eq!(send_outbox(&app).await, 0, "delivered: nothing left");
        let seen = receiver.seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 3, "two failures, then the delivery");
        assert!(seen.iter().all(|(k, _)| *k == seen[0].0), "one idempotency key: {seen:?}");
        assert_eq!(seen[2].1["type"], "notification");
        assert_eq!(seen[2].1["notifications"][0]["rule"], "quota_80");
        let (_, log) = json_of(app.get("/api/v1/deliveries").await).await;
        let outcomes: Vec<_> = log["attempts"].as_array().expect("attempts").iter().map(|a| (a["outcome"].as_str().unwrap_or("").to_string(), a["http_status"].as_i64())).collect();
        assert_eq!(outcomes, [("sent".to_string(), Some(200)), ("failed".into(), Some(500)), ("failed".into(), Some(500))]);
        assert!(log["attempts"][1]["next_at"].is_i64());
        assert!(log["dead_letters"].as_array().expect("dead").is_empty());
        // The test button signs the same way.
        let (status, test) = json_of(app.client.post(app.url("/api/v1/webhook/test")).send().await.expect("POST")).await;
        assert_eq!((status, test["outcome"].as_str()), (200, Some("sent")), "{test}");
    }

    async fn quiet_hours_hold_all_but_urgent_for_one_digest(backend) {
        // 23:30 in Berlin.
        let app = spawn_allowing_loopback(backend, "2026-12-12T22:30:00Z").await;
        let (meter, token, _tom) = shared_meter_in(&app, "Europe/Berlin").await;
        let receiver = Receiver::default();
        let addr = start_receiver(receiver.clone()).await;
        *receiver.secret.lock().expect("lock") = set_webhook(&app, &format!("http://{addr}/hook")).await;
        let res = app.client.put(app.url("/api/v1/notifications/settings")).json(&json!({"quiet_start": "22:00", "quiet_end": "07:00"})).send().await.expect("PUT");
        assert_eq!(res.status(), 200);
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-12T22:00:00Z", 82_000.0)]).await;
        ingest(&app, &token, meter, &[("2026-12-12T22:10:00Z", 91_000.0)]).await;
        assert_eq!(send_outbox(&app).await, 0, "held until 07:00 Berlin");
        // 100 % is urgent and goes through.
        ingest(&app, &token, meter, &[("2026-12-12T22:20:00Z", 101_000.0)]).await;
        assert_eq!(send_outbox(&app).await, 1);
        assert_eq!(receiver.seen.lock().expect("lock")[0].1["notifications"][0]["rule"], "quota_100");
        // 07:00 Berlin is 06:00 UTC.
        app.state.clock.set("2026-12-13T05:59:59Z".parse::<Timestamp>().expect("ts"));
        assert_eq!(send_outbox(&app).await, 0);
        app.state.clock.set("2026-12-13T06:00:00Z".parse::<Timestamp>().expect("ts"));
        assert_eq!(send_outbox(&app).await, 1, "one digest");
        let seen = receiver.seen.lock().expect("lock").clone();
        assert_eq!(seen.len(), 2);
        assert_eq!(seen[1].1["type"], "digest");
        let held: Vec<_> = seen[1].1["notifications"].as_array().expect("list").iter().map(|n| n["rule"].as_str().unwrap_or("").to_string()).collect();
        assert_eq!(held, ["quota_80", "quota_90"]);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_receiver_that_never_answers_ends_as_a_dead_letter_that_can_be_resent() {
    let app = spawn_allowing_loopback(Backend::Sqlite, NOW).await;
    let (meter, token, _tom) = shared_meter(&app).await;
    // Accepts connections and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    let held = Arc::new(Mutex::new(Vec::new()));
    let keep = held.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = silent.accept().await {
            keep.lock().expect("lock").push(socket);
        }
    });
    set_webhook(&app, &format!("http://{silent_addr}/hook")).await;
    ingest(
        &app,
        &token,
        meter,
        &[
            ("2026-12-01T00:10:00Z", 0.0),
            ("2026-12-12T10:00:00Z", 82_000.0),
        ],
    )
    .await;
    // The first try is made with a day of retries nearly gone: it times out, and the
    // next would land past the day, so it is a dead letter.
    advance(&app, 24 * 3600 - 5);
    assert_eq!(send_outbox(&app).await, 1);
    let (_, log) = json_of(app.get("/api/v1/deliveries").await).await;
    assert_eq!(log["attempts"][0]["outcome"], "timeout", "{log}");
    assert!(log["attempts"][0]["next_at"].is_null());
    let dead = log["dead_letters"].as_array().expect("dead").clone();
    assert_eq!(dead.len(), 1, "{log}");
    // Resent to a receiver that answers now.
    let receiver = Receiver::default();
    let addr = start_receiver(receiver.clone()).await;
    *receiver.secret.lock().expect("lock") =
        set_webhook(&app, &format!("http://{addr}/hook")).await;
    let id = dead[0]["id"].as_i64().expect("id");
    let res = app
        .client
        .post(app.url(&format!("/api/v1/deliveries/{id}/resend")))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 202);
    assert_eq!(send_outbox(&app).await, 1);
    assert_eq!(receiver.seen.lock().expect("lock").len(), 1);
    let (_, log) = json_of(app.get("/api/v1/deliveries").await).await;
    assert!(log["dead_letters"].as_array().expect("dead").is_empty());
}

on_both_backends! {
    async fn a_sensor_out_of_range_for_ten_minutes_is_told_and_back_in_range_once(backend) {
        use headroom::server::storage::meters::NewMeter;
        let app = spawn_app_at(backend, "2026-12-12T12:30:00Z").await;
        let mia = app.signed_in_user("mia@example.org", "UTC").await;
        let sensor = app
            .state
            .db
            .create_meter(&NewMeter {
                owner_id: mia,
                kind: "sensor",
                name: "Bedroom",
                unit: "°C",
                timezone: "UTC",
                quota: None,
                reset_rule: None,
                range_min: Some(18.0),
                range_max: Some(24.0),
                position: 0,
                created_at: 0,
            })
            .await
            .expect("create sensor");
        let token = token_for(&app, &[sensor]).await;
        // Above 24 °C from 12:01; a batch that ends at 12:11 is ten minutes out.
        ingest(&app, &token, sensor, &[("2026-12-12T12:00:00Z", 21.0), ("2026-12-12T12:01:00Z", 24.5), ("2026-12-12T12:05:00Z", 25.0)]).await;
        assert!(rules(&list(&app.client, &app).await).is_empty(), "four minutes out: not yet");
        ingest(&app, &token, sensor, &[("2026-12-12T12:11:00Z", 25.2)]).await;
        let told = list(&app.client, &app).await;
        assert_eq!(rules(&told), ["out_of_range"]);
        assert_eq!(told["items"][0]["body"], "Bedroom is above its normal range (up to 24.0 °C) at 25.2 °C, for 10 min.");
        // Just inside the edge (within the 5 % margin) is not back yet; well inside is.
        ingest(&app, &token, sensor, &[("2026-12-12T12:12:00Z", 23.9), ("2026-12-12T12:13:00Z", 24.3)]).await;
        assert_eq!(rules(&list(&app.client, &app).await), ["out_of_range"]);
        ingest(&app, &token, sensor, &[("2026-12-12T12:20:00Z", 22.0)]).await;
        assert_eq!(rules(&list(&app.client, &app).await), ["out_of_range", "back_in_range"]);
        // A late reading from before does not rewrite what was judged.
        ingest(&app, &token, sensor, &[("2026-12-12T12:02:00Z", 30.0)]).await;
        assert_eq!(rules(&list(&app.client, &app).await), ["out_of_range", "back_in_range"]);
    }
}

// History written days late is left to the scheduler's pass, which reads its meters a
// page at a time: it tells of what crossed once, only where the rules are on, and a
// second pass (the episode claimed) tells nothing.
on_both_backends! {
    async fn the_scheduled_pass_tells_of_backfilled_crossings_once(backend) {
        let app = spawn_app_at(backend, NOW).await;
        let (meter, token, tom) = shared_meter(&app).await;
        let mia = app.state.db.user_by_email("mia@example.org").await.expect("db").expect("mia");
        // A second meter of Mia's in another timezone, its rules all off.
        let quiet = app.add_quota_meter(mia.id, "Mobile", 10_000.0, "monthly:1", "Pacific/Auckland").await;
        let res = app
            .client
            .put(app.url(&format!("/api/v1/meters/{quiet}/rules")))
            .json(&json!({"enabled": false}))
            .send()
            .await
            .expect("PUT");
        assert_eq!(res.status(), 200, "{:?}", res.text().await);
        let quiet_token = token_for(&app, &[quiet]).await;
        // Three days old: the write path leaves both to the scheduler.
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-09T10:00:00Z", 91_000.0)]).await;
        ingest(&app, &quiet_token, quiet, &[("2026-12-01T00:10:00Z", 0.0), ("2026-12-09T10:00:00Z", 9_500.0)]).await;
        assert!(rules(&list(&app.client, &app).await).is_empty(), "the write path left them");
        let told = headroom::server::service::alerts::scheduled_pass(&app.state).await.expect("pass");
        assert_eq!(told, 2, "one notification each for Mia and Tom");
        let mia_list = list(&app.client, &app).await;
        assert_eq!(rules(&mia_list), ["quota_90"], "90 % only: it settles 80 % too");
        assert_eq!(mia_list["items"][0]["meter_id"], meter);
        assert_eq!(rules(&list(&tom, &app).await), ["quota_90"]);
        let again = headroom::server::service::alerts::scheduled_pass(&app.state).await.expect("pass");
        assert_eq!(again, 0, "claimed on the first pass");
        assert_eq!(rules(&list(&app.client, &app).await), ["quota_90"]);
    }
}

/// Two instances on one PostgreSQL, written to at the same moment, each crossing 80 %,
/// and each running the scheduler's pass: one notification per recipient.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_instances_on_one_postgresql_create_each_notification_once() {
    let url = fresh_postgres_database().await;
    let options = || Options {
        now: Some(NOW.parse().expect("instant")),
        database: Some(url.clone()),
        ..Options::default()
    };
    let a = spawn_app_with(Backend::Postgres, options()).await;
    let b = spawn_app_with(Backend::Postgres, options()).await;
    let (meter, token, tom) = shared_meter(&a).await;
    ingest(&a, &token, meter, &[("2026-12-01T00:10:00Z", 0.0)]).await;
    let (x, y) = (
        ingest(&a, &token, meter, &[("2026-12-12T10:00:00Z", 82_000.0)]),
        ingest(&b, &token, meter, &[("2026-12-12T10:01:00Z", 83_000.0)]),
    );
    tokio::join!(x, y);
    let (p, q) = (
        headroom::server::service::alerts::scheduled_pass(&a.state),
        headroom::server::service::alerts::scheduled_pass(&b.state),
    );
    let (p, q) = tokio::join!(p, q);
    assert_eq!(p.expect("pass a") + q.expect("pass b"), 0, "told already");
    assert_eq!(rules(&list(&a.client, &a).await), ["quota_80"]);
    assert_eq!(rules(&list(&tom, &b).await), ["quota_80"]);
}

/// A sender that dies after claiming a batch (and maybe after posting it, before it
/// could record the answer) leaves its claim to run out; the next pass sends the batch
/// again with the same idempotency key, so nothing is lost and a receiver can drop the
/// repeat.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sender_that_dies_mid_delivery_loses_nothing() {
    let app = spawn_allowing_loopback(Backend::Sqlite, NOW).await;
    let (meter, token, _tom) = shared_meter(&app).await;
    let receiver = Receiver::default();
    let addr = start_receiver(receiver.clone()).await;
    *receiver.secret.lock().expect("lock") =
        set_webhook(&app, &format!("http://{addr}/hook")).await;
    ingest(
        &app,
        &token,
        meter,
        &[
            ("2026-12-01T00:10:00Z", 0.0),
            ("2026-12-12T10:00:00Z", 82_000.0),
        ],
    )
    .await;
    let now = app.state.clock.now_secs();
    let claimed = app
        .state
        .db
        .claim_due_batch(now, now + app.state.settings.jobs.delivery_claim_secs)
        .await
        .expect("claim")
        .expect("a batch is due");
    // The dead sender's claim holds the batch: nobody sends it meanwhile.
    assert_eq!(send_outbox(&app).await, 0);
    advance(&app, app.state.settings.jobs.delivery_claim_secs + 1);
    assert_eq!(send_outbox(&app).await, 1);
    let seen = receiver.seen.lock().expect("lock").clone();
    assert_eq!(seen.len(), 1);
    assert_eq!(
        seen[0].0,
        headroom::server::jobs::deliver::idempotency_key(&claimed)
    );
    assert_eq!(send_outbox(&app).await, 0, "sent once");
}

/// The performance center watches the outbox: a delivery left waiting past the threshold
/// raises an alert by how far past (20 min against 5: critical), the summary shows the
/// queue, and once the outbox is sent the alert clears.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_falling_behind_outbox_raises_a_performance_alert() {
    use headroom::server::perf::{alerts::CLEAR_SAMPLES, sampler};
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: Some(NOW.parse().expect("instant")),
            env: vec![
                ("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32".into()),
                ("HEADROOM_MONITORING_SAMPLE_SECS", "0".into()),
            ],
            ..Options::default()
        },
    )
    .await;
    let (meter, token, _tom) = shared_meter(&app).await;
    let receiver = Receiver::default();
    let addr = start_receiver(receiver.clone()).await;
    *receiver.secret.lock().expect("lock") =
        set_webhook(&app, &format!("http://{addr}/hook")).await;
    ingest(
        &app,
        &token,
        meter,
        &[
            ("2026-12-01T00:10:00Z", 0.0),
            ("2026-12-12T10:00:00Z", 82_000.0),
        ],
    )
    .await;
    app.add_user("root@example.org", "admin", "UTC").await;
    let admin = client();
    let res = admin
        .post(app.url("/login"))
        .form(&[("email", "root@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    let alerts = |c: reqwest::Client| {
        let url = app.url("/api/performance/alerts?resolved=false");
        async move {
            let (_, body) = json_of(c.get(url).send().await.expect("GET")).await;
            body["alerts"]
                .as_array()
                .expect("alerts")
                .iter()
                .filter(|a| a["metric"] == "delivery_lag")
                .cloned()
                .collect::<Vec<_>>()
        }
    };
    sampler::tick(&app.state).await.expect("tick");
    assert!(alerts(admin.clone()).await.is_empty(), "just due: no alert");
    advance(&app, 20 * 60);
    sampler::tick(&app.state).await.expect("tick");
    let open = alerts(admin.clone()).await;
    assert_eq!(open.len(), 1, "{open:?}");
    assert_eq!(open[0]["severity"], "critical");
    let (_, summary) = json_of(
        admin
            .get(app.url("/api/performance/summary"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(summary["outbox"]["pending"], 1, "{summary}");
    assert!(summary["outbox"]["oldest_due_secs"].as_i64().expect("secs") >= 1200);
    assert_eq!(send_outbox(&app).await, 1);
    for _ in 0..CLEAR_SAMPLES {
        sampler::tick(&app.state).await.expect("tick");
    }
    assert!(alerts(admin).await.is_empty(), "cleared once delivered");
}

/// Posts readings without waiting for their rules (as a router would).
async fn post_readings(app: &TestApp, token: &str, meter: i64, readings: &[(&str, f64)]) {
    let readings: Vec<Value> = readings
        .iter()
        .map(|(at, v)| json!({"meter_id": meter, "timestamp": at, "value": v}))
        .collect();
    let res = app
        .anonymous()
        .post(app.url("/api/v1/readings"))
        .bearer_auth(token)
        .json(&json!({ "readings": readings }))
        .send()
        .await
        .expect("POST");
    assert!(res.status().is_success(), "{:?}", res.text().await);
}

fn rule_runs(app: &TestApp) -> u64 {
    app.state
        .perf
        .jobs
        .snapshot()
        .into_iter()
        .find(|(job, _)| *job == "rules")
        .map_or(0, |(_, s)| s.runs)
}

// The rules run in the background: a burst of writes to a meter is evaluated once per
// drain, and the reading that crosses 80 % is told within a drain of its write, with
// nobody waiting for it.
on_both_backends! {
    async fn a_burst_of_writes_is_evaluated_once_and_told_promptly(backend) {
        let app = spawn_app_with(
            backend,
            Options {
                now: Some(NOW.parse().expect("instant")),
                env: vec![("HEADROOM_RULES_EVERY_MS", "2000".into())],
                ..Options::default()
            },
        )
        .await;
        let (meter, token, tom) = shared_meter(&app).await;
        ingest(&app, &token, meter, &[("2026-12-01T00:10:00Z", 0.0)]).await;
        let before = rule_runs(&app);
        // Ten writes in a row, the last crossing 80 %: gathered for 2 s, evaluated once.
        for i in 0..10 {
            let at = format!("2026-12-12T10:{:02}:00Z", i);
            post_readings(&app, &token, meter, &[(&at, 70_000.0 + f64::from(i) * 1_500.0)]).await;
        }
        let mia = app.state.db.user_by_email("mia@example.org").await.expect("db").expect("mia").id;
        // Looked for in the database: polling the API would meet its rate limit.
        eventually(std::time::Duration::from_secs(10), "the 80 % notification", || {
            let db = app.state.db.clone();
            async move { !db.notifications(mia, false, None, 10).await.expect("list").is_empty() }
        })
        .await;
        assert_eq!(rules(&list(&app.client, &app).await), ["quota_80"]);
        assert_eq!(rules(&list(&tom, &app).await), ["quota_80"]);
        let runs = rule_runs(&app) - before;
        assert!((1..=3).contains(&runs), "ten writes, {runs} drains");
    }
}

/// Graceful shutdown evaluates what the last writes touched before the process ends:
/// with a drain due only in 10 s, a reading that crossed 80 % just before the signal is
/// told all the same.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_evaluates_what_the_last_writes_touched() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/shared.db", dir.path().display());
    let options = |every: &str| Options {
        now: Some(NOW.parse().expect("instant")),
        database: Some(url.clone()),
        env: vec![("HEADROOM_RULES_EVERY_MS", every.into())],
    };
    let mut app = spawn_app_with(Backend::Sqlite, options("10000")).await;
    let (meter, token, _tom) = shared_meter(&app).await;
    post_readings(
        &app,
        &token,
        meter,
        &[
            ("2026-12-01T00:10:00Z", 0.0),
            ("2026-12-12T10:00:00Z", 82_000.0),
        ],
    )
    .await;
    app.trigger_shutdown();
    let server = app.server.take().expect("running");
    tokio::time::timeout(std::time::Duration::from_secs(8), server)
        .await
        .expect("stops well before the next drain was due")
        .expect("join")
        .expect("clean exit");
    let after = spawn_app_with(Backend::Sqlite, options("500")).await;
    let mia = after
        .state
        .db
        .user_by_email("mia@example.org")
        .await
        .expect("db")
        .expect("mia")
        .id;
    let told = after
        .state
        .db
        .notifications(mia, false, None, 10)
        .await
        .expect("list");
    assert_eq!(told.len(), 1, "told once, at shutdown");
}

/// A webhook receiver for the kill test: records every request (its idempotency key, the
/// notifications it carries, whether it was answered); while `stall` is set it answers
/// none (each request hangs, as a slow receiver's would), then 200 at once.
#[derive(Clone, Default)]
struct Recorder {
    stall: Arc<std::sync::atomic::AtomicBool>,
    seen: Arc<Mutex<Vec<Request>>>,
}

/// A request as received: idempotency key, notification ids, answered.
type Request = (String, Vec<i64>, bool);

async fn record_request(State(r): State<Recorder>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let key = headers
        .get("idempotency-key")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let json: Value = serde_json::from_slice(&body).expect("JSON body");
    let ids: Vec<i64> = json["notifications"]
        .as_array()
        .expect("notifications")
        .iter()
        .map(|n| n["id"].as_i64().expect("id"))
        .collect();
    let stall = r.stall.load(std::sync::atomic::Ordering::SeqCst);
    r.seen.lock().expect("lock").push((key, ids, !stall));
    if stall {
        std::future::pending::<()>().await;
    }
    StatusCode::OK
}

/// `headroom serve` as a child process; killed (SIGKILL) when dropped, so a failing
/// test leaves no server behind.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts the real binary on `database` with its jobs on (it sends the outbox), a 3 s
/// leader lease and 15 s delivery claims, allowed to post to loopback; waits until it
/// answers.
async fn serve_binary(database: &str, dir: &std::path::Path, log: &str) -> (Child, String) {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port();
    let log = std::fs::File::create(dir.join(log)).expect("log file");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_headroom"))
        .arg("serve")
        .env("HEADROOM_DATABASE_URL", database)
        .env("HEADROOM_ADDR", format!("127.0.0.1:{port}"))
        .env("HEADROOM_DATA_DIR", dir)
        .env("HEADROOM_LOG", "info")
        .env("HEADROOM_COLLECTOR", "true")
        .env("HEADROOM_LEASE_SECS", "3")
        .env("HEADROOM_DELIVERY_CLAIM_SECS", "15")
        .env("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32")
        .env("LEPTOS_HASH_FILES", "false")
        .env_remove("HEADROOM_NOW")
        .stdout(log.try_clone().expect("log"))
        .stderr(log)
        .spawn()
        .expect("start headroom serve");
    let child = Child(child);
    let base = format!("http://127.0.0.1:{port}");
    let probe = client();
    eventually(
        std::time::Duration::from_secs(60),
        "the server answers",
        || {
            let req = probe.get(format!("{base}/health/live")).send();
            async move { req.await.is_ok_and(|r| r.status().is_success()) }
        },
    )
    .await;
    (child, base)
}

// kill -9 of a real server while its deliveries are in flight (the receiver holds every
// request unanswered), then a restart on the same database: every notification is
// delivered, none is lost, and each repeat carries the idempotency key of the first try.
on_both_backends! {
    async fn kill_nine_mid_delivery_then_restart_loses_nothing(backend) {
        let dir = tempfile::tempdir().expect("dir");
        let url = match backend {
            Backend::Sqlite => format!("sqlite://{}/shared.db", dir.path().display()),
            Backend::Postgres => fresh_postgres_database().await,
        };
        // The test's own instance (jobs off) sets up the household and reads the outcome.
        let app = spawn_app_with(
            backend,
            Options {
                database: Some(url.clone()),
                env: vec![("HEADROOM_OUTBOUND_ALLOW", "127.0.0.1/32".into())],
                ..Options::default()
            },
        )
        .await;
        let mia = app.signed_in_user("mia@example.org", "UTC").await;
        let recorder = Recorder::default();
        recorder.stall.store(true, std::sync::atomic::Ordering::SeqCst);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("addr");
        let router = Router::new().route("/hook", post(record_request)).with_state(recorder.clone());
        tokio::spawn(async move { axum::serve(listener, router).await });
        set_webhook(&app, &format!("http://{addr}/hook")).await;
        let mut meters = Vec::new();
        for i in 0..10 {
            let meter = app.add_quota_meter(mia, &format!("Line {i}"), 100.0, "monthly:1", "UTC").await;
            let res = app
                .client
                .put(app.url(&format!("/api/v1/meters/{meter}/rules")))
                .json(&json!({"over_today": false, "run_out": false}))
                .send()
                .await
                .expect("PUT");
            assert_eq!(res.status(), 200);
            meters.push(meter);
        }
        let token = token_for(&app, &meters).await;

        let (first, base) = serve_binary(&url, dir.path(), "first.log").await;
        // This month's start and a minute ago (real time: claims must run out).
        let now = app.state.clock.now_secs();
        let month = jiff::Timestamp::from_second(now)
            .expect("now")
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
            .first_of_month()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .expect("zoned")
            .timestamp()
            .as_second();
        // Eight meters cross 80 %, two go straight past 100 %: ten notifications.
        let readings: Vec<Value> = meters
            .iter()
            .enumerate()
            .flat_map(|(i, m)| {
                let used = if i < 2 { 101.0 } else { 85.0 };
                [
                    json!({"meter_id": m, "timestamp": month + 60, "value": 0.0}),
                    json!({"meter_id": m, "timestamp": now - 60, "value": used}),
                ]
            })
            .collect();
        let res = client()
            .post(format!("{base}/api/v1/readings"))
            .bearer_auth(&token)
            .json(&json!({ "readings": readings }))
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 201, "{:?}", res.text().await);
        let made = || async {
            app.state.db.notifications(mia, false, None, 100).await.expect("list")
        };
        eventually(std::time::Duration::from_secs(20), "ten notifications", || {
            let made = made();
            async move { made.await.len() == 10 }
        })
        .await;
        eventually(std::time::Duration::from_secs(20), "deliveries in flight", || {
            let n = recorder.seen.lock().expect("lock").len();
            async move { n > 0 }
        })
        .await;
        // Let the sender take what it will, then kill it well inside the 10 s a request
        // may take: every request it made is still unanswered.
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
        let mut first = first;
        first.0.kill().expect("SIGKILL");
        first.0.wait().expect("reaped");
        let in_flight = recorder.seen.lock().expect("lock").clone();
        assert!(!in_flight.is_empty() && in_flight.iter().all(|r| !r.2));

        recorder.stall.store(false, std::sync::atomic::Ordering::SeqCst);
        let (_second, _) = serve_binary(&url, dir.path(), "second.log").await;
        let ids: Vec<i64> = made().await.iter().map(|n| n.id).collect();
        let delivered = |seen: &[Request]| {
            ids.iter()
                .all(|id| seen.iter().any(|r| r.2 && r.1.contains(id)))
        };
        eventually(std::time::Duration::from_secs(90), "every notification delivered after the restart", || {
            let done = delivered(&recorder.seen.lock().expect("lock"));
            async move { done }
        })
        .await;
        // And the outbox agrees: nothing pending, nothing dead.
        eventually(std::time::Duration::from_secs(10), "the outbox settled", || {
            let (db, app) = (app.state.db.clone(), &app);
            async move {
                let f = db.outbox_figures(app.state.clock.now_secs()).await.expect("figures");
                f.pending == 0 && f.dead == 0
            }
        })
        .await;
        let seen = recorder.seen.lock().expect("lock").clone();
        for id in &ids {
            let keys: std::collections::BTreeSet<&str> = seen
                .iter()
                .filter(|r| r.1.contains(id))
                .map(|r| r.0.as_str())
                .collect();
            assert_eq!(keys.len(), 1, "notification {id} arrived under keys {keys:?}");
        }
        for (key, _, _) in &in_flight {
            assert!(
                seen.iter().any(|r| r.2 && &r.0 == key),
                "the unanswered request {key} was sent again with its key and answered"
            );
        }
    }
}
