//! The meter and token pages and their HTML forms, as a browser without JavaScript uses them.

use crate::helpers::*;
use crate::meters_api::spawn_user_client;
use crate::on_both_backends;

async fn form(app: &TestApp, path: &str, fields: &[(&str, &str)]) -> reqwest::Response {
    app.client
        .post(app.url(path))
        .form(fields)
        .send()
        .await
        .expect("POST")
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

const FIBRE: &[(&str, &str)] = &[
    ("kind", "quota"),
    ("name", "Home fibre"),
    ("unit", "MB"),
    ("timezone", "Europe/Tallinn"),
    ("quota", "1048576"),
    ("reset_kind", "monthly"),
    ("reset_day", "15"),
    ("reset_weekday", "mon"),
    ("every_days", "30"),
    ("anchor", ""),
];

on_both_backends! {
    async fn a_meter_is_added_through_the_form(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "Europe/Tallinn").await;
        let page = app.get("/meters/new").await.text().await.expect("html");
        assert!(page.contains(r#"<option value="Europe/Tallinn" selected"#), "the user's timezone is preselected");
        let res = form(&app, "/meters/new", FIBRE).await;
        assert_eq!(res.status(), 303);
        let to = location(&res);
        assert!(to.starts_with("/meters/") && to.ends_with("?saved=meter"), "{to}");
        let html = app.get(&to).await.text().await.expect("html");
        assert!(html.contains("Meter saved.") && html.contains("Home fibre"));
        let (_, list) = json_of(app.get("/api/v1/meters").await).await;
        assert_eq!(list[0]["reset_rule"], "monthly:15");
        assert!(app.get("/meters").await.text().await.expect("html").contains("Home fibre"));
    }

    async fn a_bad_form_comes_back_with_messages_and_the_typed_values(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "UTC").await;
        let mut bad = FIBRE.to_vec();
        bad[1] = ("name", "");
        bad[4] = ("quota", "lots");
        bad[5] = ("reset_kind", "every");
        let res = form(&app, "/meters/new", &bad).await;
        assert_eq!(res.status(), 422);
        let html = res.text().await.expect("html");
        assert!(html.contains("must be a number"), "quota message");
        assert!(html.contains("pick a day on which a period starts"), "anchor message");
        assert!(html.contains(r#"value="lots""#), "the typed quota is kept");
        assert!(html.contains(r#"aria-invalid="true""#));
        assert_eq!(app.state.db.meters_of(1).await.expect("rows").len(), 0, "nothing was created");
    }

    async fn a_reading_is_entered_by_hand_in_the_meters_timezone(backend) {
        let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().expect("literal");
        let app = spawn_app_with(backend, Options { now: Some(now), ..Options::default() }).await;
        let user = app.signed_in_user("mia@example.org", "Europe/Tallinn").await;
        let meter = app.add_quota_meter(user, "Fibre", 1000.0, "monthly:1", "Europe/Tallinn").await;
        let res = form(&app, &format!("/meters/{meter}/readings"), &[("value", "42.5"), ("timestamp", "2026-11-21T09:30")]).await;
        assert_eq!(res.status(), 303);
        assert!(location(&res).ends_with("?saved=reading"));
        let stored = app.state.db.reading_at_or_before(meter, now.as_second(), 2).await.expect("query").expect("stored");
        // 09:30 in Tallinn (UTC+2) is 07:30 UTC.
        assert_eq!((stored.ts, stored.value), (now.as_second() - 4 * 3600 - 30 * 60, 42.5));
        let res = form(&app, &format!("/meters/{meter}/readings"), &[("value", "-3"), ("timestamp", "")]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.expect("html").contains("must not be negative"));
        let html = app.get(&format!("/meters/{meter}")).await.text().await.expect("html");
        assert!(html.contains("Recent days") && html.contains("Sat 21 Nov"));
    }

    async fn tokens_are_shown_once_and_revoked_through_the_page(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1000.0, "monthly:1", "UTC").await;
        let res = form(&app, "/settings/tokens", &[("name", "router"), ("meter_ids", &meter.to_string())]).await;
        assert_eq!(res.status(), 200);
        let html = res.text().await.expect("html");
        let start = html.find("hr_").expect("the token is shown");
        let token: String = html[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_' || *c == '-').collect();
        assert_eq!(token.len(), 46);
        let again = app.get("/settings/tokens").await.text().await.expect("html");
        assert!(!again.contains(&token), "shown once only");
        assert!(again.contains("router"));
        let res = form(&app, "/settings/tokens", &[("name", "")]).await;
        assert_eq!(res.status(), 422);
        assert!(res.text().await.expect("html").contains("choose at least one meter"));
        let id = app.state.db.tokens_of(user).await.expect("rows")[0].id;
        let res = form(&app, &format!("/settings/tokens/{id}/revoke"), &[]).await;
        assert_eq!(res.status(), 303);
        assert!(app.state.db.tokens_of(user).await.expect("rows")[0].revoked_at.is_some());
    }

    async fn archiving_through_the_page_and_other_peoples_meters(backend) {
        let app = spawn_app(backend).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1000.0, "monthly:1", "UTC").await;
        let other = spawn_user_client(&app, "tom@example.org").await;
        let res = other.get(app.url(&format!("/meters/{meter}"))).send().await.expect("GET");
        assert_eq!(res.status(), 404);
        assert!(res.text().await.expect("html").contains("No such meter"));
        let res = other.post(app.url(&format!("/meters/{meter}/archive"))).send().await.expect("POST");
        assert_eq!(res.status(), 404);
        let res = form(&app, &format!("/meters/{meter}/archive"), &[]).await;
        assert_eq!(location(&res), format!("/meters?archived={meter}"));
        assert!(app.get("/meters?archived=1").await.text().await.expect("html").contains("archived"));
        // A signed-out browser posting a form is sent to sign in.
        let res = client().post(app.url("/meters/new")).form(FIBRE).send().await.expect("POST");
        assert_eq!(location(&res), "/login");
    }
}

/// Building another server in the same process (this suite builds dozens, concurrently)
/// must not stall a page that one is rendering: listing the page routes parks every
/// Resource first polled meanwhile, so the routes are listed once per process.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn building_more_servers_never_stalls_a_page_being_rendered() {
    use std::sync::{
        Arc,
        atomic::{AtomicBool, Ordering::Relaxed},
    };
    let app = spawn_app(Backend::Sqlite).await;
    let user = app.signed_in_user("mia@example.org", "UTC").await;
    let meter = app
        .add_quota_meter(user, "Fibre", 1_048_576.0, "monthly:1", "UTC")
        .await;
    // Stops the builder however this test ends: the runtime waits for it before a panic
    // can be reported.
    struct StopOnDrop(Arc<AtomicBool>);
    impl Drop for StopOnDrop {
        fn drop(&mut self) {
            self.0.store(true, Relaxed);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let builder = {
        let (state, stop) = (app.state.clone(), stop.clone());
        tokio::task::spawn_blocking(move || {
            let mut built = 0u32;
            while !stop.load(Relaxed) {
                drop(headroom::server::http::router::build(state.clone()));
                built += 1;
            }
            built
        })
    };
    for path in ["/", &format!("/meters/{meter}"), "/meters"].repeat(10) {
        let res = tokio::time::timeout(std::time::Duration::from_secs(10), app.get(path))
            .await
            .unwrap_or_else(|_| panic!("{path} stalled while another server was built"));
        assert_eq!(res.status(), 200, "{path}");
    }
    stop.store(true, Relaxed);
    let built = builder.await.expect("builder");
    assert!(built > 0, "no server was built meanwhile");
}
