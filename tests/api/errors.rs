use crate::helpers::*;
use crate::on_both_backends;

on_both_backends! {
    async fn unknown_pages_get_a_real_404_page(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/no/such/page").await;
        assert_eq!(res.status(), 404);
        assert!(res.headers()["content-type"].to_str().unwrap_or("").starts_with("text/html"));
        let html = res.text().await.expect("body");
        assert!(html.contains("Nothing here"), "{html}");
    }

    async fn unknown_api_paths_get_json_404(backend) {
        let app = spawn_app(backend).await;
        let res = app.get("/api/v1/nothing").await;
        assert_eq!(res.status(), 404);
        let body: serde_json::Value = res.json().await.expect("json");
        assert_eq!(body["error"]["code"], "not_found");
        assert_eq!(body["error"]["message"], "no such endpoint: GET /api/v1/nothing");
    }
}

/// Every route of the OpenAPI document with a `{parameter}`, called with a parameter that
/// is not a number and one out of range, answers a JSON 4xx naming the parameter (axum's
/// own rejection is plain text). Taken from the document, so a new route is walked too.
#[tokio::test]
async fn malformed_ids_in_every_documented_route_answer_json_naming_the_parameter() {
    let app = spawn_app(Backend::Sqlite).await;
    app.add_user("root@example.org", "admin", "UTC").await;
    assert_eq!(
        app.sign_in("root@example.org", PASSWORD).await.status(),
        303
    );
    let doc: serde_json::Value = app
        .get("/api/v1/openapi.json")
        .await
        .json()
        .await
        .expect("openapi");
    let paths = doc["paths"].as_object().expect("paths");
    let mut walked = 0;
    for (template, item) in paths.iter().filter(|(p, _)| p.contains('{')) {
        let param = template
            .split('{')
            .nth(1)
            .and_then(|s| s.split('}').next())
            .expect("a parameter");
        for bad in ["abc", "99999999999999999999"] {
            let path = template.replace(&format!("{{{param}}}"), bad);
            for method in item.as_object().expect("operations").keys() {
                let method =
                    reqwest::Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
                let res = app
                    .client
                    .request(method.clone(), app.url(&path))
                    .header("origin", &app.address)
                    .json(&serde_json::json!({}))
                    .send()
                    .await
                    .expect("request");
                let status = res.status().as_u16();
                let body: serde_json::Value = res.json().await.unwrap_or_default();
                assert!(
                    (400..500).contains(&status) && body["error"]["field"] == param,
                    "{method} {path}: {status} {body}"
                );
                walked += 1;
            }
        }
    }
    assert!(walked >= 20, "only {walked} routes walked");
}
