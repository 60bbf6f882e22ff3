use headroom::server::demo::{self, DEMO_ADMIN_EMAIL, DEMO_PASSWORD, DemoSize};

use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn demo_household_has_admin_members_meters_and_readings(backend) {
        let app = spawn_app(backend).await;
        let now: jiff::Timestamp = "2026-11-20T18:03:00Z".parse().expect("literal");
        let written = demo::seed(&app.state.db, now, DemoSize { days: 3 }, DEMO_PASSWORD).await.expect("seed");
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
}
