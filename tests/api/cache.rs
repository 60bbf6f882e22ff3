//! The cache against real Redis servers: shared between instances, invalidated across
//! them over pub/sub, surviving a Redis that dies and comes back, computing once under a
//! stampede, and its admin tools.

use std::{
    process::{Child, Command, Stdio},
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use headroom::server::cache::{Pattern, Source, Strategy};
use serde_json::{Value, json};

use crate::helpers::*;

const NOW: &str = "2026-11-21T08:00:00Z";

fn with_redis(url: &str) -> Options {
    Options {
        env: vec![
            ("HEADROOM_REDIS_URL", url.to_string()),
            // These tests send far more than a plan's hourly allowance.
            ("HEADROOM_RATE_LIMITS", "mid=1000000".to_string()),
        ],
        now: NOW.parse().ok(),
        ..Options::default()
    }
}

/// An instance that shares its Redis keys with every other made with these options,
/// though each has a database of its own (a test app's namespace otherwise follows its
/// database).
fn sharing_keys(url: &str) -> Options {
    let mut options = with_redis(url);
    options
        .env
        .push(("HEADROOM_REDIS_NAMESPACE", "shared".to_string()));
    options
}

/// A Redis server of this test's own, so the test may kill it.
struct OwnRedis {
    port: u16,
    child: Option<Child>,
}

impl OwnRedis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("free port");
        let mut r = OwnRedis { port, child: None };
        r.restart();
        r
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn restart(&mut self) {
        let child = Command::new("redis-server")
            .args([
                "--port",
                &self.port.to_string(),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server (scripts/test installs it)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Listeners on all channels: each instance's invalidation listener, once subscribed.
    async fn subscribers(&self) -> usize {
        let client = redis::Client::open(self.url()).expect("redis url");
        let Ok(mut con) = client.get_multiplexed_async_connection().await else {
            return 0;
        };
        let channels: Vec<String> = redis::cmd("PUBSUB")
            .arg("CHANNELS")
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        if channels.is_empty() {
            return 0;
        }
        let counts: std::collections::HashMap<String, usize> = redis::cmd("PUBSUB")
            .arg("NUMSUB")
            .arg(&channels)
            .query_async(&mut con)
            .await
            .unwrap_or_default();
        counts.values().sum()
    }

    /// Until both instances listen, an invalidation published by one misses the other.
    async fn both_subscribed(&self) {
        let what = "both instances subscribed to invalidations";
        eventually(Duration::from_secs(5), what, || async {
            self.subscribers().await >= 2
        })
        .await;
    }

    fn kill(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A member with a quota meter and a week of readings; returns (user, meter).
async fn household(app: &TestApp, email: &str) -> (i64, i64) {
    let user = app.signed_in_user(email, "UTC").await;
    let meter = app
        .add_quota_meter(user, "Fibre", 300_000.0, "monthly:1", "UTC")
        .await;
    let readings: Vec<(String, f64)> = (14..=21)
        .map(|d| {
            (
                format!("2026-11-{d}T07:00:00Z"),
                100_000.0 + f64::from(d) * 9_000.0,
            )
        })
        .collect();
    let refs: Vec<(&str, f64)> = readings.iter().map(|(t, v)| (t.as_str(), *v)).collect();
    app.add_readings(meter, &refs).await;
    (user, meter)
}

fn used_today(o: &Value) -> f64 {
    o["meters"][0]["snapshot"]["used_today"]
        .as_f64()
        .unwrap_or(f64::NAN)
}

#[tokio::test]
async fn redis_tier_is_shared_between_instances() {
    let redis = OwnRedis::start();
    let a = spawn_app_with(Backend::Sqlite, sharing_keys(&redis.url())).await;
    let b = spawn_app_with(Backend::Sqlite, sharing_keys(&redis.url())).await;
    let big = json!({"rows": vec!["the same long text"; 200]})
        .to_string()
        .into_bytes();
    a.state
        .cache
        .put(Strategy::Trends, "trends:shared", &[], big.clone())
        .await;
    let seen = b
        .state
        .cache
        .get(Strategy::Trends, "trends:shared")
        .await
        .expect("in redis");
    assert_eq!(
        (seen.source, &*seen.bytes),
        (Source::Redis, &big[..]),
        "compressed in Redis, the same bytes out"
    );
}

#[tokio::test]
async fn installs_with_their_own_namespaces_share_nothing_on_one_redis() {
    let redis = OwnRedis::start();
    let a = spawn_app_with(Backend::Sqlite, with_redis(&redis.url())).await;
    let b = spawn_app_with(Backend::Sqlite, with_redis(&redis.url())).await;
    assert_ne!(
        a.state.settings.cache.redis_namespace,
        b.state.settings.cache.redis_namespace
    );
    a.state
        .cache
        .put(Strategy::Trends, "trends:u1", &[], b"{\"mine\":1}".to_vec())
        .await;
    assert_eq!(
        a.state
            .cache
            .keys(&Pattern::Prefix("trends:".into()), 100)
            .await
            .redis
            .expect("redis answers"),
        ["trends:u1"]
    );
    assert!(
        b.state
            .cache
            .get(Strategy::Trends, "trends:u1")
            .await
            .is_none(),
        "B read A's value"
    );
    assert_eq!(
        b.state
            .cache
            .keys(&Pattern::Prefix(String::new()), 100)
            .await
            .redis
            .expect("redis answers"),
        Vec::<String>::new(),
        "B sees A's keys"
    );
}

#[tokio::test]
async fn a_value_promoted_from_redis_is_dropped_by_its_tag() {
    let redis = OwnRedis::start();
    let a = spawn_app_with(Backend::Sqlite, sharing_keys(&redis.url())).await;
    let b = spawn_app_with(Backend::Sqlite, sharing_keys(&redis.url())).await;
    redis.both_subscribed().await;
    let (key, tags) = ("outlook:u9:2026-11-21", vec!["user:9".to_string()]);
    a.state
        .cache
        .put(Strategy::Outlook, key, &tags, b"{\"v\":1}".to_vec())
        .await;
    let promoted = b
        .state
        .cache
        .get_or_compute(Strategy::Outlook, key, &tags, || async {
            Ok::<_, std::convert::Infallible>(b"{}".to_vec())
        })
        .await
        .expect("value");
    assert_eq!(promoted.source, Source::Redis);
    assert_eq!(
        b.state
            .cache
            .get(Strategy::Outlook, key)
            .await
            .map(|h| h.source),
        Some(Source::Memory)
    );
    a.state.cache.invalidate_tags(&tags).await;
    // The message travels through Redis to B's listener: wait for it, not a guess.
    let what = "B drops its promoted copy when the tag is invalidated";
    eventually(Duration::from_secs(5), what, || async {
        b.state.cache.get(Strategy::Outlook, key).await.is_none()
    })
    .await;
}

#[tokio::test]
async fn a_write_on_one_instance_is_seen_by_another_within_100_ms() {
    let redis = OwnRedis::start();
    let a = spawn_app_with(Backend::Sqlite, with_redis(&redis.url())).await;
    let b = spawn_app_with(
        Backend::Sqlite,
        Options {
            database: Some(a.state.settings.database.url.expose().to_string()),
            ..with_redis(&redis.url())
        },
    )
    .await;
    let (_, meter) = household(&a, "ann@example.org").await;
    // B signs in the same user and caches the outlook in its own memory.
    assert_eq!(b.sign_in("ann@example.org", PASSWORD).await.status(), 303);
    let before: Value = b.get("/api/v1/outlook").await.json().await.expect("json");
    assert_eq!(b.get("/api/v1/outlook").await.headers()["x-cache"], "hit");
    redis.both_subscribed().await;

    let res = a
        .post_json(
            "/api/v1/readings",
            &json!({"meter_id": meter, "timestamp": "2026-11-21T07:59:00Z", "value": 300_000.0}),
        )
        .await;
    assert_eq!(res.status(), 201);
    // Asked again until it shows the write, for at most the 100 ms the name promises.
    let was = used_today(&before);
    eventually(Duration::from_millis(100), "B shows A's write", || async {
        let after: Value = b.get("/api/v1/outlook").await.json().await.expect("json");
        used_today(&after) > was
    })
    .await;
}

#[tokio::test]
async fn requests_succeed_while_redis_dies_hangs_and_returns() {
    let mut redis = OwnRedis::start();
    let app = Arc::new(spawn_app_with(Backend::Sqlite, with_redis(&redis.url())).await);
    let (_, meter) = household(&app, "bo@example.org").await;
    let failures = Arc::new(AtomicUsize::new(0));
    let done = Arc::new(AtomicUsize::new(0));
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let workers: Vec<_> = (0..8)
        .map(|_| {
            let (app, failures, done, stop) =
                (app.clone(), failures.clone(), done.clone(), stop.clone());
            tokio::spawn(async move {
                while !stop.load(Ordering::Relaxed) {
                    for path in [
                        "/api/v1/outlook",
                        "/api/usage/current",
                        "/api/v2/daily-outlook/1",
                    ] {
                        match app.client.get(app.url(path)).send().await {
                            Ok(r) if r.status().is_success() => {}
                            other => {
                                eprintln!("FAILED {path}: {:?}", other.map(|r| r.status()));
                                failures.fetch_add(1, Ordering::Relaxed);
                            }
                        }
                        done.fetch_add(1, Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.kill();
    tokio::time::sleep(Duration::from_millis(700)).await;
    // Values computed while Redis is away must still be served and invalidated.
    app.add_readings(meter, &[("2026-11-21T07:30:00Z", 290_000.0)])
        .await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    redis.restart();
    // Back by itself: the breaker's probe finds it and the tier fills again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let stats = app.state.cache.stats().await;
        if stats.redis.status == "ok"
            && stats.redis.breaker == "closed"
            && stats.redis.keys.unwrap_or(0) > 0
        {
            break;
        }
        assert!(Instant::now() < deadline, "redis not used again: {stats:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stop.store(true, Ordering::Relaxed);
    for w in workers {
        w.await.expect("worker");
    }
    assert!(
        done.load(Ordering::Relaxed) > 100,
        "only {} requests",
        done.load(Ordering::Relaxed)
    );
    assert_eq!(
        failures.load(Ordering::Relaxed),
        0,
        "failed requests while Redis died and returned"
    );
    let o: Value = app.get("/api/v1/outlook").await.json().await.expect("json");
    assert_eq!(
        o["meters"][0]["snapshot"]["used"].as_f64(),
        Some(290_000.0),
        "the write during the outage is visible"
    );
}

#[tokio::test]
async fn a_hanging_redis_costs_milliseconds_not_seconds() {
    // A listener that accepts connections and never answers.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("redis://{}/0", silent.local_addr().expect("addr"));
    let app = spawn_app_with(Backend::Sqlite, with_redis(&url)).await;
    household(&app, "cy@example.org").await;
    let mut slowest = Duration::ZERO;
    for _ in 0..20 {
        let t = Instant::now();
        assert_eq!(app.get("/api/v1/outlook").await.status(), 200);
        slowest = slowest.max(t.elapsed());
    }
    assert!(
        slowest < Duration::from_millis(1500),
        "a request took {slowest:?}"
    );
    let stats = app.state.cache.stats().await;
    assert_eq!(stats.redis.breaker, "open", "{stats:?}");
    assert!(stats.redis.skipped > 0);
}

#[tokio::test]
async fn concurrent_misses_on_one_outlook_compute_it_once() {
    let app = Arc::new(
        spawn_app_with(
            Backend::Sqlite,
            Options {
                now: NOW.parse().ok(),
                ..Options::default()
            },
        )
        .await,
    );
    household(&app, "di@example.org").await;
    let tasks: Vec<_> = (0..32)
        .map(|_| {
            let app = app.clone();
            tokio::spawn(async move { app.get("/api/v1/outlook").await.status() })
        })
        .collect();
    for t in tasks {
        assert_eq!(t.await.expect("task"), 200);
    }
    let stats = app.state.cache.stats().await;
    let outlook = stats
        .strategies
        .iter()
        .find(|s| s.strategy == "outlook")
        .expect("row");
    assert_eq!(outlook.computations, 1, "{outlook:?}");
}

#[tokio::test]
async fn admins_see_statistics_list_keys_and_clear_by_pattern() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await;
    household(&app, "member@example.org").await;
    app.get("/api/v1/outlook").await;
    app.get("/api/v1/outlook").await;
    // Members may not.
    assert_eq!(app.get("/api/performance/cache/stats").await.status(), 403);

    let admin = client();
    app.add_user("root@example.org", "admin", "UTC").await;
    let res = admin
        .post(app.url("/login"))
        .form(&[("email", "root@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("login");
    assert_eq!(res.status(), 303);
    let (status, stats) = json_of(
        admin
            .get(app.url("/api/performance/cache/stats"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(status, 200, "{stats}");
    let outlook = stats["strategies"]
        .as_array()
        .expect("rows")
        .iter()
        .find(|s| s["strategy"] == "outlook")
        .expect("outlook")
        .clone();
    assert_eq!(
        (
            outlook["hits"].as_u64(),
            outlook["misses"].as_u64(),
            outlook["ttl_secs"].as_u64()
        ),
        (Some(1), Some(1), Some(86_400))
    );
    assert_eq!(stats["redis"]["status"], "disabled");

    let (_, keys) = json_of(
        admin
            .get(app.url("/api/performance/cache/keys?pattern=outlook:*"))
            .send()
            .await
            .expect("GET"),
    )
    .await;
    assert_eq!(keys["memory"].as_array().map(Vec::len), Some(1), "{keys}");
    let (status, cleared) = json_of(
        admin
            .post(app.url("/api/performance/cache/clear"))
            .json(&json!({"pattern": "outlook:*"}))
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(
        (status, cleared["cleared"]["memory"].as_u64()),
        (200, Some(1)),
        "{cleared}"
    );
    // Cleared from the cache; the precomputed row below it answers the next read.
    assert_eq!(
        app.get("/api/v1/outlook").await.headers()["x-cache"],
        "miss"
    );
    let (status, bad) = json_of(
        admin
            .post(app.url("/api/performance/cache/clear"))
            .json(&json!({"pattern": "out*look"}))
            .send()
            .await
            .expect("POST"),
    )
    .await;
    assert_eq!(
        (status, bad["error"]["field"].as_str()),
        (422, Some("pattern"))
    );
}
