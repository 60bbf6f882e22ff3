//! The replay table: a signed-in GET answered a moment ago from cached JSON is answered
//! again without the handler — the same bytes and headers, still rate limited, and never
//! after a write, a sign-out or a clear.

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T08:00:00Z";

async fn app_at_now(backend: Backend, env: Vec<(&'static str, String)>) -> TestApp {
    spawn_app_with(
        backend,
        Options {
            env,
            now: NOW.parse().ok(),
            ..Options::default()
        },
    )
    .await
}

/// Requests answered from the replay table so far, over all strategies.
async fn replays(app: &TestApp) -> u64 {
    let stats = app.state.cache.stats().await;
    stats.strategies.iter().map(|s| s.replay_hits).sum()
}

/// Everything about a response a client can see, bar the per-request stamps (and the
/// outlook's own server timing, which a replay has no use for).
async fn seen(res: reqwest::Response) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let status = res.status().as_u16();
    let mut headers: Vec<(String, String)> = res
        .headers()
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "x-request-id"
                    | "x-response-time"
                    | "date"
                    | "server-timing"
                    | "ratelimit-remaining"
            )
        })
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or("?").to_string()))
        .collect();
    headers.sort();
    (status, headers, res.bytes().await.expect("body").to_vec())
}

on_both_backends! {
    async fn a_repeated_get_is_replayed_exactly(backend) {
        let app = app_at_now(backend, vec![]).await;
        app.member_with_meter("eve@example.org").await;
        for (path, accept) in [
            ("/api/usage/current", "identity"),
            ("/api/v1/outlook", "identity"),
            ("/api/v1/outlook", "br"),
            ("/api/v1/outlook?date=2026-11-20", "gzip"),
        ] {
            let get = || app.client.get(app.url(path)).header("accept-encoding", accept).send();
            let first = get().await.expect("GET");
            let before = replays(&app).await;
            let second = get().await.expect("GET");
            assert_eq!(replays(&app).await, before + 1, "{path} ({accept}) was not replayed");
            let (first, second) = (seen(first).await, seen(second).await);
            assert_eq!(first.0, 200, "{path}");
            // The first may say miss; everything else is the same, bytes included.
            let without_x_cache = |h: &[(String, String)]| -> Vec<(String, String)> {
                h.iter().filter(|(n, _)| n != "x-cache").cloned().collect()
            };
            assert_eq!(without_x_cache(&first.1), without_x_cache(&second.1), "{path} ({accept})");
            assert_eq!(first.2, second.2, "{path} ({accept})");
            assert!(second.1.contains(&("x-cache".into(), "hit".into())));
            // And a replayed answer still honours If-None-Match.
            let etag = second.1.iter().find(|(n, _)| n == "etag").expect("etag").1.clone();
            let not_modified = app.client.get(app.url(path)).header("accept-encoding", accept)
                .header("if-none-match", etag).send().await.expect("GET");
            assert_eq!(not_modified.status(), 304);
        }
        let stats = app.state.perf.replay.snapshot();
        assert!(stats.enabled && stats.fills >= 3 && stats.entries >= 3, "{stats:?}");
    }

    async fn an_envelope_is_replayed_with_fresh_timing_fields(backend) {
        let app = app_at_now(backend, vec![]).await;
        app.member_with_meter("eve@example.org").await;
        let path = "/api/v2/daily-outlook/1";
        let first = app.get(path).await;
        let first_tag = first.headers()["etag"].clone();
        let first: serde_json::Value = first.json().await.expect("json");
        let before = replays(&app).await;
        let second = app.get(path).await;
        assert_eq!(replays(&app).await, before + 1, "{path} was not replayed");
        assert_eq!(second.headers()["etag"], first_tag);
        let second: serde_json::Value = second.json().await.expect("json");
        assert_eq!(second["data"], first["data"]);
        assert_eq!((second["success"].clone(), second["cached"].clone()), (true.into(), true.into()));
        assert_eq!(second["timestamp"], "2026-11-21T08:00:00Z");
        assert!(second["load_time"].as_f64().is_some_and(|t| t < first["load_time"].as_f64().unwrap_or(1.0) + 0.001));
    }

    async fn a_revalidating_client_is_replayed_too(backend) {
        // Browsers revalidate `no-cache` answers: their every request carries If-None-Match,
        // so an answer that ends as a 304 must be filed as well.
        let app = app_at_now(backend, vec![]).await;
        app.member_with_meter("eve@example.org").await;
        let path = "/api/usage/current";
        let etag = app.get(path).await.headers()["etag"].clone();
        app.state.cache.clear(&headroom::server::cache::Pattern::Prefix(String::new())).await;
        let revalidate = || app.client.get(app.url(path)).header("if-none-match", etag.clone()).send();
        assert_eq!(revalidate().await.expect("GET").status(), 304);
        let before = replays(&app).await;
        assert_eq!(revalidate().await.expect("GET").status(), 304);
        assert_eq!(replays(&app).await, before + 1);
    }

    async fn a_write_is_seen_by_the_very_next_request(backend) {
        let app = app_at_now(backend, vec![]).await;
        let meter = app.member_with_meter("eve@example.org").await;
        let used = |v: serde_json::Value| v["total_used_mb"].as_f64().expect("total_used_mb");
        let before = used(app.get("/api/usage/current").await.json().await.expect("json"));
        let replayed = replays(&app).await;
        assert_eq!(used(app.get("/api/usage/current").await.json().await.expect("json")), before);
        assert_eq!(replays(&app).await, replayed + 1);
        app.add_readings(meter, &[("2026-11-21T07:30:00Z", 110_000.0)]).await;
        let after = used(app.get("/api/usage/current").await.json().await.expect("json"));
        assert!(after > before, "still {after} after the write");
        assert_eq!(replays(&app).await, replayed + 1, "the write must end the replay");
        // An administrator's clear ends it too.
        app.get("/api/usage/current").await;
        app.state.cache.clear(&headroom::server::cache::Pattern::Prefix(String::new())).await;
        let replayed = replays(&app).await;
        assert_eq!(app.get("/api/usage/current").await.status(), 200);
        assert_eq!(replays(&app).await, replayed);
    }

    async fn a_signed_out_cookie_is_never_replayed(backend) {
        let app = app_at_now(backend, vec![]).await;
        app.member_with_meter("eve@example.org").await;
        let res = app.sign_in("eve@example.org", PASSWORD).await;
        let token = res.headers()["set-cookie"].to_str().expect("ascii")
            .split(';').next().expect("pair").to_string();
        let with_token = || client().get(app.url("/api/usage/current")).header("cookie", &token).send();
        assert_eq!(with_token().await.expect("GET").status(), 200);
        let replayed = replays(&app).await;
        assert_eq!(with_token().await.expect("GET").status(), 200);
        assert_eq!(replays(&app).await, replayed + 1);
        let out = client().post(app.url("/logout")).header("cookie", &token).send().await.expect("POST");
        assert_eq!(out.status(), 303);
        assert_eq!(with_token().await.expect("GET").status(), 401, "a signed-out token answered");
    }

    async fn replayed_requests_count_against_the_plan_limit(backend) {
        let app = app_at_now(backend, vec![("HEADROOM_RATE_LIMITS", "mid=5".to_string())]).await;
        app.member_with_meter("eve@example.org").await; // plan "mid"
        let before = replays(&app).await;
        let mut seen = Vec::new();
        for _ in 0..7 {
            let res = app.get("/api/usage/current").await;
            seen.push((res.status().as_u16(), res.headers()["ratelimit-remaining"].to_str().expect("ascii").to_string()));
        }
        let expected: Vec<(u16, String)> = [(200, "4"), (200, "3"), (200, "2"), (200, "1"), (200, "0"), (429, "0"), (429, "0")]
            .iter().map(|(s, r)| (*s, r.to_string())).collect();
        assert_eq!(seen, expected);
        assert!(replays(&app).await >= before + 4, "the repeats should have been replays");
    }

    async fn a_replay_is_stamped_and_counted_under_its_route(backend) {
        // Replays are answered before routing, so the edge's work is done for them by the
        // front door: the id, the time, and the figures of the route the ticket kept.
        let app = app_at_now(backend, vec![]).await;
        app.member_with_meter("eve@example.org").await;
        let template = "/api/v2/daily-outlook/{user_id}";
        let counted = |app: &TestApp| {
            app.state.perf.routes.snapshot().iter()
                .find(|r| r.route == template).map_or(0, |r| r.requests())
        };
        assert_eq!(app.get("/api/v2/daily-outlook/1").await.status(), 200);
        let (before, replayed) = (counted(&app), replays(&app).await);
        for i in 0..3 {
            let res = app.client.get(app.url("/api/v2/daily-outlook/1"))
                .header("x-request-id", format!("proxy-{i}")).send().await.expect("GET");
            assert_eq!(res.headers()["x-request-id"], format!("proxy-{i}").as_str());
            assert!(res.headers()["x-response-time"].to_str().is_ok_and(|t| t.ends_with("ms")));
        }
        let own = app.get("/api/v2/daily-outlook/1").await;
        assert!(!own.headers()["x-request-id"].is_empty());
        assert_eq!(replays(&app).await, replayed + 4, "the repeats should have been replays");
        assert_eq!(counted(&app), before + 4);
        assert_eq!(app.state.perf.routes.in_flight(), 0);
    }

    async fn off_means_every_request_reaches_the_handler(backend) {
        let app = app_at_now(backend, vec![("HEADROOM_REPLAY_MS", "0".to_string())]).await;
        app.member_with_meter("eve@example.org").await;
        for _ in 0..3 {
            assert_eq!(app.get("/api/usage/current").await.status(), 200);
        }
        let stats = app.state.cache.stats().await;
        assert_eq!(stats.strategies.iter().map(|s| s.replay_hits).sum::<u64>(), 0);
        let replay = app.state.perf.replay.snapshot();
        assert!(!replay.enabled);
        assert_eq!(replay.fills, 0);
    }
}
