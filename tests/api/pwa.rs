//! The installable app's server side (SPEC S9): the manifest, the service worker with a
//! precache list taken from the build's own output, the version a deploy (or the test hook)
//! changes, sign-out clearing the device, and readings replayed from the offline queue
//! landing once at the time they were taken.

use headroom::server::http::routes::pwa::{ServiceWorker, precache_list};

use crate::helpers::*;
use crate::on_both_backends;

fn header<'a>(res: &'a reqwest::Response, name: &str) -> &'a str {
    res.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `const NAME = <value>;` from the worker script.
fn constant<'a>(script: &'a str, name: &str) -> &'a str {
    let start = script.find(&format!("const {name} = ")).expect("constant") + name.len() + 9;
    let end = start + script[start..].find(";\n").expect("end of line");
    &script[start..end]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_manifest_is_served_with_its_type_and_what_installing_needs() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = app.get("/manifest.webmanifest").await;
    assert_eq!(res.status(), 200);
    assert_eq!(header(&res, "content-type"), "application/manifest+json");
    let m: serde_json::Value = res.json().await.expect("json");
    assert_eq!(m["display"], "standalone");
    assert_eq!(m["start_url"], "/");
    assert_eq!(m["scope"], "/");
    assert_eq!(m["short_name"], "Headroom");
    let icons = m["icons"].as_array().expect("icons");
    for (sizes, purpose) in [
        ("192x192", "any"),
        ("512x512", "any"),
        ("512x512", "maskable"),
    ] {
        let icon = icons
            .iter()
            .find(|i| i["sizes"] == sizes && i["purpose"] == purpose)
            .unwrap_or_else(|| panic!("a {purpose} icon of {sizes}"));
        // The files are committed under public/ (cargo-leptos copies them to the site).
        let path = format!("public{}", icon["src"].as_str().expect("src"));
        let png = std::fs::read(&path).unwrap_or_else(|_| panic!("{path} exists"));
        assert_eq!(&png[1..4], b"PNG");
        let (w, h) = (
            u32::from_be_bytes(png[16..20].try_into().expect("4 bytes")),
            u32::from_be_bytes(png[20..24].try_into().expect("4 bytes")),
        );
        assert_eq!(format!("{w}x{h}"), sizes, "{path}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_worker_precaches_exactly_the_built_files_and_is_never_cached() {
    let app = spawn_app(Backend::Sqlite).await;
    let res = app.get("/sw.js").await;
    assert_eq!(res.status(), 200);
    assert_eq!(
        header(&res, "content-type"),
        "text/javascript; charset=utf-8"
    );
    assert_eq!(header(&res, "cache-control"), "no-cache");
    // A worker script must not carry the JSON policy (it would govern the worker).
    assert!(res.headers().get("content-security-policy").is_none());
    let script = res.text().await.expect("body");
    let listed: Vec<String> = serde_json::from_str(constant(&script, "PRECACHE")).expect("list");
    let options = &app.state.leptos;
    let expected = precache_list(
        std::path::Path::new(options.site_root.as_ref()),
        &options.site_pkg_dir,
    );
    assert_eq!(listed, expected);
    assert!(listed.contains(&"/manifest.webmanifest".to_string()));
    // Whatever the build left in the package folder, every JS, wasm and CSS file is listed.
    let pkg = std::path::Path::new(options.site_root.as_ref()).join(options.site_pkg_dir.as_ref());
    for entry in std::fs::read_dir(&pkg).into_iter().flatten().flatten() {
        let name = entry.file_name().to_string_lossy().to_string();
        if [".js", ".wasm", ".css"]
            .iter()
            .any(|ext| name.ends_with(ext))
        {
            assert!(
                listed.contains(&format!("/pkg/{name}")),
                "{name} is precached"
            );
        }
    }
    let version = constant(&script, "VERSION").trim_matches('"');
    assert_eq!(version.len(), 16);
    assert!(version.chars().all(|c| c.is_ascii_hexdigit()));
    assert_eq!(ServiceWorker::from_site(options).precache(), &expected[..]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_test_hook_makes_the_server_look_like_a_new_deploy() {
    let app = spawn_app_with(
        Backend::Sqlite,
        Options {
            env: vec![("HEADROOM_TEST_HOOKS", "true".into())],
            ..Options::default()
        },
    )
    .await;
    let version = |script: String| constant(&script, "VERSION").to_string();
    let before = version(app.get("/sw.js").await.text().await.expect("body"));
    let res = app
        .client
        .post(app.url("/__test/sw-version"))
        .send()
        .await
        .expect("POST");
    assert_eq!(res.status(), 200);
    let after = version(app.get("/sw.js").await.text().await.expect("body"));
    assert_ne!(before, after);
    // Without test hooks the route does not exist.
    let plain = spawn_app(Backend::Sqlite).await;
    let res = plain
        .client
        .post(plain.url("/__test/sw-version"))
        .send()
        .await
        .expect("POST");
    assert_ne!(res.status(), 200);
}

on_both_backends! {
    async fn signing_out_clears_the_devices_storage_and_caches(backend) {
        let app = spawn_app(backend).await;
        app.signed_in_user("mia@example.org", "UTC").await;
        let res = app.client.post(app.url("/logout")).send().await.expect("POST");
        assert_eq!(res.status(), 303);
        assert_eq!(header(&res, "clear-site-data"), r#""cache", "storage""#);
    }

    async fn a_replayed_reading_keeps_its_time_and_lands_once(backend) {
        let now: jiff::Timestamp = "2026-11-21T12:00:00Z".parse().expect("literal");
        let app = spawn_app_with(backend, Options { now: Some(now), ..Options::default() }).await;
        let user = app.signed_in_user("mia@example.org", "UTC").await;
        let meter = app.add_quota_meter(user, "Fibre", 1000.0, "monthly:1", "UTC").await;
        // Taken offline at 07:05; sent twice (the first answer was lost).
        let taken = now.as_second() - 4 * 3600 - 55 * 60;
        for key in ["k1", "k1"] {
            let res = app.client
                .post(app.url(&format!("/meters/{meter}/readings")))
                .form(&[("value", "42.5"), ("at", &taken.to_string()), ("key", key)])
                .send()
                .await
                .expect("POST");
            assert_eq!(res.status(), 303);
        }
        let csv = app.get(&format!("/api/v1/meters/{meter}/readings?format=csv&from=2026-11-21")).await.text().await.expect("csv");
        let rows: Vec<&str> = csv.lines().filter(|l| l.contains("42.5")).collect();
        assert_eq!(rows.len(), 1, "{csv}");
        let stored = app.state.db.reading_at_or_before(meter, now.as_second(), 2).await.expect("query").expect("stored");
        assert_eq!((stored.ts, stored.value), (taken, 42.5));
        // A time from the future is not believed: the server's now is used.
        let res = app.client
            .post(app.url(&format!("/meters/{meter}/readings")))
            .form(&[("value", "50"), ("at", &(now.as_second() + 86_400).to_string())])
            .send()
            .await
            .expect("POST");
        assert_eq!(res.status(), 303);
        let stored = app.state.db.reading_at_or_before(meter, now.as_second(), 2).await.expect("query").expect("stored");
        assert_eq!((stored.ts, stored.value), (now.as_second(), 50.0));
    }
}
