//! Meters shared within a household: what a viewer and an editor may do, what another
//! household never sees, and read tokens that reach only their meters.

use serde_json::{Value, json};

use crate::helpers::*;
use crate::meters_api::spawn_user_client;
use crate::on_both_backends;

const NOW: &str = "2026-11-21T08:00:00Z";

async fn spawn(backend: Backend) -> TestApp {
    spawn_app_at(backend, NOW).await
}

/// Mia (signed in on `app.client`) with a quota meter that has two days of readings,
/// and her household with Tom and Ada; Eve is in another household.
struct Family {
    meter: i64,
    sensor: i64,
    tom: reqwest::Client,
    tom_id: i64,
    ada: reqwest::Client,
    ada_id: i64,
    eve: reqwest::Client,
}

async fn family(app: &TestApp) -> Family {
    let mia = app.signed_in_user("mia@example.org", "UTC").await;
    let meter = app
        .add_quota_meter(mia, "Home internet", 300_000.0, "monthly:1", "UTC")
        .await;
    app.add_readings(
        meter,
        &[
            ("2026-11-20T07:00:00Z", 100_000.0),
            ("2026-11-21T07:00:00Z", 110_000.0),
        ],
    )
    .await;
    let (status, sensor) = json_of(
        app.post_json(
            "/api/v1/meters",
            &json!({"kind": "sensor", "name": "Bedroom", "unit": "°C", "timezone": "UTC"}),
        )
        .await,
    )
    .await;
    assert_eq!(status, 201, "{sensor}");
    let tom = spawn_user_client(app, "tom@example.org").await;
    let ada = spawn_user_client(app, "ada@example.org").await;
    let eve = spawn_user_client(app, "eve@example.org").await;
    let id_of = |email: &'static str| async move {
        app.state
            .db
            .user_by_email(email)
            .await
            .expect("user")
            .expect("exists")
            .id
    };
    let (tom_id, ada_id, eve_id) = (
        id_of("tom@example.org").await,
        id_of("ada@example.org").await,
        id_of("eve@example.org").await,
    );
    app.add_household("Mia's", &[mia, tom_id, ada_id]).await;
    app.add_household("Eve's", &[eve_id]).await;
    Family {
        meter,
        sensor: sensor["id"].as_i64().expect("id"),
        tom,
        tom_id,
        ada,
        ada_id,
        eve,
    }
}

async fn status(req: reqwest::RequestBuilder) -> u16 {
    req.send().await.expect("request").status().as_u16()
}

async fn get_json(c: &reqwest::Client, app: &TestApp, path: &str) -> (u16, Value) {
    json_of(c.get(app.url(path)).send().await.expect("GET")).await
}

async fn share(app: &TestApp, meter: i64, body: Value) -> (u16, Value) {
    let res = app
        .client
        .put(app.url(&format!("/api/v1/meters/{meter}/sharing")))
        .json(&body)
        .send()
        .await
        .expect("PUT");
    json_of(res).await
}

/// Every way a caller can touch meter `m`, with the status a read-only caller must get
/// for each write (`write`) and each read (`read`).
async fn assert_reach(app: &TestApp, c: &reqwest::Client, m: i64, read: u16, write: u16) {
    for path in [
        format!("/api/v1/meters/{m}"),
        format!("/api/v1/meters/{m}/trends?days=7"),
        format!("/api/v1/meters/{m}/timeline?hours=24"),
        format!("/api/v1/meters/{m}/readings?format=json"),
    ] {
        assert_eq!(status(c.get(app.url(&path))).await, read, "GET {path}");
    }
    let patch = c
        .patch(app.url(&format!("/api/v1/meters/{m}")))
        .json(&json!({"name": "Mine now"}));
    assert_eq!(status(patch).await, write, "PATCH meter");
    let ingest = c
        .post(app.url("/api/v1/readings"))
        .json(&json!({"meter_id": m, "timestamp": "2026-11-21T07:30:00Z", "value": 120000}));
    // A batch names its bad entries: an unknown meter is an invalid entry (422).
    let ingest_status = if write == 404 { 422 } else { write };
    assert_eq!(status(ingest).await, ingest_status, "POST reading");
    let archive = c
        .post(app.url(&format!("/api/v1/meters/{m}/archive")))
        .json(&json!({}));
    let manage = if read == 404 { 404 } else { 403 };
    assert_eq!(status(archive).await, manage, "archive");
    let sharing = c.get(app.url(&format!("/api/v1/meters/{m}/sharing")));
    assert_eq!(status(sharing).await, manage, "sharing");
    let source = c.get(app.url(&format!("/api/v1/meters/{m}/source")));
    assert_eq!(status(source).await, manage, "source");
}

on_both_backends! {
    async fn an_unshared_meter_is_nobody_elses_business(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        // Not shared yet: the household sees nothing, exactly like a stranger.
        for c in [&f.tom, &f.eve] {
            assert_reach(&app, c, f.meter, 404, 404).await;
            let (_, list) = get_json(c, &app, "/api/v1/meters").await;
            assert_eq!(list, json!([]));
        }
        // An id that does not exist answers the same.
        assert_reach(&app, &f.tom, 987_654, 404, 404).await;
    }

    async fn a_viewer_sees_a_shared_meter_everywhere_and_changes_nothing(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        let (code, sharing) = share(&app, f.meter, json!({"household_role": "viewer"})).await;
        assert_eq!(code, 200, "{sharing}");
        assert_eq!(sharing["household_role"], "viewer");
        assert_eq!(sharing["members"].as_array().map(Vec::len), Some(2));

        assert_reach(&app, &f.tom, f.meter, 200, 403).await;
        let (_, list) = get_json(&f.tom, &app, "/api/v1/meters").await;
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        assert_eq!((list[0]["access"].as_str(), list[0]["shared_by"].as_str()), (Some("viewer"), Some("mia")));
        // The outlook includes it, marked as shared; the sensor (not shared) stays out.
        let (code, outlook) = get_json(&f.tom, &app, "/api/v1/outlook").await;
        assert_eq!(code, 200);
        assert_eq!(outlook["meters"][0]["meter_id"], f.meter);
        assert_eq!(outlook["meters"][0]["shared_by"], "mia");
        assert_eq!(outlook["sensors"], json!([]));
        // The owner's own outlook does not call it shared.
        let (_, mine) = json_of(app.get("/api/v1/outlook").await).await;
        assert!(mine["meters"][0].get("shared_by").is_none(), "{mine}");
        // Another household still sees nothing.
        assert_reach(&app, &f.eve, f.meter, 404, 404).await;

        // A new reading by the owner reaches the viewer's cached outlook at once.
        let before = outlook["meters"][0]["snapshot"]["used"].as_f64();
        let res = app.post_json("/api/v1/readings", &json!({"meter_id": f.meter, "timestamp": "2026-11-21T07:40:00Z", "value": 150000})).await;
        assert_eq!(res.status(), 201);
        let (_, after) = get_json(&f.tom, &app, "/api/v1/outlook").await;
        assert_ne!(after["meters"][0]["snapshot"]["used"].as_f64(), before, "{after}");

        // The meter page shows no edit controls to a viewer.
        let page = f.tom.get(app.url(&format!("/meters/{}", f.meter))).send().await.expect("GET");
        assert_eq!(page.status(), 200);
        let html = page.text().await.expect("html");
        assert!(html.contains("Shared by mia"), "no shared note");
        for control in ["Add a reading", "Save changes", "Archive this meter", "Save sharing"] {
            assert!(!html.contains(control), "a viewer sees {control:?}");
        }
        // Its form routes refuse too.
        let res = f.tom.post(app.url(&format!("/meters/{}/archive", f.meter)))
            .header("origin", app.address.clone()).form(&[("x", "y")]).send().await.expect("POST");
        assert_eq!(res.status(), 403);
    }

    async fn an_editor_adds_readings_but_only_the_owner_manages(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        let (code, _) = share(&app, f.meter, json!({"members": [{"user_id": f.ada_id, "role": "editor"}]})).await;
        assert_eq!(code, 200);
        // Ada edits; Tom (same household, not chosen) sees nothing.
        let res = f.ada.post(app.url("/api/v1/readings"))
            .json(&json!({"meter_id": f.meter, "timestamp": "2026-11-21T07:30:00Z", "value": 120000}))
            .send().await.expect("POST");
        assert_eq!(res.status(), 201);
        let res = f.ada.patch(app.url(&format!("/api/v1/meters/{}", f.meter)))
            .json(&json!({"name": "Fibre"})).send().await.expect("PATCH");
        assert_eq!(res.status(), 200);
        for path in ["archive", "sharing"] {
            let res = f.ada.post(app.url(&format!("/api/v1/meters/{}/{path}", f.meter))).json(&json!({})).send().await.expect("POST");
            assert!(matches!(res.status().as_u16(), 403 | 405), "{path}: {}", res.status());
        }
        let (code, _) = get_json(&f.ada, &app, &format!("/api/v1/meters/{}/sharing", f.meter)).await;
        assert_eq!(code, 403);
        assert_reach(&app, &f.tom, f.meter, 404, 404).await;
    }

    async fn leaving_the_household_ends_a_share_at_once(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        share(&app, f.meter, json!({"household_role": "editor", "members": [{"user_id": f.tom_id, "role": "editor"}]})).await;
        let (code, _) = get_json(&f.tom, &app, &format!("/api/v1/meters/{}", f.meter)).await;
        assert_eq!(code, 200);
        // Tom moves to a household of his own: his cached session still says the old
        // one, but access is decided on the database's answer.
        app.add_household("Tom's", &[f.tom_id]).await;
        assert_reach(&app, &f.tom, f.meter, 404, 404).await;
    }

    async fn sharing_is_only_within_the_household_and_checked(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        let eve_id = app.state.db.user_by_email("eve@example.org").await.expect("q").expect("eve").id;
        let (code, body) = share(&app, f.meter, json!({"members": [{"user_id": eve_id, "role": "viewer"}]})).await;
        assert_eq!((code, body["error"]["field"].as_str()), (422, Some("members")), "{body}");
        let (code, body) = share(&app, f.meter, json!({"household_role": "owner"})).await;
        assert_eq!((code, body["error"]["field"].as_str()), (422, Some("household_role")), "{body}");
        // Nothing was changed by the refused requests.
        let (_, now) = json_of(app.get(&format!("/api/v1/meters/{}/sharing", f.meter)).await).await;
        assert_eq!(now["household_role"], Value::Null);
        assert!(now["members"].as_array().expect("members").iter().all(|m| m["role"].is_null()));
        // The sensor is still Mia's alone.
        assert_reach(&app, &f.ada, f.sensor, 404, 404).await;
    }

    async fn a_read_token_reads_its_meters_and_writes_nothing(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        let (code, created) = json_of(app.post_json("/api/v1/tokens", &json!({
            "name": "wall tablet", "scope": "read", "meter_ids": [f.meter], "expires_in_days": 30
        })).await).await;
        assert_eq!(code, 201, "{created}");
        assert!(created["expires_at"].is_string());
        let token = created["token"].as_str().expect("token").to_string();
        let bare = client();
        let get = |path: String| bare.get(app.url(&path)).bearer_auth(&token);
        assert_eq!(status(get(format!("/api/v1/meters/{}", f.meter))).await, 200);
        assert_eq!(status(get(format!("/api/v1/meters/{}/readings?format=csv", f.meter))).await, 200);
        // The sensor is not the token's: it does not exist for it.
        assert_eq!(status(get(format!("/api/v1/meters/{}", f.sensor))).await, 404);
        let list: Value = get("/api/v1/meters".into()).send().await.expect("GET").json().await.expect("json");
        assert_eq!(list.as_array().map(Vec::len), Some(1), "{list}");
        let outlook: Value = get("/api/v1/outlook".into()).send().await.expect("GET").json().await.expect("json");
        assert_eq!(outlook["meters"].as_array().map(Vec::len), Some(1));
        assert_eq!(outlook["sensors"], json!([]));
        assert_eq!(status(get("/api/usage/current".into())).await, 200);
        // Writes and everything else are refused.
        let res = bare.post(app.url("/api/v1/readings")).bearer_auth(&token)
            .json(&json!({"meter_id": f.meter, "timestamp": "2026-11-21T07:30:00Z", "value": 1})).send().await.expect("POST");
        assert_eq!(res.status(), 403);
        let res = bare.patch(app.url(&format!("/api/v1/meters/{}", f.meter))).bearer_auth(&token)
            .json(&json!({"name": "x"})).send().await.expect("PATCH");
        assert_eq!(res.status(), 401);
        assert_eq!(status(get("/api/v1/tokens".into())).await, 401);
        assert_eq!(status(get("/metrics".into())).await, 403);
        // An ingest token is not a read token.
        let (_, ingest) = json_of(app.post_json("/api/v1/tokens", &json!({"name": "router", "meter_ids": [f.meter]})).await).await;
        let res = bare.get(app.url("/api/v1/meters")).bearer_auth(ingest["token"].as_str().expect("token")).send().await.expect("GET");
        assert_eq!(res.status(), 403);
    }

    async fn tokens_stop_when_they_expire_or_their_user_is_disabled(backend) {
        let app = spawn(backend).await;
        let f = family(&app).await;
        let (_, created) = json_of(app.post_json("/api/v1/tokens", &json!({
            "name": "script", "scope": "read", "meter_ids": [f.meter], "expires_in_days": 1
        })).await).await;
        let token = created["token"].as_str().expect("token").to_string();
        let bare = client();
        let probe = || bare.get(app.url("/api/v1/meters")).bearer_auth(&token);
        assert_eq!(status(probe()).await, 200);
        app.state.clock.set(NOW.parse::<jiff::Timestamp>().expect("now") + jiff::SignedDuration::from_hours(25));
        assert_eq!(status(probe()).await, 401);
        // Bad expiries are refused naming the field.
        let (code, body) = json_of(app.post_json("/api/v1/tokens", &json!({
            "name": "x", "scope": "read", "meter_ids": [f.meter], "expires_in_days": 0
        })).await).await;
        assert_eq!((code, body["error"]["field"].as_str()), (422, Some("expires_in_days")));
        // A token for a meter the user may only view cannot write it.
        share(&app, f.meter, json!({"household_role": "viewer"})).await;
        let (code, body) = json_of(f.tom.post(app.url("/api/v1/tokens")).json(&json!({"name": "t", "meter_ids": [f.meter]})).send().await.expect("POST")).await;
        assert_eq!((code, body["error"]["field"].as_str()), (422, Some("meter_ids")), "{body}");
        let (code, created) = json_of(f.tom.post(app.url("/api/v1/tokens")).json(&json!({"name": "t", "scope": "read", "meter_ids": [f.meter]})).send().await.expect("POST")).await;
        assert_eq!(code, 201, "{created}");
        let toms = created["token"].as_str().expect("token").to_string();
        assert_eq!(status(bare.get(app.url("/api/v1/meters")).bearer_auth(&toms)).await, 200);
        // Tom is disabled: his token stops on the next request.
        use headroom::server::storage::Pool;
        let sql = "UPDATE users SET disabled_at = 1 WHERE id = $1";
        match &app.state.db.pool {
            Pool::Sqlite(p) => { sqlx::query(sql).bind(f.tom_id).execute(p).await.expect("disable"); }
            Pool::Postgres(p) => { sqlx::query(sql).bind(f.tom_id).execute(p).await.expect("disable"); }
        }
        assert_eq!(status(bare.get(app.url("/api/v1/meters")).bearer_auth(&toms)).await, 401);
    }
}
