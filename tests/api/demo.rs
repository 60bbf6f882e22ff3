use headroom::server::demo::{self, DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DemoSize};

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-20T18:03:00Z";

on_both_backends! {
    async fn demo_household_has_admin_members_meters_and_readings(backend) {
        let app = spawn_app(backend).await;
        let now: jiff::Timestamp = "2026-11-20T18:03:00Z".parse().expect("literal");
        let written = demo::seed(&app.state.db, now, DemoSize { days: 3, users: 0 }, DEMO_PASSWORD).await.expect("seed");
        // The household of four, and six neighbours (a peer group for Ada).
        assert_eq!(app.state.db.count_users().await.expect("count"), 10);
        let admin = app.state.db.user_by_email(DEMO_ADMIN_EMAIL).await.expect("query").expect("admin exists");
        assert_eq!(admin.role, "admin");
        let meters = app.state.db.active_meters(admin.id).await.expect("meters");
        assert_eq!(meters.len(), 3);
        assert_eq!(meters[0].kind, "quota");
        // 3 days of 10-minute readings, both ends included, for each of the 15 meters.
        let per_meter = 3 * 144 + 1;
        assert_eq!(app.state.db.count_readings(meters[0].id).await.expect("count"), per_meter);
        assert_eq!(written, 15 * per_meter as u64);
        // The printed password works.
        let res = app.sign_in(DEMO_ADMIN_EMAIL, DEMO_PASSWORD).await;
        assert_eq!(res.status(), 303);
        assert_eq!(res.headers()["location"], "/");
    }

    async fn generated_members_are_real_accounts_the_warmer_computes(backend) {
        // `headroom demo --users 5`: the household and five members with three quota
        // meters each, read hourly; at 18:03 UTC it is past 05:00 in all their timezones.
        let app = spawn_app_at(backend, NOW).await;
        let now: jiff::Timestamp = NOW.parse().expect("literal");
        let written = demo::seed(&app.state.db, now, DemoSize { days: 3, users: 5 }, DEMO_PASSWORD)
            .await
            .expect("seed");
        assert_eq!(app.state.db.count_users().await.expect("count"), 15);
        let member = app.state.db.user_by_email(&demo::crowd_email(3)).await.expect("query").expect("member 3");
        assert_eq!((member.role.as_str(), member.timezone.as_str()), ("member", "America/Chicago"));
        let meters = app.state.db.active_meters(member.id).await.expect("meters");
        assert_eq!(meters.len(), 3);
        assert!(meters.iter().all(|m| m.kind == "quota" && m.reset_rule.is_some()));
        // 3 days of hourly readings, both ends included, on each of the 15 new meters.
        let per_meter = 3 * 24 + 1;
        assert_eq!(app.state.db.count_readings(meters[0].id).await.expect("count"), per_meter);
        assert_eq!(written, 15 * (3 * 144 + 1) as u64 + 15 * per_meter as u64);
        let report = headroom::server::jobs::warmer::run_once(&app.state).await.expect("warm");
        assert_eq!((report.computed, report.not_yet, report.already_fresh), (15, 0, 0));
        // They sign in with the demo password, and their outlook is the stored one.
        let res = app.sign_in(&demo::crowd_email(3), DEMO_PASSWORD).await;
        assert_eq!(res.status(), 303);
        let res = app.get("/api/v1/outlook").await;
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["x-cache"], "hit");
    }
}
