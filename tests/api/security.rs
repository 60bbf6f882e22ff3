//! Attacks a hostile stranger or member could make, each refused: sign-in floods and
//! parallel guessing, forged forwarding headers, slow clients, endless streams, stale
//! sessions, tokens used beyond their scope or allowance, and malformed addresses.

use std::time::Duration;

use serde_json::json;
use tokio::{
    io::{AsyncReadExt, AsyncWriteExt},
    net::TcpStream,
};

use crate::helpers::{
    Backend, Options, PASSWORD, TestApp, client, eventually, json_of, spawn_app_with, with_env,
};

/// Posts the sign-in form with `email` and `password`, as coming from `forwarded_for`
/// when given; returns the status and where it sends the browser.
async fn sign_in_from(
    app: &TestApp,
    email: &str,
    password: &str,
    forwarded_for: Option<String>,
) -> (u16, String) {
    let mut req = client().post(app.url("/login")).form(&[
        ("email", email),
        ("password", password),
        ("next", "/"),
    ]);
    if let Some(ip) = forwarded_for {
        req = req.header("x-forwarded-for", ip);
    }
    let res = req.send().await.expect("POST /login");
    let location = res
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    (res.status().as_u16(), location)
}

#[tokio::test]
async fn guesses_sent_in_parallel_are_counted_before_any_is_checked() {
    // Places for all 30 in the hash queue: the throttle alone must stop them.
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_PASSWORD_HASHES", "8")]),
    )
    .await;
    app.add_user("victim@example.org", "member", "UTC").await;
    let guesses = futures::future::join_all((0..30).map(|i| {
        let app = &app;
        async move { sign_in_from(app, "victim@example.org", &format!("guess-{i}"), None).await }
    }))
    .await;
    let checked = guesses
        .iter()
        .filter(|(_, to)| to.contains("error=invalid"))
        .count();
    assert!(
        checked <= 5,
        "{checked} of 30 parallel guesses had their password checked: {guesses:?}"
    );
    let (_, to) = sign_in_from(&app, "victim@example.org", PASSWORD, None).await;
    assert!(
        to.contains("error=throttled"),
        "even the right password waits: {to}"
    );
}

#[tokio::test]
async fn forwarded_for_counts_only_from_a_trusted_proxy() {
    // From an untrusted peer, X-Forwarded-For is a stranger's claim: 60 sign-ins with 60
    // made-up addresses are one address, and the per-address limit (50) stops them.
    // (Room in the hash queue for each batch of ten, so none is turned away as busy.)
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_PASSWORD_HASHES", "4")]),
    )
    .await;
    let mut throttled = 0;
    for batch in 0..6 {
        let answers = futures::future::join_all((0..10).map(|j| {
            let (i, app) = (batch * 10 + j, &app);
            async move {
                let email = format!("nobody{i}@example.org");
                sign_in_from(
                    app,
                    &email,
                    "wrong-password",
                    Some(format!("203.0.113.{i}")),
                )
                .await
            }
        }))
        .await;
        throttled += answers
            .iter()
            .filter(|(_, to)| to.contains("error=throttled"))
            .count();
    }
    assert_eq!(throttled, 10, "the forged addresses were believed");

    // Behind a trusted proxy, each forwarded address is its own client.
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_TRUSTED_PROXIES", "127.0.0.1/32")]),
    )
    .await;
    for i in 0..60 {
        let (_, to) = sign_in_from(
            &app,
            &format!("nobody{i}@example.org"),
            "wrong-password",
            Some(format!("203.0.113.{i}")),
        )
        .await;
        assert!(to.contains("error=invalid"), "client {i}: {to}");
    }
}

#[tokio::test]
async fn sign_ins_beyond_the_hash_queue_are_refused_at_once() {
    // One hash at a time and four waiting: forty clients at once (each from its own
    // address, past the throttle) cannot make the server hold forty 19 MiB hashes.
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[
            ("HEADROOM_TRUSTED_PROXIES", "127.0.0.1/32"),
            ("HEADROOM_PASSWORD_HASHES", "1"),
        ]),
    )
    .await;
    let answers = futures::future::join_all((0..40).map(|i| {
        let url = app.url("/login");
        async move {
            client()
                .post(url)
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .form(&[
                    ("email", format!("flood{i}@example.org")),
                    ("password", "x".repeat(12)),
                ])
                .send()
                .await
                .expect("POST /login")
        }
    }))
    .await;
    let busy: Vec<_> = answers.iter().filter(|r| r.status() == 503).collect();
    assert!(
        busy.len() >= 10,
        "at most 5 of 40 fit the queue; {} were refused",
        busy.len()
    );
    for res in busy {
        assert!(
            res.headers().contains_key("retry-after"),
            "{:?}",
            res.headers()
        );
    }
    assert_eq!(
        app.state.password_slots.in_use(),
        0,
        "every place is given back"
    );
    let (status, to) = sign_in_from(&app, "late@example.org", "wrong-password", None).await;
    assert_eq!((status, to.contains("error=invalid")), (303, true));
}

#[tokio::test]
async fn overlong_credentials_are_refused_without_hashing() {
    let app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    let long_email = format!("{}@example.org", "a".repeat(300));
    let (_, to) = sign_in_from(&app, &long_email, "whatever-password", None).await;
    assert!(to.contains("error=too_long"), "{to}");
    let (_, to) = sign_in_from(&app, "a@example.org", &"p".repeat(5000), None).await;
    assert!(to.contains("error=too_long"), "{to}");
}

crate::on_both_backends! {
    async fn a_cached_session_ends_when_the_session_does(backend) {
        let start: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().expect("instant");
        let app = spawn_app_with(
            backend,
            Options {
                env: vec![("HEADROOM_SESSION_DAYS", "1".into())],
                now: Some(start),
                ..Default::default()
            },
        )
        .await;
        app.signed_in_user("brief@example.org", "UTC").await;
        assert_eq!(app.get("/api/v1/meters").await.status(), 200);
        // A day and a second later, within the session cache's 60 s of real time.
        app.state.clock.set(start + jiff::SignedDuration::from_secs(86_401));
        assert_eq!(
            app.get("/api/v1/meters").await.status(),
            401,
            "the cached session outlived its expiry"
        );
    }

    async fn ingest_tokens_have_an_hourly_allowance(backend) {
        let app = spawn_app_with(backend, with_env(&[("HEADROOM_TOKEN_RATE_LIMIT", "3")])).await;
        let meter = app.member_with_meter("device-owner@example.org").await;
        let (_, body) = json_of(
            app.post_json("/api/v1/tokens", &json!({"name": "loop", "meter_ids": [meter]}))
                .await,
        )
        .await;
        let token = body["token"].as_str().expect("token").to_string();
        let mut statuses = Vec::new();
        for minute in 0..4 {
            let res = client()
                .post(app.url("/api/v1/readings"))
                .bearer_auth(&token)
                .json(&json!({"meter_id": meter, "timestamp": format!("2026-11-21T08:0{minute}:00Z"), "value": 108_500.0 + f64::from(minute)}))
                .send()
                .await
                .expect("POST");
            statuses.push(res.status().as_u16());
            if res.status() == 429 {
                assert!(res.headers().contains_key("retry-after"));
            }
        }
        assert_eq!(statuses, [201, 201, 201, 429]);
    }

    async fn server_functions_and_form_posts_have_an_allowance(backend) {
        let app = spawn_app_with(backend, with_env(&[("HEADROOM_APP_RATE_LIMIT", "3")])).await;
        app.signed_in_user("clicker@example.org", "UTC").await;
        let mut statuses = Vec::new();
        for _ in 0..4 {
            let res = app
                .client
                .post(app.url("/settings/tokens/999999/revoke"))
                .header("origin", &app.address)
                .form(&[("confirm", "1")])
                .send()
                .await
                .expect("POST");
            statuses.push(res.status().as_u16());
        }
        assert_eq!(statuses.iter().filter(|s| **s == 429).count(), 1, "{statuses:?}");
        assert_eq!(statuses.last(), Some(&429), "{statuses:?}");
    }
}

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_disconnected() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_HEADER_TIMEOUT_SECS", "1")]),
    )
    .await;
    let mut tcp = TcpStream::connect(app.address.trim_start_matches("http://"))
        .await
        .expect("connect");
    tcp.write_all(b"GET /health/live HTTP/1.1\r\nHost: x\r\n")
        .await
        .expect("write");
    let mut buf = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(10), tcp.read_to_end(&mut buf)).await;
    assert!(
        read.is_ok(),
        "the connection was still open after 10 s with half a header"
    );
}

#[tokio::test]
async fn connections_beyond_the_cap_wait_for_a_free_one() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_MAX_CONNECTIONS", "2")]),
    )
    .await;
    let addr = app.address.trim_start_matches("http://").to_string();
    let mut held = Vec::new();
    for _ in 0..2 {
        held.push(TcpStream::connect(&addr).await.expect("connect"));
    }
    // Both accepted (and holding the two permits) before the third arrives.
    let connections = app.state.perf.connections.clone();
    eventually(Duration::from_secs(10), "two connections open", || {
        let open = connections.open();
        async move { open == 2 }
    })
    .await;
    let third = tokio::spawn({
        let url = app.url("/health/live");
        async move { client().get(url).send().await.map(|r| r.status().as_u16()) }
    });
    // Waiting is the assertion here: nothing may serve the third for a while.
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(connections.open(), 2);
    assert!(
        !third.is_finished(),
        "a third connection was served at a cap of two"
    );
    drop(held.pop());
    let status = tokio::time::timeout(Duration::from_secs(10), third)
        .await
        .expect("served once a connection closed")
        .expect("task")
        .expect("request");
    assert_eq!(status, 200);
}

#[tokio::test]
async fn a_streamed_answer_is_cut_off_at_its_deadline() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[
            ("HEADROOM_TEST_HOOKS", "true"),
            ("HEADROOM_STREAM_TIMEOUT_SECS", "1"),
        ]),
    )
    .await;
    let res = app.get("/__test/endless").await;
    assert_eq!(res.status(), 200);
    let body = tokio::time::timeout(Duration::from_secs(10), res.bytes()).await;
    let outcome = body.expect("the stream was still going after 10 s");
    assert!(
        outcome.is_err(),
        "the answer must end cut off, not complete"
    );
}

#[tokio::test]
async fn behind_a_trusted_https_proxy_cookies_are_host_prefixed_and_hsts_is_sent() {
    let app = spawn_app_with(
        Backend::Sqlite,
        with_env(&[("HEADROOM_TRUSTED_PROXIES", "127.0.0.1/32")]),
    )
    .await;
    app.add_user("tls@example.org", "member", "UTC").await;
    let sign_in = |proto: &'static str| {
        client()
            .post(app.url("/login"))
            .header("x-forwarded-proto", proto)
            .form(&[("email", "tls@example.org"), ("password", PASSWORD)])
            .send()
    };
    let res = sign_in("https").await.expect("POST");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("__Host-headroom_session="), "{cookie}");
    assert!(
        cookie.contains("; Secure") && cookie.contains("Path=/"),
        "{cookie}"
    );
    assert!(
        res.headers().contains_key("strict-transport-security"),
        "{:?}",
        res.headers()
    );
    let res = sign_in("http").await.expect("POST");
    let cookie = res.headers()["set-cookie"]
        .to_str()
        .expect("ascii")
        .to_string();
    assert!(cookie.starts_with("headroom_session=") && !cookie.contains("Secure"));
    assert!(!res.headers().contains_key("strict-transport-security"));

    // From a peer that is not a trusted proxy, the header is ignored.
    let app = spawn_app_with(Backend::Sqlite, Options::default()).await;
    app.add_user("tls@example.org", "member", "UTC").await;
    let res = client()
        .post(app.url("/login"))
        .header("x-forwarded-proto", "https")
        .form(&[("email", "tls@example.org"), ("password", PASSWORD)])
        .send()
        .await
        .expect("POST");
    assert!(!res.headers().contains_key("strict-transport-security"));
}

/// The migration that widens token scopes rebuilds SQLite's token tables: tokens made
/// before it, and the meters they may write, come through it unchanged.
#[tokio::test]
async fn tokens_and_their_meters_survive_the_scope_migration() {
    use sqlx::{Row, sqlite::SqliteConnectOptions};
    use std::str::FromStr;
    let dir = tempfile::tempdir().expect("dir");
    let url = format!("sqlite://{}/old.db", dir.path().display());
    let options = SqliteConnectOptions::from_str(&url)
        .expect("url")
        .create_if_missing(true)
        .foreign_keys(true);
    let pool = sqlx::SqlitePool::connect_with(options).await.expect("open");
    let mut all = sqlx::migrate!("migrations/sqlite");
    let before: Vec<_> = all
        .migrations
        .iter()
        .filter(|m| m.version < 6)
        .cloned()
        .collect();
    let mut old = sqlx::migrate!("migrations/sqlite");
    old.migrations = before.into();
    old.run(&pool).await.expect("migrations 1-5");
    for sql in [
        "INSERT INTO users (id, email, display_name, password_hash, role, plan_tier, location, timezone, created_at) VALUES (1, 'a@x.org', 'A', 'h', 'member', 'mid', 'X', 'UTC', 0)",
        "INSERT INTO meters (id, owner_id, kind, name, unit, timezone, quota, reset_rule, position, created_at) VALUES (7, 1, 'quota', 'Fibre', 'MB', 'UTC', 1000, 'monthly:1', 0, 0)",
        "INSERT INTO api_tokens (id, user_id, name, token_hash, prefix, scope, created_at) VALUES (3, 1, 'router', x'01', 'hr_abc', 'ingest', 0)",
        "INSERT INTO api_token_meters (token_id, meter_id) VALUES (3, 7)",
    ] {
        sqlx::query(sql).execute(&pool).await.expect(sql);
    }
    all.set_ignore_missing(true);
    all.run(&pool).await.expect("migration 6");
    let row = sqlx::query(
        "SELECT t.name, m.meter_id FROM api_tokens t JOIN api_token_meters m ON m.token_id = t.id",
    )
    .fetch_one(&pool)
    .await
    .expect("token kept");
    assert_eq!(row.get::<String, _>(0), "router");
    assert_eq!(row.get::<i64, _>(1), 7);
    sqlx::query("INSERT INTO api_tokens (user_id, name, token_hash, prefix, scope, created_at) VALUES (1, 'scrape', x'02', 'hr_def', 'metrics', 0)")
        .execute(&pool)
        .await
        .expect("the new scope is allowed");
    sqlx::query("DELETE FROM api_tokens WHERE id = 3")
        .execute(&pool)
        .await
        .expect("delete");
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM api_token_meters")
        .fetch_one(&pool)
        .await
        .expect("count");
    assert_eq!(left, 0, "the rebuilt reference still cascades");
}
