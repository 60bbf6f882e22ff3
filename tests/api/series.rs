//! The chart explorer's API: for every tier, each drawn column's minimum and maximum are
//! exactly the raw readings' in its span; answers are cached, revalidated and dropped by
//! a write; bad ranges name their field; overlays follow the meter's kind.

use headroom::{
    domain::rollup::Reading,
    server::{
        service::{freshness, ingest},
        storage::meters::NewMeter,
    },
};
use serde_json::{Value, json};

use crate::helpers::*;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T08:00:00Z";
const NOW_SECS: i64 = 1_795_248_000;

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_at(backend, NOW).await
}

/// A Berlin room sensor with 400 days of readings every 13 minutes (jittered), a spike
/// up or down every 997th, and a dead week in July; returns the meter and its readings.
async fn sensor_with_history(app: &TestApp, owner: i64) -> (i64, Vec<Reading>) {
    let meter = app
        .state
        .db
        .create_meter(&NewMeter {
            owner_id: owner,
            kind: "sensor",
            name: "Bedroom",
            unit: "°C",
            timezone: "Europe/Berlin",
            quota: None,
            reset_rule: None,
            range_min: Some(17.0),
            range_max: Some(24.0),
            position: 0,
            created_at: 0,
        })
        .await
        .expect("create sensor");
    let start = NOW_SECS - 400 * 86_400;
    let dead = (1_785_000_000, 1_785_000_000 + 7 * 86_400);
    let mut readings = Vec::new();
    let mut seed: u64 = 42;
    let mut ts = start;
    let mut i = 0u32;
    while ts < NOW_SECS {
        seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1);
        let jitter = (seed >> 33) % 120;
        let base = 20.0 + ((ts as f64) / 86_400.0 * std::f64::consts::TAU).sin() * 3.0;
        let value = match i % 997 {
            0 => base + 40.0,
            500 => base - 40.0,
            _ => base + ((seed >> 40) % 100) as f64 / 100.0,
        };
        if !(dead.0..dead.1).contains(&ts) {
            readings.push(Reading {
                ts: ts + jitter as i64,
                value: (value * 100.0).round() / 100.0,
                remaining: None,
            });
        }
        ts += 13 * 60;
        i += 1;
    }
    let rows: Vec<ingest::NewReading> = readings
        .iter()
        .map(|r| ingest::NewReading {
            meter_id: meter,
            ts: r.ts,
            value: r.value,
            remaining: None,
        })
        .collect();
    for chunk in rows.chunks(10_000) {
        ingest::write(&app.state.db, chunk).await.expect("ingest");
    }
    freshness::meter_changed(&app.state, meter).await;
    (meter, readings)
}

async fn get_json(app: &TestApp, path: &str) -> (u16, Value) {
    json_of(app.client.get(app.url(path)).send().await.expect("GET")).await
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("a number")
}

/// Every column against the raw readings of its span.
fn assert_exact(s: &Value, readings: &[Reading], what: &str) {
    let n = s["drawn_count"].as_u64().expect("drawn_count") as usize;
    let t0 = s["t0"].as_array().expect("t0");
    let t1 = s["t1"].as_array().expect("t1");
    assert_eq!(t0.len(), n, "{what}");
    assert!(n > 0, "{what}: nothing drawn");
    let mut raw_total = 0u64;
    for i in 0..n {
        let (a, b) = (t0[i].as_i64().expect("t0"), t1[i].as_i64().expect("t1"));
        if i > 0 {
            assert!(
                t1[i - 1].as_i64().expect("t1") <= a,
                "{what}: columns out of order"
            );
        }
        let inside: Vec<&Reading> = readings.iter().filter(|r| r.ts >= a && r.ts < b).collect();
        let min = inside.iter().map(|r| r.value).fold(f64::INFINITY, f64::min);
        let max = inside
            .iter()
            .map(|r| r.value)
            .fold(f64::NEG_INFINITY, f64::max);
        assert_eq!(
            s["count"][i].as_u64(),
            Some(inside.len() as u64),
            "{what}: column {i} ({a}..{b})"
        );
        assert_eq!(f(&s["min"][i]), min, "{what}: column {i} min");
        assert_eq!(f(&s["max"][i]), max, "{what}: column {i} max");
        raw_total += inside.len() as u64;
    }
    assert_eq!(s["raw_count"].as_u64(), Some(raw_total), "{what}");
    let (from, to) = (
        s["read_from"].as_i64().expect("from"),
        s["read_to"].as_i64().expect("to"),
    );
    let expected = readings
        .iter()
        .filter(|r| r.ts >= from && r.ts < to)
        .count() as u64;
    assert_eq!(
        raw_total, expected,
        "{what}: every reading of the range is in a column"
    );
}

on_both_backends! {
    async fn every_tier_draws_the_exact_envelope(backend) {
        let app = spawn(backend).await;
        let owner = app.signed_in_user("mia@example.org", "Europe/Berlin").await;
        let (meter, readings) = sensor_with_history(&app, owner).await;
        let cases = [
            ("range=6h", "raw"),
            ("range=24h", "quarter_hour"),
            ("range=7d", "quarter_hour"),
            ("range=30d", "hour"),
            ("range=1y", "day"),
            // Berlin's spring and autumn changes, by hour and by local day.
            ("from=2026-03-25T00:00:00Z&to=2026-04-05T00:00:00Z", "hour"),
            ("from=2025-12-01T00:00:00Z&to=2026-11-01T00:00:00Z", "day"),
            ("from=2020-01-01T00:00:00Z&to=2026-11-21T00:00:00Z", "week"),
            ("from=1791000000&to=1791010000", "raw"),
        ];
        for (query, tier) in cases {
            for (width, dpr) in [(390, 3.0), (1280, 1.0), (0, 1.0)] {
                let path = format!("/api/v1/meters/{meter}/series?{query}&width={width}&dpr={dpr}");
                let (status, s) = get_json(&app, &path).await;
                assert_eq!(status, 200, "{path}: {s}");
                assert_eq!(s["tier"], tier, "{path}");
                let budget = if width == 0 { 600 } else { (f64::from(width) * dpr) as u64 };
                assert!(s["drawn_count"].as_u64().expect("n") <= budget, "{path}: over budget");
                assert_exact(&s, &readings, &path);
            }
        }
        // Local days are 23 and 25 hours long across the changes.
        let (_, s) = get_json(&app, &format!("/api/v1/meters/{meter}/series?from=2026-03-27T00:00:00Z&to=2026-11-01T00:00:00Z&width=1280")).await;
        let lengths: Vec<i64> = (0..s["drawn_count"].as_u64().expect("n") as usize)
            .map(|i| s["t1"][i].as_i64().expect("t1") - s["t0"][i].as_i64().expect("t0"))
            .collect();
        assert!(lengths.contains(&(23 * 3_600)) && lengths.contains(&(25 * 3_600)), "{lengths:?}");
        // The dead week is a gap, and the band of the sensor's normal range comes along.
        let (_, s) = get_json(&app, &format!("/api/v1/meters/{meter}/series?from=1784500000&to=1786000000&width=400")).await;
        assert_eq!(s["gaps"].as_array().map(Vec::len), Some(1), "{}", s["gaps"]);
        assert_eq!(s["normal_range"], json!({"min": 17.0, "max": 24.0}));
        assert_eq!(s["method"], "minmax");
    }

    async fn answers_are_cached_revalidated_and_dropped_by_a_write(backend) {
        let app = spawn(backend).await;
        let meter = app.member_with_meter("mia@example.org").await;
        let path = format!("/api/v1/meters/{meter}/series?range=7d&width=600");
        let first = app.client.get(app.url(&path)).send().await.expect("GET");
        let etag = first.headers().get("etag").expect("an ETag").to_str().expect("ascii").to_string();
        let body: Value = first.json().await.expect("json");
        assert_eq!(body["raw_count"], 2);
        let again = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.expect("GET");
        assert_eq!(again.status(), 304);
        app.add_readings(meter, &[("2026-11-21T07:30:00Z", 109_000.0)]).await;
        let after = app.client.get(app.url(&path)).header("if-none-match", &etag).send().await.expect("GET");
        assert_eq!(after.status(), 200, "a write makes the cached series stale");
        let body: Value = after.json().await.expect("json");
        assert_eq!(body["raw_count"], 3);
        // The quota meter's overlays: this period (November, UTC), its budget and pace.
        let q = &body["quota"];
        assert_eq!(q["quota"], 300_000.0);
        assert_eq!(q["period_start"], 1_793_491_200); // 2026-11-01T00:00:00Z
        assert_eq!(q["period_end"], 1_796_083_200); // 2026-12-01T00:00:00Z
        assert_eq!(q["used"], 109_000.0);
        assert!(f(&q["projected_low"]) <= f(&q["projected"]) && f(&q["projected"]) <= f(&q["projected_high"]), "{q}");
        let (_, month) = get_json(&app, &format!("/api/v1/meters/{meter}/series?range=30d")).await;
        assert_eq!(month["quota"]["boundaries"], json!([1_793_491_200]));
    }

    async fn bad_ranges_name_their_field_and_strangers_see_nothing(backend) {
        let app = spawn(backend).await;
        let meter = app.member_with_meter("mia@example.org").await;
        let base = format!("/api/v1/meters/{meter}/series");
        for (query, field) in [
            ("range=2w", "range"),
            ("from=yesterday", "from"),
            ("from=1795000000&to=1794000000", "to"),
            ("from=-5&to=100", "from"),
            ("from=0&to=1795000000", "from"),
            ("to=1900000000", "to"),
            ("width=-3", "width"),
            ("width=1e9", "width"),
            ("dpr=40", "dpr"),
        ] {
            let (status, body) = get_json(&app, &format!("{base}?{query}")).await;
            assert_eq!((status, body["error"]["field"].as_str()), (422, Some(field)), "{query}: {body}");
        }
        // Dates are whole days (UTC in the API): the end date is included.
        let (status, s) = get_json(&app, &format!("{base}?from=2026-11-14&to=2026-11-20")).await;
        assert_eq!(status, 200, "{s}");
        assert!(s["read_from"].as_i64() <= Some(1_794_614_400) && s["read_to"].as_i64() >= Some(1_795_219_200), "{s}");
        let (status, body) = get_json(&app, "/api/v1/series?ids=1,2,3,4,5").await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("ids")), "{body}");
        let (status, body) = get_json(&app, "/api/v1/series?ids=x").await;
        assert_eq!((status, body["error"]["field"].as_str()), (422, Some("ids")), "{body}");
        // Two meters of one unit on one chart; a stranger's meter is not found.
        let second = app.add_quota_meter(app.state.db.user_by_email("mia@example.org").await.expect("db").expect("mia").id, "Mobile", 20_000.0, "monthly:1", "UTC").await;
        let (status, set) = get_json(&app, &format!("/api/v1/series?ids={meter},{second}&range=7d")).await;
        assert_eq!(status, 200, "{set}");
        assert_eq!(set["series"].as_array().map(Vec::len), Some(2));
        let eve = crate::meters_api::spawn_user_client(&app, "eve@example.org").await;
        let res = eve.get(app.url(&format!("{base}?range=7d"))).send().await.expect("GET");
        assert_eq!(res.status(), 404);
        let res = eve.get(app.url(&format!("/api/v1/series?ids={meter}"))).send().await.expect("GET");
        assert_eq!(res.status(), 404);
    }
}
