//! The cache against a real Redis: values written by one instance are read by another.

use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn redis_tier_is_shared_between_instances() {
    let env = || Options {
        env: vec![("HEADROOM_REDIS_URL", redis_url())],
        ..Options::default()
    };
    let a = spawn_app_with(Backend::Sqlite, env()).await;
    let b = spawn_app_with(Backend::Sqlite, env()).await;
    let key = format!("test:shared:{}", a.address);
    a.state
        .cache
        .set_json(&key, &vec![1, 2, 3], Duration::from_secs(30))
        .await;
    let seen: Option<Vec<i32>> = b.state.cache.get_json(&key).await;
    assert_eq!(seen, Some(vec![1, 2, 3]));
    a.state.cache.remove(&key).await;
}

#[tokio::test]
async fn without_redis_the_memory_tier_still_serves() {
    let app = spawn_app(Backend::Sqlite).await;
    app.state
        .cache
        .set_json("k", &"v", Duration::from_secs(30))
        .await;
    assert_eq!(
        app.state.cache.get_json::<String>("k").await.as_deref(),
        Some("v")
    );
}

#[tokio::test]
async fn an_unreachable_redis_reads_as_a_miss_not_an_error() {
    // Port 1 on loopback: nothing listens there.
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            env: vec![("HEADROOM_REDIS_URL", "redis://127.0.0.1:1/0".to_string())],
            ..Options::default()
        },
    )
    .await;
    app.state
        .cache
        .set_json("k", &7, Duration::from_secs(30))
        .await;
    assert_eq!(app.state.cache.get_json::<i32>("k").await, Some(7));
    let body: serde_json::Value = app.get("/health").await.json().await.expect("json");
    assert_eq!(body["cache"]["redis"]["status"], "down");
    assert_eq!(body["status"], "degraded");
}
