use serde_json::json;

use crate::helpers::*;
use crate::on_both_backends;

fn fibre() -> serde_json::Value {
    json!({
        "kind": "quota", "name": "Home fibre", "unit": "MB", "timezone": "Europe/Tallinn",
        "quota": 1048576, "reset_rule": "monthly:1"
    })
}

on_both_backends! {
    async fn meters_are_created_listed_updated_and_archived(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "Europe/Tallinn").await;
        let (status, meter) = json_of(app.post_json("/api/v1/meters", &fibre()).await).await;
        assert_eq!(status, 201, "{meter}");
        assert_eq!(meter["kind"], "quota");
        assert_eq!(meter["reset_rule"], "monthly:1");
        let id = meter["id"].as_i64().expect("id");

        let sensor = json!({"kind": "sensor", "name": "Living room", "unit": "°C",
                            "timezone": "UTC", "range_min": 18, "range_max": 24});
        let (status, s) = json_of(app.post_json("/api/v1/meters", &sensor).await).await;
        assert_eq!(status, 201, "{s}");
        assert_eq!(s["range_max"], 24.0);

        let res = app.client.patch(app.url(&format!("/api/v1/meters/{id}")))
            .json(&json!({"name": "Fibre", "reset_rule": "monthly:last"})).send().await.expect("PATCH");
        let (status, updated) = json_of(res).await;
        assert_eq!(status, 200, "{updated}");
        assert_eq!((updated["name"].as_str(), updated["reset_rule"].as_str()), (Some("Fibre"), Some("monthly:last")));

        let (_, list) = json_of(app.get("/api/v1/meters").await).await;
        assert_eq!(list.as_array().map(Vec::len), Some(2));

        let (status, archived) = json_of(app.post_json(&format!("/api/v1/meters/{id}/archive"), &json!({})).await).await;
        assert_eq!(status, 200);
        assert_eq!(archived["archived"], true);
    }

    async fn invalid_meters_are_refused_naming_every_field(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "UTC").await;
        let bad = json!({"kind": "quota", "name": "", "unit": "MB", "timezone": "Mars/Base",
                         "quota": -1, "reset_rule": "monthly:30"});
        let (status, body) = json_of(app.post_json("/api/v1/meters", &bad).await).await;
        assert_eq!(status, 422);
        assert_eq!(body["error"]["code"], "invalid");
        assert_eq!(body["error"]["field"], "name");
        let fields: Vec<&str> = body["error"]["fields"].as_array().expect("fields").iter()
            .filter_map(|f| f["field"].as_str()).collect();
        assert_eq!(fields, vec!["name", "timezone", "quota", "reset_rule"]);
        let (status, body) = json_of(app.client.post(app.url("/api/v1/meters"))
            .header("content-type", "application/json").body("{\"kind\": ").send().await.expect("POST")).await;
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("malformed_json")));
        let (status, _) = json_of(app.client.post(app.url("/api/v1/meters")).body("kind=quota").send().await.expect("POST")).await;
        assert_eq!(status, 415);
    }

    async fn other_users_meters_do_not_exist_for_you(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "UTC").await;
        let (_, meter) = json_of(app.post_json("/api/v1/meters", &fibre()).await).await;
        let id = meter["id"].as_i64().expect("id");
        let other = spawn_user_client(&app, "tom@example.org").await;
        for path in [format!("/api/v1/meters/{id}"), format!("/api/v1/meters/{id}/readings")] {
            let res = other.get(app.url(&path)).send().await.expect("GET");
            assert_eq!(res.status(), 404, "{path}");
        }
        let res = client().get(app.url("/api/v1/meters")).send().await.expect("GET");
        assert_eq!(res.status(), 401);
    }

    async fn changing_the_timezone_rebuilds_local_days(backend) {
        let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().expect("literal");
        let app = spawn_app_with(backend, Options { now: Some(now), ..Options::default() }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1000.0, "monthly:1", "UTC").await;
        // 23:30 UTC on the 19th is already the 20th in Tallinn (UTC+2).
        app.add_readings(meter, &[("2026-11-19T10:00:00Z", 10.0), ("2026-11-19T23:30:00Z", 20.0)]).await;
        let days = |app: &TestApp| {
            let db = app.state.db.clone();
            async move { db.daily_rollups(meter, 0, 100_000).await.expect("rows").iter().map(|d| d.count).collect::<Vec<_>>() }
        };
        assert_eq!(days(&app).await, vec![2]);
        let res = app.client.patch(app.url(&format!("/api/v1/meters/{meter}")))
            .json(&json!({"timezone": "Europe/Tallinn"})).send().await.expect("PATCH");
        assert_eq!(res.status(), 200);
        assert_eq!(days(&app).await, vec![1, 1]);
    }
}

/// A second, signed-in user with their own cookie jar.
pub async fn spawn_user_client(app: &TestApp, email: &str) -> reqwest::Client {
    app.add_user(email, "member", "UTC").await;
    let c = client();
    let res = c
        .post(app.url("/login"))
        .form(&[("email", email), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 303);
    c
}
