use crate::helpers::*;
use crate::on_both_backends;

fn set_cookie(res: &reqwest::Response) -> Option<String> {
    res.headers()
        .get("set-cookie")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

on_both_backends! {
    async fn sign_in_sets_a_safe_session_cookie(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let res = app.sign_in("Mia@Example.org", PASSWORD).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/");
        let cookie = set_cookie(&res).expect("a session cookie");
        assert!(cookie.starts_with("headroom_session="), "{cookie}");
        assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "{cookie}");
        // The cookie opens the outlook.
        let page = app.get("/").await;
        assert_eq!(page.status(), 200);
        assert!(page.text().await.expect("html").contains("mia"));
    }

    async fn wrong_password_and_unknown_email_get_the_same_answer(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let wrong_pw = app.sign_in("mia@example.org", "not-the-password").await;
        let no_user = app.sign_in("nobody@example.org", PASSWORD).await;
        for res in [&wrong_pw, &no_user] {
            assert_eq!(res.status(), 303);
            assert_eq!(res.headers()["location"], "/login?error=invalid");
            assert!(set_cookie(res).is_none());
        }
        let html = app.get("/login?error=invalid").await.text().await.expect("html");
        assert!(html.contains("Email or password is incorrect."), "{html}");
    }

    async fn sign_in_rotates_the_session(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let first = set_cookie(&app.sign_in("mia@example.org", PASSWORD).await).expect("cookie");
        let second = set_cookie(&app.sign_in("mia@example.org", PASSWORD).await).expect("cookie");
        assert_ne!(first, second);
        // The first session no longer opens anything.
        let old_token = first.split(';').next().expect("pair").to_string();
        let stale = client().get(app.url("/")).header("cookie", old_token).send().await.expect("GET");
        assert_eq!(stale.status(), 302);
    }

    async fn sign_out_ends_the_session(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let cookie = set_cookie(&app.sign_in("mia@example.org", PASSWORD).await).expect("cookie");
        let token = cookie.split(';').next().expect("pair").to_string();
        let res = app.client.post(app.url("/logout")).send().await.expect("POST");
        assert_eq!(res.status(), 303);
        assert!(set_cookie(&res).expect("cleared").contains("Max-Age=0"));
        let replay = client().get(app.url("/")).header("cookie", token).send().await.expect("GET");
        assert_eq!(replay.status(), 302, "a signed-out token must not work again");
    }

    async fn a_stale_cookie_costs_one_lookup_not_one_per_request(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        // Well-formed (43 URL-safe characters), never issued: what a phone sends after
        // its session was deleted on the server.
        let stale = format!("headroom_session={}", "A".repeat(43));
        for _ in 0..5 {
            let res = client().get(app.url("/api/v1/outlook")).header("cookie", &stale)
                .send().await.expect("GET");
            assert_eq!(res.status(), 401);
        }
        let session = |stats: &headroom::server::cache::CacheStats| {
            let s = stats.strategies.iter().find(|s| s.strategy == "session").expect("session strategy");
            (s.misses, s.hits)
        };
        assert_eq!(session(&app.state.cache.stats().await), (1, 4),
            "the unknown token is looked up once and then answered from the cache");
        // A sign-in mints a new token, so the remembered "no one" cannot shadow it.
        let cookie = set_cookie(&app.sign_in("mia@example.org", PASSWORD).await).expect("cookie");
        let fresh = cookie.split(';').next().expect("pair").to_string();
        let res = client().get(app.url("/api/v1/outlook")).header("cookie", fresh).send().await.expect("GET");
        assert_eq!(res.status(), 200);
    }

    async fn repeated_failures_are_throttled(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        for _ in 0..5 {
            app.sign_in("mia@example.org", "guess").await;
        }
        let res = app.sign_in("mia@example.org", PASSWORD).await;
        assert_eq!(res.headers()["location"], "/login?error=throttled");
        assert!(set_cookie(&res).is_none());
    }

    async fn cross_site_form_posts_are_refused(backend) {
        let app = spawn_app(backend).await;
        app.add_user("mia@example.org", "member", "UTC").await;
        let res = app.client.post(app.url("/login"))
            .header("origin", "https://evil.example")
            .form(&[("email", "mia@example.org"), ("password", PASSWORD)])
            .send().await.expect("POST");
        assert_eq!(res.status(), 403);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["error"]["code"], "forbidden");
    }

    async fn signed_out_visitors_are_sent_to_sign_in(backend) {
        let app = spawn_app(backend).await;
        // (With no account at all they are sent to /setup: see accounts.rs.)
        app.add_user("mia@example.org", "member", "UTC").await;
        let res = app.get("/").await;
        assert_eq!(res.status(), 302);
        assert_eq!(res.headers()["location"], "/login");
        let login = app.get("/login").await;
        assert_eq!(login.status(), 200);
        let html = login.text().await.expect("html");
        assert!(html.contains(r#"action="/login""#) && html.contains(r#"name="password""#));
    }
}
