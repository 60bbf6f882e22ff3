//! Accounts (issue 19): first-run setup, invitations, password changes and resets,
//! sessions, and what administrators may do to users — each attack first.

use std::time::Duration;

use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T08:00:00Z";

/// A fresh client signed in as `email` (with [`PASSWORD`]).
async fn signed_in(app: &TestApp, email: &str, password: &str) -> reqwest::Client {
    let c = client();
    let res = c
        .post(app.url("/login"))
        .header(
            "user-agent",
            "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        )
        .form(&[("email", email), ("password", password), ("next", "/")])
        .send()
        .await
        .expect("POST /login");
    assert_eq!(res.status(), 303);
    assert!(
        res.headers().get("set-cookie").is_some(),
        "{email} signed in"
    );
    c
}

async fn call(
    app: &TestApp,
    c: &reqwest::Client,
    method: reqwest::Method,
    path: &str,
    body: Option<Value>,
) -> (u16, Value) {
    let mut req = c.request(method, app.url(path));
    if let Some(b) = body {
        req = req.json(&b);
    }
    json_of(req.send().await.expect("request")).await
}

async fn get(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, Value) {
    call(app, c, reqwest::Method::GET, path, None).await
}

async fn post(app: &TestApp, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    call(app, c, reqwest::Method::POST, path, Some(body)).await
}

async fn patch(app: &TestApp, c: &reqwest::Client, path: &str, body: Value) -> (u16, Value) {
    call(app, c, reqwest::Method::PATCH, path, Some(body)).await
}

async fn delete(app: &TestApp, c: &reqwest::Client, path: &str) -> (u16, Value) {
    call(app, c, reqwest::Method::DELETE, path, None).await
}

/// An app with an administrator signed in on `app.client`; returns the admin's id.
async fn with_admin(app: &TestApp) -> i64 {
    let id = app.add_user("root@example.org", "admin", "UTC").await;
    assert_eq!(
        app.sign_in("root@example.org", PASSWORD).await.status(),
        303
    );
    id
}

/// The secret of a link's URL (`/invite/<secret>`).
fn secret_of(link: &Value) -> String {
    link["url"]
        .as_str()
        .expect("url")
        .rsplit('/')
        .next()
        .expect("secret")
        .to_string()
}

on_both_backends! {
    async fn a_stranger_cannot_claim_a_fresh_install_without_the_code(backend) {
        let app = spawn_app(backend).await;
        let stranger = client();
        assert_eq!(get(&app, &stranger, "/api/v1/setup").await, (200, json!({"needed": true})));
        // The outlook sends a visitor of a fresh install to the setup page.
        let res = stranger.get(app.url("/")).send().await.expect("GET /");
        assert_eq!((res.status().as_u16(), res.headers()["location"].to_str().ok()), (302, Some("/setup")));
        let attempt = json!({"email": "eve@example.org", "display_name": "Eve",
            "password": "long enough password", "setup_code": "AAAA-BBBB-CCCC"});
        let (status, body) = post(&app, &stranger, "/api/v1/setup", attempt.clone()).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("setup_code")), "{body}");
        let (status, _) = post(&app, &stranger, "/api/v1/setup",
            json!({"email": "eve@example.org", "display_name": "Eve", "password": "long enough password"})).await;
        assert_eq!(status, 422, "no code at all");
        assert_eq!(get(&app, &stranger, "/api/v1/account").await.0, 401);
        assert_eq!(app.state.db.count_users().await.expect("count"), 0);

        // The person who started the server has the code (printed; here from the table).
        let code = app.state.db.app_secret("setup_code").await.expect("read").expect("a code");
        let owner = client();
        let (status, body) = post(&app, &owner, "/api/v1/setup", json!({"email": "Root@Example.org",
            "display_name": "Root", "password": "correct horse battery",
            "setup_code": code.to_lowercase().replace('-', " ")})).await;
        assert_eq!(status, 201, "{body}");
        let (status, me) = get(&app, &owner, "/api/v1/account").await;
        assert_eq!((status, me["role"].as_str(), me["email"].as_str()), (200, Some("admin"), Some("root@example.org")));
        // Closed for good, and the code is gone.
        let (status, _) = post(&app, &stranger, "/api/v1/setup", attempt.clone()).await;
        assert_eq!(status, 404);
        let mut again = attempt;
        again["setup_code"] = json!(code);
        assert_eq!(post(&app, &stranger, "/api/v1/setup", again).await.0, 404, "the code works once");
        assert_eq!(app.state.db.app_secret("setup_code").await.expect("read"), None);
        assert_eq!(get(&app, &stranger, "/api/v1/setup").await, (200, json!({"needed": false})));
    }

    async fn setup_code_guesses_are_throttled(backend) {
        let app = spawn_app(backend).await;
        let stranger = client();
        let guess = json!({"email": "eve@example.org", "display_name": "Eve",
            "password": "long enough password", "setup_code": "AAAA-BBBB-CCCC"});
        for _ in 0..5 {
            assert_eq!(post(&app, &stranger, "/api/v1/setup", guess.clone()).await.0, 422);
        }
        let (status, body) = post(&app, &stranger, "/api/v1/setup", guess).await;
        assert_eq!(status, 429, "{body}");
    }

    async fn an_invitation_works_once(backend) {
        let app = spawn_app(backend).await;
        with_admin(&app).await;
        let (status, household) = post(&app, &app.client, "/api/v1/households", json!({"name": "Flat 3"})).await;
        assert_eq!(status, 201, "{household}");
        let (status, link) = post(&app, &app.client, "/api/v1/invites",
            json!({"kind": "household", "household_id": household["id"]})).await;
        assert_eq!(status, 201, "{link}");
        assert!(link["url"].as_str().expect("url").starts_with("/invite/"));
        let secret = secret_of(&link);
        let stored = app.state.db.invite_by_hash(&headroom::server::auth::session::token_hash(&secret))
            .await.expect("read");
        assert!(stored.is_some(), "the database keeps the hash, not the secret");

        let invitee = client();
        let (status, preview) = get(&app, &invitee, &format!("/api/v1/invites/{secret}")).await;
        assert_eq!((status, preview["household"].as_str()), (200, Some("Flat 3")));
        let accept = json!({"email": "ann@example.org", "display_name": "Ann", "password": "ann's password"});
        let (status, body) = post(&app, &invitee, &format!("/api/v1/invites/{secret}/accept"), accept.clone()).await;
        assert_eq!(status, 201, "{body}");
        let (_, me) = get(&app, &invitee, "/api/v1/account").await;
        assert_eq!((me["email"].as_str(), me["household"].as_str(), me["role"].as_str()),
            (Some("ann@example.org"), Some("Flat 3"), Some("member")));

        // Used: refused, for anyone, with a reason naming the link.
        let mut second = accept;
        second["email"] = json!("mallory@example.org");
        let (status, body) = post(&app, &client(), &format!("/api/v1/invites/{secret}/accept"), second).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("secret")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap_or("").contains("already used"), "{body}");
        assert!(app.state.db.user_by_email("mallory@example.org").await.expect("read").is_none());
    }

    async fn an_expired_invitation_is_refused(backend) {
        let now: jiff::Timestamp = NOW.parse().expect("time");
        let app = spawn_app_with(backend, Options { now: Some(now), ..Options::default() }).await;
        with_admin(&app).await;
        let (_, link) = post(&app, &app.client, "/api/v1/invites", json!({"role": "member"})).await;
        let secret = secret_of(&link);
        assert_eq!(link["expires_at"], "2026-11-24T08:00:00Z", "72 hours by default");
        app.state.clock.set(now + jiff::SignedDuration::from_hours(72));
        let (status, body) = post(&app, &client(), &format!("/api/v1/invites/{secret}/accept"),
            json!({"email": "ann@example.org", "display_name": "Ann", "password": "ann's password"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("secret")), "{body}");
        assert!(body["error"]["message"].as_str().unwrap_or("").contains("expired"), "{body}");
        assert_eq!(get(&app, &client(), &format!("/api/v1/invites/{secret}")).await.0, 422);
    }

    async fn a_disabled_users_session_stops_at_once(backend) {
        let app = spawn_app(backend).await;
        with_admin(&app).await;
        let mia = app.add_user("mia@example.org", "member", "UTC").await;
        let phone = signed_in(&app, "mia@example.org", PASSWORD).await;
        // Cached now: the next request would be answered from the session cache.
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 200);
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 200);
        let (status, user) = patch(&app, &app.client, &format!("/api/v1/users/{mia}"), json!({"disabled": true})).await;
        assert_eq!((status, user["disabled"].as_bool()), (200, Some(true)), "{user}");
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 401, "the cached session is gone");
        assert_eq!(app.sign_in("mia@example.org", PASSWORD).await.headers()["location"], "/login?error=invalid");
        // Enabled again: she may sign in (her old sessions stay ended).
        let (status, _) = patch(&app, &app.client, &format!("/api/v1/users/{mia}"), json!({"disabled": false})).await;
        assert_eq!(status, 200);
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 401);
        signed_in(&app, "mia@example.org", PASSWORD).await;
    }

    async fn a_password_change_signs_out_the_other_sessions_only(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let laptop = signed_in(&app, "mia@example.org", PASSWORD).await;
        let phone = signed_in(&app, "mia@example.org", PASSWORD).await;
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 200);
        let (status, body) = post(&app, &laptop, "/api/v1/account/password",
            json!({"current_password": "a wrong guess", "new_password": "new password 1"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("current_password")), "{body}");
        let (status, body) = post(&app, &laptop, "/api/v1/account/password",
            json!({"current_password": PASSWORD, "new_password": "short"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("new_password")), "{body}");
        let (status, body) = post(&app, &laptop, "/api/v1/account/password",
            json!({"current_password": PASSWORD, "new_password": "new password 1"})).await;
        assert_eq!((status, body["signed_out"].as_u64()), (200, Some(1)), "{body}");
        assert_eq!(get(&app, &laptop, "/api/v1/account").await.0, 200, "this session stays");
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 401, "the other is out");
        assert_eq!(app.sign_in("mia@example.org", PASSWORD).await.headers()["location"], "/login?error=invalid");
        signed_in(&app, "mia@example.org", "new password 1").await;
    }

    async fn members_cannot_reach_admin_routes(backend) {
        let app = spawn_app(backend).await;
        let root = with_admin(&app).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let mia = signed_in(&app, "mia@example.org", PASSWORD).await;
        let anon = client();
        let routes: [(reqwest::Method, String, Option<Value>); 6] = [
            (reqwest::Method::GET, "/api/v1/users".into(), None),
            (reqwest::Method::PATCH, format!("/api/v1/users/{root}"), Some(json!({"role": "member"}))),
            (reqwest::Method::POST, format!("/api/v1/users/{root}/reset-link"), Some(json!({}))),
            (reqwest::Method::GET, "/api/v1/households".into(), None),
            (reqwest::Method::POST, "/api/v1/households".into(), Some(json!({"name": "Mine"}))),
            (reqwest::Method::POST, "/api/v1/invites".into(), Some(json!({"role": "admin"}))),
        ];
        for (method, path, body) in routes {
            let (status, answer) = call(&app, &mia, method.clone(), &path, body.clone()).await;
            assert_eq!(status, 403, "member {method} {path}: {answer}");
            let (status, _) = call(&app, &anon, method.clone(), &path, body).await;
            assert_eq!(status, 401, "anonymous {method} {path}");
        }
        let page = mia.get(app.url("/admin/users")).send().await.expect("GET");
        assert_eq!(page.status(), 403);
        let form = mia.post(app.url(&format!("/forms/admin/users/{root}/reset-link"))).form(&[("x", "1")])
            .send().await.expect("POST");
        assert_eq!(form.status(), 403);
        // Nothing changed.
        let (_, users) = get(&app, &app.client, "/api/v1/users").await;
        assert_eq!(users[0]["role"], "admin");
    }

    async fn a_user_cannot_sign_out_anothers_session(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        app.add_user("tom@example.org", "member", "UTC").await;
        let mia = signed_in(&app, "mia@example.org", PASSWORD).await;
        let tom = signed_in(&app, "tom@example.org", PASSWORD).await;
        let (status, toms) = get(&app, &tom, "/api/v1/account/sessions").await;
        assert_eq!(status, 200);
        let id = toms[0]["id"].as_str().expect("id").to_string();
        assert_eq!(toms[0]["device"], "Firefox on Linux");
        assert_eq!(toms[0]["current"], true);
        let (status, _) = delete(&app, &mia, &format!("/api/v1/account/sessions/{id}")).await;
        assert_eq!(status, 404);
        assert_eq!(get(&app, &tom, "/api/v1/account").await.0, 200);
        let form = mia.post(app.url(&format!("/forms/account/sessions/{id}/sign-out"))).form(&[("x", "1")])
            .send().await.expect("POST");
        assert_eq!(form.status(), 404);
        assert_eq!(get(&app, &tom, "/api/v1/account").await.0, 200);
    }

    async fn sessions_are_listed_and_signed_out_one_or_all_others(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let a = signed_in(&app, "mia@example.org", PASSWORD).await;
        let b = signed_in(&app, "mia@example.org", PASSWORD).await;
        let c = signed_in(&app, "mia@example.org", PASSWORD).await;
        let (_, list) = get(&app, &a, "/api/v1/account/sessions").await;
        assert_eq!(list.as_array().map(Vec::len), Some(3));
        assert_eq!(list.as_array().expect("list").iter().filter(|s| s["current"] == true).count(), 1);
        assert!(list[0]["last_seen_at"].is_string(), "{list}");
        let (_, of_b) = get(&app, &b, "/api/v1/account/sessions").await;
        let b_id = of_b.as_array().expect("list").iter().find(|s| s["current"] == true).expect("current")["id"]
            .as_str().expect("id").to_string();
        assert_eq!(delete(&app, &a, &format!("/api/v1/account/sessions/{b_id}")).await.0, 204);
        assert_eq!(get(&app, &b, "/api/v1/account").await.0, 401);
        assert_eq!(get(&app, &c, "/api/v1/account").await.0, 200);
        let (status, body) = delete(&app, &a, "/api/v1/account/sessions").await;
        assert_eq!((status, body["signed_out"].as_u64()), (200, Some(1)));
        assert_eq!(get(&app, &c, "/api/v1/account").await.0, 401);
        assert_eq!(get(&app, &a, "/api/v1/account").await.0, 200);
        let (status, body) = delete(&app, &a, "/api/v1/account/sessions/not-an-id").await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("id")));
    }

    async fn the_last_active_admin_cannot_be_demoted_or_disabled(backend) {
        let app = spawn_app(backend).await;
        let root = with_admin(&app).await;
        let (status, body) = patch(&app, &app.client, &format!("/api/v1/users/{root}"), json!({"role": "member"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("role")), "{body}");
        let (status, body) = patch(&app, &app.client, &format!("/api/v1/users/{root}"), json!({"disabled": true})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("disabled")), "{body}");
        // With a second admin, the first may step down (and is signed out by it).
        let ann = app.add_user("ann@example.org", "member", "UTC").await;
        let (status, body) = patch(&app, &app.client, &format!("/api/v1/users/{ann}"), json!({"role": "admin"})).await;
        assert_eq!((status, body["role"].as_str()), (200, Some("admin")), "{body}");
        let (status, body) = patch(&app, &app.client, &format!("/api/v1/users/{root}"), json!({"role": "member"})).await;
        assert_eq!((status, body["role"].as_str()), (200, Some("member")), "{body}");
        assert_eq!(get(&app, &app.client, "/api/v1/users").await.0, 401, "a role change ends the sessions");
    }

    async fn a_reset_link_sets_a_password_once_and_signs_everyone_out(backend) {
        let app = spawn_app(backend).await;
        with_admin(&app).await;
        let mia = app.add_user("mia@example.org", "member", "UTC").await;
        let phone = signed_in(&app, "mia@example.org", PASSWORD).await;
        let (status, link) = post(&app, &app.client, &format!("/api/v1/users/{mia}/reset-link"), json!({})).await;
        assert_eq!(status, 201, "{link}");
        assert!(link["url"].as_str().expect("url").starts_with("/reset/"));
        let secret = secret_of(&link);
        let (status, body) = post(&app, &client(), &format!("/api/v1/resets/{secret}"), json!({"password": "short"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("password")));
        let (status, _) = post(&app, &client(), &format!("/api/v1/resets/{secret}"), json!({"password": "brand new password"})).await;
        assert_eq!(status, 204);
        assert_eq!(get(&app, &phone, "/api/v1/account").await.0, 401);
        signed_in(&app, "mia@example.org", "brand new password").await;
        let (status, body) = post(&app, &client(), &format!("/api/v1/resets/{secret}"), json!({"password": "another password"})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("secret")), "{body}");
        // A reset link is not an invitation, nor the other way round.
        let (status, _) = post(&app, &client(), &format!("/api/v1/invites/{secret}/accept"),
            json!({"email": "x@example.org", "display_name": "X", "password": "long password"})).await;
        assert!(status == 404 || status == 422, "{status}");
    }

    async fn names_households_and_household_invites_for_signed_in_users(backend) {
        let app = spawn_app(backend).await;
        with_admin(&app).await;
        let tom_id = app.add_user("tom@example.org", "member", "UTC").await;
        let tom = signed_in(&app, "tom@example.org", PASSWORD).await;
        let (status, me) = patch(&app, &tom, "/api/v1/account", json!({"display_name": "Tom T."})).await;
        assert_eq!((status, me["display_name"].as_str()), (200, Some("Tom T.")));
        let (status, body) = patch(&app, &tom, "/api/v1/account", json!({"display_name": "x".repeat(81)})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("display_name")));
        let (_, h) = post(&app, &app.client, "/api/v1/households", json!({"name": "Oak Street"})).await;
        let (_, link) = post(&app, &app.client, "/api/v1/invites", json!({"kind": "household", "household_id": h["id"]})).await;
        let (status, body) = post(&app, &tom, &format!("/api/v1/invites/{}/accept", secret_of(&link)), json!({})).await;
        assert_eq!((status, body["household_id"].as_i64()), (200, h["id"].as_i64()), "{body}");
        let (_, me) = get(&app, &tom, "/api/v1/account").await;
        assert_eq!(me["household"], "Oak Street", "the session carries the new household at once");
        // An admin moves him out again.
        let (status, user) = patch(&app, &app.client, &format!("/api/v1/users/{tom_id}"), json!({"household_id": null})).await;
        assert_eq!((status, user["household_id"].clone()), (200, Value::Null));
        let (_, me) = get(&app, &tom, "/api/v1/account").await;
        assert_eq!(me["household"], Value::Null);
        let (status, body) = patch(&app, &app.client, &format!("/api/v1/users/{tom_id}"), json!({"household_id": 999})).await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("household_id")));
    }
}

/// Disabling on one instance ends the session another instance has cached, over the
/// shared Redis' invalidation channel.
#[tokio::test]
async fn a_disabled_users_session_stops_on_every_instance() {
    let redis = redis_url();
    let with_redis = || Options {
        env: vec![("HEADROOM_REDIS_URL", redis.clone())],
        ..Options::default()
    };
    let a = spawn_app_with(Backend::Sqlite, with_redis()).await;
    let b = spawn_app_with(
        Backend::Sqlite,
        Options {
            database: Some(a.state.settings.database.url.expose().to_string()),
            ..with_redis()
        },
    )
    .await;
    with_admin(&a).await;
    let mia = a.add_user("mia@example.org", "member", "UTC").await;
    let phone = signed_in(&b, "mia@example.org", PASSWORD).await;
    assert_eq!(get(&b, &phone, "/api/v1/account").await.0, 200);
    assert_eq!(get(&b, &phone, "/api/v1/account").await.0, 200);
    subscribed(&a, 2).await;
    let (status, _) = patch(
        &a,
        &a.client,
        &format!("/api/v1/users/{mia}"),
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(status, 200);
    eventually(
        Duration::from_millis(500),
        "B drops the session",
        || async { get(&b, &phone, "/api/v1/account").await.0 == 401 },
    )
    .await;
}

/// Until both instances listen on the invalidation channel, a message would miss one.
async fn subscribed(app: &TestApp, instances: usize) {
    let channel = format!("{}:invalidate", app.state.settings.cache.redis_namespace);
    let client = redis::Client::open(redis_url()).expect("redis url");
    eventually(Duration::from_secs(5), "instances subscribed", || {
        let (client, channel) = (client.clone(), channel.clone());
        async move {
            let Ok(mut con) = client.get_multiplexed_async_connection().await else {
                return false;
            };
            let counts: Vec<(String, usize)> = redis::cmd("PUBSUB")
                .arg("NUMSUB")
                .arg(&channel)
                .query_async(&mut con)
                .await
                .unwrap_or_default();
            counts.first().is_some_and(|(_, n)| *n >= instances)
        }
    })
    .await;
}

/// Token authentication checking `users.disabled_at` comes with token scopes (the other
/// half of issue 19); until then this documents the expectation.
#[tokio::test]
async fn a_disabled_users_token_stops_at_once() {
    let app = spawn_app(Backend::Sqlite).await;
    with_admin(&app).await;
    let mia = app.add_user("mia@example.org", "member", "UTC").await;
    let meter = app
        .add_quota_meter(mia, "Fibre", 1000.0, "monthly:1", "UTC")
        .await;
    let phone = signed_in(&app, "mia@example.org", PASSWORD).await;
    let (status, token) = post(
        &app,
        &phone,
        "/api/v1/tokens",
        json!({"name": "router", "meter_ids": [meter]}),
    )
    .await;
    assert_eq!(status, 201, "{token}");
    let bearer = token["token"].as_str().expect("token").to_string();
    let send = || async {
        client()
            .post(app.url("/api/v1/readings"))
            .bearer_auth(&bearer)
            .json(&json!({"meter_id": meter, "timestamp": "2026-11-21T07:00:00Z", "value": 1.0}))
            .send()
            .await
            .expect("POST")
            .status()
            .as_u16()
    };
    assert_eq!(send().await, 201);
    patch(
        &app,
        &app.client,
        &format!("/api/v1/users/{mia}"),
        json!({"disabled": true}),
    )
    .await;
    assert_eq!(send().await, 401);
}

/// The pages' forms without JavaScript, end to end over HTTP: first run, an invitation
/// accepted, a password changed through `/account`, signing the other device out.
#[tokio::test]
async fn the_account_pages_work_as_plain_forms() {
    let app = spawn_app(Backend::Sqlite).await;
    let code = app
        .state
        .db
        .app_secret("setup_code")
        .await
        .expect("read")
        .expect("a code");
    let setup = app.get("/setup").await;
    assert_eq!(setup.status(), 200);
    assert!(
        setup
            .text()
            .await
            .expect("html")
            .contains(r#"action="/forms/setup""#)
    );
    let res = app
        .client
        .post(app.url("/forms/setup"))
        .form(&[
            ("setup_code", "WRONG-CODE"),
            ("email", "root@example.org"),
            ("display_name", "Root"),
            ("password", "root password"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 422);
    let html = res.text().await.expect("html");
    assert!(
        html.contains("not the setup code") && !html.contains("root password"),
        "{html}"
    );
    let res = app
        .client
        .post(app.url("/forms/setup"))
        .form(&[
            ("setup_code", code.as_str()),
            ("email", "root@example.org"),
            ("display_name", "Root"),
            ("password", "root password"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["location"].to_str().ok()
        ),
        (303, Some("/admin/users"))
    );
    assert_eq!(
        app.get("/setup").await.headers()["location"],
        "/",
        "signed in: nothing to set up"
    );

    let res = app
        .client
        .post(app.url("/forms/admin/invites"))
        .form(&[("role", "member"), ("household_id", "")])
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    let html = res.text().await.expect("html");
    let start = html.find("/invite/").expect("the link is shown");
    let link = html[start..start + "/invite/".len() + 43].to_string();

    let laptop = client();
    let page = laptop.get(app.url(&link)).send().await.expect("GET");
    assert_eq!(page.status(), 200);
    assert!(page.text().await.expect("html").contains("invite-form"));
    let res = laptop
        .post(app.url(&format!("/forms{link}")))
        .form(&[
            ("email", "ann@example.org"),
            ("display_name", "Ann"),
            ("password", "ann password 1"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        (
            res.status().as_u16(),
            res.headers()["location"].to_str().ok()
        ),
        (303, Some("/"))
    );
    let phone = signed_in(&app, "ann@example.org", "ann password 1").await;
    let account = laptop.get(app.url("/account")).send().await.expect("GET");
    assert_eq!(account.status(), 200);
    let html = account.text().await.expect("html");
    assert!(
        html.contains("Firefox on Linux") && html.contains("this device"),
        "{html}"
    );
    let res = laptop
        .post(app.url("/forms/account/password"))
        .form(&[
            ("current_password", "ann password 1"),
            ("new_password", "ann password 2"),
        ])
        .send()
        .await
        .expect("POST");
    assert_eq!(
        res.headers()["location"],
        "/account?saved=password&signed_out=1"
    );
    assert_eq!(
        phone
            .get(app.url("/account"))
            .send()
            .await
            .expect("GET")
            .headers()["location"],
        "/login?next=/account"
    );
    assert_eq!(
        laptop
            .get(app.url("/account"))
            .send()
            .await
            .expect("GET")
            .status(),
        200
    );
}
