//! The OpenAPI document cannot drift from the code (issue 22, item 4): every JSON route
//! the server declares is documented and every documented operation is routed, every
//! operation names its security and the error answers it can give, and every schema it
//! refers to exists (the component schemas are derived from the Rust types).
//! scripts/fuzz-api then runs schemathesis against the served document.

use std::collections::BTreeSet;

use serde_json::Value;

use crate::authorization::declared_routes;

fn document() -> Value {
    headroom::server::http::openapi::document()
}

/// The operations of the document, as (METHOD, path).
fn documented(doc: &Value) -> BTreeSet<(String, String)> {
    doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("operations")
                .keys()
                .map(|m| (m.to_uppercase(), path.clone()))
        })
        .collect()
}

/// The routes the document must describe: the JSON API, health and metrics (not pages,
/// form posts, the test hooks, or the catch-all that answers unknown /api addresses).
fn api_routes() -> BTreeSet<(String, String)> {
    declared_routes()
        .into_iter()
        .filter(|r| {
            (r.path.starts_with("/api/") && r.path != "/api/{*rest}")
                || ["/health", "/health/live", "/metrics"].contains(&r.path.as_str())
        })
        .map(|r| (r.method, r.path))
        .collect()
}

#[test]
fn every_api_route_is_documented_and_every_documented_operation_is_routed() {
    let doc = document();
    let documented = documented(&doc);
    let routed = api_routes();
    assert!(routed.len() >= 60, "only {} routes found", routed.len());
    let undocumented: Vec<_> = routed.difference(&documented).collect();
    let unrouted: Vec<_> = documented.difference(&routed).collect();
    assert!(
        undocumented.is_empty(),
        "routed but not in the OpenAPI document: {undocumented:?}"
    );
    assert!(
        unrouted.is_empty(),
        "in the OpenAPI document but not routed: {unrouted:?}"
    );
    for path in [
        "/health/live",
        "/metrics",
        "/api/performance/summary",
        "/api/v2/daily-outlook/batch",
    ] {
        assert!(doc["paths"].get(path).is_some(), "{path} is not documented");
    }
}

#[test]
fn every_operation_names_its_security_and_its_error_answers() {
    let doc = document();
    let schemes = doc["components"]["securitySchemes"]
        .as_object()
        .expect("schemes");
    assert_eq!(schemes["session"]["in"], "cookie");
    assert_eq!(schemes["token"]["scheme"], "bearer");
    for (path, item) in doc["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("operations") {
            let security = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: no security"));
            let public = security.is_empty();
            let responses = op["responses"].as_object().expect("responses");
            let mut expected = vec!["400", "404", "422", "429", "503"];
            if !public {
                expected.extend(["401", "403"]);
            }
            if op["requestBody"]["content"]
                .get("application/json")
                .is_some()
            {
                expected.extend(["413", "415"]);
            }
            if method != "get" {
                expected.push("507");
            }
            for status in expected {
                let answer = responses
                    .get(status)
                    .unwrap_or_else(|| panic!("{method} {path}: no {status} answer"));
                assert_eq!(
                    answer["content"]["application/json"]["schema"]["$ref"],
                    "#/components/schemas/Error",
                    "{method} {path} {status}"
                );
            }
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path}: no success answer"
            );
        }
    }
    // Tokens reach the read routes and ingest; the public ones need nobody.
    assert_eq!(
        doc["paths"]["/api/v1/readings"]["post"]["security"][1]["token"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/health/live"]["get"]["security"],
        serde_json::json!([])
    );
    assert_eq!(
        doc["paths"]["/api/v1/tokens"]["post"]["security"],
        serde_json::json!([{"session": []}])
    );
}

/// Every `$ref` resolves, and the schemas come from the Rust types: a field of a DTO is
/// a property of its schema, with the DTO's doc comment.
#[test]
fn every_reference_resolves_to_a_schema_derived_from_the_types() {
    let doc = document();
    let schemas = doc["components"]["schemas"].as_object().expect("schemas");
    fn refs(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get("$ref") {
                    out.push(r.clone());
                }
                m.values().for_each(|v| refs(v, out));
            }
            Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    refs(&doc, &mut all);
    assert!(all.len() > 100, "{} references", all.len());
    for r in all {
        let name = r
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("{r}"));
        assert!(schemas.contains_key(name), "{r} does not resolve");
    }
    // The few schemas still written out (readings are read as raw JSON, the outlook and
    // the v2 envelope are wide documents) share no name with a derived one.
    let derived = headroom::server::http::openapi::derived_schemas();
    for written in ["Reading", "ReadingBatch", "Accepted", "Outlook", "Envelope"] {
        assert!(schemas.contains_key(written), "{written}");
        assert!(
            !derived.contains_key(written),
            "a type is also named {written}"
        );
    }
    assert!(schemas["MeterTrend"]["properties"]["days"].is_object());
    assert!(
        schemas["Trend"]["properties"]["direction"].is_object(),
        "the performance trend"
    );
    // Derived: Option fields are nullable, doc comments become descriptions.
    let source = &schemas["SourceView"];
    assert_eq!(
        source["properties"]["url"]["type"],
        serde_json::json!(["string", "null"])
    );
    assert!(
        source["required"]
            .as_array()
            .expect("required")
            .contains(&"has_bearer_token".into())
    );
    assert!(schemas["Error"]["properties"]["error"].is_object());
    assert!(schemas["MeterView"]["properties"]["access"]["description"].is_string());
}
