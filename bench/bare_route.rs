//! The machine's ceiling for `bench/run load`: the smallest axum server there is, one
//! plain-text route and no middleware, on the same runtime, allocator and release profile
//! as Headroom. The SPEC states its throughput budget next to what such a route does on
//! the reference machine, so the benchmark measures it in the same run to show how this
//! machine compares.
//!
//! It also serves a *replica*: the exact headers and body of one of Headroom's answers,
//! given once by `PUT /replica` (bench/load.py sends the cached outlook's), answered by a
//! handler that does nothing else. That is the ceiling for those bytes: what the server,
//! the kernel and the load tool cost to move them, with none of Headroom's work.
//!
//! `cargo run --release --no-default-features --features ssr --bin bare-route -- 127.0.0.1:3998`

use std::sync::OnceLock;

use axum::{
    Json, Router,
    body::Bytes,
    http::{HeaderMap, HeaderName, HeaderValue, StatusCode},
    response::IntoResponse,
    routing::get,
};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// Headers and body, leaked so that every response shares them without a reference count
/// (`from_static`): a count bumped from both cores would be a cost Headroom does not pay.
struct Replica {
    headers: Vec<(HeaderName, HeaderValue)>,
    body: &'static [u8],
}

static REPLICA: OnceLock<Replica> = OnceLock::new();

/// `{"headers": [["name", "value"], ...], "body_hex": "..."}`
#[derive(serde::Deserialize)]
struct ReplicaSpec {
    headers: Vec<(String, String)>,
    body_hex: String,
}

fn leak(s: String) -> &'static str {
    Box::leak(s.into_boxed_str())
}

fn unhex(s: &str) -> Option<Vec<u8>> {
    if !s.len().is_multiple_of(2) {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

async fn set_replica(Json(spec): Json<ReplicaSpec>) -> (StatusCode, &'static str) {
    let Some(body) = unhex(&spec.body_hex) else {
        return (StatusCode::BAD_REQUEST, "body_hex: not hex");
    };
    let mut headers = Vec::new();
    for (name, value) in spec.headers {
        let name = leak(name.to_ascii_lowercase());
        if HeaderName::from_bytes(name.as_bytes()).is_err() {
            return (
                StatusCode::BAD_REQUEST,
                "headers: a name is not a header name",
            );
        }
        // What `from_static` accepts (it panics on anything else).
        if !value.bytes().all(|b| b == b'\t' || (32..127).contains(&b)) {
            return (
                StatusCode::BAD_REQUEST,
                "headers: a value is not a header value",
            );
        }
        let value = HeaderValue::from_static(leak(value));
        headers.push((HeaderName::from_static(name), value));
    }
    let replica = Replica {
        headers,
        body: Box::leak(body.into_boxed_slice()),
    };
    match REPLICA.set(replica) {
        Ok(()) => (StatusCode::NO_CONTENT, ""),
        Err(_) => (StatusCode::CONFLICT, "the replica is set already"),
    }
}

async fn replica() -> axum::response::Response {
    let Some(r) = REPLICA.get() else {
        return (StatusCode::NOT_FOUND, "no replica: PUT /replica first").into_response();
    };
    let mut headers = HeaderMap::with_capacity(r.headers.len());
    for (name, value) in &r.headers {
        headers.append(name.clone(), value.clone());
    }
    (headers, Bytes::from_static(r.body)).into_response()
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3998".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new()
        .route("/health/live", get(|| async { "ok" }))
        .route("/replica", get(replica).put(set_replica));
    axum::serve(listener, app).await
}
