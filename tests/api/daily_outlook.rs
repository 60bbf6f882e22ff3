//! The daily outlook through its APIs: figures against hand-computed values, staleness
//! after new readings, warming at 05:00, the seed-compatible v2 API and its permissions,
//! peers, tips, and the OpenAPI document.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::meters_api::spawn_user_client;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T08:00:00Z"; // 10:00 in Tallinn

/// Mia (Tallinn) with 300 000 MB a month: 10 000 MB a day from 14 to 20 November, and
/// 4 000 MB so far today.
async fn mia(app: &TestApp) -> (i64, i64) {
    let user = app
        .signed_in_user("mia@example.org", "Europe/Tallinn")
        .await;
    let meter = app
        .add_quota_meter(user, "Fibre", 300_000.0, "monthly:1", "Europe/Tallinn")
        .await;
    let mut readings: Vec<(String, f64)> = (13..=20)
        .map(|day| {
            (
                format!("2026-11-{day}T21:50:00Z"),
                110_000.0 + (day - 13) as f64 * 10_000.0,
            )
        })
        .collect();
    readings.push(("2026-11-21T07:50:00Z".into(), 184_000.0));
    let refs: Vec<(&str, f64)> = readings.iter().map(|(t, v)| (t.as_str(), *v)).collect();
    app.add_readings(meter, &refs).await;
    (user, meter)
}

fn figure(o: &Value, path: &str) -> f64 {
    let mut v = o;
    for key in path.split('.') {
        v = match key.parse::<usize>() {
            Ok(i) => &v[i],
            Err(_) => &v[key],
        };
    }
    v.as_f64()
        .unwrap_or_else(|| panic!("{path} is not a number in {o}"))
}

on_both_backends! {
    async fn the_outlook_matches_hand_computed_figures(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let (_, meter) = mia(&app).await;
        let res = app.get("/api/v1/outlook").await;
        assert_eq!(res.headers()["x-cache"], "miss");
        let timing = res.headers()["server-timing"].to_str().unwrap_or("").to_string();
        assert!(timing.starts_with("outlook;desc=miss;dur="), "{timing}");
        // Computed by this request: where the time went, in three parts.
        for part in [", row;dur=", ", compute;dur=", ", store;dur="] {
            assert!(timing.contains(part), "{timing}");
        }
        let o: Value = res.json().await.expect("json");
        let m = &o["meters"][0];
        // 120 000 left this morning over 10 days; 4 000 used today.
        assert_eq!(figure(m, "snapshot.daily_budget"), 12_000.0);
        assert_eq!(figure(m, "snapshot.left_today"), 8_000.0);
        assert_eq!(figure(m, "average"), 10_000.0);
        assert_eq!(m["average_basis"], "last_seven_days");
        // 184 000 + (10 000 − 4 000) + 9 × 10 000.
        assert_eq!(figure(m, "projected_total"), 280_000.0);
        assert_eq!((figure(m, "pace"), figure(m, "safe_days")), (1.0, 10.0));
        assert_eq!(m["status"], "excellent");
        assert_eq!(m["advice"][0]["kind"], "spare");
        assert_eq!((o["balance_score"].as_u64(), o["streak"].as_u64()), (Some(100), Some(8)));
        assert_eq!(o["trends"][0]["days"].as_array().map(Vec::len), Some(7));
        assert_eq!(figure(&o["trends"][0], "days.6.usage"), 10_000.0);
        // The second read is the stored one.
        assert_eq!(app.get("/api/v1/outlook").await.headers()["x-cache"], "hit");

        // A new reading makes it stale: the next read sees today over its budget.
        let (status, _) = json_of(app.post_json("/api/v1/readings", &json!({"meter_id": meter, "timestamp": "2026-11-21T07:59:00Z", "value": 200_000.0})).await).await;
        assert_eq!(status, 201);
        let res = app.get("/api/v1/outlook").await;
        assert_eq!(res.headers()["x-cache"], "miss");
        let o: Value = res.json().await.expect("json");
        assert_eq!(figure(&o["meters"][0], "snapshot.left_today"), -8_000.0);
        assert!(o["meters"][0]["advice"].as_array().expect("advice").iter().any(|a| a["kind"] == "over_today"));
        assert!(o["primary_insight"]["text"].as_str().unwrap_or("").starts_with("Fibre: "));

        // Past days come from the same rollups; future ones are refused.
        let (status, past) = json_of(app.get("/api/v1/outlook?date=2026-11-18").await).await;
        assert_eq!(status, 200);
        assert_eq!(figure(&past["meters"][0], "snapshot.used"), 160_000.0);
        let (status, body) = json_of(app.get("/api/v1/outlook?date=2026-11-22").await).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("date")));
    }

    async fn trends_and_timeline_come_from_rollups(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let (_, meter) = mia(&app).await;
        let (status, t) = json_of(app.get(&format!("/api/v1/meters/{meter}/trends?days=5")).await).await;
        assert_eq!(status, 200);
        let days = t["days"].as_array().expect("days");
        assert_eq!(days.len(), 5);
        assert_eq!((days[4]["date"].as_str(), figure(&days[4], "usage")), (Some("2026-11-20"), 10_000.0));
        assert_eq!((figure(&days[4], "change"), figure(&days[4], "rolling_3")), (0.0, 10_000.0));
        let (status, tl) = json_of(app.get(&format!("/api/v1/meters/{meter}/timeline?hours=12")).await).await;
        assert_eq!(status, 200);
        let hours = tl["hours"].as_array().expect("hours");
        assert_eq!(hours.len(), 12);
        // The last slot is the running hour (08:00 UTC, nothing yet); the one before holds
        // the 07:50 reading: 4 000 since 21:50 yesterday.
        assert_eq!(hours[11]["start"].as_i64(), Some(1_795_248_000));
        assert_eq!(figure(&hours[11], "consumption"), 0.0);
        assert_eq!(figure(&hours[10], "consumption"), 4_000.0);
        let total: f64 = hours.iter().filter_map(|h| h["consumption"].as_f64()).sum();
        assert_eq!(total, 4_000.0);
        let (status, _) = json_of(app.get(&format!("/api/v1/meters/{meter}/timeline?hours=500")).await).await;
        assert_eq!(status, 422);
    }

    async fn the_seed_api_keeps_its_envelope_and_its_rules(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let (mia_id, _) = mia(&app).await;
        let (status, body) = json_of(app.get(&format!("/api/v2/daily-outlook/{mia_id}")).await).await;
        assert_eq!(status, 200, "{body}");
        for key in ["success", "data", "cached", "load_time", "timestamp"] {
            assert!(body.get(key).is_some(), "envelope lacks {key}: {body}");
        }
        assert_eq!(body["success"], true);
        assert_eq!(body["cached"], false);
        let data = &body["data"];
        assert_eq!((data["user_id"].as_i64(), data["balance_score"].as_u64(), data["streak_count"].as_u64()), (Some(mia_id), Some(100), Some(8)));
        for key in ["primary_insight", "quick_actions", "encouragement_message", "surprise_element"] {
            assert!(data.get(key).is_some(), "{key}");
        }
        let (_, again) = json_of(app.get(&format!("/api/v2/daily-outlook/{mia_id}")).await).await;
        assert_eq!(again["cached"], true);
        let (_, score) = json_of(app.get(&format!("/api/v2/daily-outlook/{mia_id}/balance-score")).await).await;
        assert_eq!(score["data"]["components"][0]["pace_score"], 1.0);
        let (_, usage) = json_of(app.get("/api/usage/current").await).await;
        assert_eq!((usage["total_used_mb"].as_f64(), usage["remaining_mb"].as_f64(), usage["daily_budget_mb"].as_f64()), (Some(184_000.0), Some(116_000.0), Some(12_000.0)));

        // A member reads only themselves and cannot batch.
        let tom = spawn_user_client(&app, "tom@example.org").await;
        let res = tom.get(app.url(&format!("/api/v2/daily-outlook/{mia_id}"))).send().await.expect("GET");
        let (status, body) = json_of(res).await;
        assert_eq!((status, body["success"].as_bool()), (403, Some(false)));
        let res = tom.post(app.url("/api/v2/daily-outlook/batch")).json(&json!({"user_ids": [mia_id]})).send().await.expect("POST");
        assert_eq!(res.status(), 403);

        // An admin of another household reads nobody of Mia's, alone or in a batch.
        let root = app.add_user("root@example.org", "admin", "UTC").await;
        let admin = client();
        admin.post(app.url("/login")).form(&[("email", "root@example.org"), ("password", PASSWORD)]).send().await.expect("POST");
        let res = admin.get(app.url(&format!("/api/v2/daily-outlook/{mia_id}"))).send().await.expect("GET");
        assert_eq!(res.status(), 403);
        let res = admin.post(app.url("/api/v2/daily-outlook/batch")).json(&json!({"user_ids": [mia_id]})).send().await.expect("POST");
        let (_, body) = json_of(res).await;
        assert_eq!(body["data"]["not_found"], json!([mia_id]), "{body}");

        // An admin reads the members of their own household, in batches of at most 100.
        app.add_household("Mia's", &[mia_id, root]).await;
        let (status, body) = json_of(admin.get(app.url(&format!("/api/v2/daily-outlook/{mia_id}/peer-comparison"))).send().await.expect("GET")).await;
        assert_eq!((status, body["data"]["available"].as_bool()), (200, Some(false)));
        let res = admin.post(app.url("/api/v2/daily-outlook/batch")).json(&json!({"user_ids": [mia_id, 424242]})).send().await.expect("POST");
        let (status, body) = json_of(res).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["data"]["outlooks"].as_array().map(Vec::len), Some(1));
        assert_eq!(body["data"]["not_found"], json!([424242]));
        let too_many: Vec<i64> = (0..101).collect();
        let res = admin.post(app.url("/api/v2/daily-outlook/batch")).json(&json!({"user_ids": too_many})).send().await.expect("POST");
        assert_eq!(res.status(), 422);
        let (status, health) = json_of(app.get("/api/v2/daily-outlook/health").await).await;
        assert_eq!((status, health["data"]["status"].as_str()), (200, Some("healthy")));
    }

    async fn days_follow_the_meters_clock_across_daylight_saving_changes(backend) {
        // Berlin springs forward on 29 March 2026: that day starts at 23:00 UTC the evening
        // before and has 23 hours.
        let app = spawn_app_with(backend, Options { now: "2026-03-29T10:00:00Z".parse().ok(), ..Options::default() }).await;
        let user = app.signed_in_user("jonas@example.org", "Europe/Berlin").await;
        let meter = app.add_quota_meter(user, "Data", 1_000.0, "monthly:1", "Europe/Berlin").await;
        app.add_readings(meter, &[
            ("2026-03-27T22:50:00Z", 80.0), // 23:50 on the 27th, local
            ("2026-03-28T22:50:00Z", 100.0), // 23:50 on the 28th, local
            ("2026-03-28T23:10:00Z", 105.0), // 00:10 on the 29th, local
            ("2026-03-29T09:50:00Z", 130.0),
        ]).await;
        let (status, o) = json_of(app.get("/api/v1/outlook").await).await;
        assert_eq!(status, 200, "{o}");
        let m = &o["meters"][0];
        assert_eq!(figure(m, "snapshot.used_today"), 30.0);
        // 900 left this morning over the 29th, 30th and 31st.
        assert_eq!(figure(m, "snapshot.days_left"), 3.0);
        assert_eq!(figure(m, "snapshot.daily_budget"), 300.0);
        assert_eq!(figure(m, "snapshot.left_today"), 270.0);
        let days = o["trends"][0]["days"].as_array().expect("days");
        let last = days.last().expect("a day");
        assert_eq!((last["date"].as_str(), figure(last, "usage")), (Some("2026-03-28"), 20.0));
    }

    async fn a_twenty_five_hour_day_counts_all_its_hours(backend) {
        // Berlin falls back on 25 October 2026: that day runs from 22:00 UTC on the 24th to
        // 23:00 UTC on the 25th.
        let app = spawn_app_with(backend, Options { now: "2026-10-26T08:00:00Z".parse().ok(), ..Options::default() }).await;
        let user = app.signed_in_user("lena@example.org", "Europe/Berlin").await;
        let meter = app.add_quota_meter(user, "Data", 1_000.0, "monthly:1", "Europe/Berlin").await;
        app.add_readings(meter, &[
            ("2026-10-24T21:50:00Z", 500.0), // 23:50 on the 24th, summer time
            ("2026-10-25T00:30:00Z", 520.0), // 02:30 the first time
            ("2026-10-25T01:30:00Z", 540.0), // 02:30 the second time
            ("2026-10-25T22:50:00Z", 750.0), // 23:50 on the 25th, winter time
            ("2026-10-26T07:50:00Z", 760.0),
        ]).await;
        let (status, t) = json_of(app.get(&format!("/api/v1/meters/{meter}/trends?days=2")).await).await;
        assert_eq!(status, 200, "{t}");
        let days = t["days"].as_array().expect("days");
        assert_eq!((days[1]["date"].as_str(), figure(&days[1], "usage")), (Some("2026-10-25"), 250.0));
        let (_, o) = json_of(app.get("/api/v1/outlook").await).await;
        assert_eq!(figure(&o["meters"][0], "snapshot.used_today"), 10.0);
    }

    async fn streaks_reach_back_past_the_detailed_days(backend) {
        // 5 000 MB a day through October and November (a budget near 10 000), except
        // 60 000 on 20 October: today, 21 November, the run is 21 October – 20 November.
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        let user = app.signed_in_user("olga@example.org", "Europe/Tallinn").await;
        let meter = app.add_quota_meter(user, "Fibre", 310_000.0, "monthly:1", "Europe/Tallinn").await;
        let mut readings = Vec::new();
        let mut used = 0.0;
        for (month, days) in [(10, 31), (11, 20)] {
            used = 0.0;
            for d in 1..=days {
                used += if (month, d) == (10, 20) { 60_000.0 } else { 5_000.0 };
                // 20:50 UTC is late evening in Tallinn in summer and winter time alike.
                readings.push((format!("2026-{month:02}-{d:02}T20:50:00Z"), used));
            }
        }
        readings.push(("2026-11-21T07:50:00Z".into(), used + 1_000.0));
        let refs: Vec<(&str, f64)> = readings.iter().map(|(t, v)| (t.as_str(), *v)).collect();
        app.add_readings(meter, &refs).await;
        let (status, o) = json_of(app.get("/api/v1/outlook").await).await;
        assert_eq!(status, 200, "{o}");
        assert_eq!((o["streak"].as_u64(), o["best_streak"].as_u64()), (Some(31), Some(31)));
        assert_eq!(o["meters"][0]["streak"].as_u64(), Some(31));
        assert_eq!(o["encouragement"].as_str(), Some("31 days in a row within budget: your longest run this year."));
    }

    async fn outlooks_are_warmed_after_five_in_each_users_morning(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        mia(&app).await; // 10:00 in Tallinn: due
        app.add_user("lea@example.org", "member", "America/Los_Angeles").await; // 00:00: not yet
        let report = headroom::server::jobs::warmer::run_once(&app.state).await.expect("warm");
        assert_eq!((report.computed, report.not_yet, report.already_fresh), (1, 1, 0));
        let report = headroom::server::jobs::warmer::run_once(&app.state).await.expect("warm");
        assert_eq!((report.computed, report.already_fresh), (0, 1));
        // The warmed outlook is what the morning read gets.
        assert_eq!(app.get("/api/v1/outlook").await.headers()["x-cache"], "hit");
    }

    async fn tips_are_written_by_admins_and_filled_with_real_figures(backend) {
        let app = spawn_app_with(backend, Options { now: NOW.parse().ok(), ..Options::default() }).await;
        mia(&app).await;
        let (status, _) = json_of(app.post_json("/api/v1/admin/tips", &json!({"title": "x", "body": "y"})).await).await;
        assert_eq!(status, 403, "members may not edit tips");
        app.add_user("root@example.org", "admin", "UTC").await;
        let admin = client();
        admin.post(app.url("/login")).form(&[("email", "root@example.org"), ("password", PASSWORD)]).send().await.expect("POST");
        let res = admin.post(app.url("/api/v1/admin/tips")).json(&json!({"title": "Bad", "body": "Your {password}"})).send().await.expect("POST");
        let (status, body) = json_of(res).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("body")));
        // Only the new tip stays active, so it is today's.
        let (_, tips) = json_of(admin.get(app.url("/api/v1/admin/tips")).send().await.expect("GET")).await;
        for t in tips.as_array().expect("tips") {
            let body = json!({"title": t["title"], "body": t["body"], "active": false});
            admin.put(app.url(&format!("/api/v1/admin/tips/{}", t["id"]))).json(&body).send().await.expect("PUT");
        }
        let res = admin.post(app.url("/api/v1/admin/tips")).json(&json!({"title": "Today", "body": "{meter} allows {daily_budget} today."})).send().await.expect("POST");
        assert_eq!(res.status(), 201);
        let (_, o) = json_of(app.get("/api/v1/outlook").await).await;
        assert_eq!(o["tip"]["text"], "Fibre allows 11.7 GB today.");
    }
}

/// Peers: the comparison appears only with five households, and says nothing about any one
/// of them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn peers_are_compared_only_in_groups_of_five_and_never_shown() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await;
    let add = |email: &'static str,
               location: &'static str,
               unit: &'static str,
               quota: f64,
               per_day: f64| {
        let app = &app;
        async move {
            let hash = headroom::server::auth::password::hash(PASSWORD.into())
                .await
                .expect("hash");
            let id = app
                .state
                .db
                .create_user(&headroom::server::storage::users::NewUser {
                    email,
                    display_name: email,
                    password_hash: &hash,
                    role: "member",
                    plan_tier: "mid",
                    location,
                    timezone: "UTC",
                    created_at: 0,
                })
                .await
                .expect("user");
            let m = app
                .state
                .db
                .create_meter(&headroom::server::storage::meters::NewMeter {
                    owner_id: id,
                    kind: "quota",
                    name: "Net",
                    unit,
                    timezone: "UTC",
                    quota: Some(quota),
                    reset_rule: Some("monthly:1"),
                    range_min: None,
                    range_max: None,
                    position: 0,
                    created_at: 0,
                })
                .await
                .expect("meter");
            let readings: Vec<(String, f64)> = (1..=20)
                .map(|d| (format!("2026-11-{d:02}T12:00:00Z"), per_day * d as f64))
                .collect();
            let refs: Vec<(&str, f64)> = readings.iter().map(|(t, v)| (t.as_str(), *v)).collect();
            app.add_readings(m, &refs).await;
            id
        }
    };
    // Me: 100 GB, using 4 GB a day: projected 120 GB → pace 0.83.
    let me = add("me@example.org", "Tartu", "MB", 102_400.0, 4_096.0).await;
    add("light@example.org", "Tartu", "MB", 102_400.0, 2_048.0).await; // pace 1
    add("heavy@example.org", "Tartu", "MB", 110_000.0, 6_000.0).await; // pace < mine
    add("mid@example.org", "tartu", "MB", 90_000.0, 3_500.0).await; // similar, case differs
    add("far@example.org", "Tallinn", "MB", 102_400.0, 1_000.0).await; // elsewhere
    add("bigger@example.org", "Tartu", "MB", 500_000.0, 1_000.0).await; // another plan
    add("euros@example.org", "Tartu", "EUR", 102_400.0, 1_000.0).await; // another unit
    let as_me = client();
    as_me
        .post(app.url("/login"))
        .form(&[("email", "me@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    let (_, p) = json_of(
        as_me
            .get(app.url("/api/v1/outlook/peers"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(
        (
            p["available"].as_bool(),
            p["group_size"].as_u64(),
            p["percentile"].as_u64()
        ),
        (Some(false), Some(4), None)
    );

    add("fifth@example.org", "Tartu", "MB", 102_400.0, 5_000.0).await; // pace below mine
    // Peer comparisons live 30 minutes; drop this one to see the new household now.
    app.state
        .cache
        .invalidate_key(&format!("peer_comparison:u{me}"))
        .await;
    let res = as_me
        .get(app.url("/api/v1/outlook/peers"))
        .send()
        .await
        .expect("GET");
    let text = res.text().await.expect("body");
    let p: Value = serde_json::from_str(&text).expect("json");
    assert_eq!(
        (p["available"].as_bool(), p["group_size"].as_u64()),
        (Some(true), Some(5))
    );
    // Of the four others, two (heavy, fifth) pace at or below me: 50 %.
    assert_eq!(p["percentile"].as_u64(), Some(50));
    // Nothing but the group's size, my percentile and my own pace.
    let keys: Vec<&str> = p
        .as_object()
        .expect("object")
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        vec![
            "available",
            "group_size",
            "meter_id",
            "percentile",
            "your_pace"
        ]
    );
    assert!(!text.contains("light@") && !text.contains("heavy"));
}

/// Every path of the OpenAPI document answers (is routed) for an admin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_documented_path_is_routed() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await;
    let (user, meter) = mia(&app).await;
    sqlx::query("UPDATE users SET role = 'admin' WHERE id = $1")
        .bind(user)
        .execute(match &app.state.db.pool {
            headroom::server::storage::Pool::Sqlite(p) => p,
            _ => unreachable!(),
        })
        .await
        .expect("promote");
    let (status, doc) = json_of(app.get("/api/v1/openapi.json").await).await;
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 24, "{} paths", paths.len());
    for (path, item) in paths {
        let concrete = path
            .replace("{id}", &meter.to_string())
            .replace("{user_id}", &user.to_string());
        for method in item.as_object().expect("operations").keys() {
            let req = match method.as_str() {
                "get" => app.client.get(app.url(&concrete)),
                "post" => app.client.post(app.url(&concrete)).json(&json!({})),
                "put" => app.client.put(app.url(&concrete)).json(&json!({})),
                "patch" => app.client.patch(app.url(&concrete)).json(&json!({})),
                "delete" => app.client.delete(app.url(&concrete)),
                other => panic!("unexpected method {other}"),
            };
            let res = req.send().await.expect("request");
            let status = res.status().as_u16();
            // A live stream never ends; its status says enough.
            let streaming = res
                .headers()
                .get(reqwest::header::CONTENT_TYPE)
                .is_some_and(|v| v.as_bytes().starts_with(b"text/event-stream"));
            let body = if streaming {
                String::new()
            } else {
                res.text().await.unwrap_or_default()
            };
            // A 404 for a missing thing is fine; one for a missing endpoint is not.
            assert!(
                !body.contains("no such endpoint") && status != 405,
                "{method} {path} answered {status}: {body}"
            );
        }
    }
}
