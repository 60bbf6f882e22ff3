//! Two instances on one PostgreSQL database: one runs the jobs, and when it stops the other
//! takes over well within one collection interval.

use std::time::{Duration, Instant};

use crate::helpers::*;

async fn holder(app: &TestApp) -> Option<String> {
    app.state
        .db
        .lease_holder("jobs", app.state.clock.now_secs())
        .await
        .expect("query")
}

async fn wait_for<F, Fut>(limit: Duration, mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let started = Instant::now();
    while started.elapsed() < limit {
        if check().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_instance_leads_and_another_takes_over_when_it_stops() {
    let url = fresh_postgres_database().await;
    let with_jobs = || Options {
        env: vec![
            ("HEADROOM_COLLECTOR", "true".into()),
            ("HEADROOM_LEASE_SECS", "3".into()),
        ],
        database: Some(url.clone()),
        ..Options::default()
    };
    let mut a = spawn_app_with(Backend::Postgres, with_jobs()).await;
    assert!(
        wait_for(Duration::from_secs(5), || async {
            holder(&a).await.is_some()
        })
        .await,
        "nobody leads"
    );
    let b = spawn_app_with(Backend::Postgres, with_jobs()).await;
    let first = holder(&a).await.expect("a leader");
    // B keeps trying but cannot take a live lease.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        holder(&b).await.as_deref(),
        Some(first.as_str()),
        "the lease stayed put"
    );

    // The leader collects: a simulator source gets readings.
    let user = a.add_user("mia@example.org", "member", "UTC").await;
    let meter = a
        .add_quota_meter(user, "sim", 1_000.0, "monthly:1", "UTC")
        .await;
    a.state
        .db
        .put_source(&headroom::server::storage::sources::SourceRow {
            meter_id: meter,
            kind: "simulator".into(),
            url: None,
            headers: "{}".into(),
            bearer_token: None,
            used_path: None,
            remaining_path: None,
            quota_path: None,
            scale: 1.0,
            interval_secs: 600,
            timeout_secs: 30,
            enabled: true,
            next_due_at: 1,
            consecutive_failures: 0,
        })
        .await
        .expect("source");
    assert!(
        wait_for(Duration::from_secs(5), || async {
            a.state.db.count_readings(meter).await.unwrap_or(0) == 1
        })
        .await
    );
    // Exactly one attempt: the other instance did not collect too.
    tokio::time::sleep(Duration::from_secs(2)).await;
    assert_eq!(
        a.state
            .db
            .attempts(meter, 10)
            .await
            .expect("attempts")
            .len(),
        1
    );

    // A took the lease before B existed, so A leads. Stop it: B takes over in well under a
    // collection interval (10 minutes by default).
    a.trigger_shutdown();
    let server = a.server.take().expect("running");
    server.await.expect("join").expect("clean stop");
    let took = Instant::now();
    assert!(
        wait_for(Duration::from_secs(10), || async {
            holder(&b).await.is_some_and(|h| h != first)
        })
        .await,
        "no takeover"
    );
    assert!(took.elapsed() < Duration::from_secs(10));
}

#[tokio::test]
async fn a_dead_leaders_lease_is_taken_after_it_expires() {
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let app = spawn_app(backend).await;
        let db = &app.state.db;
        assert!(db.try_lease("jobs", "a", 100, 130).await.expect("lease"));
        assert!(db.try_lease("jobs", "a", 110, 140).await.expect("renew"));
        assert!(
            !db.try_lease("jobs", "b", 120, 150).await.expect("held"),
            "{backend:?}"
        );
        assert!(
            db.try_lease("jobs", "b", 141, 171).await.expect("expired"),
            "{backend:?}"
        );
        assert_eq!(
            db.lease_holder("jobs", 150).await.expect("q").as_deref(),
            Some("b")
        );
        db.release_lease("jobs", "b").await.expect("release");
        assert!(db.try_lease("jobs", "a", 151, 181).await.expect("free"));
    }
}
