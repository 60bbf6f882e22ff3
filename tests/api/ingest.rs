//! `POST /api/v1/readings`: tokens, idempotency, and a clear answer for every bad entry.

use serde_json::json;

use crate::helpers::*;
use crate::meters_api::spawn_user_client;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T12:00:00Z";

async fn setup(backend: Backend) -> (TestApp, i64, i64) {
    let app = spawn_app_with(
        backend,
        Options {
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await;
    let user = app.signed_in_user("mia@example.org", "UTC").await;
    let fibre = app
        .add_quota_meter(user, "Fibre", 1_000_000.0, "monthly:1", "UTC")
        .await;
    let other = app
        .add_quota_meter(user, "Mobile", 50_000.0, "monthly:1", "UTC")
        .await;
    (app, fibre, other)
}

async fn token_for(app: &TestApp, meters: &[i64]) -> String {
    let (status, body) = json_of(
        app.post_json(
            "/api/v1/tokens",
            &json!({"name": "router", "meter_ids": meters}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{body}");
    let token = body["token"]
        .as_str()
        .expect("token shown once")
        .to_string();
    assert!(token.starts_with("hr_"));
    token
}

async fn ingest_with(
    app: &TestApp,
    token: &str,
    body: &serde_json::Value,
) -> (u16, serde_json::Value) {
    json_of(
        app.anonymous()
            .post(app.url("/api/v1/readings"))
            .bearer_auth(token)
            .json(body)
            .send()
            .await
            .expect("POST"),
    )
    .await
}

fn reading(meter: i64, at: &str, value: f64) -> serde_json::Value {
    json!({"meter_id": meter, "timestamp": at, "value": value})
}

on_both_backends! {
    async fn a_token_writes_single_readings_and_batches(backend) {
        let (app, fibre, _) = setup(backend).await;
        let token = token_for(&app, &[fibre]).await;
        let (status, body) = ingest_with(&app, &token, &reading(fibre, "2026-11-21T10:00:00Z", 100.0)).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["accepted"], 1);
        let batch: Vec<_> = (0..500).map(|i| json!({"meter_id": fibre, "timestamp": 1_795_219_200 + i * 60, "value": 100.0 + i as f64})).collect();
        let (status, body) = ingest_with(&app, &token, &json!({"readings": batch})).await;
        assert_eq!((status, body["accepted"].as_u64()), (201, Some(500)));
        assert_eq!(app.state.db.count_readings(fibre).await.expect("count"), 501);
    }

    async fn resending_never_duplicates_and_a_correction_replaces(backend) {
        let (app, fibre, _) = setup(backend).await;
        let token = token_for(&app, &[fibre]).await;
        let body = json!({"readings": [reading(fibre, "2026-11-21T09:00:00Z", 10.0), reading(fibre, "2026-11-21T09:10:00Z", 20.0)]});
        for _ in 0..3 {
            assert_eq!(ingest_with(&app, &token, &body).await.0, 201);
        }
        assert_eq!(app.state.db.count_readings(fibre).await.expect("count"), 2);
        ingest_with(&app, &token, &reading(fibre, "2026-11-21T09:10:00Z", 25.0)).await;
        let day = app.state.db.daily_rollups(fibre, 0, 100_000).await.expect("rows");
        assert_eq!((day[0].count, day[0].last), (2, 25.0));
    }

    async fn every_bad_entry_is_named_and_nothing_is_stored(backend) {
        let (app, fibre, _) = setup(backend).await;
        let token = token_for(&app, &[fibre]).await;
        ingest_with(&app, &token, &reading(fibre, "2026-11-20T09:00:00Z", 1.0)).await;
        let batch = json!({"readings": [
            reading(fibre, "2026-11-21T09:00:00Z", 5.0),                 // 0: fine
            reading(fibre, "2026-11-21T12:30:00Z", 5.0),                 // 1: 30 min in the future
            reading(fibre, "2026-11-21T09:10:00Z", -1.0),                // 2: negative counter
            {"meter_id": fibre, "timestamp": "2026-11-21T09:20:00Z", "value": "lots"}, // 3: not a number
            reading(987_654, "2026-11-21T09:30:00Z", 5.0),               // 4: no such meter
            {"meter_id": fibre, "timestamp": "yesterday", "value": 1},   // 5: bad time
            reading(fibre, "2024-01-01T00:00:00Z", 5.0),                 // 6: older than retention
            reading(fibre, "2026-11-21T12:04:00Z", 6.0),                 // 7: 4 min ahead: within skew
        ]});
        let (status, body) = ingest_with(&app, &token, &batch).await;
        assert_eq!(status, 422, "{body}");
        let items: Vec<(u64, &str)> = body["error"]["items"].as_array().expect("items").iter()
            .map(|i| (i["index"].as_u64().unwrap_or(99), i["field"].as_str().unwrap_or(""))).collect();
        assert_eq!(items, vec![(1, "timestamp"), (2, "value"), (3, "value"), (4, "meter_id"), (5, "timestamp"), (6, "timestamp")]);
        assert!(body["error"]["message"].as_str().unwrap_or("").contains("nothing was stored"));
        // What was accepted before is still there, and nothing of this batch is.
        assert_eq!(app.state.db.count_readings(fibre).await.expect("count"), 1);

        // With ?partial=true the good ones go in and the bad ones are listed.
        let res = app.anonymous().post(app.url("/api/v1/readings?partial=true")).bearer_auth(&token).json(&batch).send().await.expect("POST");
        let (status, body) = json_of(res).await;
        assert_eq!(status, 207, "{body}");
        assert_eq!(body["accepted"], 2);
        assert_eq!(body["rejected"].as_array().map(Vec::len), Some(6));
        assert_eq!(app.state.db.count_readings(fibre).await.expect("count"), 3);
    }

    async fn tokens_write_only_their_meters_and_stop_when_revoked(backend) {
        let (app, fibre, mobile) = setup(backend).await;
        let token = token_for(&app, &[fibre]).await;
        let (status, body) = ingest_with(&app, &token, &reading(mobile, "2026-11-21T09:00:00Z", 5.0)).await;
        assert_eq!(status, 403, "{body}");
        assert_eq!(body["error"]["items"][0]["field"], "meter_id");
        // Listing shows the token without its secret.
        let (_, list) = json_of(app.get("/api/v1/tokens").await).await;
        assert!(list[0].get("token").is_none());
        let id = list[0]["id"].as_i64().expect("id");
        assert!(list[0]["prefix"].as_str().is_some_and(|p| token.starts_with(p)));
        let res = app.client.delete(app.url(&format!("/api/v1/tokens/{id}"))).send().await.expect("DELETE");
        assert_eq!(res.status(), 204);
        let (status, _) = ingest_with(&app, &token, &reading(fibre, "2026-11-21T09:00:00Z", 5.0)).await;
        assert_eq!(status, 401);
        let (status, _) = ingest_with(&app, "hr_not-a-token", &reading(fibre, "2026-11-21T09:00:00Z", 5.0)).await;
        assert_eq!(status, 401);
        // A token cannot be made for someone else's meter.
        let other = spawn_user_client(&app, "tom@example.org").await;
        let res = other.post(app.url("/api/v1/tokens")).json(&json!({"name": "x", "meter_ids": [fibre]})).send().await.expect("POST");
        let (status, body) = json_of(res).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("meter_ids")));
    }

    async fn malformed_oversized_and_unauthenticated_requests_get_json_errors(backend) {
        let (app, fibre, _) = setup(backend).await;
        let token = token_for(&app, &[fibre]).await;
        let send = |body: String| app.anonymous().post(app.url("/api/v1/readings")).bearer_auth(&token)
            .header("content-type", "application/json").body(body).send();
        let (status, body) = json_of(send("{\"readings\": [".into()).await.expect("POST")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_json")));
        let huge = format!("{{\"readings\": [{}]}}", vec!["1"; 3_000_000].join(","));
        let (status, body) = json_of(send(huge).await.expect("POST")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (413, Some("too_large")));
        let many: Vec<_> = (0..10_001).map(|i| reading(fibre, "2026-11-21T09:00:00Z", i as f64)).collect();
        let (status, body) = ingest_with(&app, &token, &json!({"readings": many})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("readings")));
        let res = app.anonymous().post(app.url("/api/v1/readings")).json(&reading(fibre, "2026-11-21T09:00:00Z", 1.0)).send().await.expect("POST");
        assert_eq!(res.status(), 401);
    }

    async fn a_signed_in_user_can_post_readings_too(backend) {
        let (app, fibre, _) = setup(backend).await;
        let (status, body) = json_of(app.post_json("/api/v1/readings", &reading(fibre, "2026-11-21T09:00:00Z", 7.0)).await).await;
        assert_eq!(status, 201, "{body}");
    }

    async fn archived_meters_refuse_new_readings(backend) {
        let (app, fibre, _) = setup(backend).await;
        app.post_json(&format!("/api/v1/meters/{fibre}/archive"), &json!({})).await;
        let (status, body) = json_of(app.post_json("/api/v1/readings", &reading(fibre, "2026-11-21T09:00:00Z", 7.0)).await).await;
        assert_eq!(status, 422, "{body}");
        assert!(body["error"]["items"][0]["message"].as_str().unwrap_or("").contains("archived"));
    }

    async fn readings_export_as_csv_and_json(backend) {
        let (app, fibre, _) = setup(backend).await;
        app.add_readings(fibre, &[("2026-11-19T10:00:00Z", 10.5), ("2026-11-20T10:00:00Z", 20.0), ("2026-11-21T10:00:00Z", 30.25)]).await;
        let res = app.get(&format!("/api/v1/meters/{fibre}/readings?from=2026-11-20&to=2026-11-21")).await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-disposition"].to_str().unwrap_or("").contains("fibre"));
        let csv = res.text().await.expect("csv");
        assert_eq!(csv, "timestamp,value,remaining\n2026-11-20T10:00:00Z,20.0,\n2026-11-21T10:00:00Z,30.25,\n");
        let (status, json) = json_of(app.get(&format!("/api/v1/meters/{fibre}/readings?format=json")).await).await;
        assert_eq!(status, 200);
        assert_eq!(json["readings"].as_array().map(Vec::len), Some(3));
        assert_eq!(json["readings"][0]["value"], 10.5);
        let (status, body) = json_of(app.get(&format!("/api/v1/meters/{fibre}/readings?from=soon")).await).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("from")));
    }

    async fn an_export_range_is_bounded_before_anything_is_sent(backend) {
        let (app, fibre, _) = setup(backend).await;
        app.add_readings(fibre, &[("2026-11-21T10:00:00Z", 30.25)]).await;
        // Each refused range is refused as a whole: a JSON 422 naming the field, no CSV.
        for (query, field) in [
            ("from=-009999-01-01&to=9999-12-31", "from"),
            ("from=1969-12-31", "from"),
            ("from=2026-01-01&to=2201-01-01", "to"),
            ("from=2026-01-01&to=9999-12-31T00:00:00Z", "to"),
            ("from=2020-01-01&to=2026-11-21", "from"),
            ("from=2026-11-21&to=2026-11-20", "to"),
            ("from=2026-11-20&to=later", "to"),
        ] {
            let (status, body) = json_of(app.get(&format!("/api/v1/meters/{fibre}/readings?{query}")).await).await;
            assert_eq!((status, body["error"]["field"].as_str()), (422, Some(field)), "{query}: {body}");
        }
        // Three years is allowed, and no `from` means the three years up to `to`.
        for query in ["from=2023-11-22&to=2026-11-21", "to=2026-11-21", ""] {
            let res = app.get(&format!("/api/v1/meters/{fibre}/readings?{query}")).await;
            assert_eq!(res.status(), 200, "{query}");
            assert!(res.text().await.expect("csv").contains("2026-11-21T10:00:00Z,30.25"), "{query}");
        }
    }
}
