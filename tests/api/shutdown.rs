//! Graceful shutdown: a request in flight when the signal comes still gets its answer.

use std::time::Duration;

use crate::helpers::*;

#[tokio::test]
async fn in_flight_requests_finish_during_shutdown() {
    let mut app = spawn_app_with(
        Backend::Sqlite,
        Options {
            env: vec![("HEADROOM_TEST_HOOKS", "true".to_string())],
            ..Options::default()
        },
    )
    .await;
    let slow = tokio::spawn({
        let client = app.client.clone();
        let url = app.url("/__test/sleep?ms=600");
        async move { client.get(url).send().await }
    });
    // The signal must come while the request is being answered.
    let state = app.state.clone();
    eventually(
        Duration::from_secs(10),
        "the slow request in flight",
        || {
            let in_flight = state.perf.routes.in_flight();
            async move { in_flight == 1 }
        },
    )
    .await;
    app.trigger_shutdown();
    let res = slow
        .await
        .expect("task")
        .expect("the in-flight request is answered");
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.expect("body"), "slept 600 ms");
    let server = app.server.take().expect("running");
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("server stops once drained")
        .expect("join")
        .expect("clean exit");
    assert!(
        client().get(app.url("/health")).send().await.is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn test_hooks_are_off_by_default() {
    let app = spawn_app(Backend::Sqlite).await;
    assert_eq!(app.get("/__test/sleep?ms=1").await.status(), 404);
}
