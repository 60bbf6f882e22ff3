use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn health_reports_database_and_cache(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/health").await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("application/json"));
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["status"], "ok");
        assert_eq!(body["database"]["status"], "ok");
        let expected = match backend { Backend::Sqlite => "sqlite", Backend::Postgres => "postgres" };
        assert_eq!(body["database"]["backend"], expected);
        assert_eq!(body["cache"]["redis"]["status"], "disabled");
        assert!(body["cache"]["memory"]["capacity_bytes"].as_u64().unwrap_or(0) > 0);
    }

    async fn liveness_is_plain_text_and_needs_nothing_else(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/health/live").await;
        assert_eq!(res.status(), 200);
        assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/plain"));
        assert_eq!(res.text().await.expect("body"), "ok");
    }

    async fn health_sees_redis_when_configured(backend) {
        let app = spawn_app_with(backend, Options {
            env: vec![("HEADROOM_REDIS_URL", redis_url())],
            ..Options::default()
        }).await;
        let body: serde_json::Value = app.get("/health").await.json().await.expect("json");
        assert_eq!(body["cache"]["redis"]["status"], "ok", "{body}");
        assert_eq!(body["status"], "ok");
    }

    async fn every_response_carries_request_id_and_timing(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/health").await;
        assert!(res.headers().contains_key("x-request-id"));
        let timing = res.headers()["x-response-time"].to_str().expect("ascii").to_string();
        assert!(timing.ends_with("ms"), "{timing}");
        // A request id sent by a proxy is kept, so logs line up across hops.
        let res = app.client.get(app.url("/health")).header("x-request-id", "edge-42").send().await.expect("GET");
        assert_eq!(res.headers()["x-request-id"], "edge-42");
    }
}

#[tokio::test]
async fn migrations_apply_twice_without_harm() {
    let app = spawn_app(Backend::Sqlite).await;
    app.state.db.migrate().await.expect("second run is a no-op");
    let app = spawn_app(Backend::Postgres).await;
    app.state.db.migrate().await.expect("second run is a no-op");
}
