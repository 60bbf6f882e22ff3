use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn outlook_page_shows_used_remaining_and_todays_budget(backend) {
        // 21 Nov 2026, 10:00 in Tallinn (UTC+2). The plan: 300 000 MB, resets on the 1st.
        let now: jiff::Timestamp = "2026-11-21T08:00:00Z".parse().expect("literal");
        let app = spawn_app_with(backend, Options { now: Some(now), ..Options::default() }).await;
        let user = app.add_user("mia@example.org", "member", "Europe/Tallinn").await;
        let meter = app.add_quota_meter(user, "Home fibre", 300_000.0, "monthly:1", "Europe/Tallinn").await;
        app.add_readings(meter, &[
            ("2026-10-31T21:50:00Z", 290_000.0), // last reading of October (local time)
            ("2026-11-01T00:00:00Z", 1_000.0),   // 02:00 local on 1 Nov: new period
            ("2026-11-20T21:50:00Z", 100_000.0), // 23:50 local on the 20th
            ("2026-11-21T07:50:00Z", 104_000.0), // 09:50 local today
            ("2026-11-21T09:00:00Z", 999_999.0), // in the future: must be ignored
        ]).await;
        app.sign_in("mia@example.org", PASSWORD).await;
        let res = app.get("/").await;
        assert_eq!(res.status(), 200);
        let csp = res.headers()["content-security-policy"].to_str().expect("ascii").to_string();
        let html = res.text().await.expect("html");
        // 200 000 MB left this morning over 10 days (21st–30th) = 20 000 MB a day.
        assert!(html.contains("19.5 GB"), "daily budget missing:\n{html}");
        // Used 104 000 MB = 101.6 GB; remaining 196 000 MB = 191 GB; 4 000 MB today.
        assert!(html.contains("102 GB"), "used missing");
        assert!(html.contains("191 GB"), "remaining missing");
        assert!(html.contains("15.6 GB left today"), "left today missing");
        assert!(html.contains("10 days left, until Mon 30 Nov"), "{html}");
        // The page's script runs only with this response's nonce.
        let nonce = csp.split("'nonce-").nth(1).and_then(|s| s.split('\'').next()).expect("nonce in CSP");
        assert!(html.contains(&format!("nonce=\"{nonce}\"")), "hydration script lacks the nonce");
    }

    async fn a_user_without_meters_is_told_what_to_do(backend) {
        let app = spawn_app(backend).await;
        app.add_user("new@example.org", "member", "UTC").await;
        app.sign_in("new@example.org", PASSWORD).await;
        let html = app.get("/").await.text().await.expect("html");
        assert!(html.contains("No quota meter yet"), "{html}");
    }
}
