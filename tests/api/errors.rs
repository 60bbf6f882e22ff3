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
