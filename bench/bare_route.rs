//! The machine's ceiling for `bench/run load`: the smallest axum server there is, one
//! plain-text route and no middleware, on the same runtime, allocator and release profile
//! as Headroom. The SPEC states its throughput budget next to what such a route does on
//! the reference machine, so the benchmark measures it in the same run to show how this
//! machine compares.
//!
//! `cargo run --release --no-default-features --features ssr --bin bare-route -- 127.0.0.1:3998`

use axum::{Router, routing::get};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:3998".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let app = Router::new().route("/health/live", get(|| async { "ok" }));
    axum::serve(listener, app).await
}
